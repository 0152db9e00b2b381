"""Batches into a dataset's shards, from the importing process (the coordinator).

A batch is one commit number (``shards.State``). The coordinator sends each report line to the shard its id
hashes to (read from the line when it starts as a stored report does, ``quick_id``; decoded otherwise), then tells
every shard the batch is over; each shard stores the batch's observations and commits on its own
(``writer.ShardWriter.finish``) and goes on with the next batch's lines, which the coordinator sends meanwhile.
When every shard has committed a batch, the coordinator:

1. writes the kinds the batch brought (``shards.Kinds``), then the state naming the batch: readers see it whole
   from then on (before, their queries leave it out);
2. flags the reports that the batch's reports supersede, and those of the batch that a stored report supersedes
   (each shard its own, ``ShardWriter.flag``): the state says ``reconcile`` meanwhile, so that the next writer
   redoes this step if a crash cut it short;
3. keeps the batch's newest report per identity for the latest index, which it updates at the end of the call
   (an import: every 250,000 identities too), or rebuilds when it did not reflect the commit before (a crash
   between the two): meanwhile, ``most_recent`` takes the general path.

A writer holds the dataset's ``writer.lock`` for its batch (``shoal import``: for the whole command), and first
undoes what a crash left: documents of a commit the state does not name (``recover``), flags not written.
"""

from __future__ import annotations

import contextlib
import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from shoal.children import WORKER_GC_THRESHOLDS
from shoal.errors import StoreError
from shoal.model import SUPERSEDES, Report
from shoal.store.base import IngestResult
from shoal.store.embedded.bodies import BodyStore
from shoal.store.embedded.index import ReportIndex
from shoal.store.embedded.processes import ShardSet, failure
from shoal.store.embedded.schema import TYPE_SEP, Latest, stored_form
from shoal.store.embedded.shards import State, read_state, shard_of, write_kinds, write_state, writing
from shoal.store.embedded.writer import Candidate, Entry, Finished, Flagged, id_of

AHEAD = 1  # batches whose lines are all with the shards, not yet finished, while the next one is sent
# Latest-index entries an import keeps before writing them (~300 bytes each): an identity seen in several batches
# is written once (a batch of 50,000 reports brings ~45,000 identities, 6 µs each to write).
LATEST_PENDING = 250_000
SEND_LINES = 2_000  # lines per message to a shard
PREFIX = b'{"date":"'
ID_START = len(b'{"date":"YYYY-MM-DD","id":"')


@contextlib.contextmanager
def seldom_collected() -> Iterator[None]:
    """Python's garbage collector run seldom meanwhile: an import makes millions of tuples (latest-index entries
    among them) and no cycles, and the collector's passes over what it keeps cost more than the import's own work
    (12% of the coordinator's samples)."""
    before = gc.get_threshold()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def quick_id(line: bytes) -> bytes | None:
    """The id of a line that starts as a stored report does (``{"date":"YYYY-MM-DD","id":"…"``, no escapes),
    read without decoding it; None otherwise. A line whose decoded id differs (a second ``id`` key) is sent on by
    the shard that gets it."""
    if line.startswith(PREFIX) and line[19:ID_START] == b'","id":"' and b"\\" not in line[9:19]:
        end = line.find(b'"', ID_START)
        if end > ID_START:
            found = line[ID_START:end]
            if b"\\" not in found:
                return found
    return None


Rejection = tuple[int, str]  # (line number, why the line is not a report)


@dataclass
class Batch:
    """A batch being written: its number, the lines the coordinator itself rejected."""

    number: int
    rejected: list[Rejection] = field(default_factory=list)
    keep_ids: bool = False


@dataclass
class Outcome:
    """A stored batch: its commit number, its reports imported and duplicate, its lines rejected."""

    batch: int
    imported: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    carry: list[Entry] = field(default_factory=list)  # lines a shard sent back: their id is another shard's


