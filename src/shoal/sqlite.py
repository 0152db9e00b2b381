"""The SQLite files Shoal keeps beside its data (usage, export tickets, the prioritize queue, bodies, DNS
answers), all opened one way: autocommit (transactions are explicit ``BEGIN IMMEDIATE``s), WAL, synchronous
NORMAL (a crash loses at most the last commits, never consistency), a busy timeout, and the file's schema."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


def open_database(path: Path, schema: str, busy_seconds: float, *, shared: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` with ``schema`` applied; ``shared``: usable from any thread (the caller locks)."""
    connection = sqlite3.connect(path, timeout=busy_seconds, isolation_level=None, check_same_thread=not shared)
    connection.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(schema)
    return connection


class PerThread:
    """One connection per thread (query threads read concurrently), opened on first use."""

    def __init__(self, path: Path, schema: str, busy_seconds: float) -> None:
        self.path, self.schema, self.busy_seconds = path, schema, busy_seconds
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_database(self.path, self.schema, self.busy_seconds)
            self._local.connection = connection
        return connection
