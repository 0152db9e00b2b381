"""The alert book: ``DATA/alerts.sqlite3`` holds the alerts, the services each watches, and the event queue.

``alerts``: one row an alert (its query, dataset, ip, triggers, webhook, secret, owner: "" for the operator,
else the token id that made it over the API, and ``since``: the last commit of its dataset when it was made, of an
engine that numbers its commits; 0 otherwise). ``services``: each service (a dataset's identity) some alert
watches, with the watched part of its newest report (``shoal.changes``), so the next report of the service can be
compared without asking the engine; ``watched``: which alerts watch it (those whose query its newest report
matches). ``events``: every event made, its JSON body as it is posted,
its attempts, when it is next tried and how its last attempt went; pending events are the delivery queue (it
survives a restart), and the last ``HISTORY`` finished ones per alert are its delivery history. ``evaluated``: per
dataset, the last commit whose evaluation is done (its index's instance and number), written in the same
transaction as that commit's events: the watermark the next evaluation catches up from (``shoal.alerts.evaluate``).

Every process that stores reports writes here (its ingest's evaluation), ``shoal serve`` delivers from here.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shoal.changes import WATCHED_TYPES
from shoal.errors import ShoalError
from shoal.model import Report, identity_of
from shoal.request.params import ALERT_DATASET
from shoal.sqlite import PerThread, open_database
from shoal.store.base import Commit

ALERTS_FILE = "alerts.sqlite3"
BUSY_SECONDS = 30.0
HISTORY = 20  # finished deliveries kept per alert
OPERATOR = ""  # the owner of an alert made on the data directory
TRIGGERS = ("new", "changed", "gone")
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, query TEXT NOT NULL, dataset TEXT NOT NULL, ip TEXT NOT NULL,
    triggers TEXT NOT NULL, webhook TEXT NOT NULL, secret TEXT NOT NULL, owner TEXT NOT NULL, created REAL NOT NULL,
    since INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS services (
    identity TEXT PRIMARY KEY, ip TEXT NOT NULL, port INTEGER NOT NULL, fields BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS services_target ON services (ip, port);
CREATE TABLE IF NOT EXISTS watched (
    identity TEXT NOT NULL, alert TEXT NOT NULL, PRIMARY KEY (identity, alert)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS watched_alert ON watched (alert);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, alert TEXT NOT NULL, event TEXT NOT NULL,
    services INTEGER NOT NULL, body BLOB NOT NULL, created REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL, status TEXT NOT NULL, outcome TEXT NOT NULL DEFAULT '', finished REAL);
CREATE INDEX IF NOT EXISTS events_due ON events (status, next_try);
CREATE INDEX IF NOT EXISTS events_of_alert ON events (alert, seq);
CREATE TABLE IF NOT EXISTS generation (n INTEGER NOT NULL);
INSERT INTO generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM generation);
CREATE TABLE IF NOT EXISTS evaluated (dataset TEXT PRIMARY KEY, instance TEXT NOT NULL, batch INTEGER NOT NULL);
"""
# A book of the release before has no ``since`` (its alerts count as made before every commit) nor ``evaluated``.
UPGRADE = "ALTER TABLE alerts ADD COLUMN since INTEGER NOT NULL DEFAULT 0"


class AlertNotFound(ShoalError):
    status = 404
    code = "not_found"


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    name: str
    query: str
    dataset: str
    ip: str  # "" for none
    triggers: tuple[str, ...]
    webhook: str
    secret: str  # "" for none: no signature header
    owner: str
    created: float
    since: int = 0  # the last commit of its dataset when it was made (an engine that numbers them; else 0)

    def public(self) -> dict[str, Any]:
        """The alert as the API and ``alert show --json`` give it (the secret only as whether there is one)."""
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            ALERT_DATASET.name: self.dataset,
            "ip": self.ip or None,
            "triggers": list(self.triggers),
            "webhook": self.webhook,
            "signed": bool(self.secret),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created)),
        }


