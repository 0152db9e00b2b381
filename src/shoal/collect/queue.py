"""The prioritize queue on disk (``DATA/prioritize.sqlite3``): what was accepted is collected, even after a crash.

``shoal serve`` writes each accepted request (target and the units charged for it) before it answers; the
collection worker deletes a target's rows once it has been collected (whatever it found: a closed port is
collected too). A restarted worker queues every row again; a target its policy now refuses is dropped and
its units are refunded, so nothing is charged and never collected. A target is an address, a port and its
transport (``tcp``, or ``udp``: Shoal's ``transport=udp``). WAL mode with ``synchronous=NORMAL``, as
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
Target = tuple[str, int, str]  # (ip, port, transport: "tcp" or "udp")
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
    accepted  REAL NOT NULL,
    transport TEXT NOT NULL DEFAULT 'tcp'
)
"""
ADD_TRANSPORT = "ALTER TABLE queue ADD COLUMN transport TEXT NOT NULL DEFAULT 'tcp'"  # a file from before UDP


class PriorityQueue:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILE
        self._lock = threading.Lock()
        try:
            self._db = open_database(self.path, SCHEMA, BUSY_SECONDS, shared=True)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(queue)")}
            if "transport" not in columns:
                self._db.execute(ADD_TRANSPORT)
        except sqlite3.Error as exc:
            raise store_error(f"cannot open the prioritize queue {FILE}", exc) from exc

    def add(self, target: Target, charge: Charge | None) -> None:
        fields = (charge.token, charge.month, charge.kind, charge.units) if charge else (None, None, None, None)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO queue (ip, port, transport, token, month, kind, units, accepted)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*target, *fields, time.time()),
                )
            except sqlite3.Error as exc:
                raise store_error(f"cannot queue {target_text(target)} in {FILE}", exc) from exc

    def pending(self) -> list[Target]:
        """Every target waiting, once each, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ip, port, transport FROM queue GROUP BY ip, port, transport ORDER BY min(number)"
            ).fetchall()
        return [(ip, int(port), transport) for ip, port, transport in rows]

    def charges(self, target: Target) -> list[Charge]:
        with self._lock:
            rows = self._db.execute(
                "SELECT token, month, kind, units FROM queue WHERE ip = ? AND port = ? AND transport = ?"
                " AND token IS NOT NULL ORDER BY number",
                target,
            ).fetchall()
        return [Charge(token, month, kind_of(kind), int(units)) for token, month, kind, units in rows]

    def done(self, target: Target) -> None:
        with self._lock:
            try:
                self._db.execute("DELETE FROM queue WHERE ip = ? AND port = ? AND transport = ?", target)
            except sqlite3.Error as exc:
                raise store_error(f"cannot update the prioritize queue {FILE}", exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()


def kind_of(text: str) -> QuotaKind:
    return "api" if text == "api" else "priority"


def target_text(target: Target) -> str:
    """``192.0.2.1:443``, ``192.0.2.1:53/udp`` (``[2001:db8::1]:443`` for IPv6), as ``shoal host`` prints them."""
    ip, port, transport = target
    address = f"[{ip}]" if ":" in ip else ip
    return f"{address}:{port}" + ("/udp" if transport == "udp" else "")
