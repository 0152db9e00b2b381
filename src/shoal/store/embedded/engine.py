"""EmbeddedStore: the Store interface over one tantivy index per dataset, the open-port observation segments
(``ports.ObservationStore``) and the body store, all under one data directory:

    DATA/index            protocols (the first dataset; its place predates the others)
    DATA/index-<dataset>  domains, ct, rdns
    DATA/ports/           open-port observations, of every dataset's reports and of port scans
    DATA/ports-udp/       UDP observations (masscan's UDP entries), the same segments in their own folder
    DATA/bodies.sqlite3   raw bodies, by SHA-256
    DATA/names.sqlite3    forward DNS answers (zdns/massdns imports, the collector's lookups) for domain scans
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from shoal.errors import StoreError
from shoal.model import DATASETS, PROTOCOLS, Body, DnsAnswer, PortObservation, Report, UdpObservation
from shoal.store.base import (
    MAX_DAY,
    PAGE_SIZE,
    Filters,
    IngestResult,
    OpenPorts,
    Page,
    PortQuery,
    Say,
    Store,
    Summary,
    SummaryRequest,
    day_number,
)
from shoal.store.embedded.bodies import BodyStore
from shoal.store.embedded.index import INDEX_FORMAT, ReportIndex, format_of
from shoal.store.embedded.names import NameStore
from shoal.store.embedded.ports import ObservationStore, encode, encode_observations
from shoal.store.embedded.schema import Prepared, prepare_report


def index_folder(data_dir: Path, dataset: str) -> Path:
    return data_dir / ("index" if dataset == PROTOCOLS else f"index-{dataset}")


def folder_of(url: str, data_dir: Path) -> Path:
    """The folder an ``embedded:`` URL names (``embedded:///srv/shoal``); the data directory when it names none."""
    path = urlsplit(url).path
    return Path(path) if path else data_dir


class EmbeddedStore(Store):
    """``hold_writer=False`` (long-running processes such as ``shoal serve``) releases each index's writer lock
    after every batch, so that other processes (``shoal import``, ``shoal scan``) can write meanwhile."""

    name = "embedded"

    def __init__(self, data_dir: Path | str, hold_writer: bool = True) -> None:
        folder = Path(data_dir)
        self.indexes = {
            dataset: ReportIndex(index_folder(folder, dataset), dataset, hold_writer) for dataset in DATASETS
        }
        self.ports = ObservationStore(folder / "ports")
        self.udp_ports = ObservationStore(folder / "ports-udp")
        self.body_store = BodyStore(folder / "bodies.sqlite3")
        self.name_store = NameStore(folder / "names.sqlite3")

    # -- opening, and the format of the files -------------------------------------------------------------

    @classmethod
    def open(cls, url: str, data_dir: Path, server: bool = False) -> EmbeddedStore:
        return cls(folder_of(url, data_dir), hold_writer=not server)

    @classmethod
    def migrate_schema(cls, url: str, data_dir: Path, say: Say) -> None:
        """Rewrite every index of an older format in place, with progress; nothing to do is said too."""
        from shoal.store.embedded.migrate import migrate_data_dir

        folder = folder_of(url, data_dir)

        def progress(dataset: str, done: int, total: int) -> None:
            say(f"{dataset}: {done:,} of {total:,} reports rewritten")

        moved = migrate_data_dir(folder, index_folder, progress)
        for dataset, count in moved.items():
            if count:
                say(f"{dataset}: {count:,} reports now in index format {INDEX_FORMAT}")
        if not any(moved.values()):
            say(f"{folder}: every index is in this version's format; nothing to migrate")

    @classmethod
    def schema_status(cls, url: str, data_dir: Path, say: Say) -> bool:
        """Each dataset's index format."""
        from shoal.store.embedded.migrate import needs_migration

        folder = folder_of(url, data_dir)
        current = True
        for dataset in DATASETS:
            path = index_folder(folder, dataset)
            found = format_of(path)
            if needs_migration(path):
                current = False
                say(f"{dataset}: index format {found}: run 'shoal db migrate'")
            else:
                say(f"{dataset}: " + ("no index yet" if found is None else f"index format {found} (latest)"))
        return current

    def index(self, dataset: str) -> ReportIndex:
        try:
            return self.indexes[dataset]
        except KeyError:
            raise StoreError(f"unknown dataset {dataset!r}: the datasets are {', '.join(DATASETS)}") from None

    # -- reading ------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        for index in self.indexes.values():
            index.refresh()

    def count(self, dataset: str | None = None) -> int:
        if dataset is None:
            return sum(index.count() for index in self.indexes.values())
        return self.index(dataset).count()

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        return self.index(filters.dataset).search(filters, offset, limit)

    def search_rendered(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> tuple[int, list[bytes]]:
        """``search``, each report as the API JSON the index keeps of it (no decoding, no rendering)."""
        return self.index(filters.dataset).search_rendered(filters, offset, limit)

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        yield from self.index(filters.dataset).iter_matches(filters)

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        return self.index(filters.dataset).summarize(filters, request)

    def known_types(self, dataset: str | None = None) -> frozenset[str]:
        if dataset is None:
            return frozenset().union(*(index.known_types() for index in self.indexes.values()))
        return self.index(dataset).known_types()

    def bodies(self, digests: Iterable[str]) -> dict[str, Body]:
        return self.body_store.get(digests)

    def known_addresses(self) -> dict[str, list[str]]:
        return self.name_store.addresses()

    def open_ports(self, query: PortQuery) -> OpenPorts:
        first = 0 if query.date_from is None else max(0, day_number(query.date_from))
        last = MAX_DAY if query.date_to is None else min(MAX_DAY, day_number(query.date_to))
        if first > last:
            return OpenPorts.empty(query.network.version)
        return self.observations(query.transport).query(query.network, first, last)

    def observations(self, transport: str) -> ObservationStore:
        if transport == "tcp":
            return self.ports
        if transport == "udp":
            return self.udp_ports
        raise StoreError(f"unknown transport {transport!r}: observations are tcp or udp")

    # -- writing ------------------------------------------------------------------------------------------

    prepare = staticmethod(prepare_report)

    def ingest_prepared(self, batch: Sequence[Prepared]) -> IngestResult:
        """Add prepared reports whose ids are new to their datasets, one atomic commit per dataset. Same-id
        reports of a dataset count as duplicates."""
        by_dataset: dict[str, list[Prepared]] = {}
        for prepared in batch:
            by_dataset.setdefault(prepared.dataset, []).append(prepared)
        result = IngestResult()
        for dataset, prepared in by_dataset.items():
            added = self.index(dataset).ingest_prepared(prepared, self.store_beside)
            result.imported += len(added)
            result.duplicates += len(prepared) - len(added)
            result.imported_ids += added
        return result

    def store_beside(self, fresh: list[Prepared]) -> None:
        """What reports about to be committed bring besides themselves: open-port observations and bodies."""
        self.ports.add(*encode([prepared.observation for prepared in fresh if prepared.observation is not None]))
        self.body_store.add(body for prepared in fresh for body in prepared.bodies)

    def ingest_observations(
        self, observations: Iterable[PortObservation | UdpObservation], transport: str = "tcp"
    ) -> IngestResult:
        """Store open-port observations (port-scan results) atomically; ValueError if one is malformed, before
        anything is stored. Counts are of observations: one already stored is a duplicate. ``transport="udp"``
        stores UDP observations, in their own segments."""
        imported, duplicates = self.observations(transport).add(*encode_observations(observations))
        return IngestResult(imported=imported, duplicates=duplicates)

    def ingest_answers(self, answers: Iterable[DnsAnswer]) -> IngestResult:
        """Store forward DNS answers; counts are of answers (one already known is a duplicate)."""
        imported, duplicates = self.name_store.add(answers)
        return IngestResult(imported=imported, duplicates=duplicates)

    def close(self) -> None:
        for index in self.indexes.values():
            index.close()
