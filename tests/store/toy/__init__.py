"""A toy engine, to show what adding one takes: this package (its ``ENGINE``) and one line of
``shoal.store.registry.ENGINES`` (``tests/store/test_toy_engine.py`` adds it), nothing else.

Every report lives in a dictionary in memory; a selection is the engine-neutral plan (``shoal.store.plan``)
evaluated report by report, and ``most_recent`` keeps the newest report of each identity the dataset's row names
(``shoal.model.identity_of``). It is as slow as it is short.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from shoal.errors import StoreError
from shoal.model import (
    DATASET_TABLE,
    SUPERSEDES,
    Body,
    DnsAnswer,
    Item,
    PortObservation,
    Report,
    UdpObservation,
    canonical_ip,
    identity_of,
)
from shoal.query.check import CONTEXT_KEYWORDS
from shoal.query.words import split_words
from shoal.store.answers import addresses_of
from shoal.store.base import (
    MAX_DAY,
    PAGE_SIZE,
    Filters,
    IngestResult,
    OpenPorts,
    Page,
    PortQuery,
    Store,
    Summary,
    SummaryRequest,
    day_number,
    observation_target,
)
from shoal.store.plan import (
    IPV4_MAPPED,
    NUMBER_DIGITS,
    AllOf,
    AnyOf,
    DateRange,
    DayRange,
    Everything,
    Exact,
    HasContext,
    HostName,
    IpRange,
    NoneOf,
    NumberRange,
    Plan,
    ReportId,
    Words,
    item_host,
    lower,
)


def unchanged(report: Report) -> Report:
    return report


class ToyStore(Store):
    name = "toy"
    prepare = staticmethod(unchanged)

    def __init__(self) -> None:
        self.reports: dict[str, dict[str, Report]] = {dataset: {} for dataset in DATASET_TABLE}
        self.observed: dict[str, set[tuple[bytes, int, int]]] = {"tcp": set(), "udp": set()}
        self.kept_bodies: dict[str, Body] = {}
        self.answers: set[tuple[str, str, str]] = set()

    @classmethod
    def open(cls, url: str, data_dir: Path, server: bool = False) -> ToyStore:
        return cls()

    # -- reading ------------------------------------------------------------------------------------------

    def matches(self, filters: Filters) -> list[Report]:
        """The selection, newest first (day, then id, descending)."""
        if filters.dataset not in self.reports:
            raise StoreError(f"unknown dataset {filters.dataset!r}")
        held = self.reports[filters.dataset].values()
        hidden = set()
        if not filters.history and filters.report_id is None:
            hidden = {item.value for r in held for item in r.items if item.type == SUPERSEDES and item.is_metadata}
        plan = lower(filters)
        found = sorted((r for r in held if r.id not in hidden and holds(plan, r)), key=newest, reverse=True)
        if not filters.most_recent:
            return found
        seen: set[object] = set()
        kept = []
        for report in found:
            identity = identity_of(report) or ("own", report.id)
            if identity not in seen:
                seen.add(identity)
                kept.append(report)
        return kept

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        found = self.matches(filters)
        return Page(len(found), found[offset : offset + limit])

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        yield from self.matches(filters)

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        counts: Counter[str] = Counter()
        for report in self.matches(filters):
            counts.update({value for item in report.items if (value := summarised(item, request)) is not None})
        ordered = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        listed = ordered[: request.limit]
        return Summary(listed, sum(counts.values()) - sum(n for _, n in listed), len(counts))

    def known_types(self, dataset: str | None = None) -> frozenset[str]:
        names = list(self.reports) if dataset is None else [dataset]
        if any(name not in self.reports for name in names):
            raise StoreError(f"unknown dataset {dataset!r}")
        return frozenset(item.type for name in names for r in self.reports[name].values() for item in r.items)

    def count(self, dataset: str | None = None) -> int:
        return sum(len(self.reports[name]) for name in (self.reports if dataset is None else [dataset]))

    def open_ports(self, query: PortQuery) -> OpenPorts:
        first = 0 if query.date_from is None else day_number(query.date_from)
        last = MAX_DAY if query.date_to is None else day_number(query.date_to)
        rows: Counter[tuple[bytes, int]] = Counter(
            (packed, port)
            for packed, port, day in self.observed[query.transport]
            if first <= day <= last and in_network(canonical_ip(packed), query.network)
        )
        if not rows:
            return OpenPorts.empty(query.network.version)
        ordered = sorted(rows.items())
        if query.network.version == 4:
            hosts = np.array([int.from_bytes(packed, "big") for (packed, _), _ in ordered], dtype=np.uint32)
        else:
            hosts = np.array([packed for (packed, _), _ in ordered], dtype="S16")
        ports = np.array([port for (_, port), _ in ordered], dtype=np.uint16)
        return OpenPorts(query.network.version, hosts, ports, np.array([n for _, n in ordered], dtype=np.int64))

    def bodies(self, digests: Iterable[str]) -> dict[str, Body]:
        return {digest: self.kept_bodies[digest] for digest in digests if digest in self.kept_bodies}

    def known_addresses(self) -> dict[str, list[str]]:
        return addresses_of(sorted(self.answers))

    # -- writing ------------------------------------------------------------------------------------------

    def ingest_prepared(self, batch: Sequence[Report]) -> IngestResult:
        unknown = {report.dataset for report in batch} - set(self.reports)
        if unknown:
            raise StoreError(f"unknown dataset {sorted(unknown)[0]!r}")
        result = IngestResult()
        for report in batch:
            if report.id in self.reports[report.dataset]:
                result.duplicates += 1
                continue
            self.reports[report.dataset][report.id] = report
            result.imported += 1
            result.imported_ids.append(report.id)
            self.kept_bodies.update((body.sha256, body) for body in report.bodies)
            if DATASET_TABLE[report.dataset].observations and report.ip is not None and report.port is not None:
                self.observed["tcp"].add(observation_target(PortObservation(report.ip, report.port, report.date)))
        return result

    def ingest_observations(
        self, observations: Iterable[PortObservation | UdpObservation], transport: str = "tcp"
    ) -> IngestResult:
        new = {observation_target(PortObservation(*observation)) for observation in observations}
        result = IngestResult(len(new - self.observed[transport]), len(new & self.observed[transport]))
        self.observed[transport] |= new
        return result

    def ingest_answers(self, answers: Iterable[DnsAnswer]) -> IngestResult:
        new = {(answer.name, answer.type, answer.value) for answer in answers}
        result = IngestResult(len(new - self.answers), len(new & self.answers))
        self.answers |= new
        return result

    def close(self) -> None:
        self.reports.clear()


ENGINE = ToyStore


def newest(report: Report) -> tuple[object, str]:
    return report.date, report.id


def summarised(item: Item, request: SummaryRequest) -> str | None:
    """The value ``item`` adds to the summary (a context, for ``protocol``), or None."""
    if request.type in CONTEXT_KEYWORDS:
        return item.context if item.type == CONTEXT_KEYWORDS[request.type] else None
    if item.type != request.type or item.context in request.excluded_contexts:
        return None
    return item.value if not request.contexts or item.context in request.contexts else None


def holds(plan: Plan, report: Report) -> bool:
    """Does ``report`` meet ``plan``?"""
    match plan:
        case AllOf(children):
            return all(holds(child, report) for child in children)
        case AnyOf(children):
            return any(holds(child, report) for child in children)
        case NoneOf(child):
            return not holds(child, report)
        case Everything():
            return True
        case ReportId(report_id):
            return report.id == report_id
        case DateRange(first, last):
            return (first is None or report.date >= first) and (last is None or report.date <= last)
        case IpRange(network, ""):
            return report.ip is not None and in_network(report.ip, network)
        case _:
            return any(item_holds(plan, item) for item in report.items)


def item_holds(plan: Plan, item: Item) -> bool:
    match plan:
        case IpRange(network, context):
            return item.type == "ip" and context in (None, item.context) and in_network(item.value, network)
        case Exact(item_type, context, value, prefix):
            typed = item_type in (None, item.type) and context in (None, item.context)
            return typed and (item.value.startswith(value) if prefix else item.value == value)
        case HasContext(item_type, context, prefix):
            return item.type == item_type and (item.context.startswith(context) if prefix else item.context == context)
        case HostName(item_type, context, name, whole):
            host = (
                item_host(item.type, item.value) if item.type == item_type and context in (None, item.context) else None
            )
            return host is not None and (host == name or (not whole and host.endswith("." + name)))
        case Words(item_type, context, words, slop, prefix):
            typed = item_type in (None, item.type) and context in (None, item.context)
            return typed and phrase(split_words(item.value), words, slop, prefix)
        case NumberRange(item_type, context, first, last):
            typed = item.type == item_type and context in (None, item.context) and NUMBER.fullmatch(item.value)
            return bool(typed) and (first or 0) <= int(item.value) and (last is None or int(item.value) <= last)
        case DayRange(item_type, context, first, last):
            typed = item.type == item_type and context in (None, item.context) and DAY.fullmatch(item.value)
            after_first = first is None or item.value >= first.isoformat()
            return bool(typed) and after_first and (last is None or item.value <= last.isoformat())
    return False


NUMBER = re.compile(f"0|[1-9][0-9]{{0,{NUMBER_DIGITS - 1}}}")  # plan.NumberRange: the numbers a range compares
DAY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")


def in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Addresses are compared as engines keep them: an IPv4 one among the IPv6 ones, mapped (``::ffff:a.b.c.d``)."""
    return mapped(ipaddress.ip_network(value)).subnet_of(mapped(network))  # type: ignore[arg-type]


