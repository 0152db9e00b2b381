"""Export links and stalled exports (issue 14, items 2 and 3): a link made by one server process downloads from
another; a client that stops reading is cut off and frees its token's slot; link downloads take a slot."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.api.tickets import ExportTickets
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import Token, TokenStore
from tests.api.serving import Running, closed, running_server, stalled_export, status_of
from tests.collect.conftest import BLOCK
from tests.corpus import CORPUS

URL = "/v1/scan/protocols/export"
ANONYMOUS = {"Authorization": "Bearer anon"}


def test_a_link_made_by_one_process_downloads_from_another(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(CORPUS)
    tokens = TokenStore(tmp_path)
    secret = tokens.create("linker")
    first, second = create_app(store, tokens), create_app(store, tokens)  # as two --workers processes
    with TestClient(first) as maker, TestClient(second) as other:
        link = maker.post(
            f"{URL}/link", params={"expression": "protocol=ssh"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert link.status_code == 200, link.text
        download = other.get(link.json()["url"])
        assert download.status_code == 200, download.text
        assert len(download.content.splitlines()) == 2
        assert maker.get(link.json()["url"]).status_code == 401  # once, whichever process is asked
    store.close()


def test_tickets_live_in_the_data_directory_and_work_once(tmp_path: Path) -> None:
    token = Token("someone", id="0123456789ab")
    query = (("expression", "x"),)
    secret = ExportTickets(tmp_path).issue(token, query)
    assert ExportTickets(tmp_path).redeem(secret, (("expression", "y"),)) is None  # another query: spent too
    again = ExportTickets(tmp_path).issue(token, query)
    redeemed = ExportTickets(tmp_path).redeem(again, query)
    assert redeemed is not None and redeemed.id == token.id and redeemed.name == "someone"
    assert ExportTickets(tmp_path).redeem(again, query) is None
    assert secret.encode() not in (tmp_path / "tickets.sqlite3").read_bytes()  # only digests are kept


def test_tickets_expire(tmp_path: Path) -> None:
    tickets = ExportTickets(tmp_path, lifetime=0.01)
    secret = tickets.issue(Token("someone"), (("expression", "x"),))
    time.sleep(0.02)
    assert tickets.redeem(secret, (("expression", "x"),)) is None


def test_a_revoked_token_s_links_stop_working(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path)
    secret = tokens.create("soon-gone")
    token = tokens.lookup(secret)
    assert token is not None
    tickets = ExportTickets(tmp_path, tokens)
    ticket = tickets.issue(token, ())
    tokens.revoke("soon-gone")
    assert tickets.redeem(ticket, ()) is None


@pytest.fixture(scope="module")
def workers(slow_data: Path) -> Iterator[Running]:
    with running_server(slow_data, "--workers", "2", "--send-timeout", "3") as running:  # exports: 1 s
        yield running


@pytest.mark.slow
def test_twenty_links_of_twenty_download_with_two_workers(workers: Running, slow_data: Path) -> None:
    headers = {"Authorization": f"Bearer {TokenStore(slow_data).create('links')}"}
    statuses = []
    for _ in range(20):
        with httpx.Client(base_url=workers.base) as browser:  # a new connection each time, as a browser would
            link = browser.post(f"{URL}/link", params={"expression": "port-tcp:443"}, headers=headers)
            assert link.status_code == 200, link.text
        with httpx.Client(base_url=workers.base) as browser:
            statuses.append(browser.get(link.json()["url"]).status_code)
    assert statuses == [200] * 20


def cut_off(connection: socket.socket, within: float) -> bool:
    """Did the server close the connection (reading what it had sent) within ``within`` seconds?"""
    connection.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if not connection.recv(1 << 20):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


@pytest.mark.slow
def test_a_client_that_stops_reading_is_cut_off_and_frees_its_slot(workers: Running, slow_data: Path) -> None:
    secret = TokenStore(slow_data).create("staller", enterprise=True)
    headers = {"Authorization": f"Bearer {secret}"}
    with ExitStack() as held:
        stalled = [held.enter_context(stalled_export(workers.port, URL, headers)) for _ in range(5)]
        time.sleep(0.5)
        busy = httpx.get(f"{workers.base}/v1/scan/protocols", params={"ip": "0.0.0.0/0"}, headers=headers)
        assert busy.status_code == 429  # the five stalled exports hold the token's five slots
        time.sleep(3)  # past the 1 s an export may stall (a third of the 3 s send timeout)
        assert all(cut_off(connection, 5) for connection in stalled)
    answer = httpx.get(f"{workers.base}/v1/scan/protocols", params={"ip": "0.0.0.0/0"}, headers=headers)
    assert answer.status_code == 200


@pytest.mark.slow
def test_link_downloads_take_the_token_s_slots(workers: Running, slow_data: Path) -> None:
    secret = TokenStore(slow_data).create("linker-slots", enterprise=True)
    headers = {"Authorization": f"Bearer {secret}"}
    urls = []
    for _ in range(6):
        link = httpx.post(f"{workers.base}{URL}/link", headers=headers)
        assert link.status_code == 200
        urls.append(link.json()["url"])
    with ExitStack() as held:
        for url in urls[:5]:
            held.enter_context(stalled_export(workers.port, url, {}))
        time.sleep(0.5)
        sixth = httpx.get(f"{workers.base}{urls[5]}")
        assert sixth.status_code == 429 and sixth.json()["code"] == "too_many_requests"


def test_a_process_streams_a_bounded_number_of_exports(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(CORPUS)
    tokens = TokenStore(tmp_path)
    headers = {"Authorization": f"Bearer {tokens.create('many')}"}
    app = create_app(store, tokens)
    with TestClient(app) as client:
        gate = app.state.export_gate
        gate.running = gate.capacity  # as if that many were streaming
        refused = client.get(URL, headers=headers)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert client.get("/v1/admin/user", headers=headers).json()["quota"]["api_usage"] == 0  # not charged
        gate.running = 0
        assert client.get(URL, headers=headers).status_code == 200
        assert gate.running == 0  # given back when the body ended
    store.close()


def test_each_token_class_and_client_address_has_a_share_of_the_exports(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(CORPUS)
    tokens = TokenStore(tmp_path)
    normal = {"Authorization": f"Bearer {tokens.create('normal')}"}
    enterprise = {"Authorization": f"Bearer {tokens.create('big', enterprise=True)}"}
    app = create_app(store, tokens)
    with TestClient(app) as client:
        gate = app.state.export_gate
        gate.per_class["normal"] = 24  # normal tokens hold three quarters of the 32 places
        refused = client.get(URL, headers=normal)
        assert refused.status_code == 429 and "normal tokens stream at most 24 of" in refused.json()["error"]
        assert client.get(URL, headers=enterprise).status_code == 200  # the last quarter is theirs
        gate.per_class["normal"] = 0
        gate.per_client["testclient"] = 8  # one client address: a quarter
        crowded = client.get(URL, headers=enterprise)
        assert crowded.status_code == 429 and "one client address streams at most 8" in crowded.json()["error"]
    store.close()


STALLERS = [f"127.{BLOCK}.31.{n}" for n in range(1, 71)]


@pytest.mark.slow
def test_an_enterprise_export_starts_at_once_while_70_anonymous_readers_stall_and_retry(slow_data: Path) -> None:
    """Issue 22, item 3: 70 anonymous clients (each its own address) start exports they never read and start
    them again whenever they are refused or cut; the anonymous share holds 8 of the 32 places, so an enterprise
    export starts within 5 s; and a stalled export is cut after a third of --send-timeout."""
    enterprise = {"Authorization": f"Bearer {TokenStore(slow_data).create('fair', enterprise=True)}"}
    with running_server(slow_data, "--allow-anon", "--send-timeout", "9") as server, ExitStack() as held:
        stop = threading.Event()
        connections = {address: stalled_export(server.port, URL, ANONYMOUS, address) for address in STALLERS}

        def keep_retrying() -> None:  # a client refused (429) or cut off starts again
            while not stop.wait(0.2):
                for address, connection in list(connections.items()):
                    if status_of(connection) == 429 or closed(connection):
                        connection.close()
                        connections[address] = stalled_export(server.port, URL, ANONYMOUS, address)

        retrier = threading.Thread(target=keep_retrying, daemon=True)
        retrier.start()
        held.callback(lambda: [connection.close() for connection in connections.values()])
        held.callback(retrier.join)
        held.callback(stop.set)
        time.sleep(2)
        assert sum(status_of(connection) == 200 for connection in connections.values()) == 8
        started = time.monotonic()
        with httpx.stream("GET", f"{server.base}{URL}", headers=enterprise, timeout=30) as export:
            assert export.status_code == 200
            next(export.iter_raw())
        assert time.monotonic() - started < 5
        stalled = stalled_export(server.port, URL, enterprise)
        held.callback(stalled.close)
        time.sleep(3 + 1)  # a third of the 9 s send timeout, and a second; reading earlier would unstall it
        assert cut_off(stalled, 2)
