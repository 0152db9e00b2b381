"""Talking to ClickHouse: over its HTTP interface (any server, old or new), or in-process through chDB.

Both clients speak the same three calls — ``execute`` (a statement, or a query whose output is returned as
bytes), ``rows`` (a query's JSONEachRow output, parsed) and ``insert`` (RowBinary data into a table) — and
both translate every failure at this one boundary: an unreachable server or an engine error becomes a
``StoreError`` (503), a query over its time limit a ``QueryTimeout`` (504), each ``raise … from`` the cause.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx
import orjson

from shoal.errors import QueryTimeout, StoreError
from shoal.store import deadline

# ClickHouse error codes that mean "the query ran out of time" (TIMEOUT_EXCEEDED, and the network timeouts of
# a distributed query).
TIMEOUT_CODES = frozenset({159, 209})
MISSING_SCHEMA_CODES = frozenset({60, 81})  # UNKNOWN_TABLE, UNKNOWN_DATABASE
OLD_SCHEMA_CODES = frozenset({16, 47})  # NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_IDENTIFIER: a column a migration adds
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 300.0
MAX_QUERY_SIZE = 16 * 1024 * 1024  # bytes of SQL text a statement may have (id lists of a batch)


class Client(Protocol):
    def execute(self, sql: str, settings: Mapping[str, Any] | None = None, output: str | None = None) -> bytes: ...

    def insert(self, table: str, data: bytes, settings: Mapping[str, Any] | None = None) -> None: ...

    def close(self) -> None: ...

    def writes(self) -> int | None:
        """How many writes this process has made to the store's files, when it is their only writer (what it read
        stays true until the next); None when other processes may write (a server)."""
        ...


def rows(client: Client, sql: str, settings: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows a query returns (it must not name a FORMAT: JSONEachRow is added)."""
    output = client.execute(sql, settings, "JSONEachRow")
    return [orjson.loads(line) for line in output.splitlines() if line]


def error_code(message: str) -> int | None:
    """The ``Code: N`` a ClickHouse error message starts with, if any."""
    start = message.find("Code: ")
    if start < 0:
        return None
    digits = ""
    for char in message[start + 6 :]:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def engine_error(message: str, timeout: float | None) -> Exception:
    first_line = message.strip().splitlines()[0] if message.strip() else "no message"
    code = error_code(message)
    if code in TIMEOUT_CODES and timeout is not None:
        return QueryTimeout(timeout)
    if code in MISSING_SCHEMA_CODES:
        return StoreError(f"the ClickHouse schema is missing ({first_line[:300]}): run 'shoal db init'")
    if code in OLD_SCHEMA_CODES:
        return StoreError(
            f"ClickHouse failed: {first_line[:300]} (a database made by an older Shoal: run 'shoal db migrate')"
        )
    return StoreError(f"ClickHouse failed: {first_line[:500]}")


def time_limit(settings: Mapping[str, Any] | None) -> float | None:
    """The time limit a failed query ran under: the API's for its request, else its own setting, if any."""
    running = deadline.current()
    if running is not None:
        return running.seconds
    value = settings.get("max_execution_time") if settings else None
    return float(value) if value else None


def with_time_left(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """``settings`` and, for a query the API runs under a time limit, what is left of it as
    ``max_execution_time``, so the server stops a query whose client was answered 504 (whole seconds, rounded
    up: ClickHouse 18 reads no fractions). A query whose time is already over is not sent."""
    chosen = dict(settings or {})
    running = deadline.current()
    if running is not None and "max_execution_time" not in chosen:
        left = running.left()
        if left <= 0:
            raise QueryTimeout(running.seconds)
        chosen["max_execution_time"] = math.ceil(left)
    return chosen


def server_version(client: Client) -> tuple[int, ...]:
    return parse_version(client.execute("SELECT version()").decode())


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.strip().split(".") if part.isdigit())


