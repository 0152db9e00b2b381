"""The storage interface every engine implements, and the request/response values it speaks.

The API and CLI only talk to ``Store``; an engine owns its schema and its compiler from the AST.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shoal.model import Report
from shoal.query.ast import Expr

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

PAGE_SIZE = 100
MAX_PAGES = 100
MAX_SLOP = 10


@dataclass(frozen=True, slots=True)
class Filters:
    """What selects reports: a checked expression plus the API's non-expression parameters."""

    expression: Expr | None = None
    ip: IPNetwork | None = None
    indirect: bool = False  # ip also matches ``ip`` items in any context (e.g. a certificate's SAN)
    date_from: dt.date | None = None  # inclusive
    date_to: dt.date | None = None  # inclusive
    slop: int = 0
    host_in_url: bool = False
    most_recent: bool = False  # keep only the newest matching report per {ip, port}


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    type: str
    contexts: tuple[str, ...] = ()  # summary_context: only items with one of these contexts
    excluded_contexts: tuple[str, ...] = ()  # summary_nocontext: never items with these contexts
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Page:
    total: int  # number of matching reports (after most_recent)
    reports: list[Report]


@dataclass(frozen=True, slots=True)
class Summary:
    values: list[tuple[str, int]]  # highest counts first, ties by value
    other: int  # sum of the counts of the values not listed
    cardinality: int  # number of distinct values


@dataclass(slots=True)
class IngestResult:
    imported: int = 0
    duplicates: int = 0
    imported_ids: list[str] = field(default_factory=list)


class Store(Protocol):
    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page: ...

    def iter_matches(self, filters: Filters) -> Iterable[Report]: ...

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary: ...

    # Ingest is split so the costly half can run in worker processes: ``prepare`` is a pure, picklable
    # function turning a Report into the engine's own payload; ``ingest_prepared`` stores a batch atomically.
    prepare: Callable[[Report], Any]

    def ingest_prepared(self, batch: Sequence[Any]) -> IngestResult: ...

    def ingest(self, reports: Iterable[Report]) -> IngestResult: ...

    def known_types(self) -> frozenset[str]: ...

    def count(self) -> int: ...

    def refresh(self) -> None: ...

    def close(self) -> None: ...
