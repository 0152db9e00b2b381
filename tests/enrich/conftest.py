"""Helpers for the enrichment tests: reports to enrich, and tiny MMDB files written by the test itself."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shoal.enrich import engine
from shoal.enrich.base import ASN_MMDB_VARIABLE, CITY_MMDB_VARIABLE, DISABLED_VARIABLE
from shoal.model import Item, Report


def target(ip: str, port: int, *items: Item, day: int = 20, report_id: str | None = None) -> Report:
    """A report of ip:port with the given observed items (as a collector or importer would build it)."""
    head = (Item("ip", ip, "", True), Item("port-tcp", str(port), "", True))
    return Report(date=dt.date(2026, 11, day), items=head + items, id=report_id or f"{ip}-{port}-{day}")


def of_type(report: Report, item_type: str) -> list[str]:
    return [item.value for item in report.items if item.type == item_type]


def write_mmdb(path: Path, database_type: str, networks: dict[str, dict[str, Any]]) -> Path:
    """An MMDB (IPv6 tree with IPv4 mapped in, like MaxMind's) holding one record per CIDR."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=database_type, description="Shoal test")
    for cidr, record in networks.items():
        writer.insert_network(IPSet([cidr]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture(autouse=True)
def fresh_enrichers() -> Iterator[None]:
    """Each test starts from the environment's defaults and leaves them as it found them."""
    saved = {name: os.environ.get(name) for name in (ASN_MMDB_VARIABLE, CITY_MMDB_VARIABLE, DISABLED_VARIABLE)}
    for name in saved:
        os.environ.pop(name, None)
    engine._active = None
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    engine._active = None
