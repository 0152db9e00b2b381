"""``CollectionWorker``: a Collector on its own thread and event loop inside ``shoal serve``.

It takes ip:ports from ``submit`` (the prioritize endpoint; a UDP one is probed as ``shoal scan --udp-ports``
probes it) and, with ``rescan_every``, periodically queues every known open ip:port inside the allow-list
again, TCP and UDP (the UDP observations), so reports accumulate as history; with ``schedules``,
it runs each scan schedule when due (``shoal.collect.schedules``). Results go through a
``StoreWriter`` and are searchable about a second after their collection ends. With a ``PriorityQueue``,
submitted targets are on disk until collected: a restarted worker collects what its predecessor accepted
(and refunds, through ``usage``, what its policy no longer allows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from ipaddress import ip_address

from shoal.collect.policy import ScanPolicy
from shoal.collect.queue import PriorityQueue, Target
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.collect.schedules import ScheduleBook, run_schedule
from shoal.collect.storing import StoreWriter
from shoal.errors import TargetNotAllowed
from shoal.ingest.pipeline import Transform
from shoal.store.base import TRANSPORTS, PortQuery, Store
from shoal.usage import Charge, UsageBook

CONCURRENT_COLLECTIONS = 32
START_TIMEOUT = 10.0
KILLED = "the server was stopped or killed during the run"
SCHEDULE_SECONDS = 1.0  # how often the schedules are looked at for due runs
log = logging.getLogger("shoal.collect")


class CollectionWorker:
    def __init__(
        self,
        store: Store,
        policy: ScanPolicy,
        settings: ScanSettings,
        transform: Transform | None,
        rescan_every: float | None = None,
        queue: PriorityQueue | None = None,
        usage: UsageBook | None = None,
        schedules: ScheduleBook | None = None,
    ) -> None:
        self.store = store
        self.queue = queue
        self.usage = usage
        self.policy = policy
        self.settings = settings
        self.transform = transform
        self.rescan_every = rescan_every
        self.schedules = schedules
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Target] | None = None
        self._pending: set[Target] = set()
        self._durable: set[Target] = set()
        self._stopping: asyncio.Event | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=run_event_loop, args=(self._main(),), name="shoal-collector", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the collection worker did not start")

    def submit(self, ip: str, port: int, charge: Charge | None = None, transport: str = "tcp") -> None:
        """Queue a collection of ip:port over ``transport`` (on disk first, if there is a queue file);
        TargetNotAllowed (nothing queued) if the policy refuses it."""
        self.policy.check_address(ip)
        if self._loop is None:
            raise RuntimeError("the collection worker is not running")
        target = (ip, port, transport)
        if self.queue is not None:
            self.queue.add(target, charge)
        self._loop.call_soon_threadsafe(self._enqueue, target, self.queue is not None)

    def _requeued(self) -> list[Target]:
        """What a previous server accepted and did not collect, still allowed (the rest is refunded, dropped)."""
        if self.queue is None:
            return []
        allowed = []
        for target in self.queue.pending():
            try:
                self.policy.check_address(target[0])
            except (TargetNotAllowed, ValueError):
                if self.usage is not None:
                    for charge in self.queue.charges(target):
                        self.usage.refund(charge)
                self.queue.done(target)
                continue
            allowed.append(target)
        return allowed

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join()

    def _enqueue(self, target: Target, durable: bool = False) -> None:
        """Queue a target once; ``durable``: it is in the queue file, to be taken out once collected."""
        if durable:
            self._durable.add(target)
        if self._queue is not None and target not in self._pending:
            self._pending.add(target)
            self._queue.put_nowait(target)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._stopping = asyncio.Event()
        writer = StoreWriter(self.store, self.transform)
        collector = Collector(self.policy, self.settings, writer)
        tasks = [asyncio.create_task(writer.run())]
        tasks += [asyncio.create_task(self._collect_queued(collector, writer)) for _ in range(CONCURRENT_COLLECTIONS)]
        if self.rescan_every:
            tasks.append(asyncio.create_task(self._rescan(self.rescan_every)))
        if self.schedules is not None:
            tasks.append(asyncio.create_task(self._run_schedules(self.schedules, writer, collector)))
        for target in await asyncio.to_thread(self._requeued):
            self._enqueue(target, durable=True)
        self._ready.set()
        await self._stopping.wait()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks)
        await writer.flush()

    async def _collect_queued(self, collector: Collector, writer: StoreWriter) -> None:
        assert self._queue is not None
        while True:
            target = await self._queue.get()
            ip, port, transport = target
            try:
                await (collector.collect_udp if transport == "udp" else collector.collect)(ip, port)
                if target in self._durable:
                    await writer.flush()  # stored before it leaves the queue file: a crash loses neither
                    await asyncio.to_thread(self.queue.done, target)  # type: ignore[union-attr]
            finally:
                self._pending.discard(target)
                self._durable.discard(target)

    async def _rescan(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            for target in await asyncio.to_thread(self.known_open_ports):
                self._enqueue(target)

    async def _run_schedules(self, book: ScheduleBook, writer: StoreWriter, collector: Collector) -> None:
        """Run each due schedule in turn, one at a time, through ``collector``'s connector (one rate limit for
        the runs, the queued collections and the rescans); a run that fails is logged and recorded, and the
        schedule is due again after its interval. Runs a killed server left recorded as running are ended first."""
        await asyncio.to_thread(book.interrupted, KILLED)
        while True:
            for schedule in await asyncio.to_thread(book.due, time.time()):
                try:
                    await run_schedule(
                        schedule, book, self.store, self.policy, self.settings, writer, collector.connector
                    )
                except Exception as exc:
                    log.warning("scheduled scan %d failed", schedule.id, exc_info=True)
                    failed = {"running": False, "finished": time.time(), "error": f"the run failed: {exc}"}
                    await asyncio.to_thread(book.record, schedule.id, failed, time.time() + schedule.every)
            await asyncio.sleep(SCHEDULE_SECONDS)

    def known_open_ports(self) -> list[Target]:
        """Every ip:port ever seen open inside the allow-list (and not denied): the TCP observations, then the UDP
        ones (the UDP ports that answered a scan, as every ``port-udp`` report did, or an import listed)."""
        found: dict[Target, None] = {}  # overlapping allowed networks list a target once
        for transport in TRANSPORTS:
            for network in self.policy.allow:
                observed = self.store.open_ports(PortQuery(network, transport=transport))
                for host, port in zip(observed.hosts, observed.ports, strict=True):
                    ip = observed.host_text(host)
                    if self.policy.permits(ip_address(ip)):
                        found[ip, int(port), transport] = None
        return list(found)
