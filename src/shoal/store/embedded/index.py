"""ReportIndex: one dataset's reports in N tantivy shards, read as one index (search, paging, export, summaries).

Every operation takes one consistent reading of the shards (``shards.View``), runs its query on each shard in
parallel threads and merges the answers exactly: counts add up (a report lives in one shard), pages merge the
shards' newest-first hits by the ``sort`` key (a page of offset o takes the first o + 100 of each shard), the
export cursor merges the shards' cursors, summaries add the shards' term counts.
"""

from __future__ import annotations

import heapq
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path

import orjson
import tantivy
from tantivy import FieldType, Occur, Order, Query

from shoal.errors import StoreError
from shoal.model import Report, canonical_ip, pack_ip
from shoal.store import deadline
from shoal.store.base import PAGE_SIZE, Filters, Page, Summary, SummaryRequest
from shoal.store.embedded.compile import compile_filters, count_matches, must_not
from shoal.store.embedded.latest import LatestIndex, newest_first
from shoal.store.embedded.schema import INDEX_FORMAT, SUPERSEDED, Latest, report_from_stored
from shoal.store.embedded.shards import FORMAT_FILE, Shards, View, shard_of
from shoal.store.embedded.summarize import count_values, top_values, walk_seconds
from shoal.store.embedded.writer import stored_id

SCAN_CHUNK = 10_000
SUMMARY_CACHE = 64  # summaries over every report kept per index (each at most summary_limit values)
Hit = tuple[int, int, tantivy.DocAddress]  # (sort key, shard, address in the shard)
# Work nobody waits for stops: loops over matches check the time limit every CHECK_EVERY (≈ 10 ms of stored
# documents read), and a step tantivy cannot stop starts only if its estimate (over every shard) fits the time
# left. Measured on the 2-core machine (1M reports, CPU time): the sort of every match 0.31 µs a match; a filter of
# N ids (the newest reports of a most_recent summary) 2.4 µs an id.
CHECK_EVERY = 1024
SORT_SECONDS = 0.31e-6
ID_FILTER_SECONDS = 2.4e-6


