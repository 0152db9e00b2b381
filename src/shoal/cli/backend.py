"""Where the read commands get their answers: a local store (``--data``) or a Shoal server (``shoal login``).

Both speak the API's parameters (``shoal.results.Selection``) and return the API's answers as typed values
(``SearchPage``, ``ValueCounts``, ``PortCounts``, ``IpPortCounts``), so every command renders one way and
prints the same in both modes. The local side parses the parameters with the API's own parser, so a bad
expression or date fails the same way (and with the same caret) as it would on the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

from shoal.model import PROTOCOLS, Report
from shoal.results import IpPortCounts, PortCounts, SearchPage, Selection, ValueCounts, by_count, selection_params

if TYPE_CHECKING:
    from shoal.client import Client
    from shoal.store.base import OpenPorts, Store

ExportFormat = Literal["ndjson", "csv"]
EARLIEST = dt.date.min.isoformat()  # a ``from`` before every observation (the port endpoints' default is 30 days)


class Backend(Protocol):
    where: str  # said in messages: "the store in DIR" or the server's URL

    def known_types(self) -> frozenset[str]: ...

    def search(self, expression: str, selection: Selection, page: int, dataset: str = PROTOCOLS) -> SearchPage: ...

    def summarize(
        self, summary_type: str, expression: str, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> ValueCounts: ...

    def reports(self, expression: str, selection: Selection, dataset: str = PROTOCOLS) -> Iterator[Report]: ...

    def export(
        self, expression: str, selection: Selection, export_format: ExportFormat, dataset: str = PROTOCOLS
    ) -> Export: ...

    def ports(self, ip: str, date_from: str | None, date_to: str | None, per_ip: bool) -> PortCounts | IpPortCounts: ...

    def is_empty(self) -> bool: ...

    def close(self) -> None: ...


class Export(Protocol):
    result_count: int | None  # matches when the export started (None: not known)

    def chunks(self) -> Iterator[bytes]: ...


class LocalBackend:
    def __init__(self, store: Store, where: str) -> None:
        self.store = store
        self.where = where

    def known_types(self) -> frozenset[str]:
        """As the API's: the built-in types and those the store holds (``shoal.api.deps.known_types``)."""
        from shoal.query.check import BUILTIN_TYPES

        return frozenset(BUILTIN_TYPES) | self.store.known_types()

    def _filters(self, pairs: list[tuple[str, str]], dataset: str) -> Any:
        from starlette.datastructures import QueryParams

        from shoal.api.params import dataset_filters

        return dataset_filters(QueryParams(pairs), self.known_types(), dataset)

    def search(self, expression: str, selection: Selection, page: int, dataset: str = PROTOCOLS) -> SearchPage:
        from starlette.datastructures import QueryParams

        from shoal.api.params import page_of
        from shoal.store.base import MAX_PAGES, PAGE_SIZE

        pairs = [*selection_params(expression, selection), ("page", str(page))]
        filters = self._filters(pairs, dataset)
        number = page_of(QueryParams(pairs))
        found = self.store.search(filters, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
        pages = min(-(-found.total // PAGE_SIZE), MAX_PAGES)
        return SearchPage(number, pages, found.total, found.reports)

    def summarize(
        self, summary_type: str, expression: str, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> ValueCounts:
        from starlette.datastructures import QueryParams

        from shoal.api.params import summary_of

        pairs = [*selection_params(expression, selection), ("summarize", summary_type), ("summary_limit", str(limit))]
        filters = self._filters(pairs, dataset)
        request = summary_of(QueryParams(pairs), self.known_types(), enterprise=True)
        assert request is not None  # summarize is given
        result = self.store.summarize(filters, request)
        return ValueCounts(by_count(dict(result.values)), result.other, result.cardinality)

    def reports(self, expression: str, selection: Selection, dataset: str = PROTOCOLS) -> Iterator[Report]:
        """Every match (with ``history`` in the selection, superseded reports too)."""
        return iter(self.store.iter_matches(self._filters(selection_params(expression, selection), dataset)))

    def export(
        self, expression: str, selection: Selection, export_format: ExportFormat, dataset: str = PROTOCOLS
    ) -> Export:
        filters = self._filters(selection_params(expression, selection), dataset)
        return LocalExport(self.store, filters, export_format)

    def observations(self, ip: str, date_from: str | None, date_to: str | None) -> OpenPorts:
        """The open-port observations ``scan/ports`` would summarise (its parameters, its default window)."""
        from starlette.datastructures import QueryParams

        from shoal.api.params import port_query_of

        pairs = [("ip", ip)] + [(name, value) for name, value in (("from", date_from), ("to", date_to)) if value]
        return self.store.open_ports(port_query_of(QueryParams(pairs), dt.datetime.now(dt.UTC).date()))

    def ports(self, ip: str, date_from: str | None, date_to: str | None, per_ip: bool) -> PortCounts | IpPortCounts:
        return port_counts(self.observations(ip, date_from, date_to), per_ip)

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def close(self) -> None:
        self.store.close()


class LocalExport:
    def __init__(self, store: Store, filters: Any, export_format: ExportFormat) -> None:
        self.store, self.filters, self.format = store, filters, export_format
        self.result_count: int | None = store.search(filters, offset=0, limit=1).total

    def chunks(self) -> Iterator[bytes]:
        from shoal.api.routes.export import encode

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

    def search(self, expression: str, selection: Selection, page: int, dataset: str = PROTOCOLS) -> SearchPage:
        return self.client.search(expression, page=page, dataset=dataset, **selection)

    def summarize(
        self, summary_type: str, expression: str, selection: Selection, limit: int, dataset: str = PROTOCOLS
    ) -> ValueCounts:
        from shoal.errors import Forbidden

        try:
            return self.client.summarize(
                summary_type, expression, dataset=dataset, limit=limit, cardinality=self.cardinality, **selection
            )
        except Forbidden:
            if not self.cardinality:
                raise
            self.cardinality = False
            return self.summarize(summary_type, expression, selection, limit, dataset)

    def reports(self, expression: str, selection: Selection, dataset: str = PROTOCOLS) -> Iterator[Report]:
        """Every match, through the server's export."""
        return self.client.export(expression, dataset=dataset, **selection)

    def export(
        self, expression: str, selection: Selection, export_format: ExportFormat, dataset: str = PROTOCOLS
    ) -> Export:
        return self.client.open_export(expression, export_format=export_format, dataset=dataset, **selection)

    def ports(self, ip: str, date_from: str | None, date_to: str | None, per_ip: bool) -> PortCounts | IpPortCounts:
        if per_ip:
            return self.client.ipports(ip, date_from, date_to)
        return self.client.ports(ip, date_from, date_to)

    def is_empty(self) -> bool:
        return False  # a server's emptiness is its operator's business; searches answer 204

    def close(self) -> None:
        self.client.close()


def port_counts(found: OpenPorts, per_ip: bool) -> PortCounts | IpPortCounts:
    """What ``scan/ports`` (or, ``per_ip``, ``scan/ipports``) answers for these observations."""
    from shoal.ports import summarize_ip_ports, summarize_ports

    if per_ip:
        summary = summarize_ip_ports(found)
        hosts = {host.ip: PortCounts(dict(host.values), host.other) for host in summary.hosts}
        return IpPortCounts(hosts, summary.other)
    ports = summarize_ports(found)
    return PortCounts(dict(ports.values), ports.other, ports.honeypot)
