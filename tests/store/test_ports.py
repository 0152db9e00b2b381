"""Open-port observations: counts, dedup, windows, CIDRs, IPv6 (every engine); the embedded engine's segments:
partitions, merges, durability."""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest

from shoal.errors import StoreError
from shoal.ingest.jsonl import Rejected, decode_chunk, read_chunks
from shoal.ingest.pipeline import ingest_chunks, ingest_stream
from shoal.model import Item, PortObservation, Report
from shoal.store.base import OpenPorts, PortQuery, Store, day_number
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.ports import FANIN, ObservationStore, by_week, level, v4_keys
from tests.engines import ENGINE_NAMES, drop, open_engine

DAY = dt.date(2026, 11, 2)  # a Monday; days since 1970 // 7 changes on Thursdays


def days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def table(found: OpenPorts) -> dict[str, dict[int, int]]:
    """{ip: {port: count}} of a query's answer."""
    result: dict[str, dict[int, int]] = {}
    for host, port, count in zip(found.hosts, found.ports.tolist(), found.counts.tolist(), strict=True):
        result.setdefault(found.host_text(host), {})[port] = count
    return result


def query(store: Store, network: str, date_from: dt.date | None = None, date_to: dt.date | None = None):
    return table(store.open_ports(PortQuery(ipaddress.ip_network(network, strict=False), date_from, date_to)))


