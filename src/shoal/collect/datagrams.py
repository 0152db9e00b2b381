"""UDP exchanges with one scan target: a socket of its own, datagrams sent under the rate limit, answers read
with a byte cap and deadlines, and an ICMP error (port unreachable: the port is closed) raised as ``Unreachable``.

The socket is not connected: TFTP answers from a port of its own (its transfer id), so answers are taken from
the target's address and filtered by port here. ``IP_RECVERR`` makes the kernel report the target's ICMP errors
to an unconnected socket too (on loopback a closed port answers at once). Port unreachable means closed; host or
network unreachable and "administratively prohibited" mean filtered: both end the exchange. Any other ICMP error
(protocol unreachable: what a NAT-T port's kernel says of a datagram that is not IKE) is skipped. The socket is
watched with ``add_reader`` rather than a datagram transport: uvloop's UDP transport crashes on a socket with
``IP_RECVERR`` set, and stops watching a socket with an error queued, so the queue is drained and the watch
renewed after each error skipped.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from shoal.collect.ratelimit import ConnectionRate

IP_RECVERR = 11  # <linux/in.h>; the socket module does not name it
IPV6_RECVERR = 25  # <linux/in6.h>
MAX_DATAGRAM = 65_535
READ_CAP = 64 * 1024  # bytes of answers one target may send us; the rest is dropped unread
MAX_DATAGRAMS = 64  # answers one target may send us
SEND_TRIES = 20  # a full send buffer is waited out this many times (5 ms each), then the datagram is dropped
MSG_ERRQUEUE = 0x2000  # <linux/socket.h>
MAX_QUEUED_ERRORS = 16
FINAL_ERRORS = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.EHOSTDOWN}
)


class Unreachable(Exception):
    """The target answered with an ICMP error that ends the exchange: port unreachable (``closed``), or host or
    network unreachable, or a firewall's refusal (filtered)."""

    def __init__(self, message: str, closed: bool) -> None:
        super().__init__(message)
        self.closed = closed


@dataclass(frozen=True, slots=True)
class Datagram:
    data: bytes
    port: int  # the port it came from: the target's, or another of the target's (TFTP)


class DatagramExchange:
    """Datagrams to and from one ip:port. ``send`` waits for the rate limit; ``receive`` returns the next
    answer or None at the deadline; both raise Unreachable once an ICMP error arrived. Close it when done."""

    def __init__(
        self, ip: str, port: int, rate: ConnectionRate, on_send: Callable[[], None], on_close: Callable[[], None]
    ) -> None:
        self.ip = ip
        self.port = port
        self.rate = rate
        self._on_send = on_send
        self.sent = 0  # datagrams sent (the politeness count)
        self.remaining = READ_CAP
        self._address = ipaddress.ip_address(ip)
        family = socket.AF_INET6 if self._address.version == 6 else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        if family == socket.AF_INET6:
            self._socket.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        else:
            self._socket.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        self._loop = asyncio.get_running_loop()
        self._answers: asyncio.Queue[Datagram] = asyncio.Queue()
        self._error: OSError | None = None
        self._received = 0
        self._wake = asyncio.Event()
        self._on_close: Callable[[], None] | None = on_close
        self._watch()

    def _readable(self) -> None:
        for _ in range(MAX_DATAGRAMS):
            try:
                data, address = self._socket.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                return
            except OSError as exc:  # an ICMP error the kernel queued for this socket
                self._error_received(exc)
                return
            if ipaddress.ip_address(address[0].split("%", 1)[0]) != self._address:
                continue  # not from the target: ignored
            if self._received >= MAX_DATAGRAMS or self.remaining <= 0:
                continue
            self._received += 1
            data = data[: self.remaining]
            self.remaining -= len(data)
            self._answers.put_nowait(Datagram(data, address[1]))
            self._wake.set()

    def _error_received(self, exc: OSError) -> None:
        """End the exchange on a final error; otherwise drain the error queue and go on watching."""
        self._loop.remove_reader(self._socket.fileno())
        if exc.errno in FINAL_ERRORS:
            self._error = self._error or exc
            self._wake.set()
            return
        for _ in range(MAX_QUEUED_ERRORS):
            try:
                self._socket.recvmsg(1, 1024, MSG_ERRQUEUE)
            except OSError:
                break
        self._loop.call_soon(self._watch)

    def _watch(self) -> None:
        if self._on_close is not None and self._error is None:
            self._loop.add_reader(self._socket.fileno(), self._readable)

    def _check(self) -> None:
        if self._error is not None:
            closed = self._error.errno == errno.ECONNREFUSED
            raise Unreachable(f"{self.ip}:{self.port}/udp: {self._error.strerror or self._error}", closed)

    async def send(self, data: bytes) -> None:
        """Send one datagram once the rate limit allows it; a full send buffer drops it (as a network would)."""
        self._check()
        await self.rate.acquire()
        for _ in range(SEND_TRIES):
            try:
                self._socket.sendto(data, (self.ip, self.port))
            except BlockingIOError:
                await asyncio.sleep(0.005)
                continue
            except OSError as exc:  # an ICMP error from an earlier datagram, reported on this send
                if exc.errno not in FINAL_ERRORS:
                    continue
                self._error = self._error or exc
                self._check()
            self.sent += 1
            self._on_send()
            return

    async def receive(self, deadline: float) -> Datagram | None:
        """The next answer, or None once ``deadline`` (``time.monotonic()``) has passed."""
        while True:
            if not self._answers.empty():
                return self._answers.get_nowait()
            self._check()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._wake.clear()
            try:
                async with asyncio.timeout(left):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def close(self) -> None:
        if self._on_close is None:
            return
        self._loop.remove_reader(self._socket.fileno())
        self._socket.close()
        self._on_close()
        self._on_close = None
