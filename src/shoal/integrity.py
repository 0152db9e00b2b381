"""The data directory's state files, verified: what ``shoal check`` and ``shoal serve`` look at before work.

Each check reads a file the way its owner will, and a ``Problem`` names the file (relative to DATA: no
absolute path leaves this module), says what is wrong and how to recover. ``repair_data`` does what can be
done without losing data: a damaged SQLite file of counters or tickets is moved aside (a fresh one is made
on next use), and the open-port manifest is rebuilt from its segments. A damaged ``tokens.json`` is never
"repaired": only its owner knows whether a backup exists, so the fix says what to do.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from shoal.collect.policy import PolicyFileError, load_policy
from shoal.store.embedded import ports

TOKENS = "tokens.json"
DATABASES = {  # file: (the table its owner reads, what moving it aside costs)
    "usage.sqlite3": ("usage", "this month's quota usage restarts from 0"),
    "tickets.sqlite3": ("tickets", "export links made before now stop working"),
    "prioritize.sqlite3": ("queue", "prioritize requests not yet collected are dropped"),
    "schedules.sqlite3": ("schedules", "the scan schedules are forgotten: add them again"),
    "alerts.sqlite3": ("alerts", "the alerts, what they watch and their undelivered events are lost: make them again"),
}
SQLITE_HEADER = b"SQLite format 3\x00"
LOW_SPACE_BYTES = 64 * 1024 * 1024
CHECK = "shoal check --data DIR --repair"


@dataclass(frozen=True, slots=True)
class Problem:
    file: str  # relative to the data directory
    what: str
    fix: str
    repairable: bool = False
    blocking: bool = True  # False: a warning (the server can start)

    def line(self) -> str:
        return f"{self.file} {self.what}: {self.fix}"


def check_data(folder: Path) -> list[Problem]:
    """Every problem found in the data directory (empty when all is well, or when it is new)."""
    found: list[Problem] = []
    for check in (check_tokens, check_databases, check_policy, check_ports, check_space):
        found.extend(check(folder))
    return found


def check_tokens(folder: Path) -> list[Problem]:
    path = folder / TOKENS
    fix = (
        f"restore {TOKENS} from a backup; or move it aside and create tokens again with 'shoal token create'"
        " (every existing token then stops working)"
    )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [Problem(TOKENS, f"cannot be read ({exc.strerror})", fix)]
    if not raw.strip():
        return [Problem(TOKENS, f"is empty ({len(raw)} bytes)", fix)]
    try:
        tokens = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return [Problem(TOKENS, f"is not valid JSON ({exc}; {len(raw):,} bytes: cut short?)", fix)]
    if not isinstance(tokens, dict):
        return [Problem(TOKENS, f"is not an object of tokens but a JSON {type(tokens).__name__}", fix)]
    for digest, entry in tokens.items():
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            return [Problem(TOKENS, f"holds {digest[:20]!r}, not a token digest (64 hex digits)", fix)]
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return [Problem(TOKENS, f"holds a token {digest[:12]} without a name", fix)]
    return []


def check_databases(folder: Path) -> list[Problem]:
    found = []
    for name, (table, cost) in DATABASES.items():
        what = database_problem(folder / name, table)
        if what is not None:
            fix = f"run '{CHECK}' to move it aside ({cost}), or restore it from a backup"
            found.append(Problem(name, what, fix, repairable=True))
    return found


def database_problem(path: Path, table: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if header and header != SQLITE_HEADER:  # (an empty file is what SQLite makes of a new database)
        return "is not a SQLite database"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return f"cannot be opened ({exc})"
    try:
        result = connection.execute("PRAGMA quick_check").fetchone()
        if result is None or result[0] != "ok":
            return f"is damaged (SQLite's quick_check says: {result[0] if result else 'nothing'})"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and table not in tables:
            return f"has no '{table}' table: it belongs to something else"
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        return "is not a SQLite database" if "not a database" in text else f"cannot be read ({text})"
    finally:
        connection.close()
    return None


def check_policy(folder: Path) -> list[Problem]:
    try:
        load_policy(folder)
    except PolicyFileError as exc:
        message = str(exc).split(": ", 1)[-1]
        return [Problem("collector.toml", f"is not valid: {message}", "correct it (see docs/collector.md)")]
    return []


def check_ports(folder: Path) -> list[Problem]:
    fix = f"run '{CHECK}': it rebuilds the manifest from the segments and keeps every readable observation"
    found = []
    for message in ports.problems(folder / "ports"):
        file, _, what = message.partition(" ")
        found.append(Problem(file, what, fix, repairable=True))
    return found


def check_space(folder: Path) -> list[Problem]:
    try:
        status = os.statvfs(folder if folder.exists() else folder.parent)
    except OSError:
        return []
    free = status.f_bavail * status.f_frsize
    if free >= LOW_SPACE_BYTES:
        return []
    return [
        Problem(
            ".",
            f"is on a file system with only {free / 2**20:.1f} MiB free",
            "free some space: imports, scans and usage counting fail when it is full",
            blocking=False,
        )
    ]


def repair_data(folder: Path, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> list[str]:
    """Repair what ``check_data`` found repairable; one line per thing done."""
    done: list[str] = []
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    for problem in check_databases(folder):
        for suffix in ("", "-wal", "-shm"):
            source = folder / (problem.file + suffix)
            if source.exists():
                shutil.move(source, folder / f"{problem.file}{suffix}.damaged-{stamp}")
        done.append(f"moved {problem.file} aside to {problem.file}.damaged-{stamp}; a new one is made on next use")
    if check_ports(folder):
        rebuilt = ports.rebuild(folder / "ports")
        line = (
            f"rebuilt ports/{ports.MANIFEST} from {rebuilt.segments_read} segment files:"
            f" kept {rebuilt.rows_kept:,} observations, lost {rebuilt.rows_lost:,}"
        )
        if rebuilt.damaged:
            line += f"; damaged files kept in ports/{ports.DAMAGED}/: {', '.join(rebuilt.damaged)}"
        done.append(line)
    return done
