"""Open-port summaries (``scan/ports``, ``scan/ipports``) and the honeypot rule, over any engine's OpenPorts.

An engine answers a ``PortQuery`` with counts per (host, port); everything Driftnet shows is computed here,
once for every engine: the top ports and ``other``, the per-IP tables, the default date window, and the
honeypot flag. The rule is explained in docs/ports.md; ``explain`` gives the evidence behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from shoal.store.base import OpenPorts

DEFAULT_WINDOW_DAYS = 30  # without from/to: the last 30 days, today (UTC) included
PORT_LIMIT = 100  # values per summary (per IP in scan/ipports)
IP_LIMIT = 1024  # IPs in scan/ipports
WIDEST_PREFIX = {4: 8, 6: 32}  # the widest CIDR the open-port endpoints accept, per IP version

# The honeypot rule (docs/ports.md). A host is flagged when, within the window, it has
MANY_PORTS = 100  # more than this many distinct open TCP ports, or
CANARY_MINIMUM = 3  # at least this many of the canary ports open.
# Canary ports: TCP ports IANA leaves unassigned and no common software listens on. A real service answers
# on none of them; a host that accepts connections on every port (scan honeypots, tarpits, SYN proxies)
# answers on all of those a scanner probes.
CANARY_PORTS = (4, 6, 8, 10, 12, 14, 16, 26, 28, 30, 32, 34, 36, 40)


def window(date_from: dt.date | None, date_to: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date | None]:
    """The days searched: ``from`` defaults to 29 days before ``to`` (before today when ``to`` is absent, so
    the default is the last 30 days); ``to`` defaults to no upper bound."""
    if date_from is None:
        date_from = (date_to or today) - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    return date_from, date_to


@dataclass(frozen=True, slots=True)
class PortSummary:
    values: list[tuple[int, int]]  # (port, observations), most observations first, ties by port
    other: int  # observations of the ports not listed
    honeypot: bool  # a host in the range meets the honeypot rule


@dataclass(frozen=True, slots=True)
class HostPorts:
    ip: str
    values: list[tuple[int, int]]  # (port, observations), most observations first, ties by port
    other: int  # observations of this host's ports not listed


@dataclass(frozen=True, slots=True)
class IpPortSummary:
    hosts: list[HostPorts]  # most observations first, ties by address
    other: int  # hosts with observations that are not listed


@dataclass(frozen=True, slots=True)
class HoneypotEvidence:
    ip: str
    distinct_ports: int
    canary_ports: tuple[int, ...]
    observations: int

    @property
    def many_ports(self) -> bool:
        return self.distinct_ports > MANY_PORTS

    @property
    def canaries(self) -> bool:
        return len(self.canary_ports) >= CANARY_MINIMUM

    @property
    def flagged(self) -> bool:
        return self.many_ports or self.canaries

    def reasons(self) -> list[str]:
        """One line per rule, saying whether it holds and why."""
        ports = f"{self.distinct_ports} distinct open port{'s' * (self.distinct_ports != 1)}"
        canaries = ", ".join(map(str, self.canary_ports)) or "none"
        return [
            f"{'YES' if self.many_ports else 'no '} many ports: {ports} (flagged above {MANY_PORTS})",
            f"{'YES' if self.canaries else 'no '} canary ports: {canaries} open "
            f"(flagged at {CANARY_MINIMUM} or more of {', '.join(map(str, CANARY_PORTS))})",
        ]


def host_starts(found: OpenPorts) -> np.ndarray:
    """Index of each host's first row (rows are sorted by host)."""
    if not len(found):
        return np.zeros(0, dtype=np.intp)
    hosts = found.hosts
    return np.flatnonzero(np.concatenate(([True], hosts[1:] != hosts[:-1])))


def _signals(found: OpenPorts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per host: first row, distinct ports, canary ports open."""
    starts = host_starts(found)
    distinct = np.diff(np.append(starts, len(found)))
    canary = np.isin(found.ports, CANARY_PORTS).astype(np.int64)
    canaries = np.add.reduceat(canary, starts) if len(starts) else np.zeros(0, dtype=np.int64)
    return starts, distinct, canaries


def _flagged(distinct: np.ndarray, canaries: np.ndarray) -> np.ndarray:
    return (distinct > MANY_PORTS) | (canaries >= CANARY_MINIMUM)


def is_honeypot(found: OpenPorts) -> bool:
    if not len(found):
        return False
    _, distinct, canaries = _signals(found)
    return bool(_flagged(distinct, canaries).any())


def summarize_ports(found: OpenPorts, limit: int = PORT_LIMIT) -> PortSummary:
    """Observations per port over every host: the ``limit`` ports with the most, and ``other``."""
    values, other = _top_ports(found.ports, found.counts, limit, already_unique=False)
    return PortSummary(values, other, is_honeypot(found))


def summarize_ip_ports(found: OpenPorts, ip_limit: int = IP_LIMIT, port_limit: int = PORT_LIMIT) -> IpPortSummary:
    """Per host, its ports: the ``ip_limit`` hosts with the most observations, ``port_limit`` ports each."""
    starts = host_starts(found)
    if not len(starts):
        return IpPortSummary([], 0)
    totals = np.add.reduceat(found.counts, starts)
    chosen = np.argsort(-totals, kind="stable")[:ip_limit]  # hosts are sorted, so ties go to the lower address
    ends = np.append(starts[1:], len(found))
    hosts = []
    for index in chosen.tolist():
        start, end = int(starts[index]), int(ends[index])
        values, other = _top_ports(found.ports[start:end], found.counts[start:end], port_limit, already_unique=True)
        hosts.append(HostPorts(found.host_text(found.hosts[start]), values, other))
    return IpPortSummary(hosts, len(starts) - len(chosen))


def _top_ports(
    ports: np.ndarray, counts: np.ndarray, limit: int, already_unique: bool
) -> tuple[list[tuple[int, int]], int]:
    """The ``limit`` (port, count) pairs with the highest counts (ties by port), and the sum of the rest."""
    if already_unique:  # one row per port, ascending
        present, totals = ports, counts
    else:
        by_port = np.bincount(ports, weights=counts, minlength=1 << 16)
        present = np.flatnonzero(by_port)
        totals = by_port[present].astype(np.int64)
    order = np.argsort(-totals, kind="stable")[:limit]
    listed = totals[order]
    values = list(zip(present[order].tolist(), listed.tolist(), strict=True))
    return values, int(totals.sum() - listed.sum())


def explain(found: OpenPorts, limit: int = 20) -> tuple[int, list[HoneypotEvidence]]:
    """(number of hosts flagged, evidence): for one host its evidence, flagged or not; for several, the flagged
    hosts with the most distinct ports first (at most ``limit``)."""
    starts, distinct, canaries = _signals(found)
    flagged = np.flatnonzero(_flagged(distinct, canaries))
    by_ports = flagged[np.argsort(-distinct[flagged], kind="stable")][:limit]
    shown = np.array([0]) if len(starts) == 1 else by_ports
    ends = np.append(starts[1:], len(found))
    evidence = []
    for index in shown.tolist():
        start, end = int(starts[index]), int(ends[index])
        ports = found.ports[start:end]
        evidence.append(
            HoneypotEvidence(
                ip=found.host_text(found.hosts[start]),
                distinct_ports=end - start,
                canary_ports=tuple(ports[np.isin(ports, CANARY_PORTS)].tolist()),
                observations=int(found.counts[start:end].sum()),
            )
        )
    return len(flagged), evidence
