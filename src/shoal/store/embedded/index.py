"""ReportIndex: one dataset's reports in one tantivy index (search, summaries, ingest of prepared documents)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import orjson
import tantivy
from tantivy import FieldType, Occur, Order, Query

from shoal.errors import StoreError
from shoal.model import SUPERSEDES, Report
from shoal.store import deadline
from shoal.store.base import PAGE_SIZE, Filters, Page, Summary, SummaryRequest
from shoal.store.embedded.compile import compile_filters, count_matches, must_not
from shoal.store.embedded.latest import LatestIndex, newest_first
from shoal.store.embedded.schema import (
    CONTEXT_SEP,
    SUPERSEDED,
    TYPE_SEP,
    Latest,
    Prepared,
    build_schema,
    cut,
    document_fields,
    latest_of,
    report_from_stored,
)
from shoal.store.embedded.summarize import summarize_terms

WRITER_HEAP_BYTES = 256 * 1024 * 1024
# One indexing thread: each thread writes its own segments, so two made twice the segments to merge. Importing
# 200k reports (load 5): 120 µs of the importing process's CPU per report with two, 87 µs with one, and 29 s
# instead of 41 s (the parsing worker runs meanwhile on the other core).
WRITER_THREADS = 1
SCAN_CHUNK = 10_000
SUMMARY_CACHE = 64  # summaries over every report kept per index (each at most summary_limit values)
WRITER_LOCK_WAIT = 30.0
# The index format: 2 stores each report as its API JSON (format 1, before it, a compact list). An index is
# never read in a format other than this one (``shoal db migrate`` rewrites an older one); its folder says which.
INDEX_FORMAT = 2
FORMAT_FILE = "shoal-format"
# Work nobody waits for stops: loops over matches check the time limit every CHECK_EVERY (≈ 10 ms of stored
# documents read), and a step tantivy cannot stop starts only if its estimate fits the time left. Measured on
# the 2-core machine (1M reports, CPU time): the sort of every match 0.31 µs a match; a filter of N ids (the newest
# reports of a most_recent summary) 2.4 µs an id.
CHECK_EVERY = 1024
SORT_SECONDS = 0.31e-6
ID_FILTER_SECONDS = 2.4e-6


class ReportIndex:
    """``hold_writer=False`` (long-running processes such as ``shoal serve``) releases tantivy's writer lock
    after every batch, so that other processes (``shoal import``, ``shoal scan``) can write meanwhile."""

    def __init__(self, path: Path, dataset: str, hold_writer: bool = True) -> None:
        self.path = path
        self.dataset = dataset
        check_format(path, dataset)
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            raise StoreError(
                f"cannot open the {dataset} index at {self.path} ({exc}): if another version of Shoal wrote it,"
                " run 'shoal db migrate' (docs/storage.md, Index format)"
            ) from exc
        self._writer: tantivy.IndexWriter | None = None
        self._hold_writer = hold_writer
        self._write_lock = threading.Lock()
        self._types: tuple[int, frozenset[str]] = (-1, frozenset())  # (num_docs when read, types)
        self._everything: dict[tuple[int, SummaryRequest], Summary] = {}  # summaries over all reports
        self._everything_lock = threading.Lock()
        (path / FORMAT_FILE).write_text(f"{INDEX_FORMAT}\n")
        self.latest = LatestIndex(path.with_name(path.name + ".latest"), hold_writer)

    # -- reading ------------------------------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def refresh(self) -> None:
        self.index.reload()
        self.latest.refresh()

    def count(self) -> int:
        return self.searcher().num_docs

    def compile(self, searcher: tantivy.Searcher, filters: Filters) -> Query:
        hide = not filters.history and filters.report_id is None and searcher.doc_freq("exact", SUPERSEDED) > 0
        return compile_filters(self.schema, filters, self.known_types(), hide_superseded=hide)

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        searcher = self.searcher()
        total, addresses = self.page(searcher, filters, offset, limit)
        return Page(total=total, reports=[self.load(searcher, address) for address in addresses])

    def search_rendered(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> tuple[int, list[bytes]]:
        """``search`` with each report as the stored bytes of its API JSON (no decoding)."""
        searcher = self.searcher()
        total, addresses = self.page(searcher, filters, offset, limit)
        return total, [stored(searcher, address) for address in addresses]

    def page(
        self, searcher: tantivy.Searcher, filters: Filters, offset: int, limit: int
    ) -> tuple[int, list[tantivy.DocAddress]]:
        """The number of matches (after most_recent) and the addresses of a page of them, newest first."""
        if filters.most_recent:
            view = self.latest.view(filters, searcher.num_docs)
            if view is not None:
                total, ids = view.page(offset, limit)
                return total, self.addresses_of(searcher, ids)
            addresses = newest_per_target(searcher, self.compile(searcher, filters))
            return len(addresses), addresses[offset : offset + limit]
        query = self.compile(searcher, filters)
        result = searcher.search(query, limit=limit, offset=offset, order_by_field="sort", order=Order.Desc)
        return result.count, [address for _, address in result.hits]

    def newest_ids(self, searcher: tantivy.Searcher, filters: Filters) -> list[str] | None:
        """With most_recent over filters the latest index answers: every newest report's id, newest first."""
        view = self.latest.view(filters, searcher.num_docs)
        return None if view is None else view.ids()

    def addresses_of(self, searcher: tantivy.Searcher, ids: list[str]) -> list[tantivy.DocAddress]:
        """The reports with these ids, newest first."""
        if not ids:
            return []
        query = Query.term_set_query(self.schema, "id", ids)
        hits = searcher.search(query, limit=len(ids), count=False, order_by_field="sort", order=Order.Desc).hits
        return [address for _, address in hits]

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        """Every matching report, newest first, in chunks (constant memory in the number of matches)."""
        searcher = self.searcher()
        query = self.compile(searcher, filters)
        if filters.most_recent:
            ids = self.newest_ids(searcher, filters)
            if ids is not None:
                for start in range(0, len(ids), SCAN_CHUNK):
                    for address in self.addresses_of(searcher, ids[start : start + SCAN_CHUNK]):
                        yield self.load(searcher, address)
                return
            for address in newest_per_target(searcher, query):
                yield self.load(searcher, address)
            return
        yield from self.scan_newest_first(searcher, query)

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        searcher = self.searcher()
        query: Query | None = self.compile(searcher, filters)
        if filters.most_recent:
            ids = self.newest_ids(searcher, filters)
            if ids is None:
                newest = deadline.checked(newest_per_target(searcher, query), CHECK_EVERY)
                ids = [stored_id(stored(searcher, address)) for address in newest]
            deadline.affordable(len(ids) * ID_FILTER_SECONDS)  # the summary's filter: every newest id, looked up
            query = Query.term_set_query(self.schema, "id", ids) if ids else Query.empty_query()
        elif filters == Filters(dataset=filters.dataset) and searcher.doc_freq("exact", SUPERSEDED) == 0:
            return self.summarize_everything(searcher, request)
        return summarize_terms(searcher, self.schema, query, request)

    def summarize_everything(self, searcher: tantivy.Searcher, request: SummaryRequest) -> Summary:
        """A summary over every report, kept until the index changes (every commit adds documents): the web
        page and dashboards ask for the same few often, and each walks a type's whole term dictionary."""
        key = (searcher.num_docs, request)
        summary = self._everything.get(key)
        if summary is None:
            summary = summarize_terms(searcher, self.schema, None, request)
            with self._everything_lock:
                if len(self._everything) >= SUMMARY_CACHE or any(held != key[0] for held, _ in self._everything):
                    self._everything.clear()
                self._everything[key] = summary
        return summary

    def known_types(self) -> frozenset[str]:
        """The item types in the index, re-read whenever the reader sees a different number of documents
        (an import by any process changes it; the walk costs ~7 ms at 1M)."""
        searcher = self.searcher()
        if self._types[0] != searcher.num_docs:
            terms = searcher.terms_with_prefix("kinds", "")
            types = frozenset(term.partition(CONTEXT_SEP)[0] for term, count in terms if count)
            self._types = (searcher.num_docs, types)
        return self._types[1]

    def load(self, searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Report:
        return report_from_stored(stored(searcher, address), self.dataset)

    def scan_newest_first(self, searcher: tantivy.Searcher, query: Query) -> Iterator[Report]:
        """Every match, newest first, SCAN_CHUNK at a time (``latest.newest_first``)."""
        for _, address in newest_first(searcher, self.schema, query, SCAN_CHUNK):
            yield self.load(searcher, address)

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
            latest_current = self.latest.is_current(searcher.num_docs)
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
                restamped = self.flag_stored(searcher, writer, named - {prepared.id for prepared in fresh})
                before_commit(fresh)
                writer.commit()
            except Exception:
                writer.rollback()
                raise
            if not self._hold_writer:
                self.close()
            self.index.reload()
            self.record_latest(fresh, superseded, restamped, latest_current)
        return [prepared.id for prepared in fresh]

    def record_latest(self, fresh: list[Prepared], superseded: set[str], restamped: set[int], current: bool) -> None:
        """Bring the latest index up to this commit: the batch's newest visible report per identity, the
        identities whose newest may have just been superseded read again, or everything read again when the
        latest index did not reflect the commit before (a crash between the two commits)."""
        searcher = self.searcher()
        if not current:
            self.latest.rebuild(self.newest_entries(searcher), searcher.num_docs)
            return
        candidates: dict[int, Latest] = {}
        for prepared in fresh:
            if prepared.id in superseded:
                continue
            entry, held = prepared.latest, candidates.get(prepared.latest.target)
            if held is None or entry.sort > held.sort:
                candidates[entry.target] = entry
        replace = {target: self.newest_entry(searcher, target) for target in restamped}
        if candidates or replace:
            self.latest.update(candidates, replace, searcher.num_docs)

    def visible(self, searcher: tantivy.Searcher) -> Query:
        """Every report that is not superseded."""
        if searcher.doc_freq("exact", SUPERSEDED) == 0:
            return Query.all_query()
        return must_not(Query.term_query(self.schema, "exact", SUPERSEDED))

    def newest_entry(self, searcher: tantivy.Searcher, target: int) -> Latest | None:
        identity = Query.range_query(self.schema, "target", FieldType.Unsigned, target, target)
        query = Query.boolean_query([(Occur.Must, self.visible(searcher)), (Occur.Must, identity)])
        hits = searcher.search(query, limit=1, count=False, order_by_field="sort", order=Order.Desc).hits
        return latest_of(document_fields(self.load(searcher, hits[0][1]))) if hits else None

    def newest_entries(self, searcher: tantivy.Searcher) -> Iterator[Latest]:
        """The newest visible report of every identity, read from the whole index."""
        seen: set[int] = set()
        pairs = newest_first(searcher, self.schema, self.visible(searcher))
        while chunk := list(islice(pairs, SCAN_CHUNK)):
            addresses = [address for _, address in chunk]
            for address, target in zip(addresses, searcher.fast_field_values("target", addresses), strict=True):
                if target not in seen:
                    seen.add(target)
                    yield latest_of(document_fields(self.load(searcher, address)))

    def flag_stored(self, searcher: tantivy.Searcher, writer: tantivy.IndexWriter, ids: set[str]) -> set[int]:
        """Re-add stored reports with the ``superseded`` term (tantivy documents are immutable); their identities."""
        if not ids:
            return set()
        query = Query.boolean_query(
            [
                (Occur.Must, Query.term_set_query(self.schema, "id", sorted(ids))),
                (Occur.MustNot, Query.term_query(self.schema, "exact", SUPERSEDED)),
            ]
        )
        total = count_matches(searcher, query)
        if total == 0:
            return set()
        targets = set()
        for _, address in searcher.search(query, limit=total, count=False).hits:
            report = self.load(searcher, address)
            writer.delete_documents_by_term("id", report.id)
            fields = document_fields(report, superseded=True)
            targets.add(fields["target"])
            writer.add_json(orjson.dumps(fields).decode())
        return targets

    def ids_with_successors(self, searcher: tantivy.Searcher, ids: list[str]) -> set[str]:
        """Which of ``ids`` a stored report names in a ``supersedes`` item (none when no stored report names any:
        one term lookup instead of one per id)."""
        if not ids or not searcher.terms_with_prefix("exact", SUPERSEDES + TYPE_SEP, limit=1):
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
        return {stored_id(stored(searcher, address)) for _, address in result.hits}

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
        self.latest.close()


def stored(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> bytes:
    """A report's stored API JSON."""
    return searcher.doc(address)["doc"][0]


ID_AT = len(b'{"date":"YYYY-MM-DD","id":"')  # where the id starts in a stored report


def stored_id(data: bytes) -> str:
    """A stored report's id without decoding the report (its JSON starts with the date and the id)."""
    end = data.find(b'"', ID_AT)
    raw = data[ID_AT:end]
    if b"\\" in raw or not data.startswith(b'{"date":"'):
        return orjson.loads(data)["id"]
    return raw.decode()


def stage(path: Path, name: str) -> Path:
    """Where a migration of the index at ``path`` keeps one of its stages (``format2``: the new index)."""
    return path.with_name(f"{path.name}.{name}")


def format_of(path: Path) -> int | None:
    """The format of the index at ``path``; None when there is none."""
    if not (path / "meta.json").exists():
        return None
    marker = path / FORMAT_FILE
    return int(marker.read_text().strip() or 0) if marker.is_file() else 1


def check_format(path: Path, dataset: str) -> None:
    """Refuse an index written in another format, or halfway through a migration, saying what to do; an empty
    one is simply made anew."""
    if stage(path, "format2").exists():
        raise StoreError(
            f"a migration of the {dataset} index at {path} was interrupted: run 'shoal db migrate' to finish it"
        )
    found = format_of(path)
    if found is None or found == INDEX_FORMAT:
        return
    try:
        documents = tantivy.Index.open(str(path)).searcher().num_docs
    except ValueError as exc:
        raise StoreError(f"cannot open the {dataset} index at {path}: {exc}") from exc
    if documents == 0:
        for entry in path.iterdir():
            if entry.is_file():
                entry.unlink()
        return
    if found > INDEX_FORMAT:
        raise StoreError(
            f"the {dataset} index at {path} is in index format {found}, newer than this version of Shoal reads"
            f" ({INDEX_FORMAT}): use the version that wrote it"
        )
    raise StoreError(
        f"the {dataset} index at {path} holds {documents:,} reports in index format {found}, and this version of"
        f" Shoal reads format {INDEX_FORMAT}: run 'shoal db migrate' to rewrite it in place (it needs about as"
        " much free disk as the index; docs/storage.md, Index format)"
    )


def flagged(document: str) -> str:
    """A prepared document with the ``superseded`` term."""
    fields = orjson.loads(document)
    fields["exact"].append(SUPERSEDED)
    return orjson.dumps(fields).decode()


def newest_per_target(searcher: tantivy.Searcher, query: Query) -> list[tantivy.DocAddress]:
    """Addresses of the newest matching report of each identity (``target``), newest first. Under a time limit,
    the sort of every match (one step tantivy cannot stop) starts only if it can end in time."""
    total = count_matches(searcher, query)
    if total == 0:
        return []
    deadline.affordable(total * SORT_SECONDS)
    hits = searcher.search(query, limit=total, count=False, order_by_field="sort", order=Order.Desc).hits
    addresses = [address for _, address in hits]
    deadline.check()
    targets = searcher.fast_field_values("target", addresses)
    seen: set[int] = set()
    newest = []
    for address, target in zip(addresses, deadline.checked(targets, every=CHECK_EVERY * 16), strict=True):
        if target not in seen:
            seen.add(target)
            newest.append(address)
    return newest
