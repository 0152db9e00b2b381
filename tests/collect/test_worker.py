"""The collection worker of ``shoal serve``: scheduled rescans of known open ports inside the allow-list."""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from pathlib import Path

from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import ScanSettings
from shoal.collect.worker import CollectionWorker
from shoal.model import PortObservation
from shoal.store.base import Filters, Store
from tests.collect import udp_daemons
from tests.collect.conftest import BLOCK
from tests.collect.fakes import answers, fake_server

net = ipaddress.ip_network
HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
SETTINGS = ScanSettings(timeouts=Timeouts(connect=1, first_byte=0.3, service=2), jarm=False)


def test_known_open_ports_are_those_inside_the_allow_list(empty_store: Store) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=1)
    seen = [(f"127.{BLOCK}.6.1", 80), (f"127.{BLOCK}.6.2", 22), (f"127.{BLOCK}.7.1", 80), (f"127.{BLOCK}.6.1", 443)]
    empty_store.ingest_observations([PortObservation(ip, port, yesterday) for ip, port in seen])
    policy = ScanPolicy(
        allow=(net(f"127.{BLOCK}.6.0/24"), net(f"127.{BLOCK}.6.0/25")), deny=(net(f"127.{BLOCK}.6.2/32"),)
    )
    empty_store.ingest_observations([PortObservation(f"127.{BLOCK}.6.1", 80, yesterday)], transport="udp")
    worker = CollectionWorker(empty_store, policy, SETTINGS, transform=None)
    assert worker.known_open_ports() == [
        (f"127.{BLOCK}.6.1", 80, "tcp"),
        (f"127.{BLOCK}.6.1", 443, "tcp"),
        (f"127.{BLOCK}.6.1", 80, "udp"),  # a UDP port is another target
    ]


def test_rescans_add_reports_as_history(empty_store: Store) -> None:
    empty_store.ingest_observations([PortObservation(f"127.{BLOCK}.6.3", 8080, dt.date(2026, 1, 1))])
    worker = CollectionWorker(
        empty_store, ScanPolicy(allow=(net(f"127.{BLOCK}.6.0/24"),)), SETTINGS, transform=None, rescan_every=0.3
    )
    with fake_server(f"127.{BLOCK}.6.3", 8080, answers(b"\r\n\r\n", HTTP_OK)) as clients:
        worker.start()
        try:
            deadline = time.monotonic() + 15
            while empty_store.search(Filters(ip=net(f"127.{BLOCK}.6.3/32"))).total < 2:
                assert time.monotonic() < deadline, "rescans did not add reports"
                time.sleep(0.1)
        finally:
            worker.stop()
    assert len(clients) >= 2


def test_rescans_probe_the_udp_ports_seen_answering(empty_store: Store, tmp_path: Path) -> None:
    """A UDP port seen answering (a UDP observation, as every port-udp report records) is probed again over UDP:
    Net-SNMP's snmpd on a port of its own, so each rescan adds a port-udp report."""
    ip = f"127.{BLOCK}.6.4"
    empty_store.ingest_observations([PortObservation(ip, 10161, dt.date(2026, 1, 1))], transport="udp")
    worker = CollectionWorker(
        empty_store, ScanPolicy(allow=(net(f"127.{BLOCK}.6.0/24"),)), SETTINGS, transform=None, rescan_every=0.3
    )
    with udp_daemons.snmpd(ip, 10161, tmp_path):
        worker.start()
        try:
            deadline = time.monotonic() + 15
            while empty_store.search(Filters(ip=net(f"{ip}/32"))).total < 2:
                assert time.monotonic() < deadline, "rescans did not probe the UDP port"
                time.sleep(0.1)
        finally:
            worker.stop()
    for report in empty_store.search(Filters(ip=net(f"{ip}/32"))).reports:
        assert ("port-udp", "10161") in [(item.type, item.value) for item in report.items]
        assert [item.context for item in report.items if item.type == "server-banner"] == ["snmp"]
