"""Batching reports into the store: every source goes through here.

``ingest_stream`` takes Reports made in this process (collector, tests), PortObservations and UdpObservations
(masscan, nmap output) and DnsAnswers (zdns, massdns). ``ingest_chunks`` takes raw input chunks and a decoder
(any reader's module-level ``decode_*_chunk``, whose records may be any of these), and runs decode +
``store.prepare`` in worker processes, so that parsing and document building use the other cores while this
process feeds the engine. JSON lines of reports go to a store that takes them as they are (``ingest_lines``:
the embedded one, whose shard processes decode each line once) with no worker of their own.
Both commit in atomic batches and collect rejected records without stopping. After each commit, the reports
it added go to the store's watcher (the data directory's alerts, ``shoal.alerts.evaluate``) with the commit's
number (an engine that numbers them): those of JSON lines a store decoded itself are read back from it
(``committed_reports``), in batches of BATCH_SIZE while alerts exist, and commits no process evaluated are caught
up first.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice
from typing import Any, NamedTuple, TypeVar

from shoal.children import start_worker
from shoal.ingest.jsonl import CHUNK_LINES, LineChunk, Rejected, decode_chunk
from shoal.model import DnsAnswer, PortObservation, Report, UdpObservation
from shoal.store.base import IngestResult, Store

BATCH_SIZE = 50_000  # reports per atomic commit
# JSON lines a store decodes itself (``ingest_lines``) per atomic batch: its shards commit less often and merge
# fewer segments (at 1M reports, 118–120 µs of CPU a report against 137–138 with batches of 50,000).
LINES_BATCH_SIZE = 200_000
Chunk = TypeVar("Chunk")


@dataclass
class IngestTotals:
    imported: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.imported + self.duplicates + len(self.rejected)


Transform = Callable[[Report], Report]  # e.g. enrichment; module-level so it can run in worker processes


class Kept(NamedTuple):
    """A prepared report with the report itself, for the watcher to see once it is committed."""

    prepared: Any
    report: Report


def watching(store: Store) -> bool:
    """Whether the store's watcher wants the reports of each commit (alerts exist)."""
    return store.watcher is not None and store.watcher.active()


def ingest_stream(
    store: Store,
    records: Iterable[Report | PortObservation | UdpObservation | DnsAnswer | Rejected],
    totals: IngestTotals | None = None,
    on_batch: Callable[[IngestTotals], None] | None = None,
    batch_size: int = BATCH_SIZE,
    transform: Transform | None = None,
) -> IngestTotals:
    """Store reports and observations in atomic batches, in this process."""
    prepare = preparer(store, transform, watching(store))
    prepared = (prepare(record) if isinstance(record, Report) else record for record in records)
    return _store_batches(store, prepared, totals or IngestTotals(), on_batch, batch_size)


def preparer(store: Store, transform: Transform | None, keep: bool) -> Callable[[Report], Any]:
    """What turns a report into what the store takes: ``transform`` (enrichment) then ``store.prepare``; with
    ``keep``, the result is ``Kept`` with the (transformed) report, for the watcher (picklable, for workers)."""
    if keep:
        return partial(_kept, transform, store.prepare)
    return store.prepare if transform is None else partial(_transform_and_prepare, transform, store.prepare)


def _kept(transform: Transform | None, prepare: Callable[[Report], Any], report: Report) -> Kept:
    seen = report if transform is None else transform(report)
    return Kept(prepare(seen), seen)


