"""Forward DNS answers beside the index: ``DATA/names.sqlite3``, one row per (name, type, value) with the first
and last day it was seen. zdns/massdns imports and the collector's lookups write it; the domain scans read the
addresses of the names it knows (``shoal scan --names known``). Never searched through the API.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from shoal.model import DnsAnswer
from shoal.sqlite import PerThread
from shoal.store.answers import addresses_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (name, type, value)
) WITHOUT ROWID
"""
BUSY_TIMEOUT_SECONDS = 30.0


class NameStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections = PerThread(path, SCHEMA, BUSY_TIMEOUT_SECONDS)

    def connection(self) -> sqlite3.Connection:
        return self._connections.connection()

    def add(self, answers: Iterable[DnsAnswer]) -> tuple[int, int]:
        """Store answers in one transaction; (new, already known) — a known answer only widens its days."""
        rows = {(a.name, a.type, a.value): a.date.isoformat() for a in answers}
        if not rows:
            return 0, 0
        connection = self.connection()
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            before = connection.total_changes
            connection.executemany(
                "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?)",
                [(*key, day, day) for key, day in rows.items()],
            )
            imported = connection.total_changes - before
            connection.executemany(
                "UPDATE answers SET first_day = min(first_day, ?3), last_day = max(last_day, ?3)"
                " WHERE name = ?1 AND type = ?2 AND value = ?4",
                [(name, kind, day, value) for (name, kind, value), day in rows.items()],
            )
        return imported, len(rows) - imported

    def addresses(self) -> dict[str, list[str]]:
        """Every known name with its A/AAAA addresses (sorted; through CNAMEs), names sorted."""
        if not self.path.exists():
            return {}
        query = "SELECT name, type, value FROM answers WHERE type IN ('A', 'AAAA', 'CNAME') ORDER BY name, value"
        return addresses_of(self.connection().execute(query))
