"""ShardWriter: one shard of a dataset's index, written by one process (the shard's own, or the importing process).

It takes report lines (a report's JSON: a line of an import, or a Report's stored form), decodes each once,
drops those already stored or seen in the batch (a report lives in the shard its id hashes to, so this shard's
ids are all it checks), builds the rest straight from the decoded dict (``documents.build``) and hands them to
tantivy. At the end of a batch it stores the batch's open-port observations, then commits on its own, and
answers with what the coordinator needs (``ingest.py``): counts, rejected lines, each new report's latest-index
entry and the predecessors it names. Afterwards it flags the superseded reports it holds (``flag``) and, after a
crash, deletes the documents of a batch the state does not name (``recover``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import tantivy
from tantivy import FieldType, Occur, Query

from shoal.errors import StoreError
from shoal.model import MAX_ID_LENGTH, SUPERSEDES, InvalidReport, Report, content_id, max_report_items
from shoal.store.embedded.documents import Built, build, build_line
from shoal.store.embedded.ports import ObservationStore, keys
from shoal.store.embedded.schema import SUPERSEDED, TYPE_SEP, build_schema, cut, open_shard
from shoal.store.embedded.shards import shard_folder, shard_of

WRITER_HEAP_BYTES = 128 * 1024 * 1024  # per shard; 64 MB to 1 GB made no difference (issue 25's research)
# One indexing thread per shard: two cost 15–22 µs more per report (issue 25's research), and each shard has its
# own process, so the cores are used by the shards.
WRITER_THREADS = 1
Entry = tuple[int, bytes]  # (line number, or position in the batch; the report's JSON)
Candidate = tuple[int, int, str, str | None]  # a latest-index entry (schema.Latest) as a plain tuple


@dataclass
class Finished:
    """A shard's answer at the end of a batch (picklable: it crosses from a shard's process)."""

    shard: int
    batch: int
    documents: int  # documents the shard holds after committing the batch
    imported: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    misrouted: list[Entry] = field(default_factory=list)  # lines whose id belongs to another shard
    latest: list[Candidate] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # ids that this batch's new reports supersede
    kinds: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)  # the new reports (asked for: the Report path returns them)


@dataclass
class Flagged:
    shard: int
    ids: list[str]  # reports flagged as superseded now
    targets: set[int]  # their identities (their latest-index entries are read again)


def id_of(data: Any) -> str | None:
    """The id a decoded report has, as ``Report.from_dict`` gives it; None when it has none valid."""
    if type(data) is not dict:
        return None
    report_id = data.get("id")
    if report_id is None:
        return content_id(data)
    if type(report_id) is str and report_id and len(report_id) <= MAX_ID_LENGTH:
        return report_id
    return None


class ShardWriter:
    """Shard ``shard`` (of ``count``) of the dataset index at ``folder``. ``hold_writer=False`` releases tantivy's
    writer after every batch (``shoal serve``)."""

    def __init__(
        self, folder: Path, dataset: str, shard: int, count: int, ports: Path | None, hold_writer: bool = True
    ) -> None:
        self.folder = folder
        self.dataset = dataset
        self.shard = shard
        self.count = count
        self.ports_folder = ports
        self.hold_writer = hold_writer
        self.schema = build_schema()
        self.index = open_shard(self.schema, shard_folder(folder, shard))
        self._writer: tantivy.IndexWriter | None = None
        self._ports: ObservationStore | None = None
        self._others: list[tantivy.Index] | None = None
        self._fresh: dict[int, list[str]] = {}  # the new reports of the last batches, until they are flagged
        self._start()

    def _start(self) -> None:
        self.pending: set[str] = set()  # ids added since the last commit
        self.added = False
        self.result = Finished(self.shard, 0, 0)
        self.observations: list[int | bytes] = []

    # -- a batch ----------------------------------------------------------------------------------------------

    def add(self, batch: int, entries: list[Entry], keep_ids: bool = False) -> None:
        """Add the reports of ``entries`` that are new, in commit ``batch``."""
        result = self.result
        if result.batch != batch:  # the first lines of a batch: what another process stored since counts too
            self.index.reload()
            result.batch = batch
        cap = max_report_items()
        decoded: list[tuple[int, str | None, Any]] = []  # a line's decoded JSON, or its document (Built) built natively
        for number, line in entries:
            native = build_line(line, self.dataset, batch, result.kinds, cap)
            if native is not None:
                data: Any = native
                report_id: str | None = native.id
            else:
                try:
                    data = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    result.rejected.append((number, f"not valid JSON: {exc}"))
                    continue
                report_id = id_of(data)
            if report_id is not None and shard_of(report_id, self.count) != self.shard:
                result.misrouted.append((number, line))
                continue
            decoded.append((number, report_id, data))
        if not decoded:
            return
        stored = self.stored_ids([report_id for _, report_id, _ in decoded if report_id is not None])
        writer = self.writer()
        pending, add_json = self.pending, writer.add_json
        for number, report_id, data in decoded:
            if report_id is not None and (report_id in pending or report_id in stored):
                try:
                    if type(data) is not Built:  # a line the native builder took is a valid report
                        Report.from_dict(data, self.dataset)  # a duplicate still has to be a valid report
                except InvalidReport as exc:
                    result.rejected.append((number, str(exc)))
                    continue
                result.duplicates += 1
                continue
            try:
                built = data if type(data) is Built else build(data, self.dataset, batch, result.kinds, cap=cap)
            except InvalidReport as exc:
                result.rejected.append((number, str(exc)))
                continue
            add_json(built.document)
            pending.add(built.id)
            result.imported += 1
            result.latest.append(tuple(built.latest))  # type: ignore[arg-type]
            if built.observation is not None:
                self.observations.append(built.observation)
            if built.supersedes:
                result.names += built.supersedes
            if keep_ids:
                result.ids.append(built.id)
        self.added = True

    def stored_ids(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` the shard holds (committed). A term's document frequency rules out most at once
        (0.6–0.8 µs an id, where a term-set query costs 3–4 µs: tantivy builds an automaton of random ids); it
        counts deleted documents too, so the few it does not rule out are looked up."""
        if not ids:
            return set()
        searcher = self.index.searcher()
        doc_freq = searcher.doc_freq
        ids = [report_id for report_id in ids if doc_freq("id", report_id)]
        if not ids:
            return set()
        query = Query.term_set_query(self.schema, "id", ids)
        result = searcher.search(query, limit=len(ids), count=True)
        if result.count == 0:
            return set()
        return {stored_id(searcher.doc(address)["doc"][0]) for _, address in result.hits}

    def finish(self, batch: int) -> Finished:
        """Store the batch's observations, then commit it; what the coordinator needs of it."""
        if self.observations and self.ports_folder is not None:
            self.ports().add(*keys(self.observations))
        if self.added:
            self.commit()
        result = self.result
        result.batch = batch
        result.documents = self.index.searcher().num_docs
        self._fresh = {number: ids for number, ids in self._fresh.items() if number >= batch - 1}
        self._fresh[batch] = [entry[2] for entry in result.latest]
        self._start()
        return result

    def commit(self) -> None:
        writer = self.writer()
        try:
            writer.commit()
        except Exception:
            writer.rollback()
            raise
        finally:
            if not self.hold_writer:
                self.release()
        self.index.reload()

    # -- superseded reports -----------------------------------------------------------------------------------

    def flag(self, names: list[str], check_fresh: bool, batch: int, everything: bool = False) -> Flagged:
        """Flag as superseded, in one commit, the reports of this shard that ``names`` lists, that batch
        ``batch`` added and a stored report names (``check_fresh``), or (``everything``) that any stored report of
        any shard names. Their identities come back (their latest entries are read again)."""
        wanted = {name for name in names if shard_of(name, self.count) == self.shard}
        searchers = [index.searcher() for index in self.shards()]
        if everything:
            for searcher in searchers:
                prefix = SUPERSEDES + TYPE_SEP
                wanted.update(term[len(prefix) :] for term, _ in searcher.terms_with_prefix("exact", prefix))
            wanted = {name for name in wanted if shard_of(name, self.count) == self.shard}
        else:
            fresh = self._fresh.pop(batch, [])
            if check_fresh and fresh:
                wanted |= named_by(searchers, self.schema, fresh)
        return Flagged(self.shard, *self.restamp(wanted))

    def restamp(self, ids: set[str]) -> tuple[list[str], set[int]]:
        """Re-add the stored reports of ``ids`` that are not flagged yet with the ``superseded`` term (tantivy
        documents are immutable), each in its own batch; their ids and identities."""
        if not ids:
            return [], set()
        self.index.reload()
        searcher = self.index.searcher()
        query = Query.boolean_query(
            [
                (Occur.Must, Query.term_set_query(self.schema, "id", sorted(ids))),
                (Occur.MustNot, Query.term_query(self.schema, "exact", SUPERSEDED)),
            ]
        )
        hits = searcher.search(query, limit=len(ids), count=False).hits
        if not hits:
            return [], set()
        addresses = [address for _, address in hits]
        batches = searcher.fast_field_values("batch", addresses)
        writer = self.writer()
        flagged, targets = [], set()
        for address, batch in zip(addresses, batches, strict=True):
            data = orjson.loads(searcher.doc(address)["doc"][0])
            built = build(data, self.dataset, int(batch or 0), set(), superseded=True)
            writer.delete_documents_by_term("id", built.id)
            writer.add_json(built.document)
            flagged.append(built.id)
            targets.add(built.latest.target)
        self.commit()
        return flagged, targets

    def shards(self) -> list[tantivy.Index]:
        """Every shard of the dataset (this one included), to read what other shards hold."""
        if self._others is None:
            self._others = [
                self.index if k == self.shard else tantivy.Index.open(str(shard_folder(self.folder, k)))
                for k in range(self.count)
            ]
        for index in self._others:
            index.reload()
        return self._others

    # -- after a crash ----------------------------------------------------------------------------------------

    def recover(self, batch: int) -> int:
        """Delete the documents of batches after ``batch`` (a commit the state never named); the documents
        left."""
        self.index.reload()
        later = Query.range_query(self.schema, "batch", FieldType.Unsigned, batch + 1, None)
        if self.index.searcher().search(later, limit=1, count=True).count:
            writer = self.writer()
            writer.delete_documents_by_query(later)
            self.commit()
        return self.index.searcher().num_docs

    # -- resources --------------------------------------------------------------------------------------------

    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
            except ValueError as exc:
                message = f"the {self.dataset} index's shard {self.shard} is locked by another writer: {exc}"
                raise StoreError(message) from exc
        return self._writer

    def ports(self) -> ObservationStore:
        if self._ports is None:
            assert self.ports_folder is not None
            self._ports = ObservationStore(self.ports_folder)
        return self._ports

    def release(self) -> None:
        """Let another process write the shard (tantivy's writer lock)."""
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None


