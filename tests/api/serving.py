"""``shoal serve`` as a subprocess on a free loopback port, with any options, for tests of the real server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Running:
    base: str
    port: int
    process: subprocess.Popen[bytes]


@contextmanager
def running_server(data: Path, *options: str, port: int | None = None) -> Iterator[Running]:
    """``shoal serve --data DATA OPTIONS`` (on ``port``, else a free one) until it answers ``GET /``; terminated
    (and waited for) at the end."""
    port = port or free_port()
    command = [sys.executable, "-m", "shoal", "serve", "--data", str(data), "--port", str(port), *options]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise AssertionError(process.stderr.read().decode() if process.stderr else "") from None
                assert time.monotonic() < deadline, "shoal serve did not start"
                time.sleep(0.1)
        yield Running(base, port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10) -> socket.socket:
    """A TCP connection to the server from ``source`` (any 127.x address: each is a different client)."""
    connection = socket.socket()
    connection.settimeout(timeout)
    connection.bind((source, 0))
    connection.connect(("127.0.0.1", port))
    return connection


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as a close)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def read_response(connection: socket.socket) -> bytes:
    """One whole response with a Content-Length (the connection stays open)."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "closed in the body"
        body += chunk
    return head + b"\r\n\r\n" + body


def stalled_export(port: int, path: str, headers: dict[str, str], source: str = "127.0.0.1") -> socket.socket:
    """An export request from a client (at ``source``) that then reads nothing (a small receive buffer fills at
    once)."""
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.bind((source, 0))
    connection.connect(("127.0.0.1", port))
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode())
    return connection


def status_of(connection: socket.socket) -> int:
    """The status of the response waiting in the receive buffer (0 if none yet), without reading it."""
    try:
        head = connection.recv(12, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return 0
    return int(head[9:12]) if head.startswith(b"HTTP/1.1 ") and len(head) >= 12 else 0


def closed(connection: socket.socket) -> bool:
    """Whether the server closed the connection (it may have sent a response before)."""
    try:
        return connection.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
