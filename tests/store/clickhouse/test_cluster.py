"""What only a real cluster shows (2 shards × 2 replicas of ClickHouse 18.16, ``scripts/clickhouse-cluster.sh``):
most_recent across shards, a replica killed with SIGKILL, retried inserts."""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from collections.abc import Iterator

import pytest

from shoal.errors import StoreError
from shoal.model import Item, Report
from shoal.store.base import Filters, SummaryRequest
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import HttpClient, rows
from tests.engines import TEST_PORT_BASE, Cluster, cluster_store, drop

pytestmark = pytest.mark.slow


def http_host(node: int) -> str:
    return f"127.0.0.1:{int(TEST_PORT_BASE) + 23 + node}"


def report(report_id: str, day: int, ip: str = "192.0.2.7", port: int = 443) -> Report:
    items = (Item("ip", ip, "", True), Item("port-tcp", str(port), "", True), Item("title", f"day {day}"))
    return Report(date=dt.date(2026, 11, day), items=items, id=report_id)


@pytest.fixture
def store(clickhouse_cluster: Cluster) -> Iterator[ClickHouseStore]:
    opened = cluster_store(clickhouse_cluster)
    yield opened
    drop(opened)


def ids_on_node(store: ClickHouseStore, node: int) -> set[str]:
    client = HttpClient([http_host(node)])
    try:
        return {row["id"] for row in rows(client, f"SELECT id FROM {store.database}.reports_local")}
    finally:
        client.close()


def test_reports_and_their_items_are_sharded_by_id_and_replicated(store: ClickHouseStore) -> None:
    store.ingest([report(f"r{n:03d}", 1 + n % 28, ip=f"192.0.2.{n}") for n in range(60)])
    shard_one, shard_two = ids_on_node(store, 0), ids_on_node(store, 2)
    assert shard_one and shard_two and not shard_one & shard_two
    assert len(shard_one | shard_two) == 60
    assert ids_on_node(store, 1) == shard_one and ids_on_node(store, 3) == shard_two  # insert_quorum=2
    summary = store.summarize(Filters(), SummaryRequest("title", limit=1))
    assert summary.cardinality == 28 and summary.other + summary.values[0][1] == 60


def test_most_recent_keeps_the_newest_of_one_ip_port_held_by_both_shards(store: ClickHouseStore) -> None:
    reports = [report(f"t{n:03d}", 1 + n) for n in range(20)]  # one ip:port, twenty days
    store.ingest(reports)
    on_one, on_two = ids_on_node(store, 0), ids_on_node(store, 2)
    assert on_one and on_two  # the identity's reports are on both shards
    page = store.search(Filters(most_recent=True))
    assert page.total == 1 and [r.id for r in page.reports] == ["t019"]
    assert store.summarize(Filters(most_recent=True), SummaryRequest("title")).values == [("day 20", 1)]
    assert [r.id for r in store.iter_matches(Filters(most_recent=True))] == ["t019"]


def test_a_retried_insert_stores_nothing_twice(store: ClickHouseStore) -> None:
    """The same block sent again (a client that timed out and retried) is deduplicated by the replicas — and so
    not counted again into ``ip_counts`` by its materialized view — and the same reports ingested again are
    recognised by id."""
    prepared = [store.prepare(report(f"x{n:03d}", 1 + n % 5, ip=f"198.51.100.{n}")) for n in range(50)]
    assert store.ingest_prepared(prepared).imported == 50
    settings = store.write_settings()
    for _ in range(2):  # the raw blocks again, past the id check
        store.client.insert(store.table("items"), b"".join(p.item_rows for p in prepared), settings)
        store.client.insert(store.table("reports"), b"".join(p.report_row for p in prepared), settings)
    assert store.count() == 50
    assert store.search(Filters()).total == 50
    assert store.search(Filters(ip=ipaddress.ip_network("198.51.100.0/24"))).total == 50  # counted from ip_counts
    summary = store.summarize(Filters(), SummaryRequest("title"))
    assert summary.cardinality == 5 and sum(count for _, count in summary.values) == 50
    retried = store.ingest_prepared(prepared)
    assert (retried.imported, retried.duplicates) == (0, 50)


def test_a_replica_killed_mid_ingest_loses_nothing_acknowledged(clickhouse_cluster: Cluster) -> None:
    """SIGKILL a replica while batches are written: each batch is either acknowledged (then on both replicas of
    its shard) or refused with a StoreError; queries keep answering, through the hosts that live, with every
    acknowledged report; once the replica is back, writes are acknowledged again."""
    primary = cluster_store(clickhouse_cluster)
    store = ClickHouseStore(HttpClient([http_host(1), http_host(0)]), primary.database, cluster="shoal")
    store.quorum_timeout_ms = 3_000
    acknowledged: list[str] = []
    refused = 0
    try:
        for batch in range(4):
            if batch == 2:
                clickhouse_cluster.control("kill", "1")  # the URL's first host, a replica of shard 1
            reports = [report(f"k{batch}-{n:03d}", 1 + batch, ip=f"203.0.113.{n}") for n in range(40)]
            try:
                store.ingest(reports)
            except StoreError:
                refused += 1
                continue
            acknowledged += [r.id for r in reports]
        assert refused >= 1 and len(acknowledged) >= 80
        assert set(acknowledged) <= {r.id for r in store.iter_matches(Filters())}
        assert store.search(Filters(most_recent=True)).total == 40  # one per ip:port, across both shards
        clickhouse_cluster.control("revive", "1")
        deadline = time.monotonic() + 60
        while True:  # the replica rejoins once ZooKeeper has expired its old session
            try:
                store.ingest([report("after-revive", 9)])
                break
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert set(acknowledged) | {"after-revive"} <= {r.id for r in store.iter_matches(Filters())}
    finally:
        clickhouse_cluster.control("revive", "1")
        store.close()
        drop(primary)
