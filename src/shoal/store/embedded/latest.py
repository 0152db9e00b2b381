"""LatestIndex: the newest report of each identity of one dataset, beside that dataset's index.

``most_recent=true`` keeps the newest *matching* report per identity (DESIGN.md §6): filter first, then keep the
newest of each identity. Over filters that select whole identities (nothing, or an ``ip`` range where every
report of an identity shares its scanned address) the newest matching report of an identity is its newest
report, so the answer is a search of this small index: one document per identity holding ``target`` (the
identity), ``sort``, ``ip`` and the report's ``id``. Its cost does not depend on how many reports each identity
has, only on the identities in the range (~0.1 µs each). Every other filter (an expression, dates, ``indirect``,
``history``, …) takes the general path, which walks every match (``index.newest_per_target``): there an older
report may match while the newest does not.

Superseded reports are never an identity's newest here (those filters hide them). Consistency: the index
carries a state document naming the commit of the dataset's shards it reflects (``shards.State``); a reader uses
it only when that is the commit its own reading of the shards is at (so a reader between a batch's commit and
this index's, or after a crash between them, takes the general path), and the next writer rebuilds it from the
dataset's shards when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
import tantivy
from tantivy import FieldType, Occur, Order, Query

from shoal.model import DATASET_TABLE
from shoal.store import deadline
from shoal.store.base import Filters, IPNetwork
from shoal.store.embedded.compile import Compiler, must_not
from shoal.store.embedded.schema import Latest, open_shard
from shoal.store.embedded.shards import Kinds
from shoal.store.plan import ip_range as plan_ip_range

WRITER_HEAP_BYTES = 64 * 1024 * 1024
STATE = "state"  # the ``kind`` of the state document
CHUNK = 100_000
CHECK_EVERY = 4096  # ids read between two checks of the query's time limit
# Datasets whose identity includes the scanned address: an ``ip`` filter selects whole identities there.
IP_IN_IDENTITY = frozenset(row.name for row in DATASET_TABLE.values() if ("ip",) in row.identity)


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("target", indexed=True, fast=True)
    sb.add_integer_field("sort", fast=True)
    sb.add_ip_addr_field("ip", indexed=True)
    sb.add_ip_addr_field("ipfast", fast=True)  # compile.ip_range reads wide ranges here
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("batch", fast=True)
    return sb.build()


def selects_identities(filters: Filters) -> bool:
    """Whether the filters select whole identities of their dataset (every report of one, or none)."""
    if filters.expression is not None or filters.report_id is not None or filters.history or filters.indirect:
        return False
    if filters.date_from is not None or filters.date_to is not None:
        return False
    return filters.ip is None or filters.dataset in IP_IN_IDENTITY


class LatestView:
    """One consistent reading of a LatestIndex for one set of filters."""

    def __init__(self, searcher: tantivy.Searcher, query: Query) -> None:
        self.searcher = searcher
        self.query = query

    def page(self, offset: int, limit: int) -> tuple[int, list[str]]:
        """The number of identities, and the ids of the newest reports from ``offset``, newest first (the time
        limit checked as they are read: every identity's, for a summary, may be many)."""
        result = self.searcher.search(self.query, limit=limit, offset=offset, order_by_field="sort", order=Order.Desc)
        hits = deadline.checked(result.hits, CHECK_EVERY)
        return result.count, [self.searcher.doc(address)["id"][0] for _, address in hits]

    def ids(self) -> list[str]:
        """Every identity's newest report id, newest first."""
        total = self.searcher.search(self.query, limit=1, count=True).count
        if total == 0:
            return []
        return self.page(0, total)[1]


class LatestIndex:
    def __init__(self, path: Path, hold_writer: bool = True) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        self.index = open_shard(self.schema, path)  # its segments newest first, as a shard's
        self._writer: tantivy.IndexWriter | None = None
        self._hold_writer = hold_writer
        self._not_state = must_not(Query.term_query(self.schema, "kind", STATE))

    def refresh(self) -> None:
        self.index.reload()

    def batch(self, searcher: tantivy.Searcher) -> int | None:
        """The commit of the dataset's shards this state reflects (None: never written)."""
        hits = searcher.search(Query.term_query(self.schema, "kind", STATE), limit=1).hits
        if not hits:
            return None
        value = searcher.fast_field_values("batch", [hits[0][1]])[0]
        return None if value is None else int(value)

    def view(self, filters: Filters, batch: int) -> LatestView | None:
        """A view for the filters, if they select whole identities and this index reflects commit ``batch``."""
        if not selects_identities(filters):
            return None
        searcher = self.index.searcher()
        if self.batch(searcher) != batch:
            return None
        query = self._not_state if filters.ip is None else scanned_in(self.schema, filters.ip)
        return LatestView(searcher, query)

    def is_current(self, batch: int) -> bool:
        """Whether this index reflects commit ``batch`` of the dataset's shards (a new one reflects none)."""
        recorded = self.batch(self.index.searcher())
        return recorded == batch or (recorded is None and batch == 0)

    # -- writing ------------------------------------------------------------------------------------------

    def update(self, candidates: dict[int, Latest], replace: dict[int, Latest | None], batch: int) -> None:
        """Keep each candidate that is newer than its identity's stored entry, set the ``replace`` entries as
        they are (None: the identity has no report left), and record commit ``batch``; one commit."""
        self.index.reload()
        searcher = self.index.searcher()
        stored = self.stored_sorts(searcher, [target for target in candidates if target not in replace])
        changes: dict[int, Latest | None] = dict(replace)
        for target, entry in candidates.items():
            if target not in replace and (target not in stored or entry.sort > stored[target]):
                changes[target] = entry
        self.write(changes, batch, everything=False)

    def rebuild(self, entries: Iterable[Latest], batch: int) -> None:
        """Replace everything with ``entries`` (the newest report of each identity), recording commit ``batch``."""
        self.write({entry.target: entry for entry in entries}, batch, everything=True)

    def stored_sorts(self, searcher: tantivy.Searcher, targets: list[int]) -> dict[int, int]:
        if not targets:
            return {}
        query = Query.term_set_query(self.schema, "target", targets)
        hits = searcher.search(query, limit=len(targets), count=False).hits
        addresses = [address for _, address in hits]
        keys = searcher.fast_field_values("target", addresses)
        sorts = searcher.fast_field_values("sort", addresses)
        return {int(key): int(sort) for key, sort in zip(keys, sorts, strict=True) if key is not None}

    def write(self, changes: dict[int, Latest | None], batch: int, everything: bool) -> None:
        writer = self.writer()
        try:
            if everything:
                writer.delete_all_documents()
            else:
                writer.delete_documents_by_query(Query.term_query(self.schema, "kind", STATE))
                if changes:
                    writer.delete_documents_by_query(Query.term_set_query(self.schema, "target", list(changes)))
            for entry in changes.values():
                if entry is not None:
                    writer.add_json(entry_document(entry))
            writer.add_json(orjson.dumps({"kind": STATE, "batch": batch}).decode())
            writer.commit()
        except Exception:
            writer.rollback()
            raise
        if not self._hold_writer:
            self.close()
        self.index.reload()

    def writer(self) -> tantivy.IndexWriter:
        """Taken only while the dataset's index writer is held, so it is never contended."""
        if self._writer is None:
            self._writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


def scanned_in(schema: tantivy.Schema, network: IPNetwork) -> Query:
    """Entries whose scanned address is in ``network``, as the plan reads the ``ip`` parameter (an IPv6 network
    holding the IPv4-mapped range means its IPv6 addresses only)."""
    return Compiler(schema, Kinds({})).compile(plan_ip_range(network, ""))


def entry_document(entry: Latest) -> str:
    fields: dict[str, object] = {"target": entry.target, "sort": entry.sort, "id": entry.id}
    if entry.ip is not None:
        fields["ip"] = fields["ipfast"] = entry.ip
    return orjson.dumps(fields).decode()


def newest_first(
    searcher: tantivy.Searcher, schema: tantivy.Schema, query: Query, chunk: int = CHUNK
) -> Iterator[tuple[int, tantivy.DocAddress]]:
    """Every (sort key, address) of an index matching ``query``, newest first, ``chunk`` at a time by a cursor on
    the ``sort`` fast field (no offsets, so linear in the matches; constant memory; ties at a chunk's edge are
    told apart by address)."""
    last_key: int | None = None
    at_last_key: set[tuple[int, int]] = set()
    while True:
        chunk_query = query
        if last_key is not None:
            upto = Query.range_query(schema, "sort", FieldType.Integer, None, last_key)
            chunk_query = Query.boolean_query([(Occur.Must, query), (Occur.Must, upto)])
        limit = chunk + len(at_last_key)
        hits = searcher.search(chunk_query, limit=limit, count=False, order_by_field="sort", order=Order.Desc).hits
        for key, address in hits:
            place = (address.segment_ord, address.doc)
            if key == last_key and place in at_last_key:
                continue
            if key != last_key:
                last_key, at_last_key = key, set()
            at_last_key.add(place)
            yield key, address
        if len(hits) < limit:
            return