def named_by(searchers: list[tantivy.Searcher], schema: tantivy.Schema, ids: list[str]) -> set[str]:
    """Which of ``ids`` a stored report of any shard names in a ``supersedes`` item."""
    if not any(searcher.terms_with_prefix("exact", SUPERSEDES + TYPE_SEP, limit=1) for searcher in searchers):
        return set()
    query = Query.term_set_query(schema, "exact", [cut(SUPERSEDES + TYPE_SEP + report_id) for report_id in ids])
    wanted, named = set(ids), set()
    for searcher in searchers:
        total = searcher.search(query, limit=1, count=True).count
        if not total:
            continue
        for _, address in searcher.search(query, limit=total, count=False).hits:
            items = orjson.loads(searcher.doc(address)["doc"][0])["items"]
            named.update(
                item["value"]
                for item in items
                if item["type"] == SUPERSEDES and item["is_metadata"] and item["value"] in wanted
            )
    return named


ID_AT = len(b'{"date":"YYYY-MM-DD","id":"')  # where the id starts in a stored report


def stored_id(data: bytes) -> str:
    """A stored report's id without decoding the report (its JSON starts with the date and the id)."""
    end = data.find(b'"', ID_AT)
    raw = data[ID_AT:end]
    if b"\\" in raw or not data.startswith(b'{"date":"'):
        return orjson.loads(data)["id"]
    return raw.decode()
