"""Where the read commands get their answers: a local store (``--data``) or a Shoal server (``shoal login``).

Both take a ``Selection`` (``shoal.request.selection``) and return the API's answers as typed values
(``SearchPage``, ``ValueCounts``, ``PortCounts``, ``IpPortCounts``), so every command renders one way and
prints the same in both modes. The local side turns the selection into the store's filters as the API does
(``Selection.as_filters``), so a bad expression or date fails the same way (and with the same caret) as it would
on the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shoal.model import PROTOCOLS, Report
from shoal.request.answers import (
    Count,
    IpPortCounts,
    PeriodCounts,
    PortCounts,
    SearchPage,
    ValueCounts,
    by_count,
    has_hosts,
)
from shoal.request.export import ExportFormat
from shoal.request.selection import Selection

if TYPE_CHECKING:
    from shoal.client import Client
    from shoal.store.base import Filters, OpenPorts, Store, Summary

EARLIEST = dt.date.min  # a ``from`` before every observation (the port endpoints' default is 30 days)
Day = dt.date | str | None  # a date, or its text as the API reads it


class Backend(Protocol):
    where: str  # said in messages: "the store in DIR" or the server's URL

    def known_types(self) -> frozenset[str]: ...

    def search(self, selection: Selection, page: int, dataset: str = PROTOCOLS) -> SearchPage: ...

    def summarize(
        self, summary_type: str, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> ValueCounts: ...

    def count(self, selection: Selection, dataset: str = PROTOCOLS) -> Count: ...

    def reports(self, selection: Selection, dataset: str = PROTOCOLS) -> Iterator[Report]: ...

    def trend(
        self, interval: str, summary_type: str | None, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> list[PeriodCounts]: ...

    def export(self, selection: Selection, export_format: ExportFormat, dataset: str = PROTOCOLS) -> Export: ...

    def ports(
        self, ip: str, date_from: Day, date_to: Day, per_ip: bool, transport: str = "tcp"
    ) -> PortCounts | IpPortCounts: ...

    def registration(self, ip: str) -> dict[str, dict[str, str]]: ...

    def is_empty(self) -> bool: ...

    def close(self) -> None: ...


class Export(Protocol):
    result_count: int | None  # matches when the export started (None: not known)

    def chunks(self) -> Iterator[bytes]: ...


class LocalBackend:
    def __init__(self, store: Store, where: str, folder: Path) -> None:
        self.store = store
        self.where = where
        self.folder = folder  # the data directory: the registration book's

    def known_types(self) -> frozenset[str]:
        from shoal.request.reading import known_types

        return known_types(self.store)

    def search(self, selection: Selection, page: int, dataset: str = PROTOCOLS) -> SearchPage:
        from shoal.request.params import PAGE
        from shoal.store.base import MAX_PAGES, PAGE_SIZE

        filters = selection.as_filters(self.known_types(), dataset)
        number = PAGE.take(page)
        found = self.store.search(filters, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
        pages = min(-(-found.total // PAGE_SIZE), MAX_PAGES)
        return SearchPage(number, pages, found.total, found.reports)

    def summarize(self, summary_type: str, selection: Selection, limit: int, dataset: str = PROTOCOLS) -> ValueCounts:
        from shoal.request.reading import summary_request

        types = self.known_types()
        filters = selection.as_filters(types, dataset)
        result = self.store.summarize(filters, summary_request(summary_type, types, enterprise=True, limit=limit))
        return ValueCounts(by_count(dict(result.values)), result.other, result.cardinality)

    def trend(
        self, interval: str, summary_type: str | None, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> list[PeriodCounts]:
        from shoal.request.reading import summary_request
        from shoal.trends import trend

        types = self.known_types()
        filters = selection.as_filters(types, dataset)
        summary = None if summary_type is None else summary_request(summary_type, types, enterprise=True, limit=limit)
        today = dt.datetime.now(dt.UTC).date()
        return [
            PeriodCounts(
                period.first,
                period.last,
                period.count,
                None if summary is None else ValueCounts(*summary_counts(period.summary)),
            )
            for period in trend(self.store, filters, interval, summary, today)
        ]

    def count(self, selection: Selection, dataset: str = PROTOCOLS) -> Count:
        """The matches (services with ``most_recent``, else reports) and the distinct hosts they are on."""
        from shoal.model import DATASET_TABLE

        filters = selection.as_filters(self.known_types(), dataset)
        total = self.store.search(filters, offset=0, limit=1).total
        unit = DATASET_TABLE[dataset].unit if selection.most_recent else "report"
        return Count(total, unit, self.store.host_count(filters) if has_hosts(dataset) else None)

    def reports(self, selection: Selection, dataset: str = PROTOCOLS) -> Iterator[Report]:
        """Every match (with ``history`` in the selection, superseded reports too)."""
        return iter(self.store.iter_matches(selection.as_filters(self.known_types(), dataset)))

    def export(self, selection: Selection, export_format: ExportFormat, dataset: str = PROTOCOLS) -> Export:
        return LocalExport(self.store, selection.as_filters(self.known_types(), dataset), export_format)

    def observations(self, ip: str, date_from: Day, date_to: Day, transport: str = "tcp") -> OpenPorts:
        """The open-port observations ``scan/ports`` would summarise (its parameters, its default window)."""
        from shoal.request.params import PORTS_FROM, PORTS_IP, PORTS_TO, PORTS_TRANSPORT
        from shoal.request.reading import port_query_of

        today = dt.datetime.now(dt.UTC).date()
        dates = PORTS_FROM.take(date_from), PORTS_TO.take(date_to)
        query = port_query_of(PORTS_IP.take(ip), *dates, today, PORTS_TRANSPORT.take(transport))
        return self.store.open_ports(query)

    def ports(
        self, ip: str, date_from: Day, date_to: Day, per_ip: bool, transport: str = "tcp"
    ) -> PortCounts | IpPortCounts:
        return port_counts(self.observations(ip, date_from, date_to, transport), per_ip)

    def registration(self, ip: str) -> dict[str, dict[str, str]]:
        """What ``ip/summary`` answers (no ``restrict``), from the data directory's registration book."""
        import ipaddress

        from shoal.enrich.network import bundled_table
        from shoal.registration.book import RegistrationBook
        from shoal.registration.summary import Registrations

        book = RegistrationBook(self.folder)
        try:
            return Registrations(book, self.store, bundled_table).summary(ipaddress.ip_address(ip), None)
        finally:
            book.close()

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def close(self) -> None:
        self.store.close()


