"""A toy engine, to show what adding one takes: this package (its ``ENGINE``) and one line of
``shoal.store.registry.ENGINES`` (``tests/store/test_toy_engine.py`` adds it), nothing else.

Every report lives in a dictionary in memory; a selection is the engine-neutral plan (``shoal.store.plan``)
evaluated report by report, and ``most_recent`` keeps the newest report of each identity the dataset's row names
(``shoal.model.identity_of``). It is as slow as it is short.
"""

from __future__ import annotations

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
from shoal.store.matching import holds, in_network
from shoal.store.plan import lower


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
