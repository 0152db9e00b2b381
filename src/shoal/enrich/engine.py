"""``enrich_report``: every enabled enricher over one report, as the ingest pipeline's ``transform``.

The registry is data: ``REGISTRY`` lists the enricher classes in the order their items are appended.
``enrich_report`` is module-level and picklable, so worker processes (spawned, never forked) can run it;
each process builds its enrichers from the environment on its first report and keeps them, so data files
are read once per process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from operator import itemgetter

from shoal.enrich.base import (
    ASN_MMDB_VARIABLE,
    CITY_MMDB_VARIABLE,
    DISABLED_VARIABLE,
    Enricher,
    EnrichmentError,
    Settings,
)
from shoal.enrich.geo import GeoCountry
from shoal.enrich.network import NetworkOwner
from shoal.enrich.products import Honeypots, Products
from shoal.model import Item, Report

REGISTRY: tuple[Callable[[Settings], Enricher], ...] = (GeoCountry, NetworkOwner, Products, Honeypots)
NAMES: tuple[str, ...] = tuple(factory.name for factory in REGISTRY)  # type: ignore[attr-defined]

_active: tuple[Enricher, ...] | None = None


def build_enrichers(settings: Settings) -> tuple[Enricher, ...]:
    unknown = settings.disabled - set(NAMES)
    if unknown:
        raise EnrichmentError(f"unknown enrichers {sorted(unknown)} (known: {', '.join(NAMES)})")
    enrichers = tuple(factory(settings) for factory in REGISTRY)
    return tuple(enricher for enricher in enrichers if enricher.name not in settings.disabled)


def active_enrichers() -> tuple[Enricher, ...]:
    """This process's enrichers, built from the environment on first use."""
    global _active
    if _active is None:
        _active = build_enrichers(Settings.from_environment())
    return _active


def configure(
    asn_mmdb: str | os.PathLike[str] | None = None,
    city_mmdb: str | os.PathLike[str] | None = None,
    disabled: Iterable[str] = (),
) -> tuple[Enricher, ...]:
    """Set the operator's choices for this process and the worker processes it starts (through the
    environment, which spawned workers inherit), and rebuild the enrichers."""
    global _active
    for variable, value in ((ASN_MMDB_VARIABLE, asn_mmdb), (CITY_MMDB_VARIABLE, city_mmdb)):
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = os.fspath(value)
    names = ",".join(disabled)
    if names:
        os.environ[DISABLED_VARIABLE] = names
    else:
        os.environ.pop(DISABLED_VARIABLE, None)
    _active = None
    return active_enrichers()


def target_ip(items: tuple[Item, ...]) -> str | None:
    """The scanned address (the ``ip`` item with an empty context); IPv4-mapped IPv6 as plain IPv4."""
    if items and items[0].type == "ip" and not items[0].context:  # where every importer puts it
        ip = items[0].value
    else:
        ip = next((item.value for item in items if item.type == "ip" and not item.context), None)
    if ip is not None and ip[:7].lower() == "::ffff:" and "." in ip:
        return ip[7:]
    return ip


def enrich_report(report: Report) -> Report:
    """The report with every applicable enricher's items appended (``is_metadata: true``), same id and date.

    An enricher is skipped when the report already holds an item of any of its output types; when nothing is
    added the very same object is returned.
    """
    return enrich_with(active_enrichers(), report)


def enrich_with(enrichers: Iterable[Enricher], report: Report) -> Report:
    items = report.items
    present = set(map(_type_of, items))
    ip = target_ip(items)
    added: list[Item] = []
    for enricher in enrichers:
        if enricher.outputs.isdisjoint(present):
            added += enricher.enrich(report, ip)
    if not added:
        return report
    return replace(report, items=(*items, *added))


_type_of = itemgetter(0)  # Item.type
