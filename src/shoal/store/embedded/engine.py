"""EmbeddedStore: the Store interface over one sharded tantivy index per dataset, the open-port observation
segments (``ports.ObservationStore``) and the body store, all under one data directory:

    DATA/index            protocols (the first dataset; its place predates the others), its shards inside
    DATA/index-<dataset>  domains, ct, rdns
    DATA/ports/           open-port observations, of every dataset's reports and of port scans
    DATA/ports-udp/       UDP observations (masscan's UDP entries), the same segments in their own folder
    DATA/bodies.sqlite3   raw bodies, by SHA-256
    DATA/names.sqlite3    forward DNS answers (zdns/massdns imports, the collector's lookups) for domain scans

Each dataset's index has N shards (one per core when it is made: ``shards.py``). Batches of PROCESS_BATCH reports
or more are written by one process per shard (``processes.ShardProcesses``), which then writes every later batch
of this store until it is closed; smaller ones by this process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from shoal.errors import StoreError
from shoal.model import DATASETS, PROTOCOLS, Body, DnsAnswer, PortObservation, Report, UdpObservation
from shoal.store.base import (
    BATCH_READ,
    MAX_DAY,
    PAGE_SIZE,
    Commit,
    Filters,
    IngestResult,
    OpenPorts,
    Page,
    PortQuery,
    Say,
    Store,
    Summary,
    SummaryRequest,
    day_number,
    translated,
)
from shoal.store.embedded.bodies import BodyStore
from shoal.store.embedded.documents import OBSERVED
from shoal.store.embedded.index import ReportIndex, format_of
from shoal.store.embedded.ingest import DatasetWriter, Outcome
from shoal.store.embedded.names import NameStore
from shoal.store.embedded.ports import ObservationStore, encode_observations
from shoal.store.embedded.processes import Layout, LocalShards, ShardProcesses, ShardSet
from shoal.store.embedded.schema import INDEX_FORMAT
from shoal.store.embedded.shards import default_shards, read_count, read_state, writing

PROCESS_BATCH = 1_000  # reports in a batch from which the shards' own processes write it


def index_folder(data_dir: Path, dataset: str) -> Path:
    return data_dir / ("index" if dataset == PROTOCOLS else f"index-{dataset}")


def folder_of(url: str, data_dir: Path) -> Path:
    """The folder an ``embedded:`` URL names (``embedded:///srv/shoal``); the data directory when it names none."""
    path = urlsplit(url).path
    return Path(path) if path else data_dir


def prepared(report: Report) -> Report:
    """What ``ingest_prepared`` takes: the report itself (its document is built by its shard's writer)."""
    return report


class EmbeddedStore(Store):
    """``hold_writer=False`` (long-running processes such as ``shoal serve``) lets other processes write between
    its batches. ``shards`` is the number of shards of an index this store makes (default: one per core); an
    existing index keeps its own."""

    name = "embedded"

    def __init__(self, data_dir: Path | str, hold_writer: bool = True, shards: int | None = None) -> None:
        folder = Path(data_dir)
        self.hold_writer = hold_writer
        count = shards or default_shards()
        self.indexes = {
            dataset: ReportIndex(index_folder(folder, dataset), dataset, count, hold_writer) for dataset in DATASETS
        }
        self.ports = ObservationStore(folder / "ports")
        self.udp_ports = ObservationStore(folder / "ports-udp")
        self.body_store = BodyStore(folder / "bodies.sqlite3")
        self.name_store = NameStore(folder / "names.sqlite3")
        self._shards: ShardSet | None = None
        self._writers: dict[str, DatasetWriter] = {}
        # One batch at a time from this process: the collector writes from a thread, and a flush cancelled while its
        # thread still runs is followed by the next one (the shards' writers expect their messages in order).
        self._writing = threading.RLock()
        self.repair()

    # -- opening, and the format of the files -------------------------------------------------------------

    @classmethod
    def open(cls, url: str, data_dir: Path, server: bool = False) -> EmbeddedStore:
        return cls(folder_of(url, data_dir), hold_writer=not server)

    @classmethod
    def migrate_schema(cls, url: str, data_dir: Path, say: Say, shards: int | None = None) -> None:
        """Rewrite every index of an older format (or, given ``shards``, of another number of shards) in place,
        with progress; nothing to do is said too."""
        from shoal.store.embedded.migrate import migrate_data_dir

        folder = folder_of(url, data_dir)

        def progress(dataset: str, done: int, total: int) -> None:
            say(f"{dataset}: {done:,} of {total:,} reports rewritten")

        moved = migrate_data_dir(folder, index_folder, progress, shards)
        if shards is not None:  # and the indexes not made yet, with that many shards
            cls(folder, shards=shards).close()
        for dataset, count in moved.items():
            if count:
                say(f"{dataset}: {count:,} reports now in index format {INDEX_FORMAT}")
        if shards is not None:
            say(f"{folder}: every index in format {INDEX_FORMAT}, with {shards} shards")
        elif not any(moved.values()):
            say(f"{folder}: every index is in this version's format; nothing to migrate")

    @classmethod
    def schema_status(cls, url: str, data_dir: Path, say: Say) -> bool:
        """Each dataset's index format and shards."""
        from shoal.store.embedded.migrate import needs_migration

        folder = folder_of(url, data_dir)
        current = True
        for dataset in DATASETS:
            path = index_folder(folder, dataset)
            found = format_of(path)
            if needs_migration(path):
                current = False
                say(f"{dataset}: index format {found}: run 'shoal db migrate'")
            elif found is None:
                say(f"{dataset}: no index yet")
            else:
                count = read_count(path)
                say(f"{dataset}: index format {found} (latest), {count} shard{'s' if count > 1 else ''}")
        return current

    def index(self, dataset: str) -> ReportIndex:
        try:
            return self.indexes[dataset]
        except KeyError:
            raise StoreError(f"unknown dataset {dataset!r}: the datasets are {', '.join(DATASETS)}") from None

    # -- reading ------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        for index in self.indexes.values():
            index.refresh()

    def count(self, dataset: str | None = None) -> int:
        if dataset is None:
            return sum(index.count() for index in self.indexes.values())
        return self.index(dataset).count()

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        return self.index(filters.dataset).search(filters, offset, limit)

    def search_rendered(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> tuple[int, list[bytes]]:
        """``search``, each report as the API JSON the index keeps of it (no decoding, no rendering)."""
        return self.index(filters.dataset).search_rendered(filters, offset, limit)

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        yield from self.index(filters.dataset).iter_matches(filters)

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        return self.index(filters.dataset).summarize(filters, request)

    def known_types(self, dataset: str | None = None) -> frozenset[str]:
        if dataset is None:
            return frozenset().union(*(index.known_types() for index in self.indexes.values()))
        return self.index(dataset).known_types()

    def bodies(self, digests: Iterable[str]) -> dict[str, Body]:
        return self.body_store.get(digests)

    def known_addresses(self) -> dict[str, list[str]]:
        return self.name_store.addresses()

    def open_ports(self, query: PortQuery) -> OpenPorts:
        first = 0 if query.date_from is None else max(0, day_number(query.date_from))
        last = MAX_DAY if query.date_to is None else min(MAX_DAY, day_number(query.date_to))
        if first > last:
            return OpenPorts.empty(query.network.version)
        return self.observations(query.transport).query(query.network, first, last)

    def observations(self, transport: str) -> ObservationStore:
        if transport == "tcp":
            return self.ports
        if transport == "udp":
            return self.udp_ports
        raise StoreError(f"unknown transport {transport!r}: observations are tcp or udp")

    # -- writing ------------------------------------------------------------------------------------------

    prepare = staticmethod(prepared)

    def ingest(self, reports: Iterable[Report]) -> IngestResult:
        return self.ingest_prepared(list(reports))

    def ingest_prepared(self, batch: Sequence[Report]) -> IngestResult:
        """Add the reports whose ids are new to their datasets, one atomic commit per dataset. Same-id reports of
        a dataset count as duplicates."""
        by_dataset: dict[str, list[Report]] = {}
        for report in batch:
            by_dataset.setdefault(report.dataset, []).append(report)
        result = IngestResult()
        for dataset, reports in by_dataset.items():
            self.index(dataset)
            with self._writing, self.stopped_on_failure():
                added = self.writer(dataset, len(reports) >= PROCESS_BATCH).ingest_reports(reports)
            result.imported += added.imported
            result.duplicates += added.duplicates
            result.imported_ids += added.imported_ids
            result.commits |= added.commits
        return result

    def ingest_lines(
        self,
        dataset: str,
        chunks: Iterable[tuple[int, list[bytes]]],
        on_batch: Callable[[Outcome], None],
        on_chunk: Callable[[int], None] | None = None,
        batch_size: int = 50_000,
        processes: bool = True,
    ) -> None:
        """Store the reports of JSON lines (the API's report shape; chunks of consecutive lines with the number
        of the first) into ``dataset``, in atomic batches of ``batch_size`` lines, each line decoded once by the
        shard its report goes to. ``on_batch`` gets each stored batch's counts and rejected lines."""
        self.index(dataset)
        with self._writing, self.stopped_on_failure():
            self.writer(dataset, processes).ingest_lines(chunks, on_batch, on_chunk, batch_size)

    @translated  # reads, behind the boundary as READS are (not every engine has them: NumberedCommits)
    def last_commit(self, dataset: str) -> Commit:
        """The last commit of ``dataset`` that readers see (``NumberedCommits``)."""
        index = self.index(dataset)
        return Commit(index.instance(), read_state(index.folder).batch)

    @translated
    def committed_reports(self, dataset: str, batch: int) -> Iterator[list[Report]]:
        """The reports of ``dataset`` that commit ``batch`` added, BATCH_READ at a time."""
        yield from self.index(dataset).committed_reports(batch, BATCH_READ)

    def writer(self, dataset: str, processes: bool) -> DatasetWriter:
        """The dataset's writer, its shards written by their own processes from the first batch that asks for
        them on (or by this process until then)."""
        running = isinstance(self._shards, ShardProcesses)
        if self._shards is None or (processes and not running):
            self.stop_writers()
            layouts = self.layouts()
            count = max(layout.count for layout in layouts.values())
            backend = ShardProcesses if processes and count > 1 else LocalShards
            self._shards = backend(layouts, count, self.hold_writer)
        found = self._writers.get(dataset)
        if found is None:
            found = DatasetWriter(self.indexes[dataset], self._shards, self.body_store, self.hold_writer)
            self._writers[dataset] = found
        return found

    def layouts(self) -> dict[str, Layout]:
        return {
            dataset: Layout(index.folder, index.shards.count, self.ports.path if dataset in OBSERVED else None)
            for dataset, index in self.indexes.items()
        }

    def repair(self) -> None:
        """Undo what a crashed writer left in each index, unless another process is writing it now. Best effort:
        a store that cannot be repaired now (a full disk) is still read as its state says, and the next writer
        repairs it."""
        for dataset, index in self.indexes.items():
            view = index.view()
            if not view.torn and not view.state.reconcile:
                continue
            with contextlib.suppress(StoreError, ValueError, OSError), writing(index.folder, dataset, wait=0):
                shards = LocalShards(self.layouts(), index.shards.count, hold_writer=False)
                try:
                    DatasetWriter(index, shards, self.body_store, hold_writer=False).repair()
                finally:
                    shards.close()

    @contextlib.contextmanager
    def stopped_on_failure(self) -> Iterator[None]:
        """After a batch failed (a shard's error, a full disk), the writers are stopped: the next batch starts
        afresh, and first deletes what the failed one left (``DatasetWriter.repair``)."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self.stop_writers()
            raise

    def stop_writers(self) -> None:
        for writer in self._writers.values():
            writer.release()
        self._writers = {}
        if self._shards is not None:
            self._shards.close()
            self._shards = None

    def ingest_observations(
        self, observations: Iterable[PortObservation | UdpObservation], transport: str = "tcp"
    ) -> IngestResult:
        """Store open-port observations (port-scan results) atomically; ValueError if one is malformed, before
        anything is stored. Counts are of observations: one already stored is a duplicate. ``transport="udp"``
        stores UDP observations, in their own segments."""
        imported, duplicates = self.observations(transport).add(*encode_observations(observations))
        return IngestResult(imported=imported, duplicates=duplicates)

    def ingest_answers(self, answers: Iterable[DnsAnswer]) -> IngestResult:
        """Store forward DNS answers; counts are of answers (one already known is a duplicate)."""
        imported, duplicates = self.name_store.add(answers)
        return IngestResult(imported=imported, duplicates=duplicates)

    def close(self) -> None:
        with self._writing:
            self.stop_writers()
        for index in self.indexes.values():
            index.close()
