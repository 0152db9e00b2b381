"""``GET /v1/scan/protocols/prioritize``: queue a collection, find its report, and every refusal."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.ratelimit import KeyedRateLimit
from shoal.collect.scanner import ScanSettings
from shoal.collect.worker import CollectionWorker
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.api.conftest import assert_error
from tests.collect import udp_daemons
from tests.collect.conftest import BLOCK
from tests.collect.fakes import answers, fake_server

ALLOWED = ipaddress.ip_network(f"127.{BLOCK}.5.0/24")
HTTP_OK = b"HTTP/1.1 200 OK\r\nServer: prioritized\r\nContent-Length: 0\r\n\r\n"


@pytest.fixture
def collecting(tmp_path: Path) -> Iterator[TestClient]:
    store = EmbeddedStore(tmp_path)
    tokens = TokenStore(tmp_path)
    settings = ScanSettings(timeouts=Timeouts(connect=1, first_byte=0.3, service=3), jarm=False)
    worker = CollectionWorker(store, ScanPolicy(allow=(ALLOWED,)), settings, transform=None)
    worker.start()
    try:
        with TestClient(create_app(store, tokens, collector=worker), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {tokens.create('prioritizer')}"
            yield client
    finally:
        worker.stop()
        store.close()


def test_a_prioritized_target_becomes_searchable(collecting: TestClient) -> None:
    with fake_server(f"127.{BLOCK}.5.1", 8080, answers(b"\r\n\r\n", HTTP_OK)):
        response = collecting.get("/v1/scan/protocols/prioritize", params={"ip": f"127.{BLOCK}.5.1", "port": "8080"})
        assert response.status_code == 200, response.text
        assert response.json() == {"ip": f"127.{BLOCK}.5.1", "port": 8080, "status": "queued"}
        deadline = time.monotonic() + 15
        while (found := collecting.get("/v1/scan/protocols", params={"ip": f"127.{BLOCK}.5.1"})).status_code == 204:
            assert time.monotonic() < deadline, "the prioritized report never became searchable"
            time.sleep(0.2)
    [report] = found.json()["results"]
    assert {"context": "Server", "is_metadata": False, "type": "http-header", "value": "prioritized"} in report["items"]


def test_a_prioritized_udp_target_is_probed_and_reported_as_port_udp(collecting: TestClient, tmp_path: Path) -> None:
    """Shoal's transport=udp: Debian's unbound on a port of its own, probed as 'shoal scan --udp-ports' does."""
    ip = f"127.{BLOCK}.5.53"
    with udp_daemons.unbound(ip, 10053, tmp_path):
        params = {"ip": ip, "port": "10053", "transport": "udp"}
        response = collecting.get("/v1/scan/protocols/prioritize", params=params)
        assert response.json() == {"ip": ip, "port": 10053, "transport": "udp", "status": "queued"}
        deadline = time.monotonic() + 15
        while (found := collecting.get("/v1/scan/protocols", params={"ip": ip})).status_code == 204:
            assert time.monotonic() < deadline, "the prioritized UDP report never became searchable"
            time.sleep(0.2)
    [report] = found.json()["results"]
    assert {"type": "port-udp", "value": "10053", "context": "", "is_metadata": True} in report["items"]
    assert not [item for item in report["items"] if item["type"] == "port-tcp"]
    [banner] = [item for item in report["items"] if item["type"] == "server-banner"]
    assert banner["context"] == "dns" and banner["value"].startswith("version.bind: unbound")
    ports = collecting.get("/v1/scan/ports", params={"ip": ip, "transport": "udp"})
    assert ports.json() == {"other": 0, "values": {"10053": 1}}
    assert collecting.get("/v1/scan/ports", params={"ip": ip}).status_code == 204  # not a TCP port


def test_a_target_outside_the_allow_list_is_403_with_the_reason(collecting: TestClient) -> None:
    response = collecting.get("/v1/scan/protocols/prioritize", params={"ip": "192.0.2.1", "port": "80"})
    body = assert_error(response, 403, "ip")
    assert body["code"] == "target_not_allowed" and "outside the collector's allow-list" in body["error"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"port": "80"}, "ip"),
        ({"ip": f"127.{BLOCK}.5.0/24", "port": "80"}, "ip"),
        ({"ip": f"127.{BLOCK}.5.1"}, "port"),
        ({"ip": f"127.{BLOCK}.5.1", "port": "70000"}, "port"),
        ({"ip": f"127.{BLOCK}.5.1", "port": "53", "transport": "sctp"}, "transport"),
        ({"ip": "fe80::1%eth0", "port": "80"}, "ip"),
        ({"ip": f"::ffff:127.{BLOCK}.5.1%lo", "port": "80"}, "ip"),
    ],
)
def test_bad_parameters_are_400(collecting: TestClient, params: dict[str, str], parameter: str) -> None:
    assert_error(collecting.get("/v1/scan/protocols/prioritize", params=params), 400, parameter)


def test_too_many_calls_are_429_with_retry_after(collecting: TestClient) -> None:
    # One call per 100 s after a burst of 2: slow enough that no refill lands between calls on a loaded machine.
    collecting.app.state.prioritize_limit = KeyedRateLimit(rate=0.01, capacity=2)  # type: ignore[attr-defined]
    params = {"ip": "192.0.2.1", "port": "80"}  # refused targets count too: the limit comes first
    assert [collecting.get("/v1/scan/protocols/prioritize", params=params).status_code for _ in range(2)] == [403, 403]
    response = collecting.get("/v1/scan/protocols/prioritize", params=params)
    assert_error(response, 429)
    assert 90 <= int(response.headers["Retry-After"]) <= 100


def test_a_server_that_does_not_collect_says_so(tmp_path: Path) -> None:
    store, tokens = EmbeddedStore(tmp_path), TokenStore(tmp_path)
    with TestClient(create_app(store, tokens), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {tokens.create('someone')}"
        body = assert_error(
            client.get("/v1/scan/protocols/prioritize", params={"ip": f"127.{BLOCK}.5.1", "port": "80"}), 403
        )
    assert "shoal serve --allow" in body["error"]
    store.close()


def test_a_mapped_spelling_is_the_ipv4_target(collecting: TestClient) -> None:
    response = collecting.get("/v1/scan/protocols/prioritize", params={"ip": f"::ffff:127.{BLOCK}.5.9", "port": "9"})
    assert response.status_code == 200 and response.json()["ip"] == f"127.{BLOCK}.5.9"


def test_an_ipv6_spelling_cannot_reach_a_denied_ipv4_address(tmp_path: Path) -> None:
    store, tokens = EmbeddedStore(tmp_path), TokenStore(tmp_path)
    policy = ScanPolicy(allow=(ipaddress.ip_network("::/0"),), deny=(ipaddress.ip_network("127.0.0.1/32"),))
    worker = CollectionWorker(store, policy, ScanSettings(jarm=False), transform=None)
    worker.start()
    try:
        with TestClient(create_app(store, tokens, collector=worker), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {tokens.create('sneaky')}"
            for spelling in ("::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::127.0.0.1", "2002:7f00:1::1"):
                response = client.get("/v1/scan/protocols/prioritize", params={"ip": spelling, "port": "22"})
                assert assert_error(response, 403, "ip")["code"] == "target_not_allowed", spelling
    finally:
        worker.stop()
        store.close()
