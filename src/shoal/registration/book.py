"""``DATA/registration.sqlite3``: the networks, organisations and AS names each imported dump said.

A dump is what one import read of one *feed*: ``rpsl:RIPE:inetnum`` (one object class of one registry's whois
dump), ``delegated:ripencc``, ``mrt:<collector>``. Its rows are written in one transaction and the dump is
marked complete at its end, so a failed or killed import leaves nothing half-stored. Of each feed only the
dump with the newest date is *current* (a newer dump replaces what an older one said); older ones stay, by
date, as history. Lookups read current dumps only.

A network is stored per CIDR (an ``inetnum`` range is cut into the CIDRs that cover it exactly), with the
prefix lengths each dump holds listed apart, so the most specific network holding an address is one indexed
look-up per length present, most specific first. ``words`` holds a network's names folded to lower-case words
between spaces, which ``ip/reverse`` matches word by word.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from shoal.errors import StoreError
from shoal.model import IPNetwork
from shoal.sqlite import PerThread, open_database
from shoal.text import words_of

Read = TypeVar("Read", bound=Callable[..., Any])
FILE_NAME = "registration.sqlite3"
BUSY_SECONDS = 30.0
NET = "net"  # a whois network (inetnum, inet6num, a delegation)
BGPASN = "bgpasn"  # an announced prefix and its origin AS
SCHEMA = """
CREATE TABLE IF NOT EXISTS dumps (
    id INTEGER PRIMARY KEY, feed TEXT NOT NULL, date TEXT NOT NULL, complete INTEGER NOT NULL DEFAULT 0,
    imported TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS networks (
    dump INTEGER NOT NULL, context TEXT NOT NULL, version INTEGER NOT NULL, prefixlen INTEGER NOT NULL,
    network BLOB NOT NULL, cidr TEXT NOT NULL, names TEXT NOT NULL, words TEXT NOT NULL, org TEXT NOT NULL,
    email TEXT NOT NULL, asn INTEGER, country TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS networks_at ON networks (version, prefixlen, network);
CREATE TABLE IF NOT EXISTS lengths (
    dump INTEGER NOT NULL, context TEXT NOT NULL, version INTEGER NOT NULL, prefixlen INTEGER NOT NULL,
    PRIMARY KEY (dump, context, version, prefixlen)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS organisations (dump INTEGER NOT NULL, handle TEXT NOT NULL, name TEXT NOT NULL,
    email TEXT NOT NULL, words TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS organisations_of ON organisations (handle);
CREATE TABLE IF NOT EXISTS autnums (dump INTEGER NOT NULL, asn INTEGER NOT NULL, name TEXT NOT NULL,
    org TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS autnums_of ON autnums (asn);
"""


def folded(names: Iterable[str]) -> str:
    return " " + " ".join(word for name in names for word in words_of(name)) + " "


@dataclass(frozen=True, slots=True)
class Network:
    """The most specific network of one context holding an address, as the current dumps say."""

    cidr: str
    context: str
    names: list[str]  # as registered: descr lines, then the netname (a prefix: its origin AS's name)
    org: str  # the organisation's handle ("" when none)
    email: str  # a mailbox of the network or its organisation ("" when none)
    asn: int | None  # the origin AS (bgpasn), or the AS a delegation's holder also holds
    country: str
    date: str


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Match:
    """One network of an ``ip/reverse`` answer: its CIDR, the contexts it was found in, the names that matched."""

    cidr: str
    contexts: list[str]
    matches: list[str]


@dataclass
class DumpWriter:
    """Rows of one import, in one transaction: a dump per feed met, each marked complete at the end."""

    connection: sqlite3.Connection
    today: str
    dumps: dict[str, int] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    lengths: set[tuple[int, str, int, int]] = field(default_factory=set)

    def dump(self, feed: str) -> int:
        found = self.dumps.get(feed)
        if found is None:
            cursor = self.connection.execute(
                "INSERT INTO dumps (feed, date, imported) VALUES (?, '', ?)", (feed, self.today)
            )
            found = self.dumps[feed] = int(cursor.lastrowid or 0)
        return found

    def dated(self, feed: str, date: str) -> None:
        """The dump of ``feed`` is at least as new as ``date`` (YYYY-MM-DD): its newest date wins."""
        if date > self.dates.get(feed, ""):
            self.dates[feed] = date

    def network(
        self,
        feed: str,
        context: str,
        network: IPNetwork,
        names: list[str],
        *,
        org: str = "",
        email: str = "",
        asn: int | None = None,
        country: str = "",
    ) -> None:
        dump = self.dump(feed)
        self.connection.execute(
            "INSERT INTO networks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dump,
                context,
                network.version,
                network.prefixlen,
                network.network_address.packed,
                str(network),
                orjson.dumps(names).decode(),
                folded(names),
                org,
                email,
                asn,
                country,
            ),
        )
        self.lengths.add((dump, context, network.version, network.prefixlen))

    def organisation(self, feed: str, handle: str, name: str, email: str) -> None:
        self.connection.execute(
            "INSERT INTO organisations VALUES (?, ?, ?, ?, ?)",
            (self.dump(feed), handle.upper(), name, email, folded([name])),
        )

    def autnum(self, feed: str, asn: int, name: str, org: str) -> None:
        self.connection.execute("INSERT INTO autnums VALUES (?, ?, ?, ?)", (self.dump(feed), asn, name, org.upper()))

    def finish(self) -> None:
        self.connection.executemany("INSERT OR IGNORE INTO lengths VALUES (?, ?, ?, ?)", sorted(self.lengths))
        for feed, dump in self.dumps.items():
            self.connection.execute(
                "UPDATE dumps SET date = ?, complete = 1 WHERE id = ?", (self.dates.get(feed, self.today), dump)
            )


def read_errors(method: Read) -> Read:
    """A failing read of the book (locked past the busy timeout, damaged) is the server's failure, a 503."""

    @functools.wraps(method)
    def reading(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the registration database {FILE_NAME}: {exc}") from exc

    return reading  # type: ignore[return-value]


class RegistrationBook:
    """The registration database of a data directory; readers on any thread, one writer at a time."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = open_database(self.path, "SELECT 1", BUSY_SECONDS)
            try:
                connection.executescript(SCHEMA)
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the registration database {self.path.name}: {exc}") from exc
        self._readers = PerThread(self.path, "SELECT 1", BUSY_SECONDS)
        self._write_lock = threading.Lock()

    @contextmanager
    def writing(self) -> Iterator[DumpWriter]:
        """One import's writer: everything it wrote is stored when the block ends, nothing if it raises."""
        with self._write_lock:
            try:
                connection = open_database(self.path, "SELECT 1", BUSY_SECONDS)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write the registration database {FILE_NAME}: {exc}") from exc
            try:
                connection.execute("BEGIN IMMEDIATE")
                writer = DumpWriter(connection, dt.datetime.now(dt.UTC).date().isoformat())
                try:
                    yield writer
                    writer.finish()
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
            except sqlite3.Error as exc:  # locked past the busy timeout, a full disk (said by its cause)
                raise StoreError(f"cannot write the registration database {FILE_NAME}: {exc}") from exc
            finally:
                connection.close()

    # -- reading -------------------------------------------------------------------------------------------

    def _current(self, connection: sqlite3.Connection) -> dict[int, str]:
        """The current dump of each feed (newest date, then the later import): id → date."""
        newest: dict[str, tuple[str, int]] = {}
        for dump, feed, date in connection.execute("SELECT id, feed, date FROM dumps WHERE complete = 1"):
            if (date, dump) > newest.get(feed, ("", -1)):
                newest[feed] = (date, dump)
        return {dump: date for date, dump in newest.values()}

    @read_errors
    def most_specific(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, context: str) -> Network | None:
        """The most specific network of ``context`` holding ``address`` (the newest dump's, if several)."""
        connection = self._readers.connection()
        current = self._current(connection)
        if not current:
            return None
        marks = ",".join("?" * len(current))
        lengths = connection.execute(
            f"SELECT DISTINCT prefixlen FROM lengths WHERE dump IN ({marks}) AND context = ? AND version = ?"
            " ORDER BY prefixlen DESC",
            (*current, context, address.version),
        ).fetchall()
        for (length,) in lengths:
            network = ipaddress.ip_network(f"{address}/{length}", strict=False)
            rows = connection.execute(
                "SELECT dump, cidr, names, org, email, asn, country FROM networks WHERE version = ? AND prefixlen = ?"
                f" AND network = ? AND context = ? AND dump IN ({marks})",
                (address.version, length, network.network_address.packed, context, *current),
            ).fetchall()
            if rows:
                dump, cidr, names, org, email, asn, country = max(rows, key=lambda row: (current[row[0]], row[0]))
                return Network(cidr, context, orjson.loads(names), org, email, asn, country, current[dump])
        return None

    @read_errors
    def organisation(self, handle: str) -> Organisation | None:
        connection = self._readers.connection()
        current = self._current(connection)
        rows = connection.execute(
            "SELECT dump, name, email FROM organisations WHERE handle = ?", (handle.upper(),)
        ).fetchall()
        rows = [row for row in rows if row[0] in current]
        if not rows:
            return None
        _, name, email = max(rows, key=lambda row: (current[row[0]], row[0]))
        return Organisation(name, email)

    @read_errors
    def as_name(self, asn: int) -> str | None:
        """The name of an AS an aut-num object gives: its organisation's name, else its as-name or descr."""
        connection = self._readers.connection()
        current = self._current(connection)
        rows = [row for row in connection.execute("SELECT dump, name, org FROM autnums WHERE asn = ?", (asn,))]
        rows = [row for row in rows if row[0] in current]
        if not rows:
            return None
        _, name, org = max(rows, key=lambda row: (current[row[0]], row[0]))
        organisation = self.organisation(org) if org else None
        return organisation.name if organisation is not None and organisation.name else name or None

    @read_errors
    def reverse(self, phrase: str, offset: int, limit: int) -> tuple[int, list[Match]]:
        """Networks of the current dumps whose names (or whose organisation's name) hold every word of ``phrase``,
        newest data first, then by CIDR; the number of them, and those from ``offset`` (at most ``limit``)."""
        wanted = words_of(phrase)
        connection = self._readers.connection()
        current = self._current(connection)
        if not wanted or not current:
            return 0, []
        marks = ",".join("?" * len(current))
        every_word = " AND ".join(["words LIKE ?"] * len(wanted))
        patterns = [f"% {word} %" for word in wanted]  # a word has no LIKE wildcard: letters and digits only
        named = f"SELECT handle FROM organisations WHERE dump IN ({marks}) AND {every_word}"
        where = f"dump IN ({marks}) AND (({every_word}) OR (org != '' AND org IN ({named})))"
        arguments = (*current, *patterns, *current, *patterns)
        total = connection.execute(f"SELECT count(DISTINCT cidr) FROM networks WHERE {where}", arguments).fetchone()[0]
        rows = connection.execute(
            "SELECT cidr, group_concat(DISTINCT context), group_concat(names, char(31)), group_concat(DISTINCT org),"
            f" max(dumps.date) AS newest FROM networks JOIN dumps ON dumps.id = networks.dump WHERE {where}"
            " GROUP BY cidr ORDER BY newest DESC, cidr LIMIT ? OFFSET ?",
            (*arguments, limit, offset),
        ).fetchall()
        found = []
        for cidr, contexts, names, orgs, _ in rows:
            organisations = [self.organisation(org) for org in (orgs or "").split(",") if org]
            every = dict.fromkeys(
                [
                    *(name for group in names.split("\x1f") for name in orjson.loads(group)),
                    *(organisation.name for organisation in organisations if organisation is not None),
                ]
            )
            matching = [name for name in every if set(words_of(name)) & set(wanted)]
            found.append(Match(cidr, sorted(contexts.split(",")), matching))
        return int(total), found

    def close(self) -> None:
        connection = getattr(self._readers._local, "connection", None)
        if connection is not None:
            connection.close()
