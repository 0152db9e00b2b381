"""The collector: a bounded-concurrency connect scan whose open ports are identified and reported.

``Collector.scan`` discovers: for each permitted ip:port it connects (rate-limited, per-host limited); an
accepted connection is an open port (``sink.open_port``), handed on to identification, whose service
becomes one Report (``sink.report``; a favicon it fetched, one more: ``favicons``). ``Collector.collect`` does
the same for one ip:port. UDP ports, when asked for, are probed (``shoal.collect.udp.identify``): a port that
answers is open (``sink.open_udp_port``) and its service a Report naming ``port-udp``; a closed or silent one
leaves nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from shoal.collect.connection import Connection, Connector, PortClosed, Timeouts
from shoal.collect.identify import identify
from shoal.collect.policy import ScanPolicy
from shoal.collect.probes.base import Service
from shoal.collect.probes.http import favicon_report
from shoal.collect.ratelimit import ConnectionRate
from shoal.collect.targets import count_targets, iterate_targets
from shoal.collect.udp.identify import PortState, identify_udp
from shoal.enrich.fingerprints import jarm_async
from shoal.model import Item, Report
from shoal.request.params import CONCURRENCY, FOLLOW_UPS, IDENTIFY, JARM, PER_HOST, RATE, UDP_RETRIES, default_of
from shoal.store.base import IPNetwork

log = logging.getLogger("shoal.collect")
SCAN_GC_THRESHOLD = 10_000  # allocations between young collections while a scan runs (Python's default: 700)
JARM_CONNECTIONS = 11  # a JARM fingerprint's own: a plain connect, then 10 hellos (counted against our rate)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """How a scan runs; the defaults are ``shoal scan``'s (its options' records, ``shoal.request.params.SCAN``)."""

    rate: float = default_of(RATE)  # new connections per second (capped by the policy's max_rate)
    concurrency: int = default_of(CONCURRENCY)  # ip:ports in flight
    per_host: int = default_of(PER_HOST)  # connections open at once to one address
    timeouts: Timeouts = field(default_factory=Timeouts)
    identify: bool = default_of(IDENTIFY)  # False: port discovery only
    jarm: bool = default_of(JARM)  # a JARM fingerprint for every TLS service
    follow_ups: bool = default_of(FOLLOW_UPS)  # depth beyond the identifying exchange: SSH's other host keys, …
    udp_retries: int = default_of(UDP_RETRIES)  # times a UDP probe is sent again after a wait with no answer


@dataclass(slots=True)
class ScanStats:
    targets: int = 0  # ip:ports to try
    tried: int = 0
    open_ports: int = 0
    reports: int = 0
    udp_open: int = 0  # UDP ports that answered
    udp_silent: int = 0  # UDP ports with no answer after every retry ("open|filtered", not stored)
    udp_datagrams: int = 0  # sent to every UDP port, answered or not
    started: float = field(default_factory=time.monotonic)
    protocols: dict[str, int] = field(default_factory=dict)  # reports per protocol (UDP ones as "dns/udp")
    datagrams: dict[str, int] = field(default_factory=dict)  # UDP datagrams sent per protocol identified

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class ResultSink(Protocol):
    def open_port(self, ip: str, port: int, day: dt.date) -> None: ...

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None: ...

    def report(self, report: Report) -> None: ...

    def closed_port(self, ip: str, port: int) -> None: ...


def build_report(ip: str, port: int, service: Service, day: dt.date, port_type: str = "port-tcp") -> Report:
    """``ip`` and ``port-tcp`` (``port-udp`` for a UDP service; metadata, empty context) first, then the banner,
    then the service's items."""
    items = (
        Item("ip", ip, "", True),
        Item(port_type, str(port), "", True),
        Item("server-banner", service.banner, service.protocol),
        *service.items,
    )
    return Report(date=day, items=items, bodies=tuple(service.bodies))


