"""Scan schedules (``DATA/schedules.sqlite3``): networks and ports that ``shoal serve``'s collector scans again
every so often, inside the allow-list, each run's progress and totals kept beside them.

``shoal schedule add`` writes a row (its first run is due at once), ``schedule list`` reads them, ``schedule
remove`` deletes one; the collector (``ScheduleRunner``) takes the due rows one at a time, scans them, and
writes the run: while it runs, the ip:ports tried of how many; at its end, the services found open, and of
them how many are **new** (never reported on that network before), **changed** (their report differs from the
newest one before, as ``shoal.changes`` compares), and how many of those open at the previous run are **gone**.
A run refused by the allow-list is recorded with the reason and nothing is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shoal.changes import changes_between
from shoal.collect.connection import Connector
from shoal.collect.policy import ScanPolicy, parse_network
from shoal.collect.scanner import Collector, ResultSink, ScanSettings
from shoal.collect.targets import TOP_100_PORTS, UDP_WORDS, PortSpec, parse_port_spec, parse_ports
from shoal.diffs import diff_of, service_of
from shoal.errors import BadParameter, ShoalError
from shoal.model import IPNetwork, Report, report_dict
from shoal.sqlite import open_database
from shoal.store.base import Filters, PortQuery, Store
from shoal.usage import store_error

FILE = "schedules.sqlite3"
BUSY_SECONDS = 5.0
PROGRESS_SECONDS = 1.0  # how often a running schedule's progress is written
STOPPED = "the server stopped during the run"
MAX_TRACKED = 100_000  # services a schedule remembers as open (to count those gone at the next run)
SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    networks  TEXT NOT NULL,
    every     REAL NOT NULL,
    ports     TEXT,
    udp_ports TEXT,
    created   REAL NOT NULL,
    next_run  REAL NOT NULL,
    run       TEXT NOT NULL DEFAULT '{}',
    open      TEXT NOT NULL DEFAULT '[]'
)
"""


@dataclass(slots=True)
class Schedule:
    id: int
    networks: list[str]
    every: float  # seconds
    ports: str | None  # as given (``22,80``, ``top100``); None: top100 unless udp_ports is given
    udp_ports: str | None
    created: float
    next_run: float
    run: dict[str, Any] = field(default_factory=dict)  # the last (or current) run
    open: list[str] = field(default_factory=list)  # "ip port transport" open at the last finished run

    def port_lists(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """TCP and UDP ports: ``--ports`` (default top100 unless only ``--udp-ports`` is given), ``--udp-ports``."""
        spec = parse_port_spec(self.ports) if self.ports else PortSpec(() if self.udp_ports else TOP_100_PORTS, ())
        udp = (*spec.udp, *parse_ports(self.udp_ports, UDP_WORDS)) if self.udp_ports else spec.udp
        return spec.tcp, tuple(dict.fromkeys(udp))

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "networks": self.networks,
            "every": self.every,
            "ports": self.ports,
            "udp_ports": self.udp_ports,
            "created": self.created,
            "next_run": self.next_run,
            "last_run": self.run or None,
        }


def checked_schedule(
    networks: Sequence[str], every: float, ports: str | None, udp_ports: str | None
) -> tuple[list[str], str | None, str | None]:
    """The networks as CIDRs and the port lists, each read as ``shoal scan`` reads it; BadParameter naming
    what is wrong (nothing is stored then)."""
    if not networks:
        raise BadParameter("networks", "give at least one address or CIDR to scan")
    cidrs = []
    for text in networks:
        try:
            cidrs.append(str(parse_network(text)))
        except ValueError as exc:
            raise BadParameter("networks", f"not an address or CIDR: {text!r} ({exc})") from None
    if not every > 0:
        raise BadParameter("every", "--every must be a positive duration, e.g. 6h or 1d")
    for name, text, read in (("ports", ports, parse_port_spec), ("udp-ports", udp_ports, udp_list)):
        if text is not None:
            try:
                read(text)
            except ValueError as exc:
                raise BadParameter(name, f"--{name}: {exc}") from None
    return cidrs, ports, udp_ports


def udp_list(text: str) -> tuple[int, ...]:
    return parse_ports(text, UDP_WORDS)


