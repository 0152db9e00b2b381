"""The storage interface every engine implements (``Store``, a base class with its defaults and the one boundary
for engine failures), and the values it speaks.

The request layer, the API and the CLI only talk to ``Store``; an engine owns its schema and its compiler from
the plan (``store/plan.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import orjson

from shoal.errors import ShoalError, StoreError
from shoal.model import (
    PROTOCOLS,
    Body,
    DnsAnswer,
    IPNetwork,
    PortObservation,
    Report,
    UdpObservation,
    pack_ip,
    report_dict,
)
from shoal.query.ast import Expr

if TYPE_CHECKING:  # numpy is imported by the engines that make OpenPorts, not by every reader of this module
    import numpy as np

PAGE_SIZE = 100
HOST_ITEM = ("ip", "")  # the scanned address (type, context): its distinct values are the hosts
MAX_PAGES = 100
MAX_SLOP = 10
DEFAULT_SUMMARY_LIMIT = 100  # values a summary lists unless asked for another number (the API's summary_limit)
EPOCH = dt.date(1970, 1, 1)  # engines store a date as its days since
MAX_DAY = 0xFFFF  # the last day an open-port observation can have (2149-06-06)


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


def observation_target(observation: PortObservation) -> tuple[bytes, int, int]:
    """An open-port observation as engines store it (packed address, port, day); ValueError naming what is
    wrong."""
    ip, port, date = observation
    packed = pack_ip(ip)
    if type(port) is not int or not 0 <= port <= 0xFFFF:
        raise ValueError(f"not a TCP port number: {port!r}")
    day = day_number(date)
    if not 0 <= day <= MAX_DAY:
        raise ValueError(f"date out of range (1970-01-01 to 2149-06-06): {date}")
    return packed, port, day


@dataclass(frozen=True, slots=True)
class Filters:
    """What selects reports: a dataset, a checked expression, and the API's non-expression parameters.

    A report that a successor supersedes (``shoal enrich``: an item ``supersedes=<its id>``) matches only with
    ``history`` or when it is asked for by ``report_id``.
    """

    dataset: str = PROTOCOLS
    expression: Expr | None = None
    ip: IPNetwork | None = None
    indirect: bool = False  # ip also matches ``ip`` items in any context (e.g. a certificate's SAN)
    date_from: dt.date | None = None  # inclusive
    date_to: dt.date | None = None  # inclusive
    slop: int = 0
    host_in_url: bool = False
    most_recent: bool = False  # only the newest matching report of each identity (the dataset's row names it)
    report_id: str | None = None  # only the report with this id (superseded or not)
    history: bool = False  # superseded reports match too


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    type: str
    contexts: tuple[str, ...] = ()  # summary_context: only items with one of these contexts
    excluded_contexts: tuple[str, ...] = ()  # summary_nocontext: never items with these contexts
    limit: int = DEFAULT_SUMMARY_LIMIT


@dataclass(frozen=True, slots=True)
class Page:
    total: int  # number of matching reports (after most_recent)
    reports: list[Report]


@dataclass(frozen=True, slots=True)
class Summary:
    values: list[tuple[str, int]]  # highest counts first, ties by value
    other: int  # sum of the counts of the values not listed
    cardinality: int  # number of distinct values


TRANSPORTS = ("tcp", "udp")  # an observation's: each has a store of its own (docs/ports.md)


@dataclass(frozen=True, slots=True)
class PortQuery:
    """Which open-port observations: addresses in ``network`` (v4 or v6) on days in [date_from, date_to]."""

    network: IPNetwork
    date_from: dt.date | None = None  # inclusive; None: no lower bound
    date_to: dt.date | None = None  # inclusive; None: no upper bound
    transport: str = "tcp"  # "udp": the UDP observations (masscan, nmap, the collector), kept apart


@dataclass(frozen=True, eq=False)
class OpenPorts:
    """Observation counts per (host, port), one row per pair, sorted by host then port.

    ``hosts`` is uint32 for IPv4 and S16 (the 16 address bytes) for IPv6; ``counts`` are int64 numbers of
    observations, i.e. of days the pair was seen open. Summaries and the honeypot rule are computed from this
    (``shoal.ports``), so an engine only has to produce it.
    """

    version: int  # 4 or 6
    hosts: np.ndarray
    ports: np.ndarray  # uint16
    counts: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.ports)

    def host_text(self, host: Any) -> str:
        """One element of ``hosts`` as an address (numpy drops an S16 value's trailing zero bytes)."""
        if self.version == 4:
            return socket.inet_ntop(socket.AF_INET, int(host).to_bytes(4, "big"))
        return socket.inet_ntop(socket.AF_INET6, bytes(host).ljust(16, b"\0"))

    @classmethod
    def empty(cls, version: int) -> OpenPorts:
        import numpy as np

        hosts = np.zeros(0, dtype=np.uint32 if version == 4 else "S16")
        return cls(version, hosts, np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=np.int64))


