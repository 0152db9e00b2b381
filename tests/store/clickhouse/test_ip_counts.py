"""An ``ip=`` search of whole /24s (IPv6: /120s) is counted from ``ip_counts``, kept by a materialized view: per
partition, the counts of the report rows, over several partitions (before 1970 too), reports ingested twice,
IPv4 and IPv6; a narrower network, or a dataset with superseded marks, is counted on the report rows."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import Counter

from shoal.model import PROTOCOLS, Item, Report
from shoal.store.base import EPOCH, Filters
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.compile import selection
from tests.store.test_datasets import successor_of

DAYS = (-40, 0, 32, 700)  # partitions -1, 0, 1, 21
ADDRESSES = (
    "10.1.2.0",
    "10.1.2.1",
    "10.1.2.255",
    "10.1.3.7",
    "10.2.0.1",
    "9.255.255.255",
    "11.0.0.0",
    "2001:db8::1",
    "2001:db8::1:ff",
    "2001:db8::2:0",
    "2001:db9::",
)
NETWORKS = {  # the network, and whether its count comes from ip_counts
    "10.0.0.0/8": True,
    "10.1.0.0/16": True,
    "10.1.2.0/24": True,
    "0.0.0.0/0": True,
    "10.1.2.0/28": False,
    "10.1.2.255/32": False,
    "2001:db8::/32": True,
    "2001:db8::1:0/120": True,
    "2001:db8::/127": False,
    "::/0": False,  # IPv6 only: the range less the IPv4-mapped one (plan.ip_range)
}


def report(address: str, day: int) -> Report:
    items = (Item("ip", address, "", True), Item("port-tcp", "80", "", False))
    return Report(EPOCH + dt.timedelta(days=day), items, f"{address}@{day}", PROTOCOLS)


def test_an_address_search_counts_as_the_report_rows_do(store: ClickHouseStore, statements: list[str]) -> None:
    reports = [report(address, day) for address in ADDRESSES for day in DAYS]
    store.ingest([*reports, Report(EPOCH, (Item("port-tcp", "22", "", False),), "none", PROTOCOLS)])
    store.ingest(reports[:5])  # duplicates: written once
    for text, from_counts in NETWORKS.items():
        network = ipaddress.ip_network(text)
        matches = [r for r in reports if ipaddress.ip_address(r.ip) in network]  # type: ignore[arg-type]
        per_part = Counter(int((r.date - EPOCH).days / 32) for r in matches)
        filters = Filters(ip=network)
        statements.clear()
        assert store.partition_counts(filters, selection(store.layout, filters, False)) == sorted(
            per_part.items(), reverse=True
        ), text
        assert any("ip_counts" in sql for sql in statements) == from_counts, text
        page = store.search(filters, limit=3)
        newest = sorted(((r.date, r.id) for r in matches), reverse=True)[:3]
        assert (page.total, [(r.date, r.id) for r in page.reports]) == (len(matches), newest), text
    store.ingest([successor_of(reports[0], "successor")])
    statements.clear()
    assert store.search(Filters(ip=ipaddress.ip_network("10.1.2.0/24"))).total == 3 * len(DAYS)
    assert not any("ip_counts" in sql for sql in statements)
