"""What to scan: TARGETS (addresses and CIDRs) and ``--ports`` (a list, ``top100`` or ``all``; nmap's ``T:``/``U:``
prefixes for UDP ports, ``--udp-ports``: a list, ``known`` or ``all``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shoal.collect.policy import ScanPolicy, parse_network
from shoal.collect.udp import KNOWN_PORTS
from shoal.store.base import IPNetwork

# The ports most worth a look on the internet, most common first: web, remote access, mail, file transfer,
# databases, messaging and industrial services. Our own list (nmap's frequency data is not used).
TOP_100_PORTS: tuple[int, ...] = (
    80, 443, 22, 8080, 21, 25, 3389, 8443, 23, 3306, 110, 143, 993, 995, 587, 5432, 6379, 8000, 8888, 2222,
    1883, 9100, 502, 465, 5000, 81, 8081, 7547, 4443, 10443, 9443, 2323, 636, 9000, 53, 111, 135, 139, 445, 389,
    5900, 5901, 1723, 1433, 1521, 27017, 9200, 11211, 5672, 8883, 102, 20000, 47808, 44818, 1911, 2404, 554,
    5060, 5061, 631, 515, 873, 2049, 3128, 8008, 8088, 8090, 8181, 8880, 9090, 9091, 3000, 5601, 7001, 7474,
    2375, 2376, 6443, 10250, 5985, 5986, 179, 1080, 1194, 500, 4500, 990, 992, 989, 119, 563, 6667, 6697, 9418,
    3690, 5222, 5269, 8009, 50000, 9001,
)  # fmt: skip
ALL_PORTS = range(1, 65536)
TCP_WORDS: Mapping[str, Sequence[int]] = {"top100": TOP_100_PORTS, "all": ALL_PORTS}
UDP_WORDS: Mapping[str, Sequence[int]] = {"known": KNOWN_PORTS, "all": ALL_PORTS}  # known: a UDP probe's port


def parse_ports(text: str, words: Mapping[str, Sequence[int]] = TCP_WORDS) -> tuple[int, ...]:
    """A comma list of ports, ranges and words (``22,80,8000-8100``, ``top100``, ``all``; for UDP ``known``,
    ``all``), in the order given, without repeats. ValueError saying what is wrong."""
    ports: dict[int, None] = {}
    for part in text.lower().split(","):
        word = part.strip()
        if word in words:
            ports.update(dict.fromkeys(words[word]))
            continue
        first, dash, last = word.partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            named = ", ".join(words)
            raise ValueError(f"not a port, a port range or one of {named}: {word!r} (e.g. 22,80,8000-8100)") from None
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"ports must be 1–65535 with low ≤ high, not {word!r}")
        ports.update(dict.fromkeys(range(low, high + 1)))
    return tuple(ports)


@dataclass(frozen=True, slots=True)
class PortSpec:
    tcp: tuple[int, ...]
    udp: tuple[int, ...]


def parse_port_spec(text: str) -> PortSpec:
    """``--ports`` in nmap's syntax: ``T:`` and ``U:`` say the transport of the ports after them, TCP until one
    does (``22,80,U:53,161,T:443`` is TCP 22, 80, 443 and UDP 53, 161); each side as ``parse_ports`` reads it
    (``U:known`` is every port a UDP probe is known for). ValueError saying what is wrong."""
    parts: dict[str, list[str]] = {"T:": [], "U:": []}
    side = parts["T:"]
    for part in text.split(","):
        word = part.strip()
        if word[:2].upper() in parts:
            side, word = parts[word[:2].upper()], word[2:].strip()
            if not word:
                raise ValueError(f"{part.strip()!r} names no port (e.g. U:53,161)")
        side.append(word)
    tcp, udp = parts["T:"], parts["U:"]
    return PortSpec(parse_ports(",".join(tcp)) if tcp else (), parse_ports(",".join(udp), UDP_WORDS) if udp else ())


HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?")
MAX_NAME_FILE_BYTES = 64 << 20


def split_host_port(text: str) -> tuple[str, str | None]:
    """(host, port text or None) of ``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` (a bare IPv6 address has no port);
    neither part is checked here."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest.removeprefix(":") or None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    return text, None


def is_host_name(text: str) -> bool:
    """A DNS name with at least one letter (so ``10.1`` is not one), labels of 1–63 characters."""
    return HOST_NAME.fullmatch(text) is not None and any(character.isalpha() for character in text)


def split_targets(texts: Sequence[str]) -> tuple[list[IPNetwork], list[str]]:
    """(addresses and CIDRs, host names) of TARGETS; ValueError naming the first that is neither."""
    networks: list[IPNetwork] = []
    names: list[str] = []
    for text in texts:
        value = text.strip()
        if is_host_name(value):
            names.append(value.rstrip(".").lower())
        else:
            networks.append(parse_network(value))
    return networks, list(dict.fromkeys(names))


def read_names(path: Path) -> list[str]:
    """Host names from a file, one a line (``#`` comments, blank lines, and what follows a name ignored);
    ValueError naming the first line that is not a name."""
    try:
        if path.stat().st_size > MAX_NAME_FILE_BYTES:
            raise ValueError(f"{path}: larger than {MAX_NAME_FILE_BYTES >> 20} MiB")
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        word = line.split("#", 1)[0].strip().split(None, 1)
        if not word:
            continue
        if not is_host_name(word[0]):
            raise ValueError(f"{path}:{number}: not a host name: {word[0][:80]!r}")
        names.append(word[0].rstrip(".").lower())
    return list(dict.fromkeys(names))


def count_targets(networks: Sequence[IPNetwork], ports: Sequence[int], policy: ScanPolicy) -> int:
    """ip:port pairs a scan will try: denied addresses inside the networks are not counted (overlapping
    deny entries are subtracted twice, so this is a lower bound for the progress bar)."""
    addresses = 0
    for network in networks:
        denied = sum(
            (network if network.subnet_of(deny) else deny).num_addresses  # type: ignore[arg-type]
            for deny in policy.deny
            if deny.version == network.version and network.overlaps(deny)  # type: ignore[arg-type]
        )
        addresses += max(0, network.num_addresses - denied)
    return addresses * len(ports)


def iterate_targets(
    networks: Sequence[IPNetwork], ports: Sequence[int], policy: ScanPolicy
) -> Iterator[tuple[str, int]]:
    """Every permitted ip:port, port by port (so consecutive connections go to different hosts)."""
    for port in ports:
        for network in networks:
            for address in network:
                if policy.permits(address):
                    yield str(address), port