class ScheduleBook:
    """The schedules file, shared by the command line and a running server (SQLite, WAL)."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILE
        self._lock = threading.Lock()
        try:
            self._db = open_database(self.path, SCHEMA, BUSY_SECONDS, shared=True)
        except sqlite3.Error as exc:
            raise store_error(f"cannot open the schedules {FILE}", exc) from exc

    def _run(self, sql: str, values: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, values).fetchall()
            except sqlite3.Error as exc:
                raise store_error(f"cannot use the schedules {FILE}", exc) from exc

    def add(self, networks: Sequence[str], every: float, ports: str | None, udp_ports: str | None) -> Schedule:
        cidrs, ports, udp_ports = checked_schedule(networks, every, ports, udp_ports)
        now = time.time()
        rows = self._run(
            "INSERT INTO schedules (networks, every, ports, udp_ports, created, next_run) VALUES (?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (" ".join(cidrs), every, ports, udp_ports, now, now),
        )
        return Schedule(int(rows[0][0]), cidrs, every, ports, udp_ports, now, now)

    def remove(self, schedule_id: int) -> bool:
        return bool(self._run("DELETE FROM schedules WHERE id = ? RETURNING id", (schedule_id,)))

    def all(self) -> list[Schedule]:
        rows = self._run(
            "SELECT id, networks, every, ports, udp_ports, created, next_run, run, open FROM schedules ORDER BY id"
        )
        return [
            Schedule(
                int(i), networks.split(), every, ports, udp, created, next_run, orjson.loads(run), orjson.loads(op)
            )
            for i, networks, every, ports, udp, created, next_run, run, op in rows
        ]

    def due(self, now: float) -> list[Schedule]:
        return [schedule for schedule in self.all() if schedule.next_run <= now]

    def record(self, schedule_id: int, run: dict[str, Any], next_run: float | None = None) -> None:
        """The run's state so far (and, at its end, when the next is due)."""
        if next_run is None:
            self._run("UPDATE schedules SET run = ? WHERE id = ?", (orjson.dumps(run).decode(), schedule_id))
        else:
            self._run(
                "UPDATE schedules SET run = ?, next_run = ? WHERE id = ?",
                (orjson.dumps(run).decode(), next_run, schedule_id),
            )

    def interrupted(self, why: str) -> int:
        """Runs still recorded as running (their server stopped or was killed during them) marked as ended,
        ``why`` under ``interrupted``; how many. Their next run stays due."""
        stale = [schedule for schedule in self.all() if schedule.run.get("running")]
        for schedule in stale:
            self.record(schedule.id, schedule.run | {"running": False, "finished": time.time(), "interrupted": why})
        return len(stale)

    def remember_open(self, schedule_id: int, services: Sequence[str]) -> None:
        kept = list(services)[:MAX_TRACKED]
        self._run("UPDATE schedules SET open = ? WHERE id = ?", (orjson.dumps(kept).decode(), schedule_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def networks_of(schedule: Schedule) -> list[IPNetwork]:
    return [ipaddress.ip_network(text) for text in schedule.networks]


class RunSink:
    """A ``ResultSink`` passing everything on, and noting the services found open and their reports."""

    def __init__(self, sink: ResultSink) -> None:
        self.sink = sink
        self.open: set[str] = set()  # "ip port transport"
        self.reports: dict[str, Report] = {}

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open.add(f"{ip} {port} tcp")
        self.sink.open_port(ip, port, day)

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open.add(f"{ip} {port} udp")
        self.sink.open_udp_port(ip, port, day)

    def report(self, report: Report) -> None:
        key = service_of(report)
        if key is not None:
            self.reports[service_text(key)] = report
        self.sink.report(report)


def service_text(key: tuple[str, int, str]) -> str:
    return f"{key[0]} {key[1]} {key[2]}"


def known_services(store: Store, networks: Sequence[IPNetwork]) -> tuple[dict[str, Report], set[str]]:
    """Before a run: the newest report of each service on the networks, and every ip:port seen open there."""
    newest: dict[str, Report] = {}
    seen: set[str] = set()
    for network in networks:
        diff = diff_of(store.iter_matches(Filters(ip=network)), dt.date.max, None)
        newest |= {service_text(key): sides.before for key, sides in diff.services.items() if sides.before}
        observed = store.open_ports(PortQuery(network))
        seen |= {f"{observed.host_text(h)} {int(p)} tcp" for h, p in zip(observed.hosts, observed.ports, strict=True)}
    return newest, seen | set(newest)


async def run_schedule(
    schedule: Schedule,
    book: ScheduleBook,
    store: Store,
    policy: ScanPolicy,
    settings: ScanSettings,
    writer: Any,
    connector: Connector | None = None,
) -> dict[str, Any]:
    """One run of ``schedule`` into ``writer`` (a StoreWriter), recorded in ``book`` as it goes; the run.
    ``connector``: the server's collector's, so a run and the queued collections share one rate limit."""
    started = time.time()
    run: dict[str, Any] = {"started": started, "running": True, "tried": 0, "targets": 0}
    networks = networks_of(schedule)
    try:
        for network in networks:
            policy.check_network(network)
        tcp, udp = schedule.port_lists()
        newest, known = await asyncio.to_thread(known_services, store, networks)
    except ShoalError as exc:
        run |= {"running": False, "finished": time.time(), "error": exc.message}
        await asyncio.to_thread(book.record, schedule.id, run, started + schedule.every)
        return run
    await asyncio.to_thread(book.record, schedule.id, run)
    sink = RunSink(writer)
    collector = Collector(policy, settings, sink, connector)

    async def progress() -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            run.update(tried=collector.stats.tried, targets=collector.stats.targets)
            await asyncio.to_thread(book.record, schedule.id, run)

    showing = asyncio.create_task(progress())
    try:
        stats = await collector.scan(networks, tcp, udp)
        await writer.flush()
    except asyncio.CancelledError:
        run.update(tried=collector.stats.tried, targets=collector.stats.targets)
        book.record(schedule.id, run | {"running": False, "finished": time.time(), "interrupted": STOPPED})
        raise
    finally:
        showing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await showing
    changed = [key for key, report in sink.reports.items() if key in newest and differs(newest[key], report)]
    gone = set(schedule.open) - sink.open if schedule.run.get("finished") else set()
    run |= {
        "running": False,
        "finished": time.time(),
        "tried": stats.tried,
        "targets": stats.targets,
        "services": len(sink.open),
        "new": len(sink.open - known),
        "changed": len(changed),
        "gone": len(gone),
    }
    await asyncio.to_thread(book.remember_open, schedule.id, sorted(sink.open))
    await asyncio.to_thread(book.record, schedule.id, run, started + schedule.every)
    return run


def differs(old: Report, new: Report) -> bool:
    return bool(changes_between(report_dict(old), report_dict(new)))