@dataclass(slots=True)
class Tracked:
    """A watched service: its identity (JSON), address, port, the watched part of its newest report
    (``watched_report``) and the alerts that watch it."""

    identity: str
    ip: str
    port: int
    fields: dict[str, Any]
    watchers: set[str]

    def row(self) -> tuple[str, str, int, bytes]:
        return self.identity, self.ip, self.port, orjson.dumps(self.fields)


@dataclass(frozen=True, slots=True)
class Service:
    """One service of an event: its address, port, report (the API's JSON, rendered once per report however
    many alerts it is in) and what changed."""

    ip: str
    port: int
    report: bytes
    changes: list[dict[str, Any]]

    def json(self) -> bytes:
        head = orjson.dumps({"ip": self.ip, "port": self.port})
        return head[:-1] + b',"report":' + self.report + b',"changes":' + orjson.dumps(self.changes) + b"}"


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    id: str
    alert: str
    event: str
    services: int
    body: bytes
    created: float
    attempts: int
    status: str
    outcome: str


def alert_of(row: tuple[Any, ...]) -> Alert:
    return Alert(*row[:5], tuple(row[5].split(",")), *row[6:])  # type: ignore[arg-type]


class AlertBook:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ALERTS_FILE
        first = open_database(self.path, "SELECT 1", BUSY_SECONDS)
        if not current(first):  # written only when it must be: opening the book waits for no other writer
            first.executescript(SCHEMA)
            first.execute("BEGIN IMMEDIATE")
            if "since" not in columns(first, "alerts"):
                first.execute(UPGRADE)
            first.execute("COMMIT")
        first.close()
        self.connections = PerThread(self.path, "SELECT 1", BUSY_SECONDS)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (the server's threads read and write the book concurrently)."""
        return self.connections.connection()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- alerts -----------------------------------------------------------------------------------------------

    def add(self, alert: Alert, watched: Iterable[Tracked], start: Commit | None = None) -> None:
        """Store an alert and the services it watches from the start (their newest reports). ``start``: the last
        commit of its dataset when its watched services were read (an engine that numbers its commits): a dataset
        that has no watermark yet (or one of another index) has it from there."""
        with self.transaction() as db:
            mark = None if start is None else self.mark(db, alert.dataset)
            if start is not None and (mark is None or mark.instance != start.instance):
                self.restart(db, alert.dataset, start)
            db.execute("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _alert_row(alert))
            services = list(watched)
            self.put_services(db, services)
            self.watch(db, ((alert.id, service.identity) for service in services))
            db.execute("UPDATE generation SET n = n + 1")

    def delete(self, alert_id: str, owner: str | None = None) -> None:
        """Forget an alert, what it watches and its events (``owner``: only if it is that owner's)."""
        self.get(alert_id, owner)
        with self.transaction() as db:
            for table, column in (("alerts", "id"), ("watched", "alert"), ("events", "alert")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (alert_id,))
            db.execute(
                "DELETE FROM services WHERE NOT EXISTS"
                " (SELECT 1 FROM watched WHERE watched.identity = services.identity)"
            )
            db.execute("UPDATE generation SET n = n + 1")

    def get(self, alert_id: str, owner: str | None = None) -> Alert:
        """The alert, or AlertNotFound (also when ``owner`` is given and the alert is another's)."""
        row = self.db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None or (owner is not None and row[8] != owner):
            raise AlertNotFound(f"no alert {alert_id!r}" + (" of this token" if owner else ""))
        return alert_of(row)

    def alerts(self, owner: str | None = None) -> list[Alert]:
        """Every alert (``owner``: only that owner's), oldest first."""
        if owner is None:
            rows = self.db.execute("SELECT * FROM alerts ORDER BY created, id").fetchall()
        else:
            rows = self.db.execute("SELECT * FROM alerts WHERE owner = ? ORDER BY created, id", (owner,)).fetchall()
        return [alert_of(row) for row in rows]

    def generation(self) -> int:
        """A number that changes whenever an alert is added or deleted (evaluators reload then)."""
        return int(self.db.execute("SELECT n FROM generation").fetchone()[0])

    # -- the watermark of each dataset ------------------------------------------------------------------------

    @staticmethod
    def mark(db: sqlite3.Connection, dataset: str) -> Commit | None:
        """The last commit of ``dataset`` whose evaluation is done, as recorded."""
        row = db.execute("SELECT instance, batch FROM evaluated WHERE dataset = ?", (dataset,)).fetchone()
        return None if row is None else Commit(row[0], int(row[1]))

    def watermark(self, db: sqlite3.Connection, dataset: str, last: Commit) -> int | None:
        """The last commit of ``dataset`` whose evaluation is done, or None when there is none that applies to the
        index whose last commit is ``last`` (read after every evaluation that may have been recorded): none
        recorded, one of another index (made anew since), or one ahead of it (an index put back to an older
        state)."""
        mark = self.mark(db, dataset)
        if mark is None or mark.instance != last.instance or mark.batch > last.batch:
            return None
        return mark.batch

    @staticmethod
    def evaluated(db: sqlite3.Connection, dataset: str, commit: Commit) -> None:
        """Commit ``commit`` of ``dataset`` is evaluated (in the transaction that queued its events)."""
        db.execute("INSERT OR REPLACE INTO evaluated VALUES (?, ?, ?)", (dataset, commit.instance, commit.batch))

    def restart(self, db: sqlite3.Connection, dataset: str, start: Commit) -> None:
        """Evaluate ``dataset`` from after ``start`` on (its watermark did not apply): an alert's ``since`` past it
        counts commits of an index made anew since, and is cleared."""
        self.evaluated(db, dataset, start)
        changed = db.execute("UPDATE alerts SET since = 0 WHERE dataset = ? AND since > ?", (dataset, start.batch))
        if changed.rowcount:
            db.execute("UPDATE generation SET n = n + 1")

    # -- watched services -------------------------------------------------------------------------------------

    def tracked(self, identities: Iterable[str]) -> dict[str, Tracked]:
        """The watched services among these identities, by identity."""
        wanted = list(identities)
        found: dict[str, Tracked] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for identity, ip, port, fields in self.db.execute(
                f"SELECT * FROM services WHERE identity IN ({marks})", chunk
            ):
                found[identity] = Tracked(identity, ip, port, orjson.loads(fields), set())
            for identity, alert in self.db.execute(f"SELECT * FROM watched WHERE identity IN ({marks})", chunk):
                if identity in found:
                    found[identity].watchers.add(alert)
        return found

    def tracked_at(self, targets: Iterable[tuple[str, int]]) -> list[Tracked]:
        """The watched services at any of these ip:ports."""
        wanted = set(targets)
        ips = sorted({ip for ip, _ in wanted})
        identities = []
        for start in range(0, len(ips), 500):
            chunk = ips[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT identity, ip, port FROM services WHERE ip IN ({marks})", chunk)
            identities += [identity for identity, ip, port in rows if (ip, port) in wanted]
        return list(self.tracked(identities).values())

    def watched_count(self, alert_id: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM watched WHERE alert = ?", (alert_id,)).fetchone()[0])

    @staticmethod
    def put_services(db: sqlite3.Connection, services: Iterable[Tracked]) -> None:
        db.executemany("INSERT OR REPLACE INTO services VALUES (?, ?, ?, ?)", (one.row() for one in services))

    @staticmethod
    def drop_services(db: sqlite3.Connection, identities: Iterable[str]) -> None:
        db.executemany("DELETE FROM services WHERE identity = ?", ((identity,) for identity in identities))

    @staticmethod
    def watch(db: sqlite3.Connection, pairs: Iterable[tuple[str, str]]) -> None:
        """Alerts that start watching services: (alert, identity) pairs."""
        db.executemany("INSERT OR IGNORE INTO watched VALUES (?, ?)", ((identity, alert) for alert, identity in pairs))

    @staticmethod
    def unwatch(db: sqlite3.Connection, pairs: Iterable[tuple[str, str]]) -> None:
        db.executemany(
            "DELETE FROM watched WHERE identity = ? AND alert = ?", ((identity, alert) for alert, identity in pairs)
        )

    # -- events -----------------------------------------------------------------------------------------------

    @staticmethod
    def queue(db: sqlite3.Connection, alert: Alert, event: str, services: Sequence[Service]) -> str:
        """Queue one event of ``alert`` (due now); its id."""
        event_id = new_event_id()
        public = {"id": alert.id, "name": alert.name, "query": alert.query}
        head = orjson.dumps({"alert": public, "event": event, "id": event_id})
        body = head[:-1] + b',"services":[' + b",".join(one.json() for one in services) + b"]}"
        now = time.time()
        db.execute(
            "INSERT INTO events (id, alert, event, services, body, created, next_try, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, alert.id, event, len(services), body, now, now, PENDING),
        )
        return event_id

    def due(self, now: float, limit: int, busy: Collection[str] = ()) -> list[Event]:
        """Events due at ``now``, of alerts other than ``busy`` (those being posted), oldest due first."""
        skip = ",".join("?" * len(busy))
        rows = self.db.execute(
            "SELECT seq, id, alert, event, services, body, created, attempts, status, outcome FROM events"
            f" WHERE status = ? AND next_try <= ? AND alert NOT IN ({skip}) ORDER BY next_try, seq LIMIT ?",
            (PENDING, now, *busy, limit),
        ).fetchall()
        return [Event(*row) for row in rows]

    def next_due(self) -> float | None:
        row = self.db.execute("SELECT min(next_try) FROM events WHERE status = ?", (PENDING,)).fetchone()
        return None if row[0] is None else float(row[0])

    def attempted(self, event: Event, status: str, outcome: str, next_try: float) -> None:
        """Record one attempt: ``status`` (pending: tried again at ``next_try``), what happened."""
        with self.transaction() as db:
            finished = None if status == PENDING else time.time()
            db.execute(
                "UPDATE events SET attempts = attempts + 1, status = ?, outcome = ?, next_try = ?, finished = ?"
                " WHERE seq = ?",
                (status, outcome[:500], next_try, finished, event.seq),
            )
            if finished is not None:  # keep the last HISTORY finished events of the alert
                db.execute(
                    "DELETE FROM events WHERE alert = ? AND status != ? AND seq NOT IN (SELECT seq FROM events"
                    " WHERE alert = ? AND status != ? ORDER BY seq DESC LIMIT ?)",
                    (event.alert, PENDING, event.alert, PENDING, HISTORY),
                )

    def history(self, alert_id: str) -> list[Event]:
        """The alert's pending events and its last HISTORY finished ones, newest first."""
        rows = self.db.execute(
            "SELECT seq, id, alert, event, services, body, created, attempts, status, outcome FROM events"
            " WHERE alert = ? ORDER BY seq DESC",
            (alert_id,),
        ).fetchall()
        return [Event(*row) for row in rows]


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def current(db: sqlite3.Connection) -> bool:
    """Whether the book's file has this version's tables (and the generation its row)."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"alerts", "services", "watched", "events", "generation", "evaluated"} <= tables:
        return False
    return "since" in columns(db, "alerts") and db.execute("SELECT 1 FROM generation").fetchone() is not None


def watched_report(report: Report) -> dict[str, Any]:
    """The part of a report a watched service keeps: its id, date and the items ``changes_between`` reads."""
    items = [
        {"context": context, "is_metadata": is_metadata, "type": item_type, "value": value}
        for item_type, value, context, is_metadata in report.items
        if item_type in WATCHED_TYPES
    ]
    return {"date": report.date.isoformat(), "id": report.id, "items": items}


def identity_key(report: Report) -> str | None:
    identity = identity_of(report)
    return None if identity is None else orjson.dumps(identity, default=_hex).decode()


def _hex(value: object) -> str:
    """A packed address of an identity, as text in the key."""
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


def new_event_id() -> str:
    return secrets.token_hex(16)


def new_alert_id() -> str:
    return secrets.token_hex(6)


def _alert_row(alert: Alert) -> tuple[Any, ...]:
    return (
        alert.id,
        alert.name,
        alert.query,
        alert.dataset,
        alert.ip,
        ",".join(alert.triggers),
        alert.webhook,
        alert.secret,
        alert.owner,
        alert.created,
        alert.since,
    )
