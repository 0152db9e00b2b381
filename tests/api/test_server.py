"""A real ``shoal serve`` (subprocess, loopback): concurrency limits, and bytes no HTTP client would send."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson
import pytest

from shoal.tokens import ID_LENGTH, TokenStore, hash_token
from tests.api.conftest import SLOW_QUERY
from tests.api.serving import running_server

URL = "/v1/scan/protocols"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(slow_data: Path) -> Iterator[str]:
    with running_server(slow_data, "--workers", "2") as running:
        yield running.base


@pytest.fixture
def secret(slow_data: Path) -> str:
    return TokenStore(slow_data).create("server-test", enterprise=True)


def test_a_sixth_concurrent_query_is_429_across_processes(server: str, secret: str, slow_data: Path) -> None:
    """The five slots are flocks: held here (as by other server processes), the server must refuse."""
    headers = {"Authorization": f"Bearer {secret}"}
    token_id = hash_token(secret)[:ID_LENGTH]
    (slow_data / "slots").mkdir(exist_ok=True)
    with ExitStack() as held:
        for number in range(5):
            handle = held.enter_context((slow_data / "slots" / f"{token_id}.{number}").open("ab"))
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = httpx.get(f"{server}{URL}", params={"expression": "port-tcp:443"}, headers=headers)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["code"] == "too_many_requests"
        assert httpx.get(f"{server}/v1/admin/user", headers=headers).status_code == 200  # never limited
    assert httpx.get(f"{server}{URL}", params={"expression": "port-tcp:443"}, headers=headers).status_code == 200


def test_a_burst_of_slow_queries_gets_429s_and_then_all_is_well(server: str, secret: str) -> None:
    headers = {"Authorization": f"Bearer {secret}"}

    def ask(_: int) -> httpx.Response:
        return httpx.get(f"{server}{URL}", params=SLOW_QUERY, headers=headers, timeout=120)

    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(ask, range(12)))
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {200, 429}, statuses
    assert 1 <= statuses.count(200) <= 5 and statuses.count(429) >= 7, statuses
    for response in responses:
        if response.status_code == 429:
            assert response.headers["retry-after"] == "1" and response.json()["code"] == "too_many_requests"
    used = httpx.get(f"{server}/v1/admin/user", headers=headers).json()["quota"]["api_usage"]
    assert used == statuses.count(200)  # refused calls cost nothing
    assert httpx.get(f"{server}{URL}", params={"expression": "port-tcp:443"}, headers=headers).status_code == 200


def raw_exchange(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def body_of(answer: bytes) -> bytes:
    return answer.split(b"\r\n\r\n", 1)[1]


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_raw_bytes_over_the_wire(server: str, secret: str) -> None:
    auth = f"Authorization: Bearer {secret}\r\n".encode()

    def get(target: bytes, extra: bytes = b"") -> bytes:
        return raw_exchange(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + auth + extra + b"\r\n")

    for refused in (get("/v1/scan/protocols?expression=日本:x".encode()), get(b"/v1/scan/protocols?q=caf\xe9")):
        assert status_of(refused) == 400  # raw non-ASCII in the request line: the HTTP parser refuses it
        assert orjson.loads(body_of(refused))["code"] == "malformed_request"
    latin1 = get(b"/v1/scan/protocols?expression=caf%e9")
    assert status_of(latin1) == 400 and b"not valid UTF-8" in latin1
    assert status_of(get(b"/v1/scan/protocols?expression=%zz")) == 400
    too_long = get(b"/v1/scan/protocols?x=" + b"a" * 9000)
    assert status_of(too_long) == 414 and b"request_too_long" in too_long
    odd_path = get(b"/v1/scan/%ff%fe?ip=8.8.8.8")
    assert status_of(odd_path) == 404 and orjson.loads(body_of(odd_path))["code"] == "unknown_endpoint"


def test_headers_past_64_kib_are_431_and_a_long_request_line_414_in_json(server: str) -> None:
    answer = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    assert status_of(answer) == 431 and orjson.loads(body_of(answer))["code"] == "headers_too_large"
    # the client is still sending when the 414 is written: the server lingers, so the answer is not lost to a reset
    answer = raw_exchange(server, b"GET /v1/" + b"a" * 400_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_of(answer) == 414 and orjson.loads(body_of(answer))["code"] == "request_too_long"


def test_oversized_and_malformed_requests_never_get_a_500_and_the_server_lives(server: str, secret: str) -> None:
    headers = {"Authorization": f"Bearer {secret}"}
    attempts = [
        b"GET /v1/scan/protocols HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        b"GET /v1/scan/protocols HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 2000 + b"\r\n",
        b"GET /v1/scan/protocols?ip=8.8.8.8 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\x00\r\n\r\n",
        b"GET /v1/scan/protocols\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"BREW /v1/scan/protocols HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/scan/protocols HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),  # a TLS hello on the HTTP port
        b"GET " + b"/v1/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/scan/protocols HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"a" * 5_000_000 + b"\r\n\r\n",
    ]
    for attempt in attempts:
        try:
            answer = raw_exchange(server, attempt)
        except OSError:  # the server answered and closed while the request was still being sent
            continue
        if answer:  # answered (else the server just closed the connection)
            assert 400 <= status_of(answer) < 500, answer[:300]
            assert orjson.loads(body_of(answer))["error"], answer[:300]
    assert httpx.get(f"{server}{URL}", params={"expression": "port-tcp:443"}, headers=headers).status_code == 200


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_workers_exit_when_their_master_is_killed_and_a_restart_works(slow_data: Path, secret: str) -> None:
    """``kill -9`` of ``shoal serve --workers 2``'s master (issue 22, item 4): no worker outlives it by more than
    5 s, and a new ``shoal serve`` on the same port starts and answers."""
    with running_server(slow_data, "--workers", "2") as running:
        children = Path(f"/proc/{running.process.pid}/task/{running.process.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()]
        assert len(workers) >= 2
        os.kill(running.process.pid, signal.SIGKILL)
        running.process.wait()
        killed = time.monotonic()
        try:
            while any(alive(pid) for pid in workers) and time.monotonic() - killed < 10:
                time.sleep(0.05)
            outlived = time.monotonic() - killed
            assert outlived < 5, f"workers still running {outlived:.1f} s after their master was killed"
        finally:
            for pid in filter(alive, workers):
                os.kill(pid, signal.SIGKILL)
        with running_server(slow_data, "--workers", "2", port=running.port) as again:
            headers = {"Authorization": f"Bearer {secret}"}
            answer = httpx.get(f"{again.base}{URL}", params={"ip": "0.0.0.0/0"}, headers=headers)
            assert answer.status_code == 200
