"""Collector results into the store: open ports as observations (UDP ones in the UDP observation store), reports
through the one ingest path, forward DNS answers beside them, and the TCP ports found closed to the store's
watcher (alerts: a watched service found closed is gone).

``StoreWriter`` buffers what the collector finds and writes it on a worker thread every second (or sooner
when a batch fills), so the event loop never waits for a commit and results are searchable within seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from shoal.ingest.pipeline import Transform, ingest_stream
from shoal.model import DnsAnswer, PortObservation, Report, UdpObservation
from shoal.store.base import Store

FLUSH_SECONDS = 1.0
FLUSH_SIZE = 5_000  # results waiting before a flush is due, whatever the clock says


@dataclass(slots=True)
class StoredTotals:
    observations: int = 0
    udp_observations: int = 0
    reports: int = 0
    answers: int = 0  # new forward DNS answers


class StoreWriter:
    """A ``ResultSink`` that writes to a store. Run ``run()`` as a task while collecting, ``flush()`` after."""

    def __init__(self, store: Store, transform: Transform | None) -> None:
        self.store = store
        self.transform = transform
        self.totals = StoredTotals()
        self._observations: list[PortObservation] = []
        self._udp_observations: list[UdpObservation] = []
        self._reports: list[Report] = []
        self._answers: list[DnsAnswer] = []
        self._closed: list[tuple[str, int]] = []
        self._due = asyncio.Event()
        self._lock = asyncio.Lock()

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        self._observations.append(PortObservation(ip, port, day))
        self._check_size()

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        self._udp_observations.append(UdpObservation(ip, port, day))
        self._check_size()

    def report(self, report: Report) -> None:
        self._reports.append(report)
        self._check_size()

    def closed_port(self, ip: str, port: int) -> None:
        self._closed.append((ip, port))
        self._check_size()

    def answers(self, answers: list[DnsAnswer]) -> None:
        self._answers += answers
        self._check_size()

    def _check_size(self) -> None:
        waiting = len(self._observations) + len(self._udp_observations) + len(self._reports) + len(self._answers)
        waiting += len(self._closed)
        if waiting >= FLUSH_SIZE:
            self._due.set()

    async def run(self) -> None:
        """Flush every second, or when a batch is full, until cancelled (then call ``flush`` once more)."""
        while True:
            try:
                async with asyncio.timeout(FLUSH_SECONDS):
                    await self._due.wait()
            except TimeoutError:
                pass
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            self._due.clear()
            observations, self._observations = self._observations, []
            udp, self._udp_observations = self._udp_observations, []
            reports, self._reports = self._reports, []
            answers, self._answers = self._answers, []
            closed, self._closed = self._closed, []
            if observations or udp or reports or answers or closed:
                await asyncio.to_thread(self._write, observations, udp, reports, answers, closed)

    def _write(
        self,
        observations: list[PortObservation],
        udp: list[UdpObservation],
        reports: list[Report],
        answers: list[DnsAnswer],
        closed: list[tuple[str, int]],
    ) -> None:
        if answers:
            self.totals.answers += self.store.ingest_answers(answers).imported
        if observations:
            self.store.ingest_observations(observations)
            self.totals.observations += len(observations)
        if udp:
            self.store.ingest_observations(udp, transport="udp")
            self.totals.udp_observations += len(udp)
        if reports:
            totals = ingest_stream(self.store, reports, transform=self.transform)
            self.totals.reports += totals.imported
        if closed and self.store.watcher is not None and self.store.watcher.active():
            self.store.watcher.gone(closed)
