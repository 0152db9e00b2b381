"""Raw response bodies beside the index: ``DATA/bodies.sqlite3``, one row per distinct body (SHA-256), zlib'd.

Reports name their bodies with ``body-sha256`` items, so identical bodies (default pages, common banners) are
kept once, and the index stays small: bodies are served (``scan/protocols/body``), never searched.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable
from pathlib import Path

from shoal.model import Body
from shoal.sqlite import PerThread

SCHEMA = """
CREATE TABLE IF NOT EXISTS bodies (
    sha256 TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    truncated INTEGER NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID
"""
BUSY_TIMEOUT_SECONDS = 30.0
MAX_DIGESTS_PER_QUERY = 500


class BodyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections = PerThread(path, SCHEMA, BUSY_TIMEOUT_SECONDS)

    def connection(self) -> sqlite3.Connection:
        return self._connections.connection()

    def add(self, bodies: Iterable[Body]) -> None:
        """Store bodies not stored yet, durably, in one transaction."""
        rows = {body.sha256: body for body in bodies}
        if not rows:
            return
        connection = self.connection()
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT OR IGNORE INTO bodies (sha256, content_type, truncated, data) VALUES (?, ?, ?, ?)",
                [(digest, b.content_type, int(b.truncated), zlib.compress(b.data, 6)) for digest, b in rows.items()],
            )

    def get(self, digests: Iterable[str]) -> dict[str, Body]:
        wanted = list(dict.fromkeys(digests))
        if not wanted or not self.path.exists():
            return {}
        found: dict[str, Body] = {}
        connection = self.connection()
        for start in range(0, len(wanted), MAX_DIGESTS_PER_QUERY):
            part = wanted[start : start + MAX_DIGESTS_PER_QUERY]
            marks = ",".join("?" * len(part))
            query = f"SELECT sha256, content_type, truncated, data FROM bodies WHERE sha256 IN ({marks})"
            for digest, content_type, truncated, data in connection.execute(query, part):
                found[digest] = Body(zlib.decompress(data), content_type, bool(truncated), digest)
        return found
