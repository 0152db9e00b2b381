"""Monthly quota usage per token, kept durably in ``DATA/usage.sqlite3``.

One row per (token id, month, quota kind) holds the units used. A charge checks and adds in one
``BEGIN IMMEDIATE`` transaction, so concurrent requests (threads, or several server processes on one data
directory) can never take a quota past its limit. The database is in WAL mode with ``synchronous=NORMAL``:
a killed or restarted server loses nothing; only a power cut may lose the last moment of counting.

Months are calendar months in UTC; a quota resets at 00:00:00 UTC on the first day of the next month.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from shoal.errors import DiskFull, QuotaExceeded, StoreError
from shoal.sqlite import open_database
from shoal.tokens import QuotaKind

BUSY_SECONDS = 5.0
SUMMARY_UNIT = 10_000  # summaries cost one unit per started block of this many values (summary_limit)
SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    token  TEXT NOT NULL,
    month  TEXT NOT NULL,
    kind   TEXT NOT NULL,
    used   INTEGER NOT NULL,
    PRIMARY KEY (token, month, kind)
) WITHOUT ROWID
"""


def month_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m")


def next_reset(moment: dt.datetime) -> dt.datetime:
    moment = moment.astimezone(dt.UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary_cost(summary_limit: int) -> int:
    """Units for a summary of up to ``summary_limit`` values: one per started 10,000 (at least one)."""
    return max(1, -(-summary_limit // SUMMARY_UNIT))


def store_error(doing: str, error: sqlite3.Error) -> StoreError:
    """The failure of a database step; DiskFull when the file system is full (nothing is charged then)."""
    if isinstance(error, sqlite3.OperationalError) and "full" in str(error):
        return DiskFull(f"{doing}: the server's disk is full; nothing was charged")
    return StoreError(f"{doing}: {error}")


@dataclass(frozen=True, slots=True)
class Charge:
    """Units taken from one quota in one month; handed back with ``UsageBook.refund``."""

    token: str
    month: str
    kind: QuotaKind
    units: int


class UsageBook:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / "usage.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = open_database(self.path, SCHEMA, BUSY_SECONDS, shared=True)
        except sqlite3.Error as exc:
            raise store_error(f"cannot open the usage database {self.path.name}", exc) from exc

    def charge(self, token: str, kind: QuotaKind, units: int, limit: int, now: dt.datetime | None = None) -> Charge:
        """Take ``units`` from the token's quota for this month, or raise QuotaExceeded (taking nothing)."""
        now = now or dt.datetime.now(dt.UTC)
        month = month_of(now)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    used = self._used(token, month, kind)
                    if used + units > limit:
                        self._db.execute("ROLLBACK")
                        reset = next_reset(now)
                        wait = int((reset - now).total_seconds()) + 1
                        raise QuotaExceeded(kind, limit, used, units, iso(reset), wait)
                    self._db.execute(
                        "INSERT INTO usage (token, month, kind, used) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (token, month, kind) DO UPDATE SET used = used + excluded.used",
                        (token, month, kind, units),
                    )
                    self._db.execute("COMMIT")
                except sqlite3.Error:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise store_error(f"cannot count usage in {self.path.name}", exc) from exc
        return Charge(token, month, kind, units)

    def refund(self, charge: Charge) -> None:
        """Give back a charge (the call was rejected or failed); never below zero."""
        with self._lock:
            try:
                self._db.execute(
                    "UPDATE usage SET used = max(0, used - ?) WHERE token = ? AND month = ? AND kind = ?",
                    (charge.units, charge.token, charge.month, charge.kind),
                )
            except sqlite3.Error as exc:
                raise store_error(f"cannot count usage in {self.path.name}", exc) from exc

    def used(self, token: str, now: dt.datetime | None = None) -> dict[QuotaKind, int]:
        month = month_of(now or dt.datetime.now(dt.UTC))
        with self._lock:
            return {"api": self._used(token, month, "api"), "priority": self._used(token, month, "priority")}

    def lifetime(self, token: str, kind: QuotaKind = "api") -> int:
        """Units the token has used of one quota over every month counted."""
        with self._lock:
            row = self._db.execute("SELECT sum(used) FROM usage WHERE token = ? AND kind = ?", (token, kind)).fetchone()
        return int(row[0] or 0)

    def _used(self, token: str, month: str, kind: str) -> int:
        row = self._db.execute(
            "SELECT used FROM usage WHERE token = ? AND month = ? AND kind = ?", (token, month, kind)
        ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()
