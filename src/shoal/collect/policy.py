"""What the collector may touch: an allow-list (empty by default), a deny-list that wins, a global rate cap.

The operator writes them in ``DATA/collector.toml``::

    allow = ["192.0.2.0/24", "2001:db8::/48"]   # nothing is scanned until something is allowed
    deny = ["192.0.2.1"]                        # never scanned, even inside an allowed network
    max_rate = 2000                             # new connections per second, a cap on every scan
    ja4plus = false                             # no JA4S/JA4X fingerprints (FoxIO License; docs/collector.md)

and ``shoal scan --allow CIDR`` / ``shoal serve --allow CIDR`` add to the allow-list for one run.

**Spellings.** An IPv6 address may embed an IPv4 address that its packets reach: IPv4-mapped
(``::ffff:a.b.c.d``: the kernel sends IPv4), IPv4-compatible (``::a.b.c.d``), 6to4 (``2002:AABB:CCDD::/48``),
NAT64 (``64:ff9b::/96``, ``64:ff9b:1::/48``) and Teredo (server and client). Every check sees all of them:
an address is refused if any address it reaches is denied, and allowed only if every one is allowed (so
``allow = ["::/0"]`` never reaches a denied, or merely unallowed, IPv4 address). Zone ids (``%eth0``) are
dropped before a check and refused in targets; mapped networks in targets and in the lists are their IPv4
networks.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from shoal.errors import TargetNotAllowed
from shoal.model import MAPPED, IPNetwork, ipv4_of_mapped

POLICY_FILE = "collector.toml"
DEFAULT_MAX_RATE = 10_000.0


class PolicyFileError(ValueError):
    """``collector.toml`` is not valid; the message names the file and the key."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
COMPATIBLE = ipaddress.IPv6Network("::/96")
# IPv6 ranges that embed an IPv4 address, and the bit where it starts (Teredo is handled by ``teredo``).
EMBEDDINGS: tuple[tuple[ipaddress.IPv6Network, int], ...] = (
    (MAPPED, 96),
    (COMPATIBLE, 96),
    (ipaddress.IPv6Network("64:ff9b::/96"), 96),
    (ipaddress.IPv6Network("64:ff9b:1::/48"), 96),
    (ipaddress.IPv6Network("2002::/16"), 16),
)


def parse_network(text: str) -> IPNetwork:
    """An address or CIDR; host bits are ignored; an IPv4-mapped one is its IPv4 network. ValueError with the
    text if it is neither, or carries a zone id."""
    if "%" in text:
        raise ValueError(f"a zone id (%…) names a local interface, not a target: {text!r}")
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not an IP address or CIDR: {text!r}") from None
    return ipv4_of_mapped(network)


def canonical(address: Address) -> Address:
    """Without its zone id; an IPv4-mapped address is its IPv4 address."""
    if address.version == 4:
        return address
    if address.scope_id is not None:
        address = ipaddress.IPv6Address(int(address))
    return address.ipv4_mapped or address


def reached(address: Address) -> tuple[Address, ...]:
    """The address (canonical) and every IPv4 address its packets may reach."""
    address = canonical(address)
    if address.version == 4:
        return (address,)
    value = int(address)
    embedded: list[Address] = list(address.teredo or ())
    for prefix, start in EMBEDDINGS:
        if address in prefix and not (prefix == COMPATIBLE and value < 2):  # :: and ::1 are this host
            embedded.append(ipaddress.IPv4Address((value >> (96 - start)) & 0xFFFFFFFF))
    return (address, *embedded)


