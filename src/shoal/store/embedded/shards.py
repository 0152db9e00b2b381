"""A dataset's index as N shards: the folders, the commit state every reader checks, and one consistent reading.

    index/                  a dataset's index (``engine.index_folder``)
        shoal-format        the index format (3)
        shards              how many shards, fixed when the index is made (``shoal db migrate --shards`` changes it)
        state               the last commit every shard holds, and how many documents they hold then (``State``)
        kinds               the (type, context) pairs of its reports (``Kinds``)
        writer.lock         held by the process writing a batch (one at a time, across processes)
        0/ 1/ …             one tantivy index per shard; a report lives in the shard its id hashes to (``shard_of``)
    index.latest/           the newest report of each identity (``latest.py``)

Each shard is written by its own process and commits on its own (``writer.py``); a batch is one commit number,
written into every document of it (the ``batch`` field), and it is whole once ``state`` names it, which the
coordinator writes when every shard has committed it (``ingest.py``). A reader takes the state, then every
shard's searcher: when their documents add up to the state's, it reads them as they are; otherwise a shard holds
documents of a commit the state does not name yet (being written, or cut short by a crash) and every query leaves
out the documents of a later batch than the state's (``View.restrict``). So a reader sees each batch whole or not
at all, and the next writer deletes what a crash left (``writer.ShardWriter.recover``).
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import orjson
import tantivy
from tantivy import FieldType, Occur, Query

from shoal.errors import StoreError
from shoal.filesystem import replace_durably
from shoal.store.embedded.schema import CONTEXT_SEP, INDEX_FORMAT, SUPERSEDED, build_schema, open_shard

FORMAT_FILE = "shoal-format"
SHARDS_FILE = "shards"
STATE_FILE = "state"
KINDS_FILE = "kinds"
LOCK_FILE = "writer.lock"
WRITER_LOCK_WAIT = 30.0  # seconds a writer waits for another process's batch to end
T = TypeVar("T")


def default_shards() -> int:
    """One shard per core: each is written by its own process (``writer.py``)."""
    return max(1, os.cpu_count() or 1)


def shard_of(report_id: str, shards: int) -> int:
    """The shard a report lives in: a hash of its id, the same in every process and version."""
    return zlib.crc32(report_id.encode()) % shards if shards > 1 else 0


@dataclass(frozen=True, slots=True)
class State:
    """The last commit number every shard holds (``batch``), how many documents they hold then, whether the
    flags of superseded reports may lag their successors (a batch cut short between its two steps), and whether
    a torn batch was ever deleted (tantivy counts a deleted document in a term walk without a filter until it
    merges its segment away: summaries over everything then walk with one)."""

    batch: int = 0
    documents: int = 0
    reconcile: bool = False
    deleted: bool = False

    def encode(self) -> bytes:
        fields = {"batch": self.batch, "documents": self.documents, "reconcile": self.reconcile}
        return orjson.dumps(fields | ({"deleted": True} if self.deleted else {}))

    @classmethod
    def decode(cls, data: bytes) -> State:
        fields = orjson.loads(data)
        return cls(
            int(fields["batch"]),
            int(fields["documents"]),
            bool(fields.get("reconcile", False)),
            bool(fields.get("deleted", False)),
        )

    def after(self, batch: int, documents: int, reconcile: bool = False) -> State:
        return State(batch, documents, reconcile, self.deleted)


@dataclass(frozen=True, slots=True)
class Kinds:
    """The (type, context) pairs a dataset's reports hold, "" being the empty context: which types a query of any
    type looks in, and which contexts a query over all of a closed type's contexts (schema.CLOSED_TYPES) ORs.
    Written before the batch that brings a pair is visible, never pruned: it may name a pair no report holds any
    more (a batch a crash cut short), which costs a query a term that matches nothing."""

    contexts: dict[str, frozenset[str]]

    @classmethod
    def of(cls, entries: Iterable[str]) -> Kinds:
        found: dict[str, set[str]] = {}
        for entry in entries:
            item_type, _, context = entry.partition(CONTEXT_SEP)
            found.setdefault(item_type, set()).add(context)
        return cls({item_type: frozenset(contexts) for item_type, contexts in found.items()})

    def entries(self) -> set[str]:
        return {t if not c else t + CONTEXT_SEP + c for t, contexts in self.contexts.items() for c in contexts}

    def types(self) -> frozenset[str]:
        return frozenset(self.contexts)

    def of_type(self, item_type: str) -> frozenset[str]:
        return self.contexts.get(item_type, frozenset())

    def named(self, item_type: str) -> list[str]:
        """The type's named contexts, sorted."""
        return sorted(context for context in self.of_type(item_type) if context)