class Collector:
    def __init__(
        self, policy: ScanPolicy, settings: ScanSettings, sink: ResultSink, connector: Connector | None = None
    ) -> None:
        """``connector``: another collector's, shared so that both together keep its rate and per-host limits
        (a server's scheduled scans beside its queued collections and rescans)."""
        self.policy = policy
        self.settings = settings
        self.sink = sink
        if connector is None:
            connector = Connector(
                policy, ConnectionRate(min(settings.rate, policy.max_rate)), settings.per_host, settings.timeouts
            )
        self.connector = connector
        self.rate = connector.rate
        self.stats = ScanStats()

    async def scan(
        self, networks: Sequence[IPNetwork], ports: Sequence[int], udp_ports: Sequence[int] = ()
    ) -> ScanStats:
        """Scan every permitted ip:port over TCP, then every permitted ip:udp_port over UDP. Raises
        TargetNotAllowed, before any packet, if a network is not wholly inside the allow-list."""
        for network in networks:
            self.policy.check_network(network)
        self.stats = ScanStats(targets=count_targets(networks, [*ports, *udp_ports], self.policy))
        with few_collections():
            await self._scan_all(networks, ports, udp_ports)
        return self.stats

    async def _scan_all(self, networks: Sequence[IPNetwork], ports: Sequence[int], udp_ports: Sequence[int]) -> None:
        slots = asyncio.Semaphore(self.settings.concurrency)
        running: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()

        for collect, ip, port in self._targets(networks, ports, udp_ports):
            await slots.acquire()
            task = asyncio.create_task(collect(ip, port))
            running.add(task)
            task.add_done_callback(finished)
        if running:
            await asyncio.wait(running)

    def _targets(
        self, networks: Sequence[IPNetwork], ports: Sequence[int], udp_ports: Sequence[int]
    ) -> Iterator[tuple[Callable[[str, int], Awaitable[Report | None]], str, int]]:
        for ip, port in iterate_targets(networks, ports, self.policy):
            yield self.collect, ip, port
        for ip, port in iterate_targets(networks, udp_ports, self.policy):
            yield self.collect_udp, ip, port

    async def collect(self, ip: str, port: int) -> Report | None:
        """Discover and identify one ip:port; the report (also given to the sink), or None."""
        return await self._counted_try(self._collect(ip, port), f"{ip}:{port}")

    async def _counted_try(self, collecting: Coroutine[Any, Any, Report | None], target: str) -> Report | None:
        """One target tried: a failure is logged (the scan goes on), and counted as tried either way."""
        try:
            return await collecting
        except Exception:
            log.warning("collecting %s failed", target, exc_info=True)
            return None
        finally:
            self.stats.tried += 1

    async def _collect(self, ip: str, port: int) -> Report | None:
        try:
            connection = await self.connector.open(ip, port)
        except PortClosed:
            self.sink.closed_port(ip, port)
            return None
        day = dt.datetime.now(dt.UTC).date()
        self.stats.open_ports += 1
        try:
            self.sink.open_port(ip, port, day)
        except BaseException:
            connection.close()  # its host's connection slot with it
            raise
        if not self.settings.identify:
            connection.close()
            return None
        service = await self._identify(ip, port, connection)
        if service is None:
            return None
        report = build_report(ip, port, service, day)
        self._counted(report, service.protocol)
        return report

    async def collect_udp(self, ip: str, port: int) -> Report | None:
        """Probe and identify one UDP ip:port; the report (also given to the sink), or None."""
        return await self._counted_try(self._collect_udp(ip, port), f"{ip}:{port}/udp")

    async def _collect_udp(self, ip: str, port: int) -> Report | None:
        outcome = await identify_udp(self.connector, ip, port, self.settings.udp_retries)
        self.stats.udp_datagrams += outcome.sent
        if outcome.state is PortState.SILENT:
            self.stats.udp_silent += 1
        if outcome.service is None:
            return None
        day = dt.datetime.now(dt.UTC).date()
        self.stats.udp_open += 1
        self.sink.open_udp_port(ip, port, day)
        if not self.settings.identify:
            return None
        report = build_report(ip, port, outcome.service, day, "port-udp")
        protocol = f"{outcome.service.protocol}/udp"
        self.stats.datagrams[protocol] = self.stats.datagrams.get(protocol, 0) + outcome.sent
        self._counted(report, protocol)
        return report

    def _counted(self, report: Report, protocol: str) -> None:
        """Count a report and hand it to the sink, with the favicons report of the favicon it fetched."""
        self.stats.reports += 1
        self.stats.protocols[protocol] = self.stats.protocols.get(protocol, 0) + 1
        self.sink.report(report)
        icon = favicon_report(report)
        if icon is not None:
            self.sink.report(icon)

    async def _identify(self, ip: str, port: int, connection: Connection) -> Service | None:
        service = await identify(self.connector, ip, port, connection, self.settings.follow_ups)
        if service is not None and service.tls and self.settings.jarm:
            await self.rate.acquire(JARM_CONNECTIONS)
            jarm = await jarm_async(ip, port, self.settings.timeouts.first_byte * 2)
            if jarm is not None:
                service.items.append(Item("jarm", jarm))
        return service


@dataclass(slots=True)
class CollectionSettings:
    """The garbage collector's thresholds before the first of the scans now running began."""

    scans: int = 0
    thresholds: tuple[int, ...] = ()


SCANNING = CollectionSettings()


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Fewer garbage collections while scans run: what exists already is frozen out of them (the modules, the
    targets), and the young generation is collected every SCAN_GC_THRESHOLD allocations, not 700. A scan allocates
    fast and keeps little (connections, futures, items handed to the sink): the default spent ~15% of a scan's CPU
    collecting (BENCHMARKS.md). The last scan to end restores the thresholds."""
    if SCANNING.scans == 0:
        SCANNING.thresholds = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(SCAN_GC_THRESHOLD, SCANNING.thresholds[0]), *SCANNING.thresholds[1:])
    SCANNING.scans += 1
    try:
        yield
    finally:
        SCANNING.scans -= 1
        if SCANNING.scans == 0:
            gc.set_threshold(*SCANNING.thresholds)
            gc.unfreeze()


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed (about 2.4x the connects/s of asyncio's own loop)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
