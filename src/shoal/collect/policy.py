"""What the collector may touch: an allow-list (empty by default), a deny-list that wins, a global rate cap.

The operator writes them in ``DATA/collector.toml``::

    allow = ["192.0.2.0/24", "2001:db8::/48"]   # nothing is scanned until something is allowed
    deny = ["192.0.2.1"]                        # never scanned, even inside an allowed network
    max_rate = 2000                             # new connections per second, a cap on every scan

and ``shoal scan --allow CIDR`` / ``shoal serve --allow CIDR`` add to the allow-list for one run.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from shoal.errors import TargetNotAllowed
from shoal.store.base import IPNetwork

POLICY_FILE = "collector.toml"
DEFAULT_MAX_RATE = 10_000.0


class PolicyFileError(ValueError):
    """``collector.toml`` is not valid; the message names the file and the key."""


def parse_network(text: str) -> IPNetwork:
    """An address or CIDR; host bits are ignored. ValueError with the text if it is neither."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not an IP address or CIDR: {text!r}") from None


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    allow: tuple[IPNetwork, ...] = ()
    deny: tuple[IPNetwork, ...] = ()
    max_rate: float = DEFAULT_MAX_RATE
    source: str = field(default="", compare=False)  # where it was read from, for messages

    def with_allowed(self, networks: Iterable[IPNetwork]) -> ScanPolicy:
        return replace(self, allow=(*self.allow, *networks))

    def permits(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """May a packet be sent to this address? Denied addresses never, others only if allowed."""
        if any(ip in network for network in self.deny):
            return False
        return any(ip in network for network in self.allow)

    def check_address(self, ip: str) -> None:
        """Raise TargetNotAllowed (with the reason) unless ``ip`` may be scanned."""
        address = ipaddress.ip_address(ip)
        if any(address in network for network in self.deny):
            raise TargetNotAllowed(ip, f"{ip} is on the collector's deny-list{self._where()}")
        if not any(address in network for network in self.allow):
            raise TargetNotAllowed(ip, f"{ip} is outside the collector's allow-list{self._hint()}")

    def check_network(self, network: IPNetwork) -> None:
        """Raise TargetNotAllowed unless every address of ``network`` is allowed (denied ones are skipped
        when scanning, but a network that is denied as a whole is refused)."""
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
    unknown = set(raw) - {"allow", "deny", "max_rate"}
    if unknown:
        raise PolicyFileError(f"{path}: unknown key {sorted(unknown)[0]!r} (expected allow, deny, max_rate)")
    max_rate = raw.get("max_rate", DEFAULT_MAX_RATE)
    if isinstance(max_rate, bool) or not isinstance(max_rate, int | float) or max_rate <= 0:
        raise PolicyFileError(f"{path}: 'max_rate' must be a positive number of connections per second")
    return ScanPolicy(
        allow=_networks(raw, "allow", path),
        deny=_networks(raw, "deny", path),
        max_rate=float(max_rate),
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