PARALLEL_FROM = 100_000  # documents over every shard from which a query runs the shards in parallel threads
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """The threads shards are searched on (tantivy releases the GIL); never the summaries' or the API's pool,
    whose threads wait here."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max(2, os.cpu_count() or 2), thread_name_prefix="shoal-shards")
        return _POOL


def each(functions: Sequence[Callable[[], T]], parallel: bool = True) -> list[T]:
    """Every function's result, in order: the first in this thread, the others on the shards' pool, each in a copy
    of this thread's context (so each shard's work sees the query's time limit: store/deadline.py); all in this
    thread when not ``parallel``."""
    if len(functions) == 1 or not parallel:
        return [function() for function in functions]
    futures = [pool().submit(contextvars.copy_context().run, function) for function in functions[1:]]
    try:
        first = functions[0]()
        return [first, *(future.result() for future in futures)]
    except BaseException:
        for future in futures:
            future.cancel()
        raise


@dataclass(frozen=True)
class View:
    """One consistent reading of a dataset's shards: the state, and a searcher per shard taken after it."""

    state: State
    searchers: tuple[tantivy.Searcher, ...]
    schema: tantivy.Schema
    kinds: Kinds
    torn: bool  # a shard holds documents of a commit after state.batch: queries leave them out

    def restrict(self, query: Query) -> Query:
        """The query over the documents of the state's commits only."""
        if not self.torn:
            return query
        upto = Query.range_query(self.schema, "batch", FieldType.Unsigned, None, self.state.batch)
        return Query.boolean_query([(Occur.Must, query), (Occur.Must, upto)])

    def map(self, function: Callable[[tantivy.Searcher], T]) -> list[T]:
        """``function`` on every shard's searcher, the shards in parallel (of a small index, one after another)."""
        return each([lambda searcher=searcher: function(searcher) for searcher in self.searchers], self.parallel)

    def map_shards(self, function: Callable[[int], T]) -> list[T]:
        """``function`` on every shard's number, the shards in parallel (of a small index, one after another)."""
        return each([lambda shard=shard: function(shard) for shard in range(len(self.searchers))], self.parallel)

    @property
    def parallel(self) -> bool:
        """Whether the shards are worth searching at once: handing a shard to another thread costs about as much
        CPU as searching a small one (BENCHMARKS.md, "Embedded reads")."""
        return self.state.documents >= PARALLEL_FROM

    def has_superseded(self) -> bool:
        return any(searcher.doc_freq("exact", SUPERSEDED) for searcher in self.searchers)


class Shards:
    """A dataset's shards as one index to read: ``view()`` is the current consistent reading."""

    def __init__(self, folder: Path, dataset: str, create: int | None = None) -> None:
        self.folder = folder
        self.dataset = dataset
        self.schema = build_schema()
        self.count = read_count(folder) if create is None or (folder / SHARDS_FILE).exists() else create
        if create is not None:
            make(folder, self.count)
        try:
            self.indexes = [open_shard(self.schema, shard_folder(folder, k)) for k in range(self.count)]
        except ValueError as exc:
            raise StoreError(f"cannot open the {dataset} index at {folder}: {exc}") from exc
        self._seen: bytes | None = None
        self._kinds = Kinds({})
        self._kinds_stamp: tuple[int, int] | None = None
        self._view: View | None = None
        self._state_path, self._kinds_path = folder / STATE_FILE, folder / KINDS_FILE
        self._lock = threading.Lock()

    def view(self) -> View:
        """The state, then every shard's searcher taken after it. Both are read again only when the state file
        changed since the last view (a commit), so a query on an unchanged store reuses the last reading."""
        data = read_bytes(self._state_path)
        with self._lock:
            if data != self._seen or self._view is None:
                state = State.decode(data) if data else State()
                for index in self.indexes:
                    index.reload()
                searchers = tuple(index.searcher() for index in self.indexes)
                torn = sum(searcher.num_docs for searcher in searchers) != state.documents
                self._view = View(state, searchers, self.schema, self._kinds, torn)
                self._seen = data
            if self._load_kinds():
                self._view = replace(self._view, kinds=self._kinds)
            return self._view

    def kinds(self) -> Kinds:
        """The item kinds the shards hold (no searcher taken)."""
        with self._lock:
            self._load_kinds()
            return self._kinds

    def _load_kinds(self) -> bool:
        """Read the kinds file again if it changed; whether it did."""
        try:
            status = os.stat(self._kinds_path)
        except FileNotFoundError:
            return False
        stamp = (status.st_ino, status.st_mtime_ns)
        if stamp == self._kinds_stamp:
            return False
        self._kinds = Kinds.of(orjson.loads(self._kinds_path.read_bytes()))
        self._kinds_stamp = stamp
        return True

    def reload(self) -> None:
        with self._lock:
            self._seen = None
            self._kinds_stamp = None
            self._view = None


def shard_folder(folder: Path, shard: int) -> Path:
    return folder / str(shard)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def read_count(folder: Path) -> int:
    try:
        count = int((folder / SHARDS_FILE).read_text().strip())
    except (FileNotFoundError, ValueError) as exc:
        raise StoreError(f"the index at {folder} does not say how many shards it has ({SHARDS_FILE}): {exc}") from exc
    if count < 1:
        raise StoreError(f"the index at {folder} names {count} shards")
    return count


def make(folder: Path, count: int) -> None:
    """A new empty index of ``count`` shards (its format file last: a folder without it holds no index)."""
    if (folder / FORMAT_FILE).exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / SHARDS_FILE).exists():
        replace_durably(folder / SHARDS_FILE, f"{count}\n".encode())
    for shard in range(read_count(folder)):
        shard_folder(folder, shard).mkdir(exist_ok=True)
    replace_durably(folder / FORMAT_FILE, f"{INDEX_FORMAT}\n".encode())


def write_state(folder: Path, state: State) -> None:
    replace_durably(folder / STATE_FILE, state.encode())


def read_state(folder: Path) -> State:
    data = read_bytes(folder / STATE_FILE)
    return State.decode(data) if data else State()


def write_kinds(folder: Path, kinds: Iterable[str]) -> None:
    replace_durably(folder / KINDS_FILE, orjson.dumps(sorted(kinds)))


@contextlib.contextmanager
def writing(folder: Path, dataset: str, wait: float = WRITER_LOCK_WAIT) -> Iterator[None]:
    """Hold the dataset's writer lock (other processes' batches wait up to ``wait`` seconds for it)."""
    deadline = time.monotonic() + wait
    with (folder / LOCK_FILE).open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"the {dataset} index is being written by another process") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
