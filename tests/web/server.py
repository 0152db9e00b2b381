"""A real ``shoal serve`` subprocess over a small corpus, for the browser and client tests."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from shoal.model import Item, Report
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.corpus import CORPUS

PAGING_REPORTS = 150  # titled "paging test": more than one page of results


@dataclass(frozen=True)
class Served:
    base: str
    token: str
    enterprise_token: str
    data: Path


def paging_reports() -> list[Report]:
    """150 reports in 198.51.100.0/24 (TEST-NET-2), none of which any corpus query matches."""
    return [
        Report(
            date=dt.date(2026, 10, 1) + dt.timedelta(days=n % 20),
            id=f"p{n:03d}",
            items=(
                Item("ip", f"198.51.100.{n % 50}", "", True),
                Item("port-tcp", str(8080 + n // 50), "", True),
                Item("server-banner", "HTTP/1.1 200 OK", "http"),
                Item("title", f"paging test {n}"),
            ),
        )
        for n in range(PAGING_REPORTS)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(
    data: Path, reports: Iterable[Report] = (*CORPUS, *paging_reports()), options: Sequence[str] = ()
) -> Iterator[Served]:
    """Import ``reports`` into ``data``, create a normal and an enterprise token, and serve on a free port
    (``options``: more of ``shoal serve``'s, e.g. ``--allow 127.0.0.1``)."""
    store = EmbeddedStore(data)
    store.ingest(reports)
    store.close()
    tokens = TokenStore(data)
    normal, enterprise = tokens.create("web"), tokens.create("big", enterprise=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(data / "serve.log", "wb") as log:
        command = [sys.executable, "-m", "shoal", "serve", "--data", str(data), "--port", str(port), *options]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"shoal serve did not start: {(data / 'serve.log').read_text()}") from None
                time.sleep(0.1)
        yield Served(base, normal, enterprise, data)
    finally:
        process.terminate()
        process.wait(timeout=10)
