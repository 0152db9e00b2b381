"""What to scan: TARGETS (addresses and CIDRs) and ``--ports`` (a list, ``top100`` or ``all``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from shoal.collect.policy import ScanPolicy, parse_network
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


def parse_ports(text: str) -> tuple[int, ...]:
    """``top100``, ``all``, or a comma list of ports and ranges (``22,80,8000-8100``), in the order given,
    without repeats. ValueError saying what is wrong."""
    word = text.strip().lower()
    if word == "top100":
        return TOP_100_PORTS
    if word == "all":
        return tuple(ALL_PORTS)
    ports: dict[int, None] = {}
    for part in word.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low = int(first)
            high = int(last) if dash else low
        except ValueError:
            raise ValueError(f"not a port or port range: {part.strip()!r} (e.g. 22,80,8000-8100)") from None
        if not 1 <= low <= high <= 65535:
            raise ValueError(f"ports must be 1–65535 with low ≤ high, not {part.strip()!r}")
        ports.update(dict.fromkeys(range(low, high + 1)))
    return tuple(ports)


HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?")
MAX_NAME_FILE_BYTES = 64 << 20


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