def embedded_networks(network: ipaddress.IPv6Network) -> list[ipaddress.IPv4Network]:
    """The IPv4 networks a network inside an embedding range reaches (all of IPv4 if the range is wider)."""
    found = []
    for prefix, start in EMBEDDINGS:
        if network.subnet_of(prefix) and not (prefix == COMPATIBLE and network.prefixlen >= 127):
            length = max(0, min(32, network.prefixlen - start))
            bits = (int(network.network_address) >> (96 - start)) & 0xFFFFFFFF
            found.append(ipaddress.IPv4Network((bits >> (32 - length) << (32 - length), length)))
    return found


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    allow: tuple[IPNetwork, ...] = ()
    deny: tuple[IPNetwork, ...] = ()
    max_rate: float = DEFAULT_MAX_RATE
    ja4plus: bool = True  # compute JA4S and JA4X (FoxIO License 1.1: non-commercial use; docs/collector.md)
    source: str = field(default="", compare=False)  # where it was read from, for messages

    def with_allowed(self, networks: Iterable[IPNetwork]) -> ScanPolicy:
        return replace(self, allow=(*self.allow, *networks))

    def permits(self, ip: Address) -> bool:
        """May a packet be sent to this address? Never if it reaches a denied address; else only if every
        address it reaches is allowed."""
        forms = reached(ip)
        if any(form in network for form in forms for network in self.deny):
            return False
        return all(any(form in network for network in self.allow) for form in forms)

    def check_address(self, ip: str) -> None:
        """Raise TargetNotAllowed (with the reason) unless ``ip`` may be scanned."""
        forms = reached(ipaddress.ip_address(ip))
        for form in forms:
            if any(form in network for network in self.deny):
                raise TargetNotAllowed(ip, f"{self._named(ip, form)} is on the collector's deny-list{self._where()}")
        for form in forms:
            if not any(form in network for network in self.allow):
                raise TargetNotAllowed(
                    ip, f"{self._named(ip, form)} is outside the collector's allow-list{self._hint()}"
                )

    @staticmethod
    def _named(ip: str, form: Address) -> str:
        return ip if str(form) == ip else f"{ip} (which reaches {form})"

    def check_network(self, network: IPNetwork) -> None:
        """Raise TargetNotAllowed unless every address of ``network`` is allowed (denied ones are skipped
        when scanning, but a network that is denied as a whole is refused). A network inside an IPv6 range
        that embeds IPv4 addresses is checked as those IPv4 networks too."""
        network = ipv4_of_mapped(network)
        if network.num_addresses == 1:
            self.check_address(str(network.network_address))
            return
        if any(network.subnet_of(denied) for denied in self.deny if denied.version == network.version):
            raise TargetNotAllowed(str(network), f"{network} is on the collector's deny-list{self._where()}")
        outside = uncovered(network, self.allow)
        if outside:
            raise TargetNotAllowed(
                str(network), f"{network} is not inside the collector's allow-list (e.g. {outside[0]}){self._hint()}"
            )
        if network.version == 6:
            for embedded in embedded_networks(network):  # type: ignore[arg-type]
                self.check_network(embedded)

    def _where(self) -> str:
        return f" ({self.source})" if self.source else ""

    def _hint(self) -> str:
        if not self.allow:
            return (
                ": the allow-list is empty, so nothing can be scanned; allow networks with --allow CIDR"
                f" or 'allow = [...]' in {self.source or POLICY_FILE}"
            )
        return f"; allowed: {', '.join(map(str, self.allow[:5]))}{' …' if len(self.allow) > 5 else ''}"


def uncovered(network: IPNetwork, cover: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The parts of ``network`` that no network of ``cover`` contains."""
    remaining = [network]
    for allowed in cover:
        if allowed.version != network.version:
            continue
        next_remaining: list[IPNetwork] = []
        for part in remaining:
            if part.subnet_of(allowed):  # type: ignore[arg-type]
                continue
            if allowed.subnet_of(part):  # type: ignore[arg-type]
                next_remaining.extend(part.address_exclude(allowed))  # type: ignore[arg-type]
            else:
                next_remaining.append(part)
        remaining = next_remaining
    return remaining


def load_policy(data_dir: Path) -> ScanPolicy:
    """The policy in ``DATA/collector.toml``; an empty allow-list if the file does not exist."""
    path = data_dir / POLICY_FILE
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return ScanPolicy(source=str(path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyFileError(f"{path}: {exc}") from exc
    unknown = set(raw) - {"allow", "deny", "max_rate", "ja4plus"}
    if unknown:
        raise PolicyFileError(f"{path}: unknown key {sorted(unknown)[0]!r} (expected allow, deny, max_rate, ja4plus)")
    max_rate = raw.get("max_rate", DEFAULT_MAX_RATE)
    if isinstance(max_rate, bool) or not isinstance(max_rate, int | float) or max_rate <= 0:
        raise PolicyFileError(f"{path}: 'max_rate' must be a positive number of connections per second")
    ja4plus = raw.get("ja4plus", True)
    if not isinstance(ja4plus, bool):
        raise PolicyFileError(f"{path}: 'ja4plus' must be true or false")
    return ScanPolicy(
        allow=_networks(raw, "allow", path),
        deny=_networks(raw, "deny", path),
        max_rate=float(max_rate),
        ja4plus=ja4plus,
        source=str(path),
    )


def _networks(raw: dict[str, object], key: str, path: Path) -> tuple[IPNetwork, ...]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise PolicyFileError(f"{path}: {key!r} must be a list of addresses or CIDRs in quotes")
    try:
        return tuple(parse_network(value) for value in values)
    except ValueError as exc:
        raise PolicyFileError(f"{path}: {key}: {exc}") from exc
