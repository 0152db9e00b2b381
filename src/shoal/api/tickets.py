"""One-use export tickets, shared by every server process of a data directory (``DATA/tickets.sqlite3``).

A ticket lets a browser download one export without an Authorization header: ``POST …/export/link`` issues
it for one token and one exact query; the download redeems it. Only the SHA-256 digest of a ticket is
stored (a copy of the database gives no working links). Redeeming deletes the row in the same statement
that reads it (``DELETE … RETURNING``), so a ticket works once even when several ``--workers`` processes
are asked at the same moment; a wrong query spends it too. Expiry is wall-clock time, the same in every
process. The token is looked up again when the ticket is redeemed: a revoked token's links stop working.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from pathlib import Path

import orjson

from shoal.sqlite import open_database
from shoal.tokens import Token, TokenStore
from shoal.usage import store_error

TICKET_SECONDS = 60
FILE = "tickets.sqlite3"
BUSY_SECONDS = 5.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    digest   TEXT PRIMARY KEY,
    token    BLOB NOT NULL,
    query    BLOB NOT NULL,
    expires  REAL NOT NULL
) WITHOUT ROWID
"""
Query = tuple[tuple[str, str], ...]


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ExportTickets:
    def __init__(
        self, data_dir: Path | str, tokens: TokenStore | None = None, lifetime: float = TICKET_SECONDS
    ) -> None:
        self.path = Path(data_dir) / FILE
        self.tokens = tokens
        self.lifetime = lifetime
        self._lock = threading.Lock()
        try:
            self._db = open_database(self.path, SCHEMA, BUSY_SECONDS, shared=True)
        except sqlite3.Error as exc:
            raise store_error(f"cannot open the export tickets {FILE}", exc) from exc

    def issue(self, token: Token, query: Query) -> str:
        secret = secrets.token_urlsafe(24)
        now = time.time()
        fields = {"name": token.name, "enterprise": token.enterprise, "id": token.id, "anonymous": token.anonymous}
        with self._lock:
            try:
                self._db.execute("DELETE FROM tickets WHERE expires <= ?", (now,))
                self._db.execute(
                    "INSERT INTO tickets (digest, token, query, expires) VALUES (?, ?, ?, ?)",
                    (digest_of(secret), orjson.dumps(fields), orjson.dumps(query), now + self.lifetime),
                )
            except sqlite3.Error as exc:
                raise store_error(f"cannot record an export ticket in {FILE}", exc) from exc
        return secret

    def redeem(self, secret: str, query: Query) -> Token | None:
        """The token the ticket was issued to, if it is unused, unexpired, for ``query``, and still valid."""
        with self._lock:
            try:
                row = self._db.execute(
                    "DELETE FROM tickets WHERE digest = ? RETURNING token, query, expires", (digest_of(secret),)
                ).fetchone()
            except sqlite3.Error as exc:
                raise store_error(f"cannot redeem an export ticket in {FILE}", exc) from exc
        if row is None or row[2] <= time.time() or tuple(map(tuple, orjson.loads(row[1]))) != query:
            return None
        fields = orjson.loads(row[0])
        if fields["anonymous"]:
            return Token("anon", created="", id=fields["id"], anonymous=True)
        if self.tokens is None:
            return Token(fields["name"], enterprise=fields["enterprise"], id=fields["id"])
        return self.tokens.by_id(fields["id"])

    def close(self) -> None:
        with self._lock:
            self._db.close()
