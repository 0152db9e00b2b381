"""A UDP service's report (``port-udp`` instead of ``port-tcp``) on every engine: validated like a TCP one, found by
``port-udp`` (numerically), never taken for an open TCP port; UDP observations kept apart; ``most_recent`` keeps
the newest per {ip, port-udp}, apart from the TCP service of the same number."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.ingest.pipeline import ingest_stream
from shoal.model import InvalidReport, Report, UdpObservation
from shoal.query.check import BUILTIN_TYPES, check
from shoal.query.parser import parse
from shoal.store.base import Filters, PortQuery, Store
from tests.engines import ENGINE_NAMES, drop, open_engine

DAY = dt.date(2026, 11, 2)
NETWORK = ipaddress.ip_network("192.0.2.0/24")


def udp_report(port: str, report_id: str, day: dt.date = DAY, port_type: str = "port-udp") -> Report:
    return Report.from_dict(
        {
            "date": day.isoformat(),
            "id": report_id,
            "items": [
                {"type": "ip", "value": "192.0.2.53", "context": "", "is_metadata": True},
                {"type": port_type, "value": port, "context": "", "is_metadata": True},
                {"type": "server-banner", "value": "unbound 1.17.1", "context": "dns"},
                {"type": "version", "value": "unbound 1.17.1", "context": "dns"},
            ],
        }
    )


@pytest.fixture(params=ENGINE_NAMES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_engine(request.param, request, tmp_path / "store")
    ingest_stream(opened, [udp_report("053", "udp-dns"), UdpObservation("192.0.2.53", 53, DAY)])
    yield opened
    drop(opened)


def found(store: Store, expression: str) -> list[str]:
    checked = check(parse(expression), BUILTIN_TYPES)
    return [report.id for report in store.search(Filters(expression=checked)).reports]


def test_port_udp_is_searched_as_a_number(store: Store) -> None:
    for expression in ("port-udp:53", "port-udp=53", "port-udp:0053", "protocol=dns and port-udp:53"):
        assert found(store, expression) == ["udp-dns"], expression
    assert found(store, "port-udp:530") == found(store, "port-tcp:53") == []


def test_a_udp_report_is_not_an_open_tcp_port(store: Store) -> None:
    [report] = store.search(Filters(ip=NETWORK)).reports
    assert (report.port, report.udp_port) == (None, 53)
    assert len(store.open_ports(PortQuery(NETWORK)).ports) == 0
    udp = store.open_ports(PortQuery(NETWORK, transport="udp"))
    assert [(udp.host_text(host), int(port)) for host, port in zip(udp.hosts, udp.ports, strict=True)] == [
        ("192.0.2.53", 53)
    ]


@pytest.mark.parametrize("value", ["dns", "65536", "-1", "5 3"])
def test_a_port_udp_that_is_not_a_port_is_rejected(value: str) -> None:
    with pytest.raises(InvalidReport, match="'port-udp' item value is not a port number"):
        udp_report(value, "bad")


def test_most_recent_keeps_the_newest_udp_report_per_ip_and_port_udp(store: Store) -> None:
    later = DAY + dt.timedelta(days=1)
    ingest_stream(store, [udp_report("53", "udp-dns-later", later), udp_report("53", "tcp-dns", DAY, "port-tcp")])
    newest = store.search(Filters(ip=NETWORK, most_recent=True)).reports
    assert sorted(report.id for report in newest) == ["tcp-dns", "udp-dns-later"]
    assert sorted(report.id for report in store.search(Filters(ip=NETWORK)).reports) == [
        "tcp-dns",
        "udp-dns",
        "udp-dns-later",
    ]
