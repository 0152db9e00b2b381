"""Operator-supplied MaxMind-format databases (``.mmdb``), read with the ``maxminddb`` package.

Shoal ships no MMDB and downloads none. An operator who has one (MaxMind GeoLite2/GeoIP2 ASN, City or
Country; IPinfo Lite; DB-IP Lite in MMDB form; any database in the same format) points Shoal at it with
``SHOAL_ASN_MMDB`` / ``SHOAL_CITY_MMDB`` or the ``--asn-mmdb`` / ``--city-mmdb`` options, and is bound by
that database's own licence. Both common record shapes are understood:

- MaxMind: ``{"autonomous_system_number": 15169, "autonomous_system_organization": "Google LLC"}`` and
  ``{"country": {"iso_code": "US"}, "registered_country": {...}}``;
- IPinfo Lite: ``{"asn": "AS15169", "as_name": "Google LLC", "country_code": "US"}``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from shoal.enrich.base import EnrichmentError


class MmdbDatabase:
    """An opened database (memory-mapped), with a description for ``shoal enrichers``."""

    def __init__(self, path: Path) -> None:
        import maxminddb

        try:
            self.reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
        except (OSError, ValueError, RuntimeError) as exc:  # maxminddb's InvalidDatabaseError is a RuntimeError
            raise EnrichmentError(f"cannot open MMDB {path}: {exc}") from exc
        self.path = path
        metadata = self.reader.metadata()
        self.database_type = str(metadata.database_type)
        self.built = dt.datetime.fromtimestamp(metadata.build_epoch, dt.UTC).date().isoformat()

    @property
    def version(self) -> str:
        return f"{self.database_type} built {self.built}"

    def get(self, ip: str) -> dict[str, Any] | None:
        try:
            record = self.reader.get(ip)
        except ValueError:  # not an IP address
            return None
        return record if isinstance(record, dict) else None


def asn_of(record: dict[str, Any]) -> tuple[str, str] | None:
    """(ASN digits, organisation) from a MaxMind or IPinfo record, or None."""
    number = record.get("autonomous_system_number", record.get("asn"))
    name = record.get("autonomous_system_organization", record.get("as_name", ""))
    if number is None:
        return None
    digits = str(number).upper().removeprefix("AS")
    if not digits.isdigit():
        return None
    return digits, str(name or "")


def country_of(record: dict[str, Any]) -> str | None:
    """ISO 3166 alpha-2 code: where the address is used (``country``), else where it is registered."""
    for key in ("country", "registered_country"):
        part = record.get(key)
        if isinstance(part, dict) and isinstance(part.get("iso_code"), str):
            return str(part["iso_code"]).upper()
    code = record.get("country_code")
    return code.upper() if isinstance(code, str) and len(code) == 2 else None
