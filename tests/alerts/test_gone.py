"""``gone`` for real: a watched service on a port this test opened is collected again after the port closed
(the collector of ``shoal serve`` and ``shoal scan`` alike, through ``StoreWriter``): one ``gone`` event."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
from pathlib import Path

import orjson

from shoal.alerts.book import AlertBook
from shoal.alerts.making import AlertRequest, create_alert
from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings
from shoal.collect.storing import StoreWriter
from shoal.ingest.pipeline import ingest_stream
from shoal.model import Item, Report
from shoal.store.registry import open_store


def test_a_watched_port_found_closed_is_gone(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # closed: the rescan finds nothing there
    store = open_store(None, tmp_path)
    items = (Item("ip", "127.0.0.1", "", True), Item("port-tcp", str(port), "", True), Item("server-banner", "x", "t"))
    ingest_stream(store, [Report(date=dt.date(2026, 12, 1), items=items)])
    book = AlertBook(tmp_path)
    alert = create_alert(book, store, AlertRequest("all", f"port-tcp:{port}", "http://127.0.0.1:9/"))
    assert book.watched_count(alert.id) == 1

    async def rescan() -> None:
        writer = StoreWriter(store, None)
        policy = ScanPolicy(allow=(ipaddress.ip_network("127.0.0.1/32"),))
        await Collector(policy, ScanSettings(jarm=False), writer).collect("127.0.0.1", port)
        await writer.flush()

    asyncio.run(rescan())
    (event,) = [orjson.loads(event.body) for event in book.history(alert.id)]
    assert event["event"] == "gone"
    assert [(one["ip"], one["port"]) for one in event["services"]] == [("127.0.0.1", port)]
    assert book.watched_count(alert.id) == 0
    store.close()