class HttpClient:
    """A ClickHouse server's HTTP interface; ``hosts`` (``host:port``) are tried in order, so a client keeps
    working while the first one is down."""

    def __init__(self, hosts: list[str], user: str = "default", password: str = "") -> None:
        self.hosts = hosts
        self.http = httpx.Client(
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            auth=(user, password) if user != "default" or password else None,
            trust_env=False,  # the servers are named by the store URL, never reached through a proxy
        )

    def post(self, query: str | None, body: bytes, settings: Mapping[str, Any] | None) -> bytes:
        params: dict[str, str] = {str(name): str(value) for name, value in (settings or {}).items()}
        if query is not None:
            params["query"] = query
        failure: Exception | None = None
        for host in self.hosts:
            try:
                response = self.http.post(f"http://{host}/", params=params, content=body)
            except httpx.TransportError as exc:
                failure = exc
                continue
            if response.status_code != 200:
                raise engine_error(response.text, time_limit(settings))
            return response.content
        raise StoreError(f"no ClickHouse server answers at {', '.join(self.hosts)}: {failure}") from failure

    def execute(self, sql: str, settings: Mapping[str, Any] | None = None, output: str | None = None) -> bytes:
        text = sql if output is None else f"{sql}\nFORMAT {output}"
        return self.post(
            None, text.encode("utf-8", "surrogatepass"), {"max_query_size": MAX_QUERY_SIZE, **with_time_left(settings)}
        )

    def insert(self, table: str, data: bytes, settings: Mapping[str, Any] | None = None) -> None:
        self.post(f"INSERT INTO {table} FORMAT RowBinary", data, settings)

    def close(self) -> None:
        self.http.close()

    def writes(self) -> int | None:
        return None  # a server: other processes write too


class ChdbClient:
    """ClickHouse in this process (chDB), its files under ``path``. One session per process and one query at a
    time (chDB's sessions are not safe to share between threads), so it suits one-process use: the CLI,
    tests, and ``shoal serve --workers 1``."""

    _sessions: ClassVar[dict[Path, Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _writes: ClassVar[int] = 0  # statements other than a SELECT, and inserts, through this process's session

    def __init__(self, path: Path) -> None:
        try:
            from chdb import session
        except ImportError as exc:
            raise StoreError("chdb:// needs the chdb package: pip install chdb") from exc
        self.path = path.resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        with ChdbClient._lock:
            if self.path not in ChdbClient._sessions:
                if ChdbClient._sessions:
                    raise StoreError(
                        f"chDB already has its files at {next(iter(ChdbClient._sessions))} in this process;"
                        f" it cannot also open {self.path}"
                    )
                try:
                    ChdbClient._sessions[self.path] = session.Session(str(self.path))
                except Exception as exc:
                    raise engine_error(str(exc), None) from exc
                atexit.register(ChdbClient.close_sessions)
            self.session = ChdbClient._sessions[self.path]

    def execute(self, sql: str, settings: Mapping[str, Any] | None = None, output: str | None = None) -> bytes:
        text = sql
        settings = with_time_left(settings)
        if settings:
            text += "\nSETTINGS " + ", ".join(f"{name} = {value!r}" for name, value in settings.items())
        with ChdbClient._lock:
            if sql.lstrip()[:6].upper() != "SELECT":
                ChdbClient._writes += 1
            try:
                result = self.session.query(text, output or "TabSeparated")
            except Exception as exc:  # chDB raises its own RuntimeError subclass for every engine error
                self.drain()
                raise engine_error(str(exc), time_limit(settings)) from exc
        return bytes(result.bytes()) if result is not None else b""

    def drain(self) -> None:
        """Throw away what a failed query left in the session: chDB (4.4) hands the rows a query sent before
        it was stopped (by its time limit) to the next query, ahead of that query's own."""
        with contextlib.suppress(Exception):
            self.session.query("SELECT 1", "TabSeparated")

    def insert(self, table: str, data: bytes, settings: Mapping[str, Any] | None = None) -> None:
        with ChdbClient._lock:
            ChdbClient._writes += 1
            try:
                inserter = self.session.send_insert(f"INSERT INTO {table}", "RowBinary")
                inserter.append(data)
                inserter.finish()
            except Exception as exc:
                raise engine_error(str(exc), None) from exc

    def writes(self) -> int:
        """chDB locks its files to the process that opened them (another one fails to): it is their only writer."""
        return ChdbClient._writes

    def close(self) -> None:
        """The session stays open for the life of the process (chDB allows one); ``close_sessions`` ends it."""

    @staticmethod
    def close_sessions() -> None:
        """At exit: wait for the query still running (one answered 504 goes on in its thread), then close the
        session; chDB crashes the interpreter if it exits with a query running or a session open."""
        with ChdbClient._lock:
            for chdb_session in ChdbClient._sessions.values():
                chdb_session.close()
            ChdbClient._sessions.clear()
