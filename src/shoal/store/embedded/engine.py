"""EmbeddedStore: the Store interface over one tantivy index in ``DATA/index`` (reports) and the open-port
observation segments in ``DATA/ports`` (``ports.ObservationStore``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Order, Query

from shoal.errors import StoreError
from shoal.model import PortObservation, Report
from shoal.store.base import PAGE_SIZE, Filters, IngestResult, OpenPorts, Page, PortQuery, Summary, SummaryRequest
from shoal.store.embedded.compile import compile_filters, count_matches
from shoal.store.embedded.ports import MAX_DAY, ObservationStore, day_number, encode, encode_observations
from shoal.store.embedded.schema import CONTEXT_SEP, build_schema, prepare_report, report_from_stored
from shoal.store.embedded.summarize import summarize_terms

WRITER_HEAP_BYTES = 256 * 1024 * 1024
# Two indexing threads: importing 1M reports took 95 s with two against 109 s with one (same CPU; the
# writer, not the decoding worker, is the bottleneck).
WRITER_THREADS = 2
SCAN_CHUNK = 10_000
WRITER_LOCK_WAIT = 30.0


class EmbeddedStore:
    """``hold_writer=False`` (long-running processes such as ``shoal serve``) releases tantivy's writer lock
    after every batch, so that other processes (``shoal import``, ``shoal scan``) can write meanwhile."""

    def __init__(self, data_dir: Path | str, hold_writer: bool = True) -> None:
        self.path = Path(data_dir) / "index"
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise StoreError(f"cannot open the index at {self.path}: {exc}") from exc
        self._writer: tantivy.IndexWriter | None = None
        self._hold_writer = hold_writer
        self._write_lock = threading.Lock()
        self._types: tuple[int, frozenset[str]] = (-1, frozenset())  # (num_docs when read, types)
        self.ports = ObservationStore(Path(data_dir) / "ports")

    # -- reading ------------------------------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def refresh(self) -> None:
        self.index.reload()

    def count(self) -> int:
        return self.searcher().num_docs

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        searcher = self.searcher()
        query = compile_filters(self.schema, filters, self.known_types())
        if filters.most_recent:
            addresses = newest_per_target(searcher, query)
            page = addresses[offset : offset + limit]
            return Page(total=len(addresses), reports=[load_report(searcher, address) for address in page])
        result = searcher.search(query, limit=limit, offset=offset, order_by_field="sort", order=Order.Desc)
        return Page(total=result.count, reports=[load_report(searcher, address) for _, address in result.hits])

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        """Every matching report, newest first, in chunks (constant memory in the number of matches)."""
        searcher = self.searcher()
        query = compile_filters(self.schema, filters, self.known_types())
        if filters.most_recent:
            for address in newest_per_target(searcher, query):
                yield load_report(searcher, address)
            return
        yield from scan_newest_first(self.schema, searcher, query)

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        searcher = self.searcher()
        query = compile_filters(self.schema, filters, self.known_types())
        if filters.most_recent:
            query = self.selection_of(searcher, newest_per_target(searcher, query))
        elif filters == Filters():
            query = None
        return summarize_terms(searcher, self.schema, query, request)

    def selection_of(self, searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> Query:
        ids = [load_report(searcher, address).id for address in addresses]
        if not ids:
            return Query.empty_query()
        return Query.term_set_query(self.schema, "id", ids)

    def open_ports(self, query: PortQuery) -> OpenPorts:
        first = 0 if query.date_from is None else max(0, day_number(query.date_from))
        last = MAX_DAY if query.date_to is None else min(MAX_DAY, day_number(query.date_to))
        if first > last:
            return OpenPorts.empty(query.network.version)
        return self.ports.query(query.network, first, last)

    def known_types(self) -> frozenset[str]:
        """The item types in the index, re-read whenever the reader sees a different number of documents
        (reports are never deleted, so an import by any process changes it; the walk costs ~7 ms at 1M)."""
        searcher = self.searcher()
        if self._types[0] != searcher.num_docs:
            terms = searcher.terms_with_prefix("kinds", "")
            types = frozenset(term for term, count in terms if count and CONTEXT_SEP not in term)
            self._types = (searcher.num_docs, types)
        return self._types[1]

    # -- writing ------------------------------------------------------------------------------------------

    prepare = staticmethod(prepare_report)

    def ingest(self, reports: Iterable[Report]) -> IngestResult:
        return self.ingest_prepared([prepare_report(report) for report in reports])

    def ingest_prepared(self, batch: Sequence[tuple[str, str, Any]]) -> IngestResult:
        """Add prepared reports whose ids are new, in one atomic commit. Same-id reports count as duplicates.

        The open-port observations of the new reports are committed just before the reports: an interrupted
        batch may leave observations whose reports are missing, and importing it again completes it (an
        observation is stored once however often it is added)."""
        unique: dict[str, tuple[str, Any]] = {}
        for report_id, document, target in batch:
            unique.setdefault(report_id, (document, target))
        duplicates = len(batch) - len(unique)
        if not unique:
            return IngestResult(duplicates=duplicates)
        with self._write_lock:
            self.index.reload()
            existing = self.existing_ids(list(unique))
            writer = self.writer()
            imported: list[str] = []
            targets = []
            try:
                for report_id, (document, target) in unique.items():
                    if report_id not in existing:
                        writer.add_json(document)
                        imported.append(report_id)
                        if target is not None:
                            targets.append(target)
                self.ports.add(*encode(targets))
                writer.commit()
            except Exception:
                writer.rollback()
                raise
            if not self._hold_writer:
                self.close()
            self.index.reload()
        return IngestResult(imported=len(imported), duplicates=duplicates + len(existing), imported_ids=imported)

    def ingest_observations(self, observations: Iterable[PortObservation]) -> IngestResult:
        """Store open-port observations (port-scan results) atomically; ValueError if one is malformed, before
        anything is stored. Counts are of observations: one already stored is a duplicate."""
        imported, duplicates = self.ports.add(*encode_observations(observations))
        return IngestResult(imported=imported, duplicates=duplicates)

    def existing_ids(self, ids: list[str]) -> set[str]:
        searcher = self.searcher()
        query = Query.term_set_query(self.schema, "id", ids)
        result = searcher.search(query, limit=len(ids), count=True)
        if result.count == 0:
            return set()
        return {load_report(searcher, address).id for _, address in result.hits}

    def writer(self) -> tantivy.IndexWriter:
        """The index writer; waits up to WRITER_LOCK_WAIT seconds while another process holds the lock."""
        deadline = time.monotonic() + WRITER_LOCK_WAIT
        while self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
            except ValueError as exc:
                if time.monotonic() > deadline:
                    raise StoreError(f"the index at {self.path} is locked by another writer: {exc}") from exc
                time.sleep(0.2)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


def load_report(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Report:
    return report_from_stored(searcher.doc(address)["doc"][0])


def scan_newest_first(schema: tantivy.Schema, searcher: tantivy.Searcher, query: Query) -> Iterator[Report]:
    """Every match, newest first, by a cursor on the ``sort`` fast field (no offsets, so linear in the matches).

    Each chunk asks for ``sort <= last key seen``; the reports already yielded with exactly that key are skipped
    (keys tie only when two reports share a day and their id's first bytes)."""
    last_key: int | None = None
    at_last_key: set[str] = set()
    while True:
        chunk_query = query
        if last_key is not None:
            upto = Query.range_query(schema, "sort", FieldType.Integer, None, last_key)
            chunk_query = Query.boolean_query([(Occur.Must, query), (Occur.Must, upto)])
        limit = SCAN_CHUNK + len(at_last_key)
        hits = searcher.search(chunk_query, limit=limit, count=False, order_by_field="sort", order=Order.Desc).hits
        for key, address in hits:
            report = load_report(searcher, address)
            if key == last_key and report.id in at_last_key:
                continue
            if key != last_key:
                last_key, at_last_key = key, set()
            at_last_key.add(report.id)
            yield report
        if len(hits) < limit:
            return


def newest_per_target(searcher: tantivy.Searcher, query: Query) -> list[tantivy.DocAddress]:
    """Addresses of the newest matching report of each {ip, port}, newest first."""
    total = count_matches(searcher, query)
    if total == 0:
        return []
    hits = searcher.search(query, limit=total, count=False, order_by_field="sort", order=Order.Desc).hits
    addresses = [address for _, address in hits]
    targets = searcher.fast_field_values("target", addresses)
    seen: set[int] = set()
    newest = []
    for address, target in zip(addresses, targets, strict=True):
        if target not in seen:
            seen.add(target)
            newest.append(address)
    return newest
