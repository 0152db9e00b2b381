"""``ip/summary``'s sources on every engine: the rdns dataset through the store (embedded, chDB, ClickHouse),
the registration book beside it (the same file whatever the engine), the registrable domain by the PSL."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest

from shoal.enrich.network import bundled_table
from shoal.model import RDNS, Item, Report
from shoal.registration.book import RegistrationBook
from shoal.registration.summary import Registrations, registrable_domain
from shoal.store.base import Store
from tests.registration import dumps
from tests.registration.test_importing import imported

ADDRESS = ipaddress.ip_address("198.51.100.7")


def ptr_report(day: str, name: str) -> Report:
    items = (Item("ip", str(ADDRESS), ""), Item("host", name, "dns-ptr"))
    return Report(date=dt.date.fromisoformat(day), items=items, dataset=RDNS)


def test_the_summary_reads_rdns_from_every_engine_and_whois_from_the_book(any_store: Store, tmp_path: Path) -> None:
    any_store.ingest([ptr_report("2026-01-01", "old.example.org"), ptr_report("2026-03-01", "new.example.co.uk")])
    any_store.refresh()
    book = RegistrationBook(tmp_path)
    imported(book, dumps.rpsl(dumps.ORGANISATION, dumps.INETNUM))
    registrations = Registrations(book, any_store, bundled_table)
    assert registrations.summary(ADDRESS, None) == {
        "domain": {"apex_domain": "example.co.uk", "cidr": "198.51.100.7/32", "context": "rdns"},  # the newest PTR
        "entity": {"cidr": "198.51.100.0/24", "context": "net", "name": "Example Networks B.V."},  # no bgp: whois
    }
    assert registrations.summary(ipaddress.ip_address("198.51.100.8"), "rdns") == {}
    book.close()


@pytest.mark.parametrize(
    ("name", "apex"),
    [
        ("host-7.dsl.example.co.uk.", "example.co.uk"),
        ("MAIL.Example.NL", "example.nl"),
        ("ec2-1-2-3-4.compute-1.amazonaws.com", "amazonaws.com"),  # the ICANN section: the operator's domain
        ("co.uk", None),
        ("localhost", None),
    ],
)
def test_the_registrable_domain_comes_from_the_shipped_public_suffix_list(name: str, apex: str | None) -> None:
    assert registrable_domain(name) == apex
