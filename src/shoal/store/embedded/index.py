"""ReportIndex: one dataset's reports in one tantivy index (search, summaries, ingest of prepared documents)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import orjson
import tantivy
from tantivy import FieldType, Occur, Order, Query

from shoal.errors import StoreError
from shoal.model import SUPERSEDES, Report
from shoal.store.base import PAGE_SIZE, Filters, Page, Summary, SummaryRequest
from shoal.store.embedded.compile import compile_filters, count_matches
from shoal.store.embedded.schema import (
    CONTEXT_SEP,
    SUPERSEDED,
    TYPE_SEP,
    Prepared,
    build_document,
    build_schema,
    cut,
    report_from_stored,
)
from shoal.store.embedded.summarize import summarize_terms

WRITER_HEAP_BYTES = 256 * 1024 * 1024
# Two indexing threads: importing 1M reports took 95 s with two against 109 s with one (same CPU; the
# writer, not the decoding worker, is the bottleneck).
WRITER_THREADS = 2
SCAN_CHUNK = 10_000
WRITER_LOCK_WAIT = 30.0


class ReportIndex:
    """``hold_writer=False`` (long-running processes such as ``shoal serve``) releases tantivy's writer lock
    after every batch, so that other processes (``shoal import``, ``shoal scan``) can write meanwhile."""

    def __init__(self, path: Path, dataset: str, hold_writer: bool = True) -> None:
        self.path = path
        self.dataset = dataset
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise StoreError(f"cannot open the {dataset} index at {self.path}: {exc}") from exc
        self._writer: tantivy.IndexWriter | None = None
        self._hold_writer = hold_writer
        self._write_lock = threading.Lock()
        self._types: tuple[int, frozenset[str]] = (-1, frozenset())  # (num_docs when read, types)

    # -- reading ------------------------------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def refresh(self) -> None:
        self.index.reload()

    def count(self) -> int:
        return self.searcher().num_docs

    def compile(self, searcher: tantivy.Searcher, filters: Filters) -> Query:
        hide = not filters.history and filters.report_id is None and searcher.doc_freq("exact", SUPERSEDED) > 0
        return compile_filters(self.schema, filters, self.known_types(), hide_superseded=hide)

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        searcher = self.searcher()
        query = self.compile(searcher, filters)
        if filters.most_recent:
            addresses = newest_per_target(searcher, query)
            page = addresses[offset : offset + limit]
            return Page(total=len(addresses), reports=[self.load(searcher, address) for address in page])
        result = searcher.search(query, limit=limit, offset=offset, order_by_field="sort", order=Order.Desc)
        return Page(total=result.count, reports=[self.load(searcher, address) for _, address in result.hits])

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        """Every matching report, newest first, in chunks (constant memory in the number of matches)."""
        searcher = self.searcher()
        query = self.compile(searcher, filters)
        if filters.most_recent:
            for address in newest_per_target(searcher, query):
                yield self.load(searcher, address)
            return
        yield from self.scan_newest_first(searcher, query)

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        searcher = self.searcher()
        query: Query | None = self.compile(searcher, filters)
        if filters.most_recent:
            query = self.selection_of(searcher, newest_per_target(searcher, query))
        elif filters == Filters(dataset=filters.dataset) and searcher.doc_freq("exact", SUPERSEDED) == 0:
            query = None
        return summarize_terms(searcher, self.schema, query, request)

    def selection_of(self, searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> Query:
        ids = [self.load(searcher, address).id for address in addresses]
        if not ids:
            return Query.empty_query()
        return Query.term_set_query(self.schema, "id", ids)

    def known_types(self) -> frozenset[str]:
        """The item types in the index, re-read whenever the reader sees a different number of documents
        (an import by any process changes it; the walk costs ~7 ms at 1M)."""
        searcher = self.searcher()
        if self._types[0] != searcher.num_docs:
            terms = searcher.terms_with_prefix("kinds", "")
            types = frozenset(term for term, count in terms if count and CONTEXT_SEP not in term)
            self._types = (searcher.num_docs, types)
        return self._types[1]

    def load(self, searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Report:
        return report_from_stored(searcher.doc(address)["doc"][0], self.dataset)

    def scan_newest_first(self, searcher: tantivy.Searcher, query: Query) -> Iterator[Report]:
        """Every match, newest first, by a cursor on the ``sort`` fast field (no offsets, so linear in the matches).

        Each chunk asks for ``sort <= last key seen``; the reports already yielded with exactly that key are
        skipped (keys tie only when two reports share a day and their id's first bytes)."""
        last_key: int | None = None
        at_last_key: set[str] = set()
        while True:
            chunk_query = query
            if last_key is not None:
                upto = Query.range_query(self.schema, "sort", FieldType.Integer, None, last_key)
                chunk_query = Query.boolean_query([(Occur.Must, query), (Occur.Must, upto)])
            limit = SCAN_CHUNK + len(at_last_key)
            hits = searcher.search(chunk_query, limit=limit, count=False, order_by_field="sort", order=Order.Desc)
            for key, address in hits.hits:
                report = self.load(searcher, address)
                if key == last_key and report.id in at_last_key:
                    continue
                if key != last_key:
                    last_key, at_last_key = key, set()
                at_last_key.add(report.id)
                yield report
            if len(hits.hits) < limit:
                return

    # -- writing ------------------------------------------------------------------------------------------

    def ingest_prepared(self, batch: Sequence[Prepared], before_commit: Callable[[list[Prepared]], None]) -> list[str]:
        """Add the reports whose ids are new, in one atomic commit; the ids added.

        ``before_commit`` gets the reports about to be added (to store their observations and bodies first: a
        batch cut short leaves those without their reports, and importing it again completes it). A report
        that another report of the index supersedes is flagged, whichever of the two was stored first."""
        unique: dict[str, Prepared] = {}
        for prepared in batch:
            unique.setdefault(prepared.id, prepared)
        with self._write_lock:
            self.index.reload()
            searcher = self.searcher()
            existing = self.existing_ids(searcher, list(unique))
            fresh = [prepared for report_id, prepared in unique.items() if report_id not in existing]
            named = {predecessor for prepared in fresh for predecessor in prepared.supersedes}
            superseded = named | self.ids_with_successors(searcher, [prepared.id for prepared in fresh])
            writer = self.writer()
            try:
                for prepared in fresh:
                    document = prepared.document
                    if prepared.id in superseded:
                        document = flagged(document)
                    writer.add_json(document)
                self.flag_stored(searcher, writer, named - {prepared.id for prepared in fresh})
                before_commit(fresh)
                writer.commit()
            except Exception:
                writer.rollback()
                raise
            if not self._hold_writer:
                self.close()
            self.index.reload()
        return [prepared.id for prepared in fresh]

    def flag_stored(self, searcher: tantivy.Searcher, writer: tantivy.IndexWriter, ids: set[str]) -> None:
        """Re-add stored reports with the ``superseded`` term (tantivy documents are immutable)."""
        if not ids:
            return
        query = Query.boolean_query(
            [
                (Occur.Must, Query.term_set_query(self.schema, "id", sorted(ids))),
                (Occur.MustNot, Query.term_query(self.schema, "exact", SUPERSEDED)),
            ]
        )
        total = count_matches(searcher, query)
        if total == 0:
            return
        for _, address in searcher.search(query, limit=total, count=False).hits:
            report = self.load(searcher, address)
            writer.delete_documents_by_term("id", report.id)
            writer.add_json(build_document(report, superseded=True))

    def ids_with_successors(self, searcher: tantivy.Searcher, ids: list[str]) -> set[str]:
        """Which of ``ids`` a stored report names in a ``supersedes`` item."""
        if not ids:
            return set()
        terms = [cut(SUPERSEDES + TYPE_SEP + report_id) for report_id in ids]
        query = Query.term_set_query(self.schema, "exact", terms)
        total = count_matches(searcher, query)
        if total == 0:
            return set()
        wanted = set(ids)
        named: set[str] = set()
        for _, address in searcher.search(query, limit=total, count=False).hits:
            report = self.load(searcher, address)
            named.update(i.value for i in report.items if i.type == SUPERSEDES and i.is_metadata and i.value in wanted)
        return named

    def existing_ids(self, searcher: tantivy.Searcher, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        query = Query.term_set_query(self.schema, "id", ids)
        result = searcher.search(query, limit=len(ids), count=True)
        if result.count == 0:
            return set()
        return {self.load(searcher, address).id for _, address in result.hits}

    def writer(self) -> tantivy.IndexWriter:
        """The index writer; waits up to WRITER_LOCK_WAIT seconds while another process holds the lock."""
        deadline = time.monotonic() + WRITER_LOCK_WAIT
        while self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
            except ValueError as exc:
                if time.monotonic() > deadline:
                    raise StoreError(f"the {self.dataset} index is locked by another writer: {exc}") from exc
                time.sleep(0.2)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


def flagged(document: str) -> str:
    """A prepared document with the ``superseded`` term."""
    fields = orjson.loads(document)
    fields["exact"].append(SUPERSEDED)
    return orjson.dumps(fields).decode()


def newest_per_target(searcher: tantivy.Searcher, query: Query) -> list[tantivy.DocAddress]:
    """Addresses of the newest matching report of each identity (``target``), newest first."""
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
