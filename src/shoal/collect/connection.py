"""Connections to scan targets: opened only through ``Connector`` (policy, rate, per-host limit, timeouts),
read with a byte cap and deadlines so no peer can hang or flood the collector.

Low-level failures are translated here: a failed connect raises ``PortClosed``; reads never raise for a
timeout, a reset or an early close, they return the bytes received so far.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from shoal.collect.datagrams import DatagramExchange
from shoal.collect.policy import ScanPolicy
from shoal.collect.ratelimit import ConnectionRate

READ_CAP = 64 * 1024  # bytes a probe may read from one connection
CHUNK = 16 * 1024


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 3.0  # TCP handshake
    first_byte: float = 3.0  # each wait for an answer (a banner, a reply to a probe)
    service: float = 20.0  # identifying one ip:port, all probes together


class PortClosed(Exception):
    """The TCP connection could not be made: refused, unreachable or timed out."""


def any_data(_: bytes) -> bool:
    return True


class Connection:
    """One TCP (later maybe TLS) connection with capped, deadline-bound reads."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ip: str,
        port: int,
        timeouts: Timeouts,
        on_close: Callable[[], None],
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.ip = ip
        self.port = port
        self.timeouts = timeouts
        self.remaining = READ_CAP
        self._on_close: Callable[[], None] | None = on_close

    @property
    def tls(self) -> ssl.SSLObject | None:
        return self.writer.get_extra_info("ssl_object")

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        async with asyncio.timeout(self.timeouts.first_byte):
            await self.writer.drain()

    async def receive(self, done: Callable[[bytes], bool] = any_data, timeout: float | None = None) -> bytes:
        """Bytes until ``done(bytes so far)``, the peer closes, the cap, or the timeout (default: first_byte),
        whichever comes first. A reset or a timeout returns what arrived before it."""
        buffer = bytearray()
        try:
            async with asyncio.timeout(self.timeouts.first_byte if timeout is None else timeout):
                while self.remaining > 0:
                    chunk = await self.reader.read(min(CHUNK, self.remaining))
                    if not chunk:
                        break
                    self.remaining -= len(chunk)
                    buffer += chunk
                    if done(buffer):
                        break
        except (TimeoutError, OSError, EOFError):
            pass
        return bytes(buffer)

    async def start_tls(self, context: ssl.SSLContext, server_name: str | None = None) -> ssl.SSLObject:
        """Upgrade to TLS, with SNI only for a host name visited (domain scans; targets are addresses).
        Raises ssl.SSLError / OSError / TimeoutError."""
        async with asyncio.timeout(self.timeouts.first_byte):
            await self.writer.start_tls(context, server_hostname=server_name)
        tls = self.tls
        if tls is None:
            raise ssl.SSLError("no TLS session after the handshake")
        return tls

    def close(self) -> None:
        if self._on_close is None:
            return
        self._on_close()
        self._on_close = None
        self.writer.transport.abort()


class Connector:
    """Opens connections and UDP exchanges, and nothing else does: every connect (and every exchange) is checked
    against the policy, waits for the rate limit (an exchange: each of its datagrams), and holds one of the target
    host's connection slots until it is closed."""

    def __init__(self, policy: ScanPolicy, rate: ConnectionRate, per_host: int, timeouts: Timeouts) -> None:
        self.policy = policy
        self.rate = rate
        self.per_host = per_host
        self.timeouts = timeouts
        self.connects = 0
        self.datagrams = 0  # UDP datagrams sent (each waits for the rate limit like a connect)
        self._hosts: dict[str, HostSlots] = {}

    async def open(self, ip: str, port: int) -> Connection:
        """A connection to ip:port; TargetNotAllowed before any packet if the policy refuses it,
        PortClosed if the connect fails."""
        release = await self._admit(ip)
        try:
            await self.rate.acquire()
            self.connects += 1
            async with asyncio.timeout(self.timeouts.connect):
                reader, writer = await asyncio.open_connection(ip, port, limit=READ_CAP)
        except (OSError, TimeoutError) as exc:
            release()
            raise PortClosed(f"{ip}:{port}: {exc or type(exc).__name__}") from exc
        except BaseException:
            release()
            raise
        return Connection(reader, writer, ip, port, self.timeouts, release)

    async def open_datagrams(self, ip: str, port: int) -> DatagramExchange:
        """A UDP exchange with ip:port (its datagrams wait for the rate limit); TargetNotAllowed before any
        packet if the policy refuses it. It holds one of the host's slots until closed."""
        release = await self._admit(ip)
        try:
            return DatagramExchange(ip, port, self.rate, self._count_datagram, release)
        except BaseException:
            release()
            raise

    def _count_datagram(self) -> None:
        self.datagrams += 1

    async def _admit(self, ip: str) -> Callable[[], None]:
        """Check ip against the policy and take one of its host's slots; returns what gives the slot back."""
        self.policy.check_address(ip)
        host = self._hosts.get(ip)
        if host is None:
            host = self._hosts[ip] = HostSlots(asyncio.Semaphore(self.per_host))
        host.users += 1
        try:
            await host.slots.acquire()
        except BaseException:
            self._leave(ip, host)
            raise

        def release() -> None:
            host.slots.release()
            self._leave(ip, host)

        return release

    def _leave(self, ip: str, host: HostSlots) -> None:
        host.users -= 1
        if host.users == 0:
            del self._hosts[ip]


@dataclass(slots=True)
class HostSlots:
    """The per-host connection limit of one address, kept while anyone uses or waits for it."""

    slots: asyncio.Semaphore
    users: int = 0
