"""geo-country: the ISO 3166-1 alpha-2 country of the scanned address.

Default source: ``iptocc`` (MIT OR Apache-2.0), whose wheel embeds the five Regional Internet Registries'
delegated statistics, refreshed with every release: the country the block is *registered* to, offline,
~100 ns a lookup. With ``SHOAL_CITY_MMDB`` (a MaxMind-format City or Country database) the database's
``country`` (where the address is used) is taken instead, falling back to ``registered_country``.
Private, loopback and unallocated addresses get no item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shoal.enrich.base import BoundedCache, Settings, package_version
from shoal.enrich.mmdb import MmdbDatabase, country_of
from shoal.model import Item, Report

OUTPUTS = frozenset({"geo-country"})


class GeoCountry:
    name = "geo-country"
    outputs = OUTPUTS

    def __init__(self, settings: Settings) -> None:
        self.city_mmdb = settings.city_mmdb
        self._lookup: Callable[[str], str | None] | None = None
        self._database: MmdbDatabase | None = None
        self._cache = BoundedCache()
        self._items: dict[str, tuple[Item, ...]] = {}  # one shared item per country

    @property
    def version(self) -> str:
        if self.city_mmdb is not None:
            return self.database().version
        return f"iptocc {package_version('iptocc')}"

    @property
    def source(self) -> str:
        if self.city_mmdb is not None:
            return f"MMDB {self.city_mmdb} (operator-supplied)"
        return "RIR delegated statistics (AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC), embedded in iptocc"

    @property
    def licence(self) -> str:
        if self.city_mmdb is not None:
            return "the database's own licence"
        return "iptocc: MIT OR Apache-2.0; RIR statistics: public (NRO: CC BY 4.0)"

    def database(self) -> MmdbDatabase:
        if self._database is None:
            assert self.city_mmdb is not None
            self._database = MmdbDatabase(self.city_mmdb)
        return self._database

    def lookup(self, ip: str) -> str | None:
        if self._lookup is None:  # first report in this process: iptocc is ~100 ns, an MMDB is cached
            self._lookup = self._mmdb_country if self.city_mmdb is not None else _iptocc()
        return self._lookup(ip)

    def _mmdb_country(self, ip: str) -> str | None:
        cached = self._cache.get(ip, self)
        if cached is self:
            record = self.database().get(ip)
            cached = country_of(record) if record is not None else None
            self._cache.remember(ip, cached)
        return cached  # type: ignore[return-value]

    def enrich(self, report: Report, ip: str | None) -> Sequence[Item]:
        if ip is None:
            return ()
        country = self.lookup(ip)
        if not country:
            return ()
        items = self._items.get(country)
        if items is None:
            items = self._items[country] = (Item("geo-country", country, "", True),)
        return items


def _iptocc() -> Callable[[str], str | None]:
    from iptocc import country_code

    def lookup(ip: str) -> str | None:
        try:
            code = country_code(ip)
        except (ValueError, TypeError):
            return None
        return code if isinstance(code, str) and len(code) == 2 and code.isalpha() else None

    return lookup