class LocalExport:
    def __init__(self, store: Store, filters: Filters, export_format: ExportFormat) -> None:
        self.store, self.filters, self.format = store, filters, export_format
        self.result_count: int | None = store.search(filters, offset=0, limit=1).total

    def chunks(self) -> Iterator[bytes]:
        from shoal.request.export import encode

        return encode(self.store.iter_matches(self.filters), self.format)


class RemoteBackend:
    """A Shoal server through ``shoal.client.Client``. Summaries ask for the cardinality, and do without it
    when the token is not an enterprise one (the server answers 403)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.where = client.base_url
        self.cardinality = True

    def known_types(self) -> frozenset[str]:
        from shoal.query.check import BUILTIN_TYPES

        return frozenset(BUILTIN_TYPES)

    def search(self, selection: Selection, page: int, dataset: str = PROTOCOLS) -> SearchPage:
        return self.client.search(page=page, dataset=dataset, selection=selection)

    def summarize(self, summary_type: str, selection: Selection, limit: int, dataset: str = PROTOCOLS) -> ValueCounts:
        from shoal.errors import Forbidden

        try:
            return self.client.summarize(
                summary_type, dataset=dataset, limit=limit, cardinality=self.cardinality, selection=selection
            )
        except Forbidden:
            if not self.cardinality:
                raise
            self.cardinality = False
            return self.summarize(summary_type, selection, limit, dataset)

    def trend(
        self, interval: str, summary_type: str | None, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> list[PeriodCounts]:
        return self.client.trend(interval, summary_type, dataset=dataset, limit=limit, selection=selection)

    def count(self, selection: Selection, dataset: str = PROTOCOLS) -> Count:
        return self.client.count(dataset=dataset, selection=selection)

    def reports(self, selection: Selection, dataset: str = PROTOCOLS) -> Iterator[Report]:
        """Every match, through the server's export."""
        return self.client.export(dataset=dataset, selection=selection)

    def export(self, selection: Selection, export_format: ExportFormat, dataset: str = PROTOCOLS) -> Export:
        return self.client.open_export(export_format=export_format, dataset=dataset, selection=selection)

    def ports(
        self, ip: str, date_from: Day, date_to: Day, per_ip: bool, transport: str = "tcp"
    ) -> PortCounts | IpPortCounts:
        if per_ip:
            return self.client.ipports(ip, date_from, date_to, transport)
        return self.client.ports(ip, date_from, date_to, transport)

    def registration(self, ip: str) -> dict[str, dict[str, str]]:
        return self.client.ip_summary(ip)

    def is_empty(self) -> bool:
        return False  # a server's emptiness is its operator's business; searches answer 204

    def close(self) -> None:
        self.client.close()


def summary_counts(summary: Summary | None) -> tuple[dict[str, int], int]:
    """A store's summary as the API's values and other (none: nothing matched)."""
    if summary is None:
        return {}, 0
    return by_count(dict(summary.values)), summary.other


def port_counts(found: OpenPorts, per_ip: bool) -> PortCounts | IpPortCounts:
    """What ``scan/ports`` (or, ``per_ip``, ``scan/ipports``) answers for these observations."""
    from shoal.ports import summarize_ip_ports, summarize_ports

    if per_ip:
        summary = summarize_ip_ports(found)
        hosts = {host.ip: PortCounts(dict(host.values), host.other) for host in summary.hosts}
        return IpPortCounts(hosts, summary.other)
    ports = summarize_ports(found)
    return PortCounts(dict(ports.values), ports.other, ports.honeypot)