@dataclass(slots=True)
class IngestResult:
    imported: int = 0
    duplicates: int = 0
    imported_ids: list[str] = field(default_factory=list)
    commits: dict[str, int] = field(default_factory=dict)  # dataset → the number of the commit that added its reports


@dataclass(frozen=True, slots=True)
class Commit:
    """The last commit of a dataset's reports, of an engine that numbers them: the index it is in (``instance``:
    another one when the index was made anew, e.g. rewritten by ``shoal db migrate``) and its number."""

    instance: str
    batch: int


@runtime_checkable
class NumberedCommits(Protocol):
    """An engine that numbers its commits of reports per dataset (1, 2, …; a number may be skipped), stamps each
    report with its commit's number, and reads a commit's reports back: the alerts catch up on commits no process
    evaluated (``shoal.alerts.evaluate``). The embedded engine; ClickHouse's inserts have no such number."""

    def last_commit(self, dataset: str) -> Commit: ...

    def committed_reports(self, dataset: str, batch: int) -> Iterator[list[Report]]:
        """The reports commit ``batch`` added, in lists of a bounded size (``BATCH_READ``)."""
        ...


BATCH_READ = 50_000  # reports of a commit read back at a time (a commit may hold more)


class Watcher(Protocol):
    """What is told of every batch the ingest path commits (the data directory's alerts, ``shoal.alerts``)."""

    def active(self) -> bool: ...

    def committed(self, store: Store, commits: Mapping[str, int], reports: Sequence[Report] = ()) -> int: ...

    def catch_up(self, store: Store) -> int: ...

    def gone(self, targets: Iterable[tuple[str, int]]) -> int: ...


Say = Callable[[str], None]  # where an engine's schema commands say what they do, one line at a time


