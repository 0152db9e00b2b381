"""Prioritize survives a crash (issue 14, item 10): an accepted request is written to DATA/prioritize.sqlite3
before it is answered, collected after a restart, and refunded if the restarted collector may no longer
collect it."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.queue import PriorityQueue
from shoal.collect.scanner import ScanSettings
from shoal.collect.worker import CollectionWorker
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from shoal.usage import Charge, UsageBook
from tests.api.serving import free_port
from tests.collect.conftest import BLOCK
from tests.collect.fakes import answers, fake_server

HOST = f"127.{BLOCK}.7.1"
ALLOWED = ipaddress.ip_network(f"127.{BLOCK}.7.0/24")
HTTP_OK = b"HTTP/1.1 200 OK\r\nServer: after-the-crash\r\nContent-Length: 0\r\n\r\n"
QUICK = ScanSettings(timeouts=Timeouts(connect=1, first_byte=0.3, service=3), jarm=False)


def test_the_queue_is_durable_and_spent_by_collection(tmp_path: Path) -> None:
    queue = PriorityQueue(tmp_path)
    charge = Charge("token123", "2026-12", "priority", 1)
    queue.add(("192.0.2.1", 80, "tcp"), charge)
    queue.add(("192.0.2.1", 80, "tcp"), charge)  # a second call for a target already waiting
    queue.add(("192.0.2.2", 22, "tcp"), None)
    queue.add(("192.0.2.1", 80, "udp"), None)  # UDP port 80 is another target
    again = PriorityQueue(tmp_path)  # as after a restart
    assert again.pending() == [("192.0.2.1", 80, "tcp"), ("192.0.2.2", 22, "tcp"), ("192.0.2.1", 80, "udp")]
    assert again.charges(("192.0.2.1", 80, "tcp")) == [charge, charge]
    assert again.charges(("192.0.2.1", 80, "udp")) == []
    again.done(("192.0.2.1", 80, "tcp"))
    assert PriorityQueue(tmp_path).pending() == [("192.0.2.2", 22, "tcp"), ("192.0.2.1", 80, "udp")]


def test_a_queue_file_from_before_udp_keeps_its_targets_as_tcp(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "prioritize.sqlite3")
    old.execute(
        "CREATE TABLE queue (number INTEGER PRIMARY KEY, ip TEXT NOT NULL, port INTEGER NOT NULL, token TEXT,"
        " month TEXT, kind TEXT, units INTEGER, accepted REAL NOT NULL)"
    )
    old.execute("INSERT INTO queue (ip, port, accepted) VALUES ('192.0.2.3', 443, 0)")
    old.commit()
    old.close()
    queue = PriorityQueue(tmp_path)
    assert queue.pending() == [("192.0.2.3", 443, "tcp")]
    queue.add(("192.0.2.3", 53, "udp"), None)
    assert PriorityQueue(tmp_path).pending() == [("192.0.2.3", 443, "tcp"), ("192.0.2.3", 53, "udp")]


def test_a_restarted_worker_collects_what_was_accepted(tmp_path: Path) -> None:
    PriorityQueue(tmp_path).add((HOST, 8080, "tcp"), None)  # accepted by a server that then died
    store = EmbeddedStore(tmp_path)
    worker = CollectionWorker(store, ScanPolicy(allow=(ALLOWED,)), QUICK, None, queue=PriorityQueue(tmp_path))
    with fake_server(HOST, 8080, answers(b"\r\n\r\n", HTTP_OK)):
        worker.start()
        try:
            deadline = time.monotonic() + 15
            while PriorityQueue(tmp_path).pending():
                assert time.monotonic() < deadline, "the queued target was never collected"
                time.sleep(0.1)
        finally:
            worker.stop()
    store.refresh()
    assert store.search(Filters(ip=ipaddress.ip_network(HOST))).total == 1
    store.close()


def test_what_the_policy_now_refuses_is_refunded_not_collected(tmp_path: Path) -> None:
    book = UsageBook(tmp_path)
    charge = book.charge("token123", "priority", 1, limit=10)
    PriorityQueue(tmp_path).add(("192.0.2.9", 80, "tcp"), charge)
    store = EmbeddedStore(tmp_path)
    worker = CollectionWorker(
        store, ScanPolicy(allow=(ALLOWED,)), QUICK, None, queue=PriorityQueue(tmp_path), usage=book
    )
    worker.start()
    worker.stop()
    assert PriorityQueue(tmp_path).pending() == []
    assert book.used("token123")["priority"] == 0
    store.close()


def listening_silently(host: str) -> tuple[socket.socket, int]:
    """A port that accepts and never says a word: its collection takes the whole banner wait."""
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen(16)
    return listener, listener.getsockname()[1]


@pytest.mark.slow
def test_a_request_accepted_before_a_kill_9_is_collected_after_the_restart(tmp_path: Path) -> None:
    secret = TokenStore(tmp_path).create("prioritizer")
    listener, target_port = listening_silently(HOST)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "shoal",
        "serve",
        "--data",
        str(tmp_path),
        "--port",
        str(port),
        "--allow",
        str(ALLOWED),
    ]
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {secret}"}

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                return process
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)

    first = start()
    try:
        answer = httpx.get(
            f"{base}/v1/scan/protocols/prioritize", params={"ip": HOST, "port": target_port}, headers=headers
        )
        assert answer.status_code == 200, answer.text
    finally:
        os.kill(first.pid, signal.SIGKILL)  # while the silent port is still being waited on
        first.wait()
    listener.close()
    with fake_server(HOST, target_port, answers(b"\r\n\r\n", HTTP_OK)):
        second = start()
        try:
            deadline = time.monotonic() + 30
            while httpx.get(f"{base}/v1/scan/protocols", params={"ip": HOST}, headers=headers).status_code == 204:
                assert time.monotonic() < deadline, "the accepted request was lost in the crash"
                time.sleep(0.3)
        finally:
            second.terminate()
            second.wait(timeout=15)
    used = UsageBook(tmp_path).used(TokenStore(tmp_path).all()[0].id)["priority"]
    assert used == 1  # charged once, and collected
