"""The prioritize queue on disk (``DATA/prioritize.sqlite3``): what was accepted is collected, even after a crash.

``shoal serve`` writes each accepted request (target and the units charged for it) before it answers; the
collection worker deletes a target's rows once it has been collected (whatever it found: a closed port is
collected too). A restarted worker queues every row again; a target its policy now refuses is dropped and
its units are refunded, so nothing is charged and never collected. WAL mode with ``synchronous=NORMAL``, as
the quota counts: a killed server loses nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from shoal.sqlite import open_database
from shoal.tokens import QuotaKind
from shoal.usage import Charge, store_error

FILE = "prioritize.sqlite3"
BUSY_SECONDS = 5.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    number    INTEGER PRIMARY KEY,
    ip        TEXT NOT NULL,
    port      INTEGER NOT NULL,
    token     TEXT,
    month     TEXT,
    kind      TEXT,
    units     INTEGER,
    accepted  REAL NOT NULL
)
"""


class PriorityQueue:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILE
        self._lock = threading.Lock()
        try:
            self._db = open_database(self.path, SCHEMA, BUSY_SECONDS, shared=True)
        except sqlite3.Error as exc:
            raise store_error(f"cannot open the prioritize queue {FILE}", exc) from exc

    def add(self, ip: str, port: int, charge: Charge | None) -> None:
        fields = (charge.token, charge.month, charge.kind, charge.units) if charge else (None, None, None, None)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO queue (ip, port, token, month, kind, units, accepted) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (ip, port, *fields, time.time()),
                )
            except sqlite3.Error as exc:
                raise store_error(f"cannot queue {ip}:{port} in {FILE}", exc) from exc

    def pending(self) -> list[tuple[str, int]]:
        """Every target waiting, once each, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT ip, port FROM queue GROUP BY ip, port ORDER BY min(number)").fetchall()
        return [(ip, int(port)) for ip, port in rows]

    def charges(self, ip: str, port: int) -> list[Charge]:
        with self._lock:
            rows = self._db.execute(
                "SELECT token, month, kind, units FROM queue WHERE ip = ? AND port = ? AND token IS NOT NULL"
                " ORDER BY number",
                (ip, port),
            ).fetchall()
        return [Charge(token, month, kind_of(kind), int(units)) for token, month, kind, units in rows]

    def done(self, ip: str, port: int) -> None:
        with self._lock:
            try:
                self._db.execute("DELETE FROM queue WHERE ip = ? AND port = ?", (ip, port))
            except sqlite3.Error as exc:
                raise store_error(f"cannot update the prioritize queue {FILE}", exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()


def kind_of(text: str) -> QuotaKind:
    return "api" if text == "api" else "priority"
