"""The API's search parameters and answers as typed Python values, shared by ``shoal.client`` (over HTTP) and
the command line (over HTTP or a local store). Importing this module costs no HTTP library and no engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, TypeVar

from shoal.model import CT, DOMAINS, PROTOCOLS, RDNS, Report

K = TypeVar("K", str, int)  # a summary's values: text, or port numbers

DATASET_PATHS = {  # each dataset's search endpoint (the API's routes are made from this)
    PROTOCOLS: "/v1/scan/protocols",
    DOMAINS: "/v1/scan/domains",
    CT: "/v1/ct/log",
    RDNS: "/v1/domain/rdns",
}
RDNS_SELECTORS = ("host", "nameserver")


class Selection(TypedDict, total=False):
    """What selects reports besides the expression: the search endpoints' other parameters."""

    ip: str  # an address or CIDR
    indirect: bool
    date_from: dt.date | str  # inclusive, YYYY-MM-DD
    date_to: dt.date | str
    slop: int
    most_recent: bool
    host_in_url: bool
    filters: Sequence[str]  # each an expression; ORed together, ANDed with the rest
    query: str  # free text: bare words search every type (ANDed with the rest)
    report_id: str  # Shoal: one report by its id (``id=``), even a superseded one
    history: bool  # Shoal: superseded reports (a re-enrichment's predecessors) match too
    host: str  # domain/rdns only: reports holding a host item under this domain (reverse search)
    nameserver: str  # domain/rdns only: reports whose host;dns-ns is this name or under it


@dataclass(frozen=True, slots=True)
class SearchPage:
    page: int
    pages: int
    result_count: int
    results: list[Report]

    def body(self) -> dict[str, object]:
        """The page as the API's JSON (``{"page", "pages", "result_count", "results"}``)."""
        return {
            "page": self.page,
            "pages": self.pages,
            "result_count": self.result_count,
            "results": [report.as_dict() for report in self.results],
        }


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


def selection_params(expression: str, selection: Selection) -> list[tuple[str, str]]:
    """The query parameters of a search, as the API names them."""
    unknown = set(selection) - set(Selection.__annotations__)
    if unknown:
        raise TypeError(f"unknown search option(s): {', '.join(sorted(unknown))}")
    params = [("expression", expression)] if expression else []
    if "ip" in selection:
        params.append(("ip", selection["ip"]))
    params += dates(selection.get("date_from"), selection.get("date_to"))
    if "slop" in selection:
        params.append(("slop", str(selection["slop"])))
    for flag in ("indirect", "most_recent", "host_in_url", "history"):
        if selection.get(flag):
            params.append((flag, "true"))
    params += [("filter", text) for text in selection.get("filters", ())]
    for key, name in (("query", "query"), ("report_id", "id"), ("host", "host"), ("nameserver", "nameserver")):
        if selection.get(key):
            params.append((name, str(selection[key])))  # type: ignore[literal-required]
    return params


def dataset_path(dataset: str, selection: Selection) -> str:
    """The search endpoint of ``dataset``; the rdns selectors only exist there (never silently ignored)."""
    if dataset not in DATASET_PATHS:
        raise ValueError(f"unknown dataset {dataset!r}: one of {', '.join(DATASET_PATHS)}")
    misplaced = [key for key in RDNS_SELECTORS if selection.get(key) and dataset != "rdns"]
    if misplaced:
        raise TypeError(f"{' and '.join(misplaced)} select reports of the rdns dataset only, not {dataset!r}")
    return DATASET_PATHS[dataset]


def dates(date_from: dt.date | str | None, date_to: dt.date | str | None) -> list[tuple[str, str]]:
    return [
        (name, value.isoformat() if isinstance(value, dt.date) else value)
        for name, value in (("from", date_from), ("to", date_to))
        if value is not None
    ]
