"""What an enricher is, and the settings every enricher is built from.

An enricher is a small plug-in: a name, a version (its code and data), where its data comes from and under
which licence, the item types it writes (``outputs``), and ``enrich(report, ip)`` returning the items to add
(all ``is_metadata: true``). It loads its data lazily, on the first report, once per process.

The contract ``enrich_report`` (engine.py) enforces for every enricher: it is skipped for a report that
already holds an item of any of its output types, whatever that item's context or origin. So a report
imported with Driftnet's own enrichment stays exactly as it was, enriching twice adds nothing, and an
enricher never contradicts a value already there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shoal.errors import ShoalError
from shoal.model import Item, Report

ASN_MMDB_VARIABLE = "SHOAL_ASN_MMDB"
CITY_MMDB_VARIABLE = "SHOAL_CITY_MMDB"
DISABLED_VARIABLE = "SHOAL_ENRICHERS_DISABLED"  # comma-separated enricher names


class EnrichmentError(ShoalError):
    """An enricher cannot be set up (e.g. an MMDB path that does not exist or is not an MMDB)."""

    status = 500
    code = "enrichment"


@dataclass(frozen=True, slots=True)
class Settings:
    """Operator choices, read from the environment so that worker processes (spawned) see the same ones."""

    asn_mmdb: Path | None = None
    city_mmdb: Path | None = None
    disabled: frozenset[str] = frozenset()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        asn, city = environ.get(ASN_MMDB_VARIABLE), environ.get(CITY_MMDB_VARIABLE)
        disabled = frozenset(name.strip() for name in environ.get(DISABLED_VARIABLE, "").split(",") if name.strip())
        return cls(Path(asn) if asn else None, Path(city) if city else None, disabled)


class Enricher(Protocol):
    name: str
    outputs: frozenset[str]

    @property
    def version(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def licence(self) -> str: ...

    def enrich(self, report: Report, ip: str | None) -> Sequence[Item]:
        """Items to add (never an item of a type outside ``outputs``); ``ip`` is the scanned address."""
        ...


def package_version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


class BoundedCache(dict[str, object]):
    """A dict emptied when it reaches ``limit`` entries: per-process memoisation of per-address lookups."""

    def __init__(self, limit: int = 200_000) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: str, value: object) -> None:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
