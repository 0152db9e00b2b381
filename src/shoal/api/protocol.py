"""The HTTP protocol ``shoal serve`` runs: uvicorn's httptools protocol, made safe to face the open internet.

- **Refused bytes.** A request the HTTP parser refuses (not HTTP, raw non-ASCII in the request line, an
  unknown method…) is answered 400 with Shoal's one JSON error shape (``code`` ``malformed_request``).
- **Sizes.** A request line over ``MAX_REQUEST_LINE`` bytes is a 414, a request head (line and headers) over
  ``MAX_HEAD_BYTES`` a 431, and the connection closes (httptools would buffer a head of any size).
- **Lingering close.** After a refusal the server stops sending (a half-close) and reads and drops what the
  client is still sending, for at most ``LINGER_SECONDS`` and ``LINGER_BYTES``, before it closes, as nginx's
  ``lingering_close`` does: closing with unread bytes makes the kernel reset the connection, and a client still
  sending its 70 KB request line would lose the 414 it was sent.
- **Slow and silent clients.** A whole request must arrive within ``head_timeout`` seconds of the moment the
  server starts waiting for it (a new connection, or the end of the previous response): bytes trickling in
  do not extend it, so a slow-loris client is cut off like a silent one (408 if it had started a request).
  Each connection's time runs out at a random 75–100% of it, so thousands opened at once (an attack) are
  not all closed, and reopened, in the same instant: that burst stalled normal requests for a second.
  Between requests uvicorn's keep-alive timeout (5 s) closes idle connections sooner.
- **Connection caps.** At most ``max_per_client`` connections per client address (an IPv6 client is its
  /64; trusted proxies are exempt): one more is answered 429 and closed. At most ``max_connections`` per
  process: a new connection then closes the one that has waited longest for a request (a request being
  served is never cut), or is answered 503 and closed if every connection is busy. So idle connections can
  never lock normal clients out, and the process stays under its open-file limit.
- **Clients that stop reading.** When the client has not taken any of the response for ``send_timeout``
  seconds (the write buffer stays full), the connection is aborted: a stalled export frees its memory and
  its token's concurrency slot. A route may ask for a share of that time for its response (the scope's
  ``state[SEND_TIMEOUT_SHARE]``): exports take a third, so a reader that does not drain loses its
  place in the process's export gate sooner.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from shoal.api.errors import error_bytes
from shoal.api.limits import client_network
from shoal.errors import (
    HeadersTooLarge,
    MalformedRequest,
    RequestTimeout,
    RequestTooLong,
    ServerBusy,
    ShoalError,
    TooManyConnections,
)
from shoal.store.base import IPNetwork

MAX_HEAD_BYTES = 64 * 1024
SEND_TIMEOUT_SHARE = "send_timeout_share"  # the key of ``request.state`` a route sets (see the docstring)
TIMEOUT_JITTER = 0.75  # a request's time runs out between 75% and 100% of head_timeout
MAX_REQUEST_LINE = 16 * 1024
LINGER_SECONDS = 2.0  # how long a refused client may go on sending before the connection closes
LINGER_BYTES = 1024 * 1024  # how much of it is read and dropped
MALFORMED = "malformed HTTP request: the server could not parse its request line or headers"
HEAD_TOO_LARGE = f"the request line and headers are larger than {MAX_HEAD_BYTES:,} bytes"
LINE_TOO_LONG = f"the request line is longer than {MAX_REQUEST_LINE:,} bytes (the query string may hold 8,192)"


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    head_timeout: float = 10.0  # seconds for a whole request, from when the server starts waiting for it
    send_timeout: float = 30.0  # seconds a client may leave the response unread before the connection is cut
    max_connections: int = 16_384  # open connections per process
    max_per_client: int = 256  # open connections per client address (an IPv6 /64)
    trusted: tuple[IPNetwork, ...] = ()  # proxies: exempt from max_per_client


DEFAULT_LIMITS = ConnectionLimits()


def is_trusted(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in trusted)


class ConnectionBook:
    """One process's open connections: how many per client address, and which wait for a request (oldest
    first: those are closed first when the process is full)."""

    def __init__(self) -> None:
        self.per_client: Counter[str] = Counter()
        self.waiting: dict[JsonErrorProtocol, None] = {}  # insertion order = how long each has waited

    def oldest_waiting(self) -> JsonErrorProtocol | None:
        return next(iter(self.waiting), None)


def book_of(state: ServerState) -> ConnectionBook:
    book = getattr(state, "shoal_connections", None)
    if book is None:
        book = ConnectionBook()
        state.shoal_connections = book  # type: ignore[attr-defined]
    return book


def error_response(error: ShoalError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 response carrying ``error`` in the one JSON error shape; the connection then closes."""
    body = error_bytes(error)
    status = f"{error.status} {HTTPStatus(error.status).phrase}".encode()
    lines = [b"HTTP/1.1 " + status + b"\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [name.encode() + b": " + value.encode() + b"\r\n" for name, value in error.headers().items()]
    lines += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class JsonErrorProtocol(HttpToolsProtocol):
    reading_head = True  # between the end of one request (or the connection's start) and the end of a head
    head_bytes = 0
    line_bytes = 0  # bytes of the request line seen so far, while it has no end
    line_done = False
    started = False  # a byte of the request being waited for has arrived
    lingering = False  # refused: the response is sent, what the client still sends is dropped
    lingered_bytes = 0
    counted: str | None = None  # the client key counted in the book
    request_timer: asyncio.TimerHandle | None = None
    send_timer: asyncio.TimerHandle | None = None

    @property
    def limits(self) -> ConnectionLimits:
        return getattr(self.config, "connection_limits", DEFAULT_LIMITS)

    # -- connections ----------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits, book = self.limits, book_of(self.server_state)
        address = self.client[0] if self.client else ""
        key = client_network(address)
        if not is_trusted(address, limits.trusted) and book.per_client[key] >= limits.max_per_client:
            self.refuse(
                TooManyConnections(f"at most {limits.max_per_client} connections per client address"), linger=False
            )
            return
        if len(self.connections) > limits.max_connections:
            oldest = book.oldest_waiting()
            if oldest is None:
                self.refuse(ServerBusy("the server is at its connection limit; retry in a moment"), linger=False)
                return
            oldest.close_waiting()
        self.counted = key
        book.per_client[key] += 1
        self.start_head()
        self.wait_for_request()

    def refuse(self, error: ShoalError, linger: bool = True) -> None:
        """Answer ``error`` and close; ``linger=False`` for a connection refused on arrival (it holds no slot)."""
        self.reading_head = False
        self.transport.write(error_response(error, self.server_state.default_headers))
        if not linger or not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.lingering = True
        if self.request_timer is not None:
            self.request_timer.cancel()
        self.request_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        book = book_of(self.server_state)
        book.waiting.pop(self, None)
        if self.counted is not None:
            book.per_client[self.counted] -= 1
            if book.per_client[self.counted] <= 0:
                del book.per_client[self.counted]
            self.counted = None
        for timer in (self.request_timer, self.send_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def start_head(self) -> None:
        """The next bytes are a new request's head: count them afresh."""
        self.reading_head, self.head_bytes, self.line_bytes, self.line_done, self.started = True, 0, 0, False, False

    def wait_for_request(self) -> None:
        """Start the clock for the next request; the connection may be closed for a newcomer meanwhile."""
        book_of(self.server_state).waiting[self] = None
        if self.request_timer is not None:
            self.request_timer.cancel()
        share = random.uniform(TIMEOUT_JITTER, 1.0)  # connections opened together do not all close together
        self.request_timer = self.loop.call_later(self.limits.head_timeout * share, self.request_timed_out)

    def request_timed_out(self) -> None:
        self.request_timer = None
        if self.transport.is_closing():
            return
        if self.started:
            seconds = self.limits.head_timeout
            self.refuse(RequestTimeout(f"the request did not arrive whole within {seconds:g} seconds"))
        else:
            self.transport.close()

    def close_waiting(self) -> None:
        """Closed to make room for a new connection (this one had waited longest for a request)."""
        book_of(self.server_state).waiting.pop(self, None)
        self.transport.abort()

    # -- requests --------------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            self.lingered_bytes += len(data)
            if self.lingered_bytes > LINGER_BYTES:
                self.transport.close()
            return
        if self.reading_head:
            self.started = True
            self.head_bytes += len(data)
            if not self.line_done:
                end = data.find(b"\n")
                self.line_done = end >= 0
                self.line_bytes += len(data) if end < 0 else end
                if self.line_bytes > MAX_REQUEST_LINE:
                    self.refuse(RequestTooLong(LINE_TOO_LONG))
                    return
            if self.head_bytes > MAX_HEAD_BYTES:
                self.refuse(HeadersTooLarge(HEAD_TOO_LARGE))
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        book_of(self.server_state).waiting.pop(self, None)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.start_head()
        if self.cycle is not None and self.cycle.response_complete:
            self.wait_for_request()  # answered before its body ended: the clock runs for the next request
        elif self.request_timer is not None:
            self.request_timer.cancel()
            self.request_timer = None

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)  # a request already received starts now: nothing to wait for
        super().on_response_complete()
        if not pipelined and not self.transport.is_closing():
            self.wait_for_request()

    def send_400_response(self, msg: str) -> None:
        self.refuse(MalformedRequest(MALFORMED))

    # -- responses -------------------------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.send_timer is None:
            self.send_timer = self.loop.call_later(self.send_timeout(), self.send_timed_out)

    def send_timeout(self) -> float:
        """The send timeout, or the share of it the response being sent asked for."""
        state = self.scope.get("state", {}) if getattr(self, "scope", None) else {}
        share = state.get(SEND_TIMEOUT_SHARE) if isinstance(state, dict) else None
        if isinstance(share, float) and 0 < share < 1:
            return self.limits.send_timeout * share
        return self.limits.send_timeout

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.send_timer is not None:
            self.send_timer.cancel()
            self.send_timer = None

    def send_timed_out(self) -> None:
        self.send_timer = None
        self.transport.abort()