@pytest.fixture(params=ENGINE_NAMES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_engine(request.param, request, tmp_path / "store")
    yield opened
    drop(opened)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(tmp_path)
    yield opened
    opened.close()


def observation_count(store: Store) -> int:
    """Observations stored (one per ip, port and day), of both families."""
    everything = [PortQuery(ipaddress.ip_network(network)) for network in ("0.0.0.0/0", "::/0")]
    return sum(int(store.open_ports(query).counts.sum()) for query in everything)


def test_one_observation_per_ip_port_day(store: Store) -> None:
    batch = [
        PortObservation("1.2.3.4", 80, DAY),
        PortObservation("1.2.3.4", 80, DAY),  # the same fact twice in one batch
        PortObservation("1.2.3.4", 80, days(1)),
        PortObservation("1.2.3.4", 443, DAY),
        PortObservation("1.2.3.5", 22, DAY),
    ]
    first = store.ingest_observations(batch)
    assert (first.imported, first.duplicates) == (4, 1)
    again = store.ingest_observations([*batch, PortObservation("1.2.3.5", 22, days(2))])
    assert (again.imported, again.duplicates) == (1, 5)
    assert query(store, "1.2.3.4") == {"1.2.3.4": {80: 2, 443: 1}}
    assert query(store, "1.2.3.0/24") == {"1.2.3.4": {80: 2, 443: 1}, "1.2.3.5": {22: 2}}
    assert observation_count(store) == 5


def test_cidr_bounds_are_exact(store: Store) -> None:
    addresses = ["9.255.255.255", "10.0.0.0", "10.0.0.255", "10.0.1.0", "10.255.255.255", "11.0.0.0"]
    store.ingest_observations([PortObservation(ip, 80, DAY) for ip in addresses])
    assert list(query(store, "10.0.0.0/24")) == ["10.0.0.0", "10.0.0.255"]
    assert list(query(store, "10.0.0.77/8")) == ["10.0.0.0", "10.0.0.255", "10.0.1.0", "10.255.255.255"]
    assert list(query(store, "255.255.255.255")) == []
    assert len(query(store, "0.0.0.0/0")) == 6


def test_windows_are_inclusive(store: Store) -> None:
    store.ingest_observations([PortObservation("8.8.8.8", 53, days(n)) for n in range(0, 40, 2)])
    assert query(store, "8.8.8.8") == {"8.8.8.8": {53: 20}}
    assert query(store, "8.8.8.8", days(2), days(6)) == {"8.8.8.8": {53: 3}}
    assert query(store, "8.8.8.8", days(3), days(3)) == {}
    assert query(store, "8.8.8.8", None, days(0)) == {"8.8.8.8": {53: 1}}
    assert query(store, "8.8.8.8", days(38), None) == {"8.8.8.8": {53: 1}}
    assert query(store, "8.8.8.8", days(9), days(1)) == {}


def test_ipv6_is_separate_and_exact(store: Store) -> None:
    store.ingest_observations(
        [
            PortObservation("2001:db8::", 22, DAY),  # trailing zero bytes survive the round trip
            PortObservation("2001:db8::1", 443, DAY),
            PortObservation("2001:db8:0:1::1", 443, days(1)),
            PortObservation("2001:db9::1", 80, DAY),
            PortObservation("::ffff:1.2.3.4", 8080, DAY),  # an IPv6 address, not 1.2.3.4
            PortObservation("1.2.3.4", 80, DAY),
        ]
    )
    assert query(store, "2001:db8::/32") == {
        "2001:db8::": {22: 1},
        "2001:db8::1": {443: 1},
        "2001:db8:0:1::1": {443: 1},
    }
    assert query(store, "2001:db8::/64") == {"2001:db8::": {22: 1}, "2001:db8::1": {443: 1}}
    assert query(store, "2001:db8::") == {"2001:db8::": {22: 1}}
    assert query(store, "1.2.3.4") == {"1.2.3.4": {80: 1}}
    assert query(store, "::ffff:1.2.3.4") == {"::ffff:1.2.3.4": {8080: 1}}


def test_reports_are_observations(store: Store) -> None:
    def report(report_id: str, date: dt.date, ip: str, port: str | None) -> Report:
        items = [Item("ip", ip, "", True), Item("title", "x")]
        if port is not None:
            items.append(Item("port-tcp", port, "", True))
        return Report(date=date, id=report_id, items=tuple(items))

    reports = [
        report("a", DAY, "192.0.2.1", "443"),
        report("b", DAY, "192.0.2.1", "443"),  # another report of the same ip:port:day: one observation
        report("c", days(1), "192.0.2.1", "443"),
        report("d", DAY, "192.0.2.2", None),  # no port: no observation
        report("e", dt.date(1969, 12, 31), "192.0.2.3", "80"),  # before 1970: stored, not observed
        report("f", DAY, "2001:db8::5", "8443"),
    ]
    result = store.ingest(reports)
    assert result.imported == 6
    assert query(store, "192.0.2.0/24", dt.date(1900, 1, 1)) == {"192.0.2.1": {443: 2}}
    assert query(store, "2001:db8::/32") == {"2001:db8::5": {8443: 1}}
    assert store.ingest(reports).duplicates == 6
    assert observation_count(store) == 3


def test_duplicate_report_ids_add_no_observation(store: Store) -> None:
    original = Report(date=DAY, id="same", items=(Item("ip", "192.0.2.9", "", True), Item("port-tcp", "80", "", True)))
    store.ingest([original])
    moved = Report(date=DAY, id="same", items=(Item("ip", "192.0.2.10", "", True), Item("port-tcp", "81", "", True)))
    assert store.ingest([moved]).duplicates == 1
    assert query(store, "192.0.2.0/24") == {"192.0.2.9": {80: 1}}


def test_reports_decoded_in_worker_processes_record_observations(store: Store) -> None:
    lines = [
        orjson.dumps(
            {
                "date": DAY.isoformat(),
                "items": [
                    {"type": "ip", "value": f"192.0.2.{n}", "is_metadata": True},
                    {"type": "port-tcp", "value": "443", "is_metadata": True},
                ],
            }
        )
        for n in range(1, 6)
    ]
    chunks = read_chunks(io.BytesIO(b"\n".join(lines) + b"\n"), "in", lines_per_chunk=2)
    totals = ingest_chunks(store, chunks, decode_chunk, workers=1)
    assert totals.imported == 5
    assert query(store, "192.0.2.0/24") == {f"192.0.2.{n}": {443: 1} for n in range(1, 6)}


def test_one_stream_may_mix_reports_and_observations(store: Store) -> None:
    report = Report(date=DAY, id="r", items=(Item("ip", "192.0.2.1", "", True), Item("port-tcp", "22", "", True)))
    records = [report, PortObservation("192.0.2.1", 22, DAY), PortObservation("192.0.2.1", 80, DAY)]
    totals = ingest_stream(store, [*records, Rejected("x", 4, "bad")], batch_size=2)
    assert (totals.imported, totals.duplicates, len(totals.rejected)) == (2, 1, 1)  # the report and :80; :22 again
    assert query(store, "192.0.2.1") == {"192.0.2.1": {22: 1, 80: 1}}


def test_malformed_observations_store_nothing(store: Store) -> None:
    for bad in (
        PortObservation("1.2.3.999", 80, DAY),
        PortObservation("1.2.3.4", 70000, DAY),
        PortObservation("1.2.3.4", 80, dt.date(1960, 1, 1)),
    ):
        with pytest.raises(ValueError):
            store.ingest_observations([PortObservation("1.2.3.4", 22, DAY), bad])
    assert observation_count(store) == 0


def test_batches_are_partitioned_by_week(embedded: EmbeddedStore) -> None:
    embedded.ingest_observations([PortObservation("1.1.1.1", 53, days(n)) for n in range(21)])
    weeks = sorted(segment.week for segment in embedded.ports.segments())
    assert weeks == sorted({day_number(days(n)) // 7 for n in range(21)})
    keys = np.sort(v4_keys(np.array([5, 1, 3]), np.array([80, 80, 80]), np.array([0, 7, 14])))
    assert [(week, len(part)) for week, part in by_week(4, keys)] == [(0, 1), (1, 1), (2, 1)]


def test_small_batches_merge_and_keep_every_observation(embedded: EmbeddedStore) -> None:
    for port in range(1, 41):
        embedded.ingest_observations([PortObservation(f"10.0.0.{n}", port, DAY) for n in range(1, 51)])
    assert len(embedded.ports.segments()) < FANIN
    assert embedded.ports.count() == 2000
    found = query(embedded, "10.0.0.0/24")
    assert len(found) == 50 and all(ports == {port: 1 for port in range(1, 41)} for ports in found.values())
    assert sorted(path.name for path in embedded.ports.path.glob("*.npy")) == sorted(
        segment.name for segment in embedded.ports.segments()
    )


def test_a_week_is_compacted_when_a_later_week_is_written(embedded: EmbeddedStore) -> None:
    for n in range(3):  # three batches in one week: three segments (no tier is full)
        embedded.ingest_observations([PortObservation("10.0.0.1", 80 + n, DAY)])
    assert len(embedded.ports.segments()) == 3
    embedded.ingest_observations([PortObservation("10.0.0.1", 80, DAY - dt.timedelta(days=7))])  # an older week
    assert len(embedded.ports.segments()) == 4
    embedded.ingest_observations([PortObservation("10.0.0.1", 80, days(7))])
    assert sorted(segment.rows for segment in embedded.ports.segments()) == [1, 1, 3]
    assert query(embedded, "10.0.0.1", DAY - dt.timedelta(days=7)) == {"10.0.0.1": {80: 3, 81: 1, 82: 1}}


def test_levels() -> None:
    assert [level(n) for n in (1, 65_535, 65_536, 262_143, 262_144)] == [0, 0, 1, 1, 2]


def test_another_instance_sees_committed_batches(tmp_path: Path) -> None:
    writer, reader = ObservationStore(tmp_path), ObservationStore(tmp_path)
    network = ipaddress.ip_network("10.0.0.0/8")
    assert len(reader.query(network, 0, 65535)) == 0
    for port in range(1, 10):  # merges replace the files the reader mapped
        writer.add(v4_keys(np.array([10 << 24 | 1]), np.array([port]), np.array([day_number(DAY)])), np.array([]))
        assert len(reader.query(network, 0, 65535)) == port
    assert reader.count() == 9


def test_a_failed_commit_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ObservationStore(tmp_path)
    keys = v4_keys(np.arange(1, 101), np.full(100, 80), np.full(100, day_number(DAY)))
    store.add(keys, np.array([], dtype="S20"))
    before = sorted(path.name for path in tmp_path.iterdir())

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    spanning = v4_keys(np.arange(1000, 1100), np.full(100, 443), day_number(DAY) + np.arange(100))
    with pytest.raises(StoreError, match="disk full"):
        store.add(spanning, np.array([], dtype="S20"))
    monkeypatch.undo()
    assert sorted(path.name for path in tmp_path.iterdir()) == before  # the half-written batch is gone
    reopened = ObservationStore(tmp_path)
    assert reopened.count() == 100
    assert reopened.add(spanning, np.array([], dtype="S20")) == (100, 0)
    assert reopened.count() == 200


def test_a_failed_segment_write_commits_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ObservationStore(tmp_path)
    calls = []
    real_save = np.save

    def save_then_fail(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 3:  # the third week's segment of a batch spanning three weeks
            raise OSError("I/O error")
        real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", save_then_fail)
    keys = v4_keys(np.arange(1, 22), np.full(21, 80), day_number(DAY) + np.arange(21))
    with pytest.raises(StoreError):
        store.add(keys, np.array([], dtype="S20"))
    monkeypatch.undo()
    assert ObservationStore(tmp_path).count() == 0
    assert not list(tmp_path.glob("*.npy"))


def test_leftovers_of_an_interrupted_write_are_never_read(tmp_path: Path) -> None:
    store = ObservationStore(tmp_path)
    store.add(v4_keys(np.array([1]), np.array([80]), np.array([day_number(DAY)])), np.array([], dtype="S20"))
    orphan = tmp_path / "v4-w02965-99999999.npy"
    np.save(orphan, v4_keys(np.array([2]), np.array([80]), np.array([day_number(DAY)])))
    (tmp_path / "manifest.json.tmp").write_bytes(b"{half a manifest")
    assert ObservationStore(tmp_path).count() == 1
    assert len(store.query(ipaddress.ip_network("0.0.0.0/0"), 0, 65535)) == 1
    store.add(v4_keys(np.array([3]), np.array([80]), np.array([day_number(DAY)])), np.array([], dtype="S20"))
    assert not orphan.exists() and not (tmp_path / "manifest.json.tmp").exists()
    assert store.count() == 2


def test_a_damaged_manifest_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_bytes(b"not json")
    with pytest.raises(StoreError, match="manifest"):
        ObservationStore(tmp_path)
