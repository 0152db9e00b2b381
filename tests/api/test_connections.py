"""Connection exhaustion (issue 14, item 1): silent and slow clients are cut off, connections are capped per
client address and per process, and a normal client is still answered while the caps are reached."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson
import pytest

from tests.api.serving import Running, connect, read_all, read_response, running_server

pytestmark = pytest.mark.slow
HEAD_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    options = ["--head-timeout", str(HEAD_TIMEOUT), "--max-connections", "40", "--max-connections-per-client", "6"]
    with running_server(tmp_path_factory.mktemp("connections"), *options) as running:
        yield running


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def body_of(answer: bytes) -> dict:
    return orjson.loads(answer.split(b"\r\n\r\n", 1)[1])


def test_a_silent_connection_is_closed_at_the_head_timeout(server: Running) -> None:
    with connect(server.port) as silent:
        started = time.monotonic()
        assert read_all(silent) == b""  # closed without a word: it had asked nothing
        assert HEAD_TIMEOUT * 0.7 <= time.monotonic() - started < HEAD_TIMEOUT + 3


def test_a_slow_loris_is_answered_408_at_the_head_timeout(server: Running) -> None:
    with connect(server.port, "127.0.0.2") as slow:
        started = time.monotonic()
        sent = 0
        try:
            for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                slow.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.1)
        except OSError:  # the server closed the connection while bytes were still coming
            pass
        answer = read_all(slow)
    assert time.monotonic() - started < HEAD_TIMEOUT + 3 and sent < 40
    assert status_of(answer) == 408 and body_of(answer)["code"] == "request_timeout"


def test_the_clock_restarts_for_each_request_of_a_kept_alive_connection(server: Running) -> None:
    with connect(server.port, "127.0.0.3") as client:
        for _ in range(3):
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(client).startswith(b"HTTP/1.1 200")
            time.sleep(HEAD_TIMEOUT * 0.6)  # three requests, 1.8 timeouts in all: each on time
        client.sendall(b"GET / HTTP/1.1\r\n")  # then one that never ends
        assert status_of(read_all(client)) == 408


def test_one_address_may_hold_only_its_share_of_connections(server: Running) -> None:
    with ExitStack() as held:
        for _ in range(6):
            held.enter_context(connect(server.port, "127.0.0.4"))
        with connect(server.port, "127.0.0.4") as seventh:
            refused = read_all(seventh)  # answered at once, before it sends anything
        assert status_of(refused) == 429 and body_of(refused)["code"] == "too_many_connections"
        assert b"retry-after: 1" in refused.lower()
        with connect(server.port, "127.0.0.5") as other:  # another address is not affected
            other.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status_of(read_all(other)) == 200


def test_a_full_process_closes_its_longest_waiting_connection_for_a_newcomer(server: Running) -> None:
    with ExitStack() as held:
        idle = [held.enter_context(connect(server.port, f"127.0.1.{n // 5 + 1}")) for n in range(60)]
        started = time.monotonic()
        response = httpx.get(f"{server.base}/", timeout=5)
        assert response.status_code == 200 and time.monotonic() - started < 1
        closed = 0
        for connection in idle[:30]:  # the oldest made room for the newest
            connection.settimeout(0.2)
            try:
                closed += connection.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert closed >= 15


def test_a_request_line_over_the_limit_is_414_and_a_head_over_64_kib_is_431(server: Running) -> None:
    with connect(server.port, "127.0.0.6") as client:
        client.sendall(b"GET /v1/scan/protocols?expression=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_all(client)
    assert status_of(answer) == 414 and body_of(answer)["code"] == "request_too_long"
    with connect(server.port, "127.0.0.6") as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1234567890\r\n" * 5000 + b"\r\n")
        answer = read_all(client)
    assert status_of(answer) == 431 and body_of(answer)["code"] == "headers_too_large"


def test_the_port_in_use_is_one_clear_line_before_any_listening(tmp_path: Path) -> None:
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "shoal", "serve", "--data", str(tmp_path), "--port", str(port)],
            capture_output=True,
            timeout=60,
        )
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2
    assert lines == [f"error: cannot listen on 127.0.0.1:{port}: the port is in use by another program (another "
                     "shoal serve?); stop it or choose another --port"]  # fmt: skip