class Store(ABC):
    """Every engine's base class: the interface, its defaults, and the one boundary for the engine's failures.

    An engine is a package whose ``ENGINE`` is its Store subclass, named by one line of ``shoal.store.registry``
    (its store URL scheme); the class opens a store from a URL (``open``). Reads take the dataset from
    ``Filters``; a report is stored in ``report.dataset``. Methods that take ``dataset=None`` mean every dataset.

    Each reading method a subclass defines (``READS``) is wrapped, when the class is made, in ``engine_errors``:
    the engine's own failure inside it (tantivy's ValueError, an I/O error) is a ``StoreError`` (503, the JSON
    error body), whatever the engine, while Shoal's own errors pass through unchanged.
    """

    name: ClassVar[str] = "storage"  # the engine, in messages ("the embedded engine failed: …")
    watcher: Watcher | None = None  # told of each batch ``shoal.ingest.pipeline`` commits; set by open_store

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in READS:
            if method in cls.__dict__:
                setattr(cls, method, translated(cls.__dict__[method]))

    @classmethod
    @abstractmethod
    def open(cls, url: str, data_dir: Path, server: bool = False) -> Store:
        """The store ``url`` names (its scheme is one of this engine's; files it keeps go under ``data_dir``
        when the URL names no place). ``server``: opened by a long-running process (``shoal serve``), which must
        let other processes write meanwhile."""

    @classmethod
    def migrate_schema(cls, url: str, data_dir: Path, say: Say) -> None:
        """Bring the store's schema (or its files' format) to this version's, saying what was done. An engine
        whose store is made as it is opened has nothing to do."""
        cls.open(url, data_dir).close()
        say(f"the {cls.name} engine has no schema to migrate")

    @classmethod
    def schema_status(cls, url: str, data_dir: Path, say: Say) -> bool:
        """Say the store's schema version (or its files' formats); whether it is this version's."""
        say(f"the {cls.name} engine has no schema: nothing to migrate")
        return True

    @abstractmethod
    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page: ...

    def search_rendered(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> tuple[int, list[bytes]]:
        """``search``, each report as its API JSON bytes (a result page joins them). An engine that keeps the
        bytes answers without rendering; by default the reports are rendered."""
        page = self.search(filters, offset, limit)
        return page.total, [orjson.dumps(report_dict(report)) for report in page.reports]

    @abstractmethod
    def iter_matches(self, filters: Filters) -> Iterable[Report]: ...

    @abstractmethod
    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary: ...

    def host_count(self, filters: Filters) -> int:
        """How many distinct hosts (scanned addresses) the matching reports are on: the cardinality of their
        ``ip;`` items, exact on every engine. Counted over every matching report even with ``most_recent``: the
        newest matching report of each service leaves every host with a match, and skipping the newest-per-service
        step is several times cheaper."""
        every = replace(filters, most_recent=False)
        return self.summarize(every, SummaryRequest(HOST_ITEM[0], contexts=(HOST_ITEM[1],), limit=1)).cardinality

    # Ingest is split so the costly half can run in worker processes: ``prepare`` is a pure, picklable
    # function turning a Report into the engine's own payload; ``ingest_prepared`` stores a batch atomically.
    prepare: Callable[[Report], Any]

    @abstractmethod
    def ingest_prepared(self, batch: Sequence[Any]) -> IngestResult: ...

    def ingest(self, reports: Iterable[Report]) -> IngestResult:
        return self.ingest_prepared([self.prepare(report) for report in reports])

    # Open-port observations (DESIGN.md §1): one per (ip, port, day); ingesting reports also records theirs.
    # ``transport="udp"`` stores UDP observations (masscan), apart from the TCP ones (docs/ports.md).
    @abstractmethod
    def ingest_observations(
        self, observations: Iterable[PortObservation | UdpObservation], transport: str = "tcp"
    ) -> IngestResult: ...

    @abstractmethod
    def open_ports(self, query: PortQuery) -> OpenPorts: ...

    @abstractmethod
    def bodies(self, digests: Iterable[str]) -> dict[str, Body]: ...

    # Forward DNS answers (zdns/massdns, the collector's lookups), kept for the domain scans.
    @abstractmethod
    def ingest_answers(self, answers: Iterable[DnsAnswer]) -> IngestResult: ...

    @abstractmethod
    def known_addresses(self) -> dict[str, list[str]]: ...

    @abstractmethod
    def known_types(self, dataset: str | None = None) -> frozenset[str]: ...

    @abstractmethod
    def count(self, dataset: str | None = None) -> int: ...

    def refresh(self) -> None:
        """See what other processes wrote since the store was opened (an engine that always does: nothing)."""
        return None

    @abstractmethod
    def close(self) -> None: ...


READS = (
    "search",
    "search_rendered",
    "iter_matches",
    "summarize",
    "open_ports",
    "bodies",
    "known_addresses",
    "known_types",
    "count",
)


@contextmanager
def engine_errors(engine: str) -> Iterator[None]:
    """The one boundary where an engine's own failures (tantivy's ValueError, an I/O error…) become StoreError;
    Shoal's own errors pass through unchanged."""
    try:
        yield
    except ShoalError:
        raise
    except (ValueError, OSError, RuntimeError) as exc:
        raise StoreError(f"the {engine} engine failed: {exc}") from exc


F = TypeVar("F", bound=Callable[..., Any])


def translated(method: F) -> F:
    """``method`` inside ``engine_errors`` (a generator's every step too)."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def steps(self: Store, *args: Any, **kwargs: Any) -> Iterator[Any]:
            with engine_errors(self.name):
                yield from method(self, *args, **kwargs)

        return steps  # type: ignore[return-value]

    @functools.wraps(method)
    def call(self: Store, *args: Any, **kwargs: Any) -> Any:
        with engine_errors(self.name):
            return method(self, *args, **kwargs)

    return call  # type: ignore[return-value]
