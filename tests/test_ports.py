"""shoal.ports: the summaries Driftnet shows (caps, ``other``, ties), the default window, the honeypot rule."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.model import PortObservation
from shoal.ports import (
    CANARY_MINIMUM,
    CANARY_PORTS,
    MANY_PORTS,
    explain,
    is_honeypot,
    summarize_ip_ports,
    summarize_ports,
    window,
)
from shoal.store.base import OpenPorts, PortQuery, Store
from tests.engines import ENGINE_NAMES, drop, open_engine

DAY = dt.date(2026, 11, 2)


@pytest.fixture(params=ENGINE_NAMES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_engine(request.param, request, tmp_path / "store")
    yield opened
    drop(opened)


def seen(store: Store, ip: str, port: int, times: int = 1) -> None:
    store.ingest_observations([PortObservation(ip, port, DAY + dt.timedelta(days=n)) for n in range(times)])


def found(store: Store, network: str) -> OpenPorts:
    return store.open_ports(PortQuery(ipaddress.ip_network(network)))


def test_default_window_is_the_last_30_days() -> None:
    today = dt.date(2026, 11, 30)
    assert window(None, None, today) == (dt.date(2026, 11, 1), None)
    assert window(None, dt.date(2026, 1, 30), today) == (dt.date(2026, 1, 1), dt.date(2026, 1, 30))
    assert window(dt.date(2020, 1, 1), None, today) == (dt.date(2020, 1, 1), None)


def test_ports_summary_counts_and_ties(store: Store) -> None:
    seen(store, "1.2.3.4", 443, 10)
    seen(store, "1.2.3.4", 53, 4)
    seen(store, "1.2.3.5", 53, 4)
    seen(store, "1.2.3.5", 853, 8)
    seen(store, "1.2.3.6", 22, 8)
    summary = summarize_ports(found(store, "1.2.3.0/24"))
    assert summary.values == [(443, 10), (22, 8), (53, 8), (853, 8)]  # ties by port
    assert (summary.other, summary.honeypot) == (0, False)
    top = summarize_ports(found(store, "1.2.3.0/24"), limit=2)
    assert top.values == [(443, 10), (22, 8)]
    assert top.other == 16


def test_at_most_100_ports_with_the_rest_in_other(store: Store) -> None:
    for port in range(1, 151):
        seen(store, f"10.0.{port % 3}.1", port, 1 + port % 5)
    summary = summarize_ports(found(store, "10.0.0.0/16"))
    total = sum(1 + port % 5 for port in range(1, 151))
    assert len(summary.values) == 100
    assert summary.other == total - sum(count for _, count in summary.values)
    counts = [count for _, count in summary.values]
    assert counts == sorted(counts, reverse=True)
    assert summary.values[:2] == [(4, 5), (9, 5)]  # the most seen first; ties by port


def test_ip_ports_caps(store: Store) -> None:
    store.ingest_observations(
        [PortObservation(f"10.1.{n // 256}.{n % 256}", 80, DAY) for n in range(1030)]
        + [PortObservation("10.1.9.9", port, DAY) for port in range(1000, 1120)]
    )
    summary = summarize_ip_ports(found(store, "10.1.0.0/16"))
    assert len(summary.hosts) == 1024
    assert summary.other == 1031 - 1024
    busiest = summary.hosts[0]
    assert (busiest.ip, len(busiest.values), busiest.other) == ("10.1.9.9", 100, 20)
    assert busiest.values[0] == (1000, 1) and busiest.values[-1] == (1099, 1)
    assert [host.ip for host in summary.hosts[1:4]] == ["10.1.0.0", "10.1.0.1", "10.1.0.2"]  # ties by address
    assert summary.hosts[-1].ip == "10.1.3.254"


def test_ip_ports_ipv6_addresses_are_text(store: Store) -> None:
    seen(store, "2001:db8::", 22)
    seen(store, "2001:db8::100", 443, 3)
    summary = summarize_ip_ports(found(store, "2001:db8::/48"))
    assert [(host.ip, host.values) for host in summary.hosts] == [
        ("2001:db8::100", [(443, 3)]),
        ("2001:db8::", [(22, 1)]),
    ]


def test_a_1000_port_host_is_a_honeypot(store: Store) -> None:
    store.ingest_observations([PortObservation("198.51.100.7", port, DAY) for port in range(20_000, 21_000)])
    seen(store, "198.51.100.8", 443, 20)
    assert summarize_ports(found(store, "198.51.100.7/32")).honeypot
    assert summarize_ports(found(store, "198.51.100.0/24")).honeypot  # any host of a CIDR
    assert not summarize_ports(found(store, "198.51.100.8/32")).honeypot


def test_the_many_ports_threshold(store: Store) -> None:
    store.ingest_observations([PortObservation("192.0.2.1", port, DAY) for port in range(1000, 1000 + MANY_PORTS)])
    assert not is_honeypot(found(store, "192.0.2.1/32"))
    seen(store, "192.0.2.1", 5000)
    assert is_honeypot(found(store, "192.0.2.1/32"))


def test_canary_ports(store: Store) -> None:
    for port in (22, 80, 443, *CANARY_PORTS[: CANARY_MINIMUM - 1]):
        seen(store, "192.0.2.2", port)
    assert not is_honeypot(found(store, "192.0.2.2/32"))
    seen(store, "192.0.2.2", CANARY_PORTS[-1])
    assert is_honeypot(found(store, "192.0.2.2/32"))


def test_explain_one_host_and_a_cidr(store: Store) -> None:
    seen(store, "203.0.113.1", 443)
    flagged, evidence = explain(found(store, "203.0.113.1/32"))
    assert flagged == 0
    assert [(e.ip, e.distinct_ports, e.canary_ports, e.flagged) for e in evidence] == [("203.0.113.1", 1, (), False)]
    assert evidence[0].reasons()[0].startswith("no  many ports: 1 distinct open port ")
    store.ingest_observations([PortObservation("203.0.113.9", port, DAY) for port in range(1, 300)])
    flagged, evidence = explain(found(store, "203.0.113.0/24"))
    assert flagged == 1
    assert [(e.ip, e.distinct_ports, e.many_ports, e.canaries) for e in evidence] == [("203.0.113.9", 299, True, True)]
    assert evidence[0].canary_ports == CANARY_PORTS
    assert all(line.startswith("YES") for line in evidence[0].reasons())


def test_empty(store: Store) -> None:
    empty = found(store, "10.0.0.0/8")
    assert len(empty) == 0
    assert summarize_ports(empty).values == [] and not summarize_ports(empty).honeypot
    assert summarize_ip_ports(empty).hosts == []
    assert explain(empty) == (0, [])
