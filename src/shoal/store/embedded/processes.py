"""Who runs the shard writers: one process per shard (``ShardProcesses``: imports, and any batch once they run), or
the calling process itself (``LocalShards``: small batches, recovery when a store opens). Both take the same
messages and give the same answers, so the coordinator (``ingest.py``) does not know which it talks to:

    ("add", dataset, batch, entries, keep_ids)   → nothing
    ("finish", dataset, batch)                   → writer.Finished
    ("flag", dataset, names, check_fresh, batch, everything) → writer.Flagged
    ("recover", dataset, batch)                  → ("recovered", shard, documents)
    ("release",)                                 → nothing: every writer lets other processes write

A shard's process handles its shard of every dataset (``ShardHost``). Messages go through one pipe per process,
written by a sender thread from a bounded queue (so reading the input goes on while a shard indexes, and stops
when the shards are behind); answers are read by a receiver thread per process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import socket
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from shoal.children import start_worker
from shoal.errors import DiskFull, StoreError
from shoal.filesystem import is_disk_full
from shoal.store.embedded.writer import ShardWriter

QUEUED = 16  # messages waiting for a shard process before the sender blocks (each at most a chunk of lines)
SOCKET_BUFFER = 4 << 20  # bytes a pipe to a shard holds: a chunk of lines crosses in a few writes (0.3 µs a line less)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a dataset's shards are, how many, and where its open-port observations go (None: not observed)."""

    folder: Path
    count: int
    ports: Path | None


class ShardHost:
    """Shard ``shard`` of every dataset, in one process: a ShardWriter per dataset, made on first use."""

    def __init__(self, layouts: dict[str, Layout], shard: int, hold_writer: bool) -> None:
        self.layouts = layouts
        self.shard = shard
        self.hold_writer = hold_writer
        self.writers: dict[str, ShardWriter] = {}

    def writer(self, dataset: str) -> ShardWriter:
        found = self.writers.get(dataset)
        if found is None:
            layout = self.layouts[dataset]
            found = ShardWriter(layout.folder, dataset, self.shard, layout.count, layout.ports, self.hold_writer)
            self.writers[dataset] = found
        return found

    def handle(self, message: tuple[Any, ...]) -> Any:
        verb = message[0]
        if verb == "add":
            _, dataset, batch, entries, keep_ids = message
            self.writer(dataset).add(batch, entries, keep_ids)
            return None
        if verb == "finish":
            return self.writer(message[1]).finish(message[2])
        if verb == "flag":
            _, dataset, names, check_fresh, batch, everything = message
            return self.writer(dataset).flag(names, check_fresh, batch, everything)
        if verb == "recover":
            return ("recovered", self.shard, self.writer(message[1]).recover(message[2]))
        if verb == "release":
            self.release()
            return None
        raise ValueError(f"unknown message {verb!r}")

    def release(self) -> None:
        for writer in self.writers.values():
            writer.release()


class ShardSet(Protocol):
    count: int

    def send(self, shard: int, message: tuple[Any, ...]) -> None: ...

    def receive(self, block: bool = True) -> Any:
        """The next answer of any shard (None if there is none and ``block`` is false)."""

    def close(self) -> None: ...


class LocalShards:
    """The shard writers in this process: a message is handled when it is sent."""

    def __init__(self, layouts: dict[str, Layout], count: int, hold_writer: bool) -> None:
        self.count = count
        self.hosts = [ShardHost(layouts, shard, hold_writer) for shard in range(count)]
        self.answers: list[Any] = []

    def send(self, shard: int, message: tuple[Any, ...]) -> None:
        answer = self.hosts[shard].handle(message)
        if answer is not None:
            self.answers.append(answer)

    def receive(self, block: bool = True) -> Any:
        if not self.answers:
            if not block:
                return None
            raise StoreError("a shard writer was asked for an answer it does not have")
        return self.answers.pop(0)

    def close(self) -> None:
        for host in self.hosts:
            host.release()