def mapped(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv6Network:
    if network.version == 6:
        return network  # type: ignore[return-value]
    return ipaddress.IPv6Network((IPV4_MAPPED.network_address + int(network.network_address), network.prefixlen + 96))


def phrase(tokens: list[str], words: tuple[str, ...], slop: int, prefix: bool) -> bool:
    """The words in this order, adjacent; with ``prefix`` the last a prefix of a token; with ``slop``, at most
    that many extra positions between them, reversed order costing too (Lucene's sloppy phrase, as pinned for
    two words)."""
    if prefix or slop == 0:
        size = len(words)
        for start in range(len(tokens) - size + 1):
            head, last = tokens[start : start + size - 1], tokens[start + size - 1]
            if head == list(words[:-1]) and (last.startswith(words[-1]) if prefix else last == words[-1]):
                return True
        return False
    places = [[at for at, token in enumerate(tokens) if token == word] for word in words]

    def spread(chosen: tuple[int, ...]) -> int:
        offsets = [at - index for index, at in enumerate(chosen)]
        return max(offsets) - min(offsets)

    return any(len(set(chosen)) == len(chosen) and spread(chosen) <= slop for chosen in combinations(places))


def combinations(places: list[list[int]]) -> Iterator[tuple[int, ...]]:
    if not places:
        yield ()
        return
    for first in places[0]:
        for rest in combinations(places[1:]):
            yield (first, *rest)