class DatasetWriter:
    """Writes one dataset's batches through its shards (``shards``: processes or this process)."""

    def __init__(self, index: ReportIndex, shards: ShardSet, bodies: BodyStore | None, hold_writer: bool) -> None:
        self.index = index
        self.shards = shards
        self.bodies = bodies
        self.hold_writer = hold_writer
        self.count = index.shards.count
        self.dataset = index.dataset
        self._held: contextlib.ExitStack | None = None
        self._kinds: set[str] | None = None
        self._sent: deque[Batch] = deque()
        self._finished: dict[int, list[Finished]] = {}
        self._flagged: list[Flagged] = []
        self._recovered: list[int] = []
        self._successors = False
        self._committed = 0  # the commit the state names (this writer wrote it, or found it)
        self._latest_from: int | None = None  # the commit the latest index reflected before the entries pending
        self._pending: dict[int, Candidate] = {}
        self._targets: set[int] = set()  # identities whose newest report may have been superseded: read again
        self._superseded: set[str] = set()

    # -- a writing session ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator[State]:
        """Hold the dataset's writer lock (until ``close`` if the writer is held), after a crash undo what it
        left; the state to write after."""
        if self._held is None:
            stack = contextlib.ExitStack()
            stack.enter_context(writing(self.index.folder, self.dataset))
            self._held = stack
            try:
                self.repair()
            except BaseException:
                self.release()
                raise
        state = read_state(self.index.folder)
        self._committed = state.batch
        try:
            yield state
        finally:
            if not self.hold_writer:
                self.release()

    def release(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None
            self._kinds = None

    def repair(self) -> None:
        """Undo what a crashed writer left: documents of a commit the state does not name, flags not written."""
        state = read_state(self.index.folder)
        self.index.shards.reload()  # what the shards hold now, not what this process read last
        view = self.index.view()
        if view.torn:
            for shard in range(self.count):
                self.shards.send(shard, ("recover", self.dataset, state.batch))
            documents = sum(self.wait_for(lambda: len(self._recovered) >= self.count, self._recovered))
            state = State(state.batch, documents, state.reconcile, deleted=True)
            write_state(self.index.folder, state)
        if state.reconcile:
            flagged = self.flag([], check_fresh=False, everything=True)
            write_state(self.index.folder, state.after(state.batch, state.documents))
            self.note_latest(state.batch, [], flagged)
            self.flush_latest()

    # -- the two ways in --------------------------------------------------------------------------------------

    def ingest_reports(self, reports: list[Report]) -> IngestResult:
        """Store reports (of this dataset) in one batch, their bodies first."""
        outcomes: list[Outcome] = []
        with self.session() as state:
            if self.bodies is not None:
                self.bodies.add(body for report in reports for body in report.bodies)
            batch = Batch(state.batch + 1, keep_ids=True)
            parts: list[list[Entry]] = [[] for _ in range(self.count)]
            for position, report in enumerate(reports):
                parts[shard_of(report.id, self.count)].append((position, stored_form(report)))
            self.send(batch, parts)
            self.end(batch)
            while self._sent:
                self.settle(outcomes.append, wait=True)
            self.flush_latest()
        outcome = outcomes[0]
        for number, reason in outcome.rejected:
            raise StoreError(f"report {reports[number].id!r} cannot be stored: {reason}")
        commits = {self.dataset: outcome.batch} if outcome.imported else {}  # a batch adding nothing is not committed
        return IngestResult(outcome.imported, outcome.duplicates, outcome.ids, commits)

    def ingest_lines(
        self,
        chunks: Iterable[tuple[int, list[bytes]]],
        on_batch: Callable[[Outcome], None],
        on_chunk: Callable[[int], None] | None,
        batch_size: int,
    ) -> None:
        """Store the reports of JSON lines (chunks of consecutive lines, with the number of the first) in
        batches of ``batch_size`` lines; ``on_batch`` gets each batch's outcome once it is stored, ``on_chunk`` the
        number of lines of each chunk as it is sent."""
        with self.session() as state, seldom_collected():
            feed = Feed(self, state.batch + 1, batch_size, on_batch)
            for first_line, lines in chunks:
                counted = feed.lines(enumerate(lines, start=first_line))
                if on_chunk is not None:
                    on_chunk(counted)
                feed.carried(self.settle(on_batch, wait=False))
            feed.close()
            while self._sent:
                feed.carried(self.settle(on_batch, wait=True))
                feed.lines([])  # the lines shards sent back, in a batch of their own
                feed.close()
            self.flush_latest()

    def route(self, line: bytes, line_number: int, batch: Batch, decode: bool = False) -> int | None:
        """The shard a report line goes to (``decode``: by its decoded id, never read from the line); None when
        the coordinator rejects it (not JSON)."""
        found = None if decode else quick_id(line)
        if found is not None:
            return shard_of(found.decode(), self.count) if self.count > 1 else 0
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            batch.rejected.append((line_number, f"not valid JSON: {exc}"))
            return None
        report_id = id_of(data)
        return 0 if report_id is None else shard_of(report_id, self.count)

    # -- talking to the shards --------------------------------------------------------------------------------

    def send(self, batch: Batch, parts: list[list[Entry]], only: int | None = None) -> None:
        for shard in range(self.count) if only is None else (only,):
            if parts[shard]:
                self.shards.send(shard, ("add", self.dataset, batch.number, parts[shard], batch.keep_ids))
                parts[shard] = []

    def end(self, batch: Batch) -> None:
        for shard in range(self.count):
            self.shards.send(shard, ("finish", self.dataset, batch.number))
        self._sent.append(batch)

    def take(self, answer: Any) -> None:
        """File one answer of a shard."""
        failure(answer)
        if isinstance(answer, Finished):
            self._finished.setdefault(answer.batch, []).append(answer)
        elif isinstance(answer, Flagged):
            self._flagged.append(answer)
        elif isinstance(answer, tuple) and answer[0] == "recovered":
            self._recovered.append(answer[2])
        else:
            raise StoreError(f"a shard answered {answer!r:.80}")

    def wait_for(self, done: Callable[[], bool], found: list[Any]) -> list[Any]:
        while not done():
            self.take(self.shards.receive())
        taken = list(found)
        found.clear()
        return taken

    def settle(self, on_batch: Callable[[Outcome], None] | None, wait: bool) -> list[Entry]:
        """Finish the batches every shard has committed, in order (with ``wait``: at least the oldest one);
        the lines they sent back."""
        carry: list[Entry] = []
        while True:
            while (answer := self.shards.receive(block=False)) is not None:
                self.take(answer)
            done = bool(self._sent) and len(self._finished.get(self._sent[0].number, ())) == self.count
            if not done:
                if not wait or not self._sent:
                    return carry
                self.take(self.shards.receive())
                continue
            batch = self._sent.popleft()
            outcome = self.finalize(batch, self._finished.pop(batch.number))
            carry += outcome.carry
            if on_batch is not None:
                on_batch(outcome)
            wait = False

    # -- a batch every shard committed ------------------------------------------------------------------------

    def finalize(self, batch: Batch, finished: list[Finished]) -> Outcome:
        outcome = Outcome(
            batch.number,
            imported=sum(answer.imported for answer in finished),
            duplicates=sum(answer.duplicates for answer in finished),
            rejected=batch.rejected + [rejection for answer in finished for rejection in answer.rejected],
            ids=[report_id for answer in finished for report_id in answer.ids],
            carry=[entry for answer in finished for entry in answer.misrouted],
        )
        if not outcome.imported:
            return outcome  # nothing was added: the state stays
        folder = self.index.folder
        kinds = set().union(*(answer.kinds for answer in finished))
        known = self.known_kinds()
        if not kinds <= known:
            known |= kinds
            write_kinds(folder, known)
        documents = sum(answer.documents for answer in finished)
        names = [name for answer in finished for name in answer.names]
        check = bool(names) or self.successors_stored()
        before = read_state(folder)
        previous, self._committed = self._committed, batch.number
        write_state(folder, before.after(batch.number, documents, reconcile=check))
        flagged = self.flag(names, check_fresh=True, batch=batch.number) if check else []
        if check:
            write_state(folder, before.after(batch.number, documents))
        self.note_latest(previous, [entry for answer in finished for entry in answer.latest], flagged)
        if len(self._pending) >= LATEST_PENDING:
            self.flush_latest()
        return outcome

    def known_kinds(self) -> set[str]:
        if self._kinds is None:
            self._kinds = self.index.view().kinds.entries()
        return self._kinds

    def successors_stored(self) -> bool:
        """Whether any shard holds a report naming a predecessor (a term walk: a few microseconds)."""
        if not self._successors:
            view = self.index.view()
            self._successors = any(
                searcher.terms_with_prefix("exact", SUPERSEDES + TYPE_SEP, limit=1) for searcher in view.searchers
            )
        return self._successors

    def flag(self, names: list[str], check_fresh: bool, batch: int = 0, everything: bool = False) -> list[Flagged]:
        for shard in range(self.count):
            self.shards.send(shard, ("flag", self.dataset, names, check_fresh, batch, everything))
        return self.wait_for(lambda: len(self._flagged) >= self.count, self._flagged)

    def note_latest(self, previous: int, candidates: list[Candidate], flagged: list[Flagged]) -> None:
        """Keep a finished batch's latest-index entries (``previous``: the commit before it): the newest visible
        report per identity, and the identities whose newest may have been superseded."""
        if self._latest_from is None:
            self._latest_from = previous
        superseded = self._superseded
        superseded.update(report_id for answer in flagged for report_id in answer.ids)
        self._targets.update(target for answer in flagged for target in answer.targets)
        pending = self._pending
        for candidate in candidates:
            held = pending.get(candidate[0])
            if (held is None or candidate[1] > held[1]) and candidate[2] not in superseded:
                pending[candidate[0]] = candidate

    def flush_latest(self) -> None:
        """Bring the latest index to the state's commit: the entries kept, the identities whose newest may have
        been superseded read again, or everything read again when the latest index did not reflect the commit
        the entries started from (a crash between the two, or a failure)."""
        if self._latest_from is None:
            return
        latest, view = self.index.latest, self.index.view()
        start, pending, targets = self._latest_from, self._pending, self._targets
        self._latest_from, self._pending, self._targets, self._superseded = None, {}, set(), set()
        if not latest.is_current(start):
            latest.rebuild(self.index.newest_entries(view), view.state.batch)
            return
        replace = {target: self.index.newest_entry(view, target) for target in targets}
        latest.update({target: Latest._make(entry) for target, entry in pending.items()}, replace, view.state.batch)


class Feed:
    """Report lines into numbered batches of ``size`` lines (blank ones skipped), each line to its shard."""

    def __init__(self, writer: DatasetWriter, number: int, size: int, on_batch: Callable[[Outcome], None]) -> None:
        self.writer = writer
        self.number = number
        self.size = size
        self.on_batch = on_batch
        self.batch: Batch | None = None
        self.filled = 0
        self.parts: list[list[Entry]] = [[] for _ in range(writer.count)]
        self.carry: list[Entry] = []

    def lines(self, lines: Iterable[Entry], decode: bool = False) -> int:
        """Send lines (and first the lines shards sent back: those go by their decoded id); the number of lines
        that were not blank."""
        writer, parts, counted = self.writer, self.parts, 0
        if self.carry:
            carry, self.carry = self.carry, []
            self.lines(carry, decode=True)
        for number, line in lines:
            if not line.strip():
                continue
            counted += 1
            batch = self.batch
            if batch is None:
                batch = self.batch = Batch(self.number)
            shard = writer.route(line, number, batch, decode)
            if shard is not None:
                part = parts[shard]
                part.append((number, line))
                if len(part) >= SEND_LINES:
                    writer.send(batch, parts, only=shard)
            self.filled += 1
            if self.filled == self.size:
                self.close()
        return counted

    def carried(self, lines: list[Entry]) -> None:
        self.carry += lines

    def close(self) -> None:
        """End the batch being filled (if any), and wait while too many are with the shards (the lines they send
        back wait for the next ``lines``)."""
        if self.batch is not None:
            self.writer.send(self.batch, self.parts)
            self.writer.end(self.batch)
            self.number, self.batch, self.filled = self.number + 1, None, 0
        while len(self.writer._sent) > AHEAD:
            self.carry += self.writer.settle(self.on_batch, wait=True)
