"""Server limits: settings, concurrency slots per token, and running a query under a time limit.

Concurrency slots are flock'ed files ``DATA/slots/<key>.<n>`` (n < the token's concurrency), so the limit
holds across threads and across several server processes sharing a data directory, and a crashed process
can never leak a slot (the kernel drops its locks). A slot is held until the engine has really finished
the query, even when the client was already answered 504: a token cannot pile up runaway queries.

``run_query`` runs a route's work (parameter checks, the store call, rendering) on the query thread pool
and waits at most the request's time limit (tantivy releases the GIL while it searches).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import ipaddress
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from starlette.datastructures import QueryParams

from shoal.errors import BadParameter, QueryTimeout
from shoal.request.params import DEFAULT_QUERY_TIMEOUT, MIN_TIMEOUT, TIMEOUT
from shoal.store.deadline import Deadline, run_within

T = TypeVar("T")

MAX_QUERY_TIMEOUT = 3600.0  # the most ``shoal serve --query-timeout`` accepts
MAX_QUERY_STRING = 8192  # bytes of the raw query string; longer is a 414
ANON_SLOT_BUCKETS = 4096  # anonymous clients share this many slot files (bounded, whatever the addresses)
DEFAULT_ALERTS_CATCH_UP = 60.0  # seconds between a server's catch-ups of commits no process evaluated
SECONDS = re.compile(r"[0-9]{1,7}(\.[0-9]{1,6})?")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    query_timeout: float = DEFAULT_QUERY_TIMEOUT  # the default time limit, and the most ``timeout`` may ask
    allow_anon: bool = False  # accept ``Authorization: Bearer anon`` (class "anon": tight limits)
    query_threads: int = 0  # threads running queries per process; 0: 2 per core, at least 4
    alerts_catch_up: float = DEFAULT_ALERTS_CATCH_UP  # seconds between catch-ups of unevaluated commits (alerts)


def query_threads(settings: ServerSettings) -> int:
    """More threads than this spend CPU on the GIL: at 1M reports, 8 threads on 2 cores cost 9.1 ms of CPU per
    search against 7.7 ms with 2 (BENCHMARKS.md, Load)."""
    return settings.query_threads or max(4, 2 * (os.cpu_count() or 2))


def timeout_of(params: QueryParams, limit: float) -> float:
    """``timeout``: seconds (decimals allowed), at least MIN_TIMEOUT; default the server's limit. More than the
    limit is lowered to it, not refused: a client that always sends ``timeout=30`` still works against a server
    started with ``--query-timeout 10``."""
    value = TIMEOUT.read(params)
    if value is None:
        return limit
    text = value.strip()
    if not SECONDS.fullmatch(text):
        raise BadParameter("timeout", f"'timeout' must be a number of seconds, e.g. 10 or 2.5, not {value!r}")
    number = float(text)
    if number < MIN_TIMEOUT:
        raise BadParameter("timeout", f"'timeout' must be at least {MIN_TIMEOUT} seconds, not {text}")
    return min(number, limit)


# -- concurrency ---------------------------------------------------------------------------------------------


class Slot:
    """One held concurrency slot; shared by the request and its query thread, freed when both let go."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._holders = 1
        self._lock = threading.Lock()

    def hold(self) -> None:
        with self._lock:
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                os.close(self._descriptor)  # drops the flock


class Slots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def acquire(self, key: str, capacity: int) -> Slot | None:
        """A free slot of ``key`` (one of ``capacity``), or None when all are taken."""
        for number in range(capacity):
            path = self.folder / f"{key}.{number}"
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            return Slot(descriptor)
        return None


def client_network(address: str) -> str:
    """Whom a client address stands for: an IPv4 address (also when IPv4-mapped), an IPv6 /64 (one site's
    addresses); anything else as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def anonymous_key(address: str) -> str:
    """The usage id of an anonymous client: per IPv4 address, per IPv6 /64."""
    network = client_network(address)
    return f"anon-{hashlib.sha256(network.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


# -- time limit -------------------------------------------------------------------------------------------


_EXECUTOR_LOCK = threading.Lock()


def executor_of(request: Request) -> ThreadPoolExecutor:
    state = request.app.state
    with _EXECUTOR_LOCK:
        if getattr(state, "executor", None) is None:
            state.executor = ThreadPoolExecutor(query_threads(state.settings), thread_name_prefix="shoal-query")
        return state.executor


async def run_query(request: Request, job: Callable[..., T], *args: Any) -> T:
    """``job(*args)`` on the query pool, answered within the request's time limit or a QueryTimeout (504).

    The concurrency slot the request holds (if any) stays held until ``job`` returns, even after a 504.
    """
    timeout = timeout_of(request.query_params, request.app.state.settings.query_timeout)
    slot: Slot | None = request.scope.get("state", {}).get("slot")
    # The limit counts from now, as the wait for the answer does, not from when the pool starts the job.
    future: Future[T] = executor_of(request).submit(run_within, Deadline.after(timeout), job, *args)
    if slot is not None:
        slot.hold()
        future.add_done_callback(lambda _: slot.release())
    waiting = asyncio.wrap_future(future)
    waiting.add_done_callback(_consume)
    done, _ = await asyncio.wait({waiting}, timeout=timeout)
    if not done:
        raise QueryTimeout(timeout)
    return waiting.result()


def _consume(future: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a query answered by a timeout, so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()
