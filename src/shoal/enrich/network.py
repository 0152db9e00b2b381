"""entity and asn: the organisation announcing the scanned address, and its autonomous system number.

A ``NetworkProvider`` maps an address to ``(asn, organisation)``. Two ship:

- ``BundledTable`` (default): the offline snapshot in ``data/asn-table.xz`` (see asntable.py), built from
  ``@ip-location-db/asn`` — RouteViews BGP data and the RIRs' statistics for the AS number, DB-IP's
  IP-to-ASN Lite for the organisation name; CC BY 4.0, attribution in docs/enrichment.md.
- ``MmdbProvider``: an operator-supplied ASN database in MaxMind format (``SHOAL_ASN_MMDB``), which replaces
  the bundled table entirely.

Values follow the corpus: ``asn`` is the bare number (``"15169"``), ``entity`` the AS organisation's
name (``"Google LLC"``). The AS organisation is who routes the block, usually but not always who holds it
(a customer's assignment inside a provider's block shows the provider).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Protocol

from shoal.enrich import asntable
from shoal.enrich.base import BoundedCache, Settings
from shoal.enrich.mmdb import MmdbDatabase, asn_of
from shoal.model import Item, Report

OUTPUTS = frozenset({"entity", "asn"})
Network = tuple[str, str]  # (ASN digits, organisation; "" when unknown)


class NetworkProvider(Protocol):
    version: str
    source: str
    licence: str

    def lookup(self, ip: str) -> Network | None: ...


class BundledTable:
    """The shipped snapshot; loaded (0.3–0.8 s, ~37 MB) on the first lookup in each process."""

    def __init__(self) -> None:
        metadata = asntable.read_metadata()
        self.version = f"snapshot {metadata.get('date', 'unknown')}"
        self.source = str(metadata.get("source", asntable.SOURCE))
        self.licence = str(metadata.get("licence", asntable.LICENCE))

    def lookup(self, ip: str) -> Network | None:
        found = bundled_table().lookup(ip)
        return (str(found.asn), found.organisation) if found is not None and found.asn else None


@functools.cache
def bundled_table() -> asntable.AsnTable:
    """The shipped table, loaded once per process."""
    return asntable.load_table()


class MmdbProvider:
    def __init__(self, database: MmdbDatabase) -> None:
        self.database = database
        self.version = database.version
        self.source = f"MMDB {database.path} (operator-supplied)"
        self.licence = "the database's own licence"

    def lookup(self, ip: str) -> Network | None:
        record = self.database.get(ip)
        return asn_of(record) if record is not None else None


class NetworkOwner:
    """The ``entity`` + ``asn`` enricher over any provider, caching per address (IPs recur across ports/days)."""

    name = "entity"
    outputs = OUTPUTS

    def __init__(self, settings: Settings, provider: NetworkProvider | None = None) -> None:
        self.asn_mmdb = settings.asn_mmdb
        self._provider = provider
        self._items = BoundedCache()  # address -> the items to add

    def provider(self) -> NetworkProvider:
        if self._provider is None:
            self._provider = MmdbProvider(MmdbDatabase(self.asn_mmdb)) if self.asn_mmdb else BundledTable()
        return self._provider

    @property
    def version(self) -> str:
        return self.provider().version

    @property
    def source(self) -> str:
        return self.provider().source

    @property
    def licence(self) -> str:
        return self.provider().licence

    def lookup(self, ip: str) -> Network | None:
        return self.provider().lookup(ip)

    def enrich(self, report: Report, ip: str | None) -> Sequence[Item]:
        if ip is None:
            return ()
        items = self._items.get(ip)
        if items is None:
            found = self.lookup(ip)
            items = () if found is None else _items_of(*found)
            self._items.remember(ip, items)
        return items  # type: ignore[return-value]


def _items_of(asn: str, organisation: str) -> tuple[Item, ...]:
    entity = (Item("entity", organisation, "", True),) if organisation else ()
    return (*entity, Item("asn", asn, "", True))