class ReportIndex:
    """A dataset's index at ``folder``; a new one is made with ``shards`` shards. ``hold_writer=False``
    (long-running processes such as ``shoal serve``) releases the latest index's writer after every batch."""

    def __init__(self, folder: Path, dataset: str, shards: int, hold_writer: bool = True) -> None:
        self.folder = folder
        self.dataset = dataset
        check_format(folder, dataset)
        self.shards = Shards(folder, dataset, create=shards)
        self.schema = self.shards.schema
        self.latest = LatestIndex(folder.with_name(folder.name + ".latest"), hold_writer)
        self._everything: dict[tuple[int, int, SummaryRequest], Summary] = {}
        self._everything_lock = threading.Lock()

    # -- one reading ------------------------------------------------------------------------------------------

    def view(self) -> View:
        return self.shards.view()

    def refresh(self) -> None:
        self.shards.reload()
        self.latest.refresh()

    def count(self) -> int:
        """Reports stored (superseded ones too)."""
        view = self.view()
        if not view.torn:
            return view.state.documents
        return sum(view.map(lambda searcher: count_matches(searcher, view.restrict(Query.all_query()))))

    def compile(self, view: View, filters: Filters) -> Query:
        hide = not filters.history and filters.report_id is None and view.has_superseded()
        return view.restrict(compile_filters(self.schema, filters, view.kinds, hide_superseded=hide))

    def known_types(self) -> frozenset[str]:
        return self.shards.kinds().types()

    # -- searching --------------------------------------------------------------------------------------------

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        view = self.view()
        total, hits = self.page(view, filters, offset, limit)
        return Page(total=total, reports=[self.load(view, hit) for hit in hits])

    def search_rendered(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> tuple[int, list[bytes]]:
        """``search`` with each report as the stored bytes of its API JSON (no decoding)."""
        view = self.view()
        total, hits = self.page(view, filters, offset, limit)
        return total, [stored(view, hit) for hit in hits]

    def page(self, view: View, filters: Filters, offset: int, limit: int) -> tuple[int, list[Hit]]:
        """The number of matches (after most_recent) and a page of them, newest first."""
        if filters.most_recent:
            latest = self.latest.view(filters, view.state.batch)
            if latest is not None:
                total, ids = latest.page(offset, limit)
                return total, self.hits_of(view, ids)
            hits = newest_per_target(view, self.compile(view, filters))
            return len(hits), hits[offset : offset + limit]
        query = self.compile(view, filters)
        if len(view.searchers) == 1:
            result = view.searchers[0].search(query, limit, True, "sort", offset, Order.Desc)
            return result.count, [(key, 0, address) for key, address in result.hits]
        results = view.map(lambda searcher: searcher.search(query, offset + limit, True, "sort", 0, Order.Desc))
        total = sum(result.count for result in results)
        shards = [[(key, shard, address) for key, address in result.hits] for shard, result in enumerate(results)]
        return total, newest_first_of(shards)[offset : offset + limit]

    def hits_of(self, view: View, ids: list[str]) -> list[Hit]:
        """The reports with these ids, newest first (each looked for in its own shard)."""
        by_shard: list[list[str]] = [[] for _ in view.searchers]
        for report_id in ids:
            by_shard[shard_of(report_id, len(by_shard))].append(report_id)

        def find(shard: int) -> list[Hit]:
            wanted = by_shard[shard]
            if not wanted:
                return []
            query = Query.term_set_query(self.schema, "id", wanted)
            searcher = view.searchers[shard]
            result = searcher.search(query, limit=len(wanted), count=False, order_by_field="sort", order=Order.Desc)
            return [(key, shard, address) for key, address in result.hits]

        found = view.map_shards(find)
        return newest_first_of(found)

    def newest_ids(self, view: View, filters: Filters) -> list[str] | None:
        """With most_recent over filters the latest index answers: every newest report's id, newest first."""
        latest = self.latest.view(filters, view.state.batch)
        return None if latest is None else latest.ids()

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        """Every matching report, newest first, in chunks (constant memory in the number of matches)."""
        view = self.view()
        if filters.most_recent:
            ids = self.newest_ids(view, filters)
            if ids is None:
                for hit in newest_per_target(view, self.compile(view, filters)):
                    yield self.load(view, hit)
                return
            for start in range(0, len(ids), SCAN_CHUNK):
                for hit in self.hits_of(view, ids[start : start + SCAN_CHUNK]):
                    yield self.load(view, hit)
            return
        for hit in merged_newest_first(view, self.compile(view, filters), SCAN_CHUNK):
            yield self.load(view, hit)

    def load(self, view: View, hit: Hit) -> Report:
        return report_from_stored(stored(view, hit), self.dataset)

    def committed_reports(self, batch: int, size: int) -> Iterator[list[Report]]:
        """The reports commit ``batch`` added (the documents stamped with it, each shard's in their order), in lists
        of at most ``size``, read back for the alert watcher: an import's lines are decoded by the shard processes
        only, and a commit no process evaluated is read back by the next evaluation."""
        view = self.view()
        query = Query.range_query(self.schema, "batch", FieldType.Unsigned, batch, batch)
        reports: list[Report] = []
        for searcher in view.searchers:
            total = searcher.search(query, limit=1, count=True).count
            for _, address in searcher.search(query, limit=total, count=False).hits if total else []:
                reports.append(report_from_stored(searcher.doc(address)["doc"][0], self.dataset))
                if len(reports) == size:
                    yield reports
                    reports = []
        if reports:
            yield reports

    def instance(self) -> str:
        """Which index this is: its format file's inode and time, written once when the index is made (a rewritten
        index, ``shoal db migrate``, is another one whose commits are numbered anew)."""
        status = (self.folder / FORMAT_FILE).stat()
        return f"{status.st_ino}:{status.st_mtime_ns}"

    # -- summaries --------------------------------------------------------------------------------------------

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        view = self.view()
        if filters.most_recent:
            ids = self.newest_ids(view, filters)
            if ids is None:
                newest = deadline.checked(newest_per_target(view, self.compile(view, filters)), CHECK_EVERY)
                ids = [stored_id(stored(view, hit)) for hit in newest]
            deadline.affordable(len(ids) * ID_FILTER_SECONDS)  # the summary's filter: every newest id, looked up
            return self.summarize_ids(view, ids, request)
        if filters == Filters(dataset=filters.dataset) and not view.torn and not view.has_superseded():
            return self.summarize_everything(view, request)
        if filters == Filters(dataset=filters.dataset) and not view.has_superseded():
            return self.summarize_terms(view, view.restrict(Query.all_query()), request)
        return self.summarize_terms(view, self.compile(view, filters), request)

    def summarize_terms(self, view: View, query: Query | None, request: SummaryRequest) -> Summary:
        deadline.affordable(walk_seconds(view.searchers, request.type, view.kinds))
        counts: Counter[str] = Counter()
        for found in view.map(lambda searcher: count_values(searcher, self.schema, query, request, view.kinds)):
            counts.update(found)
        return top_values(counts, request.limit)

    def summarize_ids(self, view: View, ids: list[str], request: SummaryRequest) -> Summary:
        """A summary of the reports with these ids (each shard's own)."""
        by_shard: list[list[str]] = [[] for _ in view.searchers]
        for report_id in ids:
            by_shard[shard_of(report_id, len(by_shard))].append(report_id)
        deadline.affordable(walk_seconds(view.searchers, request.type, view.kinds))

        def count(shard: int) -> Counter[str]:
            if not by_shard[shard]:
                return Counter()
            query = Query.term_set_query(self.schema, "id", by_shard[shard])
            return count_values(view.searchers[shard], self.schema, query, request, view.kinds)

        counts: Counter[str] = Counter()
        for found in view.map_shards(count):
            counts.update(found)
        return top_values(counts, request.limit)

    def summarize_everything(self, view: View, request: SummaryRequest) -> Summary:
        """A summary over every report, kept until the index changes (every commit changes the state): the web
        page and dashboards ask for the same few often, and each walks a type's whole term dictionary."""
        key = (view.state.batch, view.state.documents, request)
        summary = self._everything.get(key)
        if summary is None:
            # A term walk without a filter counts deleted documents too: only where none was ever deleted.
            summary = self.summarize_terms(view, Query.all_query() if view.state.deleted else None, request)
            with self._everything_lock:
                held = {entry[:2] for entry in self._everything}
                if len(self._everything) >= SUMMARY_CACHE or held - {key[:2]}:
                    self._everything.clear()
                self._everything[key] = summary
        return summary

    # -- what the writer reads --------------------------------------------------------------------------------

    def visible(self, view: View) -> Query:
        """Every report that is not superseded (of the view's commits)."""
        query = must_not(Query.term_query(self.schema, "exact", SUPERSEDED)) if view.has_superseded() else None
        return view.restrict(query or Query.all_query())

    def newest_entry(self, view: View, target: int) -> Latest | None:
        """The latest-index entry of an identity: its newest visible report, in any shard."""
        identity = Query.range_query(self.schema, "target", FieldType.Unsigned, target, target)
        query = Query.boolean_query([(Occur.Must, self.visible(view)), (Occur.Must, identity)])

        def newest(searcher: tantivy.Searcher) -> list[tuple[int, tantivy.Searcher, tantivy.DocAddress]]:
            hits = searcher.search(query, limit=1, count=False, order_by_field="sort", order=Order.Desc).hits
            return [(key, searcher, address) for key, address in hits]

        found = [hit for hits in view.map(newest) for hit in hits]
        if not found:
            return None
        key, searcher, address = max(found, key=lambda hit: hit[0])
        return latest_entry(searcher.doc(address)["doc"][0], target, key)

    def newest_entries(self, view: View) -> Iterator[Latest]:
        """The newest visible report of every identity, read from every shard."""
        seen: set[int] = set()
        hits = merged_newest_first(view, self.visible(view), SCAN_CHUNK)
        while chunk := list(islice(hits, SCAN_CHUNK)):
            targets = targets_of(view, chunk)
            for (key, shard, address), target in zip(chunk, targets, strict=True):
                if target not in seen:
                    seen.add(target)
                    yield latest_entry(view.searchers[shard].doc(address)["doc"][0], target, key)

    def close(self) -> None:
        self.latest.close()


def descending(hit: Hit) -> int:
    return -hit[0]


def newest_first_of(shards: list[list[Hit]]) -> list[Hit]:
    """The shards' newest-first lists as one, newest first; equal keys in shard order (as ``heapq.merge``). A
    stable sort of the concatenation merges the sorted runs in C, with no Python call per hit."""
    return sorted(chain.from_iterable(shards), key=itemgetter(0), reverse=True)


def stored(view: View, hit: Hit) -> bytes:
    """A report's stored API JSON."""
    return view.searchers[hit[1]].doc(hit[2])["doc"][0]


def latest_entry(data: bytes, target: int, sort: int) -> Latest:
    """A stored report as its identity's latest-index entry (the scanned address: its first ip of the empty
    context)."""
    report = orjson.loads(data)
    ip = next((item["value"] for item in report["items"] if item["type"] == "ip" and not item["context"]), None)
    return Latest(target, sort, report["id"], None if ip is None else canonical_ip(pack_ip(ip)))


def targets_of(view: View, hits: list[Hit]) -> list[int]:
    """The ``target`` of each hit, read from the shards' columns."""
    by_shard: list[list[int]] = [[] for _ in view.searchers]
    for position, (_, shard, _) in enumerate(hits):
        by_shard[shard].append(position)
    targets = [0] * len(hits)
    for shard, positions in enumerate(by_shard):
        if positions:
            values = view.searchers[shard].fast_field_values("target", [hits[p][2] for p in positions])
            for position, value in zip(positions, values, strict=True):
                targets[position] = int(value or 0)
    return targets


def merged_newest_first(view: View, query: Query, chunk: int) -> Iterator[Hit]:
    """Every match of every shard, newest first: the shards' cursors (``latest.newest_first``) merged."""
    cursors = [cursor(view, shard, query, chunk) for shard in range(len(view.searchers))]
    return heapq.merge(*cursors, key=descending) if len(cursors) > 1 else cursors[0]


def cursor(view: View, shard: int, query: Query, chunk: int) -> Iterator[Hit]:
    for key, address in newest_first(view.searchers[shard], view.schema, query, chunk):
        yield key, shard, address


def newest_per_target(view: View, query: Query) -> list[Hit]:
    """The newest matching report of each identity (``target``), newest first. Under a time limit, the sort of
    every match of each shard (steps tantivy cannot stop) starts only if all of them can end in time."""
    totals = view.map(lambda searcher: count_matches(searcher, query))
    deadline.affordable(sum(totals) * SORT_SECONDS)

    def matches(shard: int) -> list[tuple[int, tantivy.DocAddress, int]]:
        if totals[shard] == 0:
            return []
        searcher = view.searchers[shard]
        hits = searcher.search(query, limit=totals[shard], count=False, order_by_field="sort", order=Order.Desc).hits
        deadline.check()
        targets = searcher.fast_field_values("target", [address for _, address in hits])
        return [(key, address, target) for (key, address), target in zip(hits, targets, strict=True)]

    shards = [
        [(key, shard, address, target) for key, address, target in found]
        for shard, found in enumerate(view.map_shards(matches))
    ]
    seen: set[int | None] = set()
    newest: list[Hit] = []
    merged = heapq.merge(*shards, key=lambda hit: -hit[0])
    for key, shard, address, target in deadline.checked(merged, every=CHECK_EVERY * 16):
        if target not in seen:
            seen.add(target)
            newest.append((key, shard, address))
    return newest


def format_of(folder: Path) -> int | None:
    """The format of the index at ``folder``; None when there is none (format 1 and 2: one tantivy index there)."""
    marker = folder / FORMAT_FILE
    if marker.is_file():
        return int(marker.read_text().strip() or 0)
    if (folder / "meta.json").exists():
        return 1
    return None


# The stages of a migration (migrate.py): a complete new index beside the old one, and the old one set aside
# (this version's names, then the release before's).
COMPLETE = ("migrated", "format2")
SET_ASIDE = ("previous", "format1")


def stage(path: Path, name: str) -> Path:
    """Where a migration of the index at ``path`` keeps one of its stages (``migrated``: the new index)."""
    return path.with_name(f"{path.name}.{name}")


def check_format(folder: Path, dataset: str) -> None:
    """Refuse an index written in another format, or halfway through a migration, saying what to do; an empty
    one of an older format is simply made anew."""
    if any(stage(folder, name).exists() for name in COMPLETE):
        raise StoreError(
            f"a migration of the {dataset} index at {folder} was interrupted: run 'shoal db migrate' to finish it"
        )
    found = format_of(folder)
    if found is None or found == INDEX_FORMAT:
        return
    if found > INDEX_FORMAT:
        raise StoreError(
            f"the {dataset} index at {folder} is in index format {found}, newer than this version of Shoal reads"
            f" ({INDEX_FORMAT}): use the version that wrote it"
        )
    try:
        documents = tantivy.Index.open(str(folder)).searcher().num_docs
    except ValueError as exc:
        raise StoreError(f"cannot open the {dataset} index at {folder}: {exc}") from exc
    if documents == 0:
        for entry in folder.iterdir():
            if entry.is_file():
                entry.unlink()
        shutil.rmtree(folder.with_name(folder.name + ".latest"), ignore_errors=True)
        return
    raise StoreError(
        f"the {dataset} index at {folder} holds {documents:,} reports in index format {found}, and this version of"
        f" Shoal reads format {INDEX_FORMAT}: run 'shoal db migrate' to rewrite it in place (it needs about as"
        " much free disk as the index; docs/storage.md, Index format)"
    )
