"""The API's answers as typed Python values, shared by ``shoal.client`` (over HTTP) and the command line (over
HTTP or a local store). Importing this module costs no HTTP library and no engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from shoal.model import DATASET_TABLE, Report

K = TypeVar("K", str, int)  # a summary's values: text, or port numbers


@dataclass(frozen=True, slots=True)
class SearchPage:
    page: int
    pages: int
    result_count: int
    results: list[Report]
    host_count: int | None = None  # the distinct hosts of the matches, when asked (``host_count=true``, Shoal)

    def body(self) -> dict[str, object]:
        """The page as the API's JSON (``{"page", "pages", "result_count", "results"[, "host_count"]}``)."""
        hosts = {} if self.host_count is None else {"host_count": self.host_count}
        return hosts | {
            "page": self.page,
            "pages": self.pages,
            "result_count": self.result_count,
            "results": [report.as_dict() for report in self.results],
        }


def has_hosts(dataset: str) -> bool:
    """Whether a dataset's reports are about scanned addresses (its identity has an ``ip`` part)."""
    return ("ip",) in DATASET_TABLE[dataset].identity


@dataclass(frozen=True, slots=True)
class Count:
    """What ``shoal count`` and ``Client.count`` answer: how many things match, named by ``unit`` ("service":
    the newest report of each; "report": every dated report), and how many distinct hosts (scanned addresses)
    they are on (None: not known, e.g. from a Driftnet server, which has no ``host_count``, or in a dataset
    without addresses)."""

    total: int
    unit: str
    hosts: int | None = None

    def __int__(self) -> int:
        return self.total

    def text(self) -> str:
        """``2,375 hosts · 2,614 services``: each number with what it counts."""
        parts = [] if self.hosts is None else [plural(self.hosts, "host")]
        return " · ".join([*parts, plural(self.total, self.unit)])

    def body(self) -> dict[str, int]:
        """``{"hosts": 2375, "services": 2614}`` (keys are the units, plural)."""
        counted = {} if self.hosts is None else {"hosts": self.hosts}
        return counted | {plural_of(self.unit): self.total}


def plural_of(word: str) -> str:
    """``service`` → ``services``, ``address`` → ``addresses``, ``query`` → ``queries``."""
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return f"{word}es" if word.endswith(("s", "x", "sh", "ch")) else f"{word}s"


def plural(n: int, word: str) -> str:
    """``1 host``, ``2,375 hosts``: a number with thousands separators and its noun, plural when not one."""
    return f"{n:,} {word if n == 1 else plural_of(word)}"


@dataclass(frozen=True, slots=True)
class ValueCounts:
    """A summary: value → number of reports (highest counts first, ties by value), the sum of the counts left
    out, and (if asked, and allowed) the cardinality."""

    values: dict[str, int]
    other: int
    cardinality: int | None = None

    def body(self) -> dict[str, object]:
        """The summary as the API's JSON (``{"summary": {"other", "values"[, "cardinality"]}}``)."""
        summary: dict[str, object] = {"other": self.other, "values": self.values}
        if self.cardinality is not None:
            summary["cardinality"] = self.cardinality
        return {"summary": summary}


@dataclass(frozen=True, slots=True)
class PortCounts:
    values: dict[int, int]  # port → observations, most observations first, ties by port
    other: int
    honeypot: bool = False

    def body(self) -> dict[str, object]:
        """As ``GET /v1/scan/ports`` answers: ``{"other", "values": {port: count}}`` (plus ``"honeypot": true``)."""
        body: dict[str, object] = {"other": self.other, "values": {str(port): n for port, n in self.values.items()}}
        if self.honeypot:
            body["honeypot"] = True
        return body


@dataclass(frozen=True, slots=True)
class IpPortCounts:
    values: dict[str, PortCounts]  # ip → its ports
    other: int  # IPs left out

    def body(self) -> dict[str, object]:
        """As ``GET /v1/scan/ipports`` answers."""
        values = {ip: {"other": ports.other, "values": ports.body()["values"]} for ip, ports in self.values.items()}
        return {"other": self.other, "values": values}


NO_VALUES = ValueCounts({}, 0)


@dataclass(frozen=True, slots=True)
class PeriodCounts:
    """One period of a trend (``summary_interval``, Shoal): its days, its matching reports, and with a summary
    type, that type's values over them."""

    first: dt.date
    last: dt.date
    result_count: int
    summary: ValueCounts | None = None

    def body(self) -> dict[str, object]:
        """As the API answers: ``{"from", "to", "result_count"[, "summary"]}``."""
        body: dict[str, object] = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        body["result_count"] = self.result_count
        if self.summary is not None:
            body |= self.summary.body()
        return body


@dataclass(frozen=True, slots=True)
class MultiSummary:
    """``GET /v1/multi/summary``: type (or Driftnet's ``type;context`` alias) → dataset → its counts, in two
    sections as Driftnet answers: observed types, and the types Shoal's enrichers add."""

    observations: dict[str, dict[str, ValueCounts]]
    enrichments: dict[str, dict[str, ValueCounts]]

    def counts(self, item_type: str, dataset: str) -> ValueCounts:
        """One type's counts in one dataset, from whichever section holds it (none: no values)."""
        section = self.observations if item_type in self.observations else self.enrichments
        return section.get(item_type, {}).get(dataset, NO_VALUES)


@dataclass(frozen=True, slots=True)
class RawBody:
    context: str  # the protocol
    sha256: str
    length: int  # bytes kept
    truncated: bool  # the response was longer than what was kept
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ReportBodies:
    date: dt.date
    id: str
    ip: str | None
    port: int | None
    bodies: list[RawBody]


@dataclass(frozen=True, slots=True)
class BodyPage:
    """``GET /v1/scan/protocols/body``: a page of the reports holding a body, with their bodies."""

    page: int
    pages: int
    result_count: int
    results: list[ReportBodies]


def by_count(values: dict[K, int]) -> dict[K, int]:
    """Highest counts first, ties by value (the order the API's summaries are computed in)."""
    return dict(sorted(values.items(), key=lambda pair: (-pair[1], pair[0])))


@dataclass(frozen=True, slots=True)
class NetworkMatch:
    """One network of ``ip/reverse``: its CIDR, where it was found (``net``, ``bgpasn``), its names that matched."""

    cidr: str
    contexts: list[str]
    matches: list[str]


@dataclass(frozen=True, slots=True)
class NetworkPage:
    """A page of ``ip/reverse`` (100 networks, newest data first)."""

    page: int
    pages: int
    result_count: int
    results: list[NetworkMatch]