def ingest_chunks(
    store: Store,
    chunks: Iterable[Chunk],
    decode: Callable[[Chunk], list[Report | Rejected]],
    totals: IngestTotals | None = None,
    on_batch: Callable[[IngestTotals], None] | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    transform: Transform | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> IngestTotals:
    """Decode and prepare chunks in worker processes (``decode`` and ``transform`` must be module-level).
    ``on_chunk(n)`` is called as each chunk's ``n`` records join the batch being stored (progress between
    the commits of ``on_batch``). ``batch_size``: records per atomic batch (default: BATCH_SIZE, or
    LINES_BATCH_SIZE for JSON lines a store decodes itself)."""
    totals = totals or IngestTotals()
    workers = default_workers() if workers is None else workers
    keep = watching(store)
    if decode is decode_chunk and transform is None and hasattr(store, "ingest_lines"):
        size = (BATCH_SIZE if keep else LINES_BATCH_SIZE) if batch_size is None else batch_size
        return _ingest_lines(store, chunks, totals, on_batch, on_chunk, size, workers > 0, keep)  # type: ignore[arg-type]
    batch_size = BATCH_SIZE if batch_size is None else batch_size
    if workers == 0:
        records = (record for chunk in chunks for record in _counted(decode(chunk), on_chunk))
        return ingest_stream(store, records, totals, on_batch, batch_size, transform)
    job = partial(decode_and_prepare, decode=decode, prepare=preparer(store, transform, keep))
    context = multiprocessing.get_context("spawn")  # never fork a process that runs engine threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=start_worker) as pool:
        # Enough chunks in flight to prepare a whole batch while this process stores the one before: with fewer,
        # the workers stop during every batch's indexing and commit (1M reports: 93% of one core busy, not 2).
        ahead = workers * 4 + batch_size // CHUNK_LINES
        prepared = _in_order(pool, job, chunks, ahead=ahead, on_chunk=on_chunk)
        return _store_batches(store, prepared, totals, on_batch, batch_size)


def _ingest_lines(
    store: Any,
    chunks: Iterable[LineChunk],
    totals: IngestTotals,
    on_batch: Callable[[IngestTotals], None] | None,
    on_chunk: Callable[[int], None] | None,
    batch_size: int,
    processes: bool,
    keep: bool,
) -> IngestTotals:
    """JSON lines of reports of one input into a store that decodes them itself (``EmbeddedStore.ingest_lines``);
    with ``keep``, the reports each commit added are read back from the store for its watcher."""
    pending = iter(chunks)
    first = next(pending, None)
    if first is None:
        return totals

    def stored(outcome: Any) -> None:
        totals.imported += outcome.imported
        totals.duplicates += outcome.duplicates
        totals.rejected += [Rejected(first.source, line, reason) for line, reason in outcome.rejected]
        if keep and outcome.imported and store.watcher is not None:
            store.watcher.committed(store, {first.dataset: outcome.batch})
        if on_batch is not None:
            on_batch(totals)

    lines = ((chunk.first_line, chunk.lines) for chunk in chain([first], pending) if chunk.lines)
    store.ingest_lines(first.dataset, lines, stored, on_chunk, batch_size, processes)
    return totals


def _counted(records: list[Any], on_chunk: Callable[[int], None] | None) -> list[Any]:
    if on_chunk is not None:
        on_chunk(len(records))
    return records


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def decode_and_prepare(
    chunk: Any, decode: Callable[[Any], list[Report | Rejected]], prepare: Callable[[Report], Any]
) -> list[Any]:
    return [prepare(record) if isinstance(record, Report) else record for record in decode(chunk)]


def _transform_and_prepare(transform: Transform, prepare: Callable[[Report], Any], report: Report) -> Any:
    return prepare(transform(report))


def _in_order(
    pool: ProcessPoolExecutor,
    job: Callable[[Any], list[Any]],
    chunks: Iterable[Any],
    ahead: int,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """Results of job over chunks, in input order, with at most ``ahead`` chunks in flight."""
    pending: deque[Future[list[Any]]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(job, chunk))
        if len(pending) >= ahead:
            yield from _counted(pending.popleft().result(), on_chunk)
    while pending:
        yield from _counted(pending.popleft().result(), on_chunk)


def _store_batches(
    store: Store,
    prepared: Iterable[Any],
    totals: IngestTotals,
    on_batch: Callable[[IngestTotals], None] | None,
    batch_size: int,
) -> IngestTotals:
    iterator = iter(prepared)
    while batch := list(islice(iterator, batch_size)):
        ready, kept, observations, udp, answers = [], [], [], [], []
        for record in batch:
            if isinstance(record, Kept):
                ready.append(record.prepared)
                kept.append(record.report)
            elif isinstance(record, Rejected):
                totals.rejected.append(record)
            elif isinstance(record, PortObservation):
                observations.append(record)
            elif isinstance(record, UdpObservation):
                udp.append(record)
            elif isinstance(record, DnsAnswer):
                answers.append(record)
            else:
                ready.append(record)
        results = []
        if ready:
            results.append(store.ingest_prepared(ready))
            if kept and store.watcher is not None:
                store.watcher.committed(store, results[-1].commits, added(kept, results[-1]))
        if observations:
            results.append(store.ingest_observations(observations))
        if udp:
            results.append(store.ingest_observations(udp, transport="udp"))
        if answers:
            results.append(store.ingest_answers(answers))
        for result in results:
            totals.imported += result.imported
            totals.duplicates += result.duplicates
        if on_batch is not None:
            on_batch(totals)
    return totals


def added(reports: list[Report], result: IngestResult) -> list[Report]:
    """The reports a commit added (not its duplicates), when the engine names them; else all of them."""
    if len(result.imported_ids) != result.imported:
        return reports
    ids = set(result.imported_ids)
    return [report for report in reports if report.id in ids]
