"""Scans as a whole: refusal before any packet, the deny-list, per-host limits, results in the store."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import threading
from contextlib import ExitStack

import pytest

from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.collect.storing import StoreWriter
from shoal.errors import TargetNotAllowed
from shoal.store.base import Filters, PortQuery, Store
from tests.collect.conftest import BLOCK, ListSink
from tests.collect.fakes import answers, fake_server

net = ipaddress.ip_network
QUICK = Timeouts(connect=1.0, first_byte=0.3, service=1.0)
HTTP_OK = b"HTTP/1.1 200 OK\r\nServer: fake\r\nContent-Length: 27\r\n\r\n<title>Fake  page </title>\n"


def scan(policy: ScanPolicy, sink: object, networks: list[str], ports: list[int], **settings: object) -> Collector:
    collector = Collector(policy, ScanSettings(timeouts=QUICK, jarm=False, **settings), sink)  # type: ignore[arg-type]
    run_event_loop(collector.scan([net(text) for text in networks], ports))
    return collector


def test_a_target_outside_the_allow_list_is_refused_before_any_packet() -> None:
    with fake_server(f"127.{BLOCK}.2.1", 4101, answers(b"\n", b"")) as clients:
        with pytest.raises(TargetNotAllowed, match="outside the collector's allow-list"):
            scan(ScanPolicy(allow=(net(f"127.{BLOCK}.3.0/24"),)), ListSink(), [f"127.{BLOCK}.2.1"], [4101])
        with pytest.raises(TargetNotAllowed, match="allow-list is empty"):
            scan(ScanPolicy(), ListSink(), [f"127.{BLOCK}.2.1"], [4101])
    assert clients == []


def test_denied_addresses_inside_a_scanned_network_are_never_touched() -> None:
    policy = ScanPolicy(allow=(net(f"127.{BLOCK}.2.2/31"),), deny=(net(f"127.{BLOCK}.2.3/32"),))
    with (
        fake_server(f"127.{BLOCK}.2.2", 4102, answers(b"\r\n\r\n", HTTP_OK)) as allowed,
        fake_server(f"127.{BLOCK}.2.3", 4102, answers(b"\r\n\r\n", HTTP_OK)) as denied,
    ):
        sink = ListSink()
        scan(policy, sink, [f"127.{BLOCK}.2.2/31"], [4102])
    assert allowed and denied == []
    assert sink.open_ports == [(f"127.{BLOCK}.2.2", 4102)]


def test_connections_to_one_host_stay_within_the_per_host_limit() -> None:
    lock, state = threading.Lock(), {"open": 0, "most": 0}

    async def count(_: asyncio.StreamReader, __: asyncio.StreamWriter) -> None:
        with lock:
            state["open"] += 1
            state["most"] = max(state["most"], state["open"])
        try:
            await asyncio.sleep(0.2)
        finally:
            with lock:
                state["open"] -= 1

    ports = list(range(4110, 4116))
    with ExitStack() as servers:
        for port in ports:
            servers.enter_context(fake_server(f"127.{BLOCK}.2.4", port, count))
        scan(ScanPolicy(allow=(net(f"127.{BLOCK}.2.4/32"),)), ListSink(), [f"127.{BLOCK}.2.4"], ports, per_host=2)
    assert state["most"] == 2


def test_results_are_stored_and_searchable(empty_store: Store) -> None:
    async def scan_into_store() -> StoreWriter:
        writer = StoreWriter(empty_store, transform=None)
        collector = Collector(ScanPolicy(allow=(net(f"127.{BLOCK}.2.5/32"),)), ScanSettings(timeouts=QUICK), writer)
        await collector.scan([net(f"127.{BLOCK}.2.5/32")], [8080])
        await writer.flush()
        return writer

    with fake_server(f"127.{BLOCK}.2.5", 8080, answers(b"\r\n\r\n", HTTP_OK)):
        writer = run_event_loop(scan_into_store())
    assert (writer.totals.observations, writer.totals.reports) == (1, 1)
    [report] = empty_store.search(Filters(ip=net(f"127.{BLOCK}.2.5/32"))).reports
    assert report.port == 8080 and ("title", "Fake page") in [(item.type, item.value) for item in report.items]
    observed = empty_store.open_ports(PortQuery(net(f"127.{BLOCK}.2.5/32")))
    assert list(observed.ports) == [8080]
    assert report.date == dt.datetime.now(dt.UTC).date()


def test_discovery_only_records_open_ports() -> None:
    with fake_server(f"127.{BLOCK}.2.6", 4120, answers(b"\r\n\r\n", HTTP_OK)):
        sink = ListSink()
        collector = scan(
            ScanPolicy(allow=(net(f"127.{BLOCK}.2.6/32"),)), sink, [f"127.{BLOCK}.2.6"], [4120], identify=False
        )
    assert sink.open_ports == [(f"127.{BLOCK}.2.6", 4120)] and sink.reports == []
    assert (collector.stats.tried, collector.stats.open_ports, collector.stats.reports) == (1, 1, 0)


class FailingSink(ListSink):
    """A sink whose first ``open_port`` raises (a store that is down, say)."""

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        if not self.open_ports:
            self.open_ports.append(("failed", 0))
            raise OSError("the store is down")
        super().open_port(ip, port, day)


def test_a_sink_failing_at_an_open_port_does_not_keep_its_connection() -> None:
    ip = f"127.{BLOCK}.2.7"
    with fake_server(ip, 4121, answers(b"\r\n\r\n", HTTP_OK)):
        sink = FailingSink()
        settings = ScanSettings(per_host=1, identify=False)
        collector = Collector(ScanPolicy(allow=(net(f"{ip}/32"),)), settings, sink)

        async def twice() -> None:
            assert await collector.collect(ip, 4121) is None  # the failure is logged, the scan goes on
            async with asyncio.timeout(2):  # the host's one slot is free again: the connection was closed
                await collector.collect(ip, 4121)

        run_event_loop(twice())
    assert sink.open_ports == [("failed", 0), (ip, 4121)]