def serve(connection: Connection, layouts: dict[str, Layout], shard: int, hold_writer: bool) -> None:
    """A shard process: handle messages until "stop" or the end of the pipe; a failure is answered, then the
    process waits to be stopped (its writer's state is unknown)."""
    start_worker()
    host = ShardHost(layouts, shard, hold_writer)
    failed = False
    while True:
        try:
            message = pickle.loads(connection.recv_bytes())
        except EOFError:
            break
        if message[0] == "stop":
            break
        if failed:
            continue
        try:
            answer = host.handle(message)
        except BaseException as exc:
            failed = True
            folder = next(iter(layouts.values())).folder
            answer = (
                "failed",
                shard,
                f"{type(exc).__name__}: {exc}",
                traceback.format_exc(limit=8),
                is_disk_full(exc, folder),
            )
        if answer is not None:
            connection.send_bytes(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    with contextlib.suppress(Exception):
        host.release()
    connection.close()


class ShardProcesses:
    """One process per shard (spawned: never fork a process that runs tantivy's threads)."""

    def __init__(self, layouts: dict[str, Layout], count: int, hold_writer: bool) -> None:
        self.count = count
        context = multiprocessing.get_context("spawn")
        self.answers: queue.Queue[Any] = queue.Queue()
        self.connections: list[Connection] = []
        self.processes = []
        self.outboxes: list[queue.Queue[bytes | None]] = []
        self.threads: list[threading.Thread] = []
        for shard in range(count):
            mine, theirs = context.Pipe()
            for end in (mine, theirs):
                widen(end)
            process = context.Process(
                target=serve, args=(theirs, layouts, shard, hold_writer), name=f"shoal-shard-{shard}", daemon=True
            )
            process.start()
            theirs.close()
            outbox: queue.Queue[bytes | None] = queue.Queue(QUEUED)
            self.connections.append(mine)
            self.processes.append(process)
            self.outboxes.append(outbox)
            for target in (self._sending, self._receiving):
                thread = threading.Thread(target=target, args=(shard,), name=f"shoal-shard-{shard}", daemon=True)
                thread.start()
                self.threads.append(thread)

    def _sending(self, shard: int) -> None:
        outbox, connection = self.outboxes[shard], self.connections[shard]
        while (data := outbox.get()) is not None:
            try:
                connection.send_bytes(data)
            except OSError:
                return  # the process is gone: its receiver says so

    def _receiving(self, shard: int) -> None:
        connection = self.connections[shard]
        while True:
            try:
                data = connection.recv_bytes()
            except (EOFError, OSError):
                self.answers.put(("gone", shard))
                return
            self.answers.put(pickle.loads(data))

    def send(self, shard: int, message: tuple[Any, ...]) -> None:
        self.outboxes[shard].put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self, block: bool = True) -> Any:
        try:
            answer = self.answers.get(block)
        except queue.Empty:
            return None
        if isinstance(answer, tuple) and answer and answer[0] == "gone":
            raise StoreError(f"the process writing shard {answer[1]} ended unexpectedly")
        return answer

    def close(self) -> None:
        for outbox in self.outboxes:
            outbox.put(pickle.dumps(("stop",)))
            outbox.put(None)
        for process in self.processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
                process.join()
        for connection in self.connections:
            connection.close()


def widen(connection: Connection) -> None:
    """Larger socket buffers for one end of a pipe (a socket pair): fewer round trips for a chunk of lines."""
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=connection.fileno())
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        finally:
            sock.detach()


def failure(answer: Any) -> None:
    """Raise what a shard answered when it failed (a StoreError naming the shard and the cause; DiskFull for a
    full disk)."""
    if isinstance(answer, tuple) and answer and answer[0] == "failed":
        error = DiskFull if answer[4] else StoreError
        raise error(f"shard {answer[1]} failed: {answer[2]}")
