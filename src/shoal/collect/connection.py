"""Connections to scan targets: opened only through ``Connector`` (policy, rate, per-host limit, timeouts),
read with a byte cap and deadlines so no peer can hang or flood the collector.

Low-level failures are translated here: a failed connect raises ``PortClosed``; reads never raise for a
timeout, a reset or an early close, they return the bytes received so far.

TLS runs over the same stream through ``ssl.MemoryBIO`` (not the event loop's TLS transport), so the bytes the
peer sent during its handshake are seen as they arrived: its ServerHello is what JA4S fingerprints, in TLS 1.3
too, where everything after it is encrypted.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from shoal.collect.datagrams import DatagramExchange
from shoal.collect.policy import ScanPolicy
from shoal.collect.ratelimit import ConnectionRate
from shoal.request.params import CONNECT_TIMEOUT, SERVICE_TIMEOUT, WAIT, default_of

READ_CAP = 64 * 1024  # bytes a probe may read from one connection
CHUNK = 16 * 1024
HEARD_BYTES = 4096  # the start of what a connection received, kept for other protocols to recognise
ALLOWED_KEPT = 4096  # addresses whose policy verdict a Connector remembers
HANDSHAKE_KEPT = 16 * 1024  # bytes of the peer's TLS handshake kept for fingerprints (its ServerHello comes first)


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = default_of(CONNECT_TIMEOUT)  # TCP handshake
    first_byte: float = default_of(WAIT)  # each wait for an answer (a banner, a reply to a probe)
    service: float = default_of(SERVICE_TIMEOUT)  # identifying one ip:port, all probes together


def recording_context() -> ssl.SSLContext:
    """TLS that accepts any certificate, any protocol version and cipher the local OpenSSL still speaks: the
    collector records what it is shown, it does not trust it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


RECORDING_TLS = recording_context()


class PortClosed(Exception):
    """The TCP connection could not be made: refused, unreachable or timed out."""


def any_data(_: bytes) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class TlsSession:
    """TLS over a connection's stream: the session, and the buffers of records between it and the socket."""

    session: ssl.SSLObject
    incoming: ssl.MemoryBIO  # records received, for the session to decrypt
    outgoing: ssl.MemoryBIO  # records the session made, to send


class Stream(asyncio.Protocol):
    """The bytes of one TCP connection as they arrive: a buffer and one waiter at a time (a read, or a send waiting
    for the transport's buffer to drain). Lighter than asyncio's streams — no reader, writer and future per read —
    which matters at thousands of connections a second. Reading pauses while more than READ_CAP bytes wait unread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop  # kept: asking asyncio for the running loop costs a system call (getpid) each time
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False  # the peer closed its side, or the connection is lost
        self.lost = False  # the connection is gone (reset, or closed both ways)
        self.error: BaseException | None = None  # why it was lost, if not by a clean close
        self.write_paused = False
        self.read_paused = False
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_CAP and not self.read_paused and self.transport is not None:
            self.read_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return True  # keep our side open: a probe may still send

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = self.lost = True
        self.error = exc
        self._wake()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, deadline: float) -> None:
        """Until something happens on the connection; TimeoutError at ``deadline`` (the event loop's clock)."""
        waiter = self.waiter = self.loop.create_future()
        timer = self.loop.call_at(deadline, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self.waiter = None

    async def read(self, size: int, deadline: float) -> bytes:
        """Up to ``size`` bytes once some have arrived; b"" at the end of the stream. Raises the error that ended
        the connection (a reset) once what arrived before it is read, TimeoutError at ``deadline``."""
        while not self.buffer:
            if self.eof:
                if self.error is not None:
                    raise self.error
                return b""
            await self._wait(deadline)
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        if self.read_paused and len(self.buffer) <= READ_CAP and self.transport is not None:
            self.read_paused = False
            self.transport.resume_reading()
        return data

    async def write(self, data: bytes, deadline: float) -> None:
        """Send ``data``, waiting (until ``deadline``) while the transport's buffer is full. Raises
        ConnectionResetError once the connection is lost."""
        if self.lost or self.transport is None:
            raise ConnectionResetError("the connection is lost") from self.error
        self.transport.write(data)
        while self.write_paused and not self.lost:
            await self._wait(deadline)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Connection:
    """One TCP connection, or TLS over it once ``start_tls`` succeeded, with capped, deadline-bound reads (the cap
    counts the bytes on the wire)."""

    def __init__(
        self,
        stream: Stream,
        ip: str,
        port: int,
        timeouts: Timeouts,
        on_close: Callable[[], None],
        ja4plus: bool = True,
        connected_in: float = 0.0,
    ) -> None:
        self.stream = stream
        self.ip = ip
        self.port = port
        self.timeouts = timeouts
        self.ja4plus = ja4plus  # the policy lets probes compute JA4S/JA4X (collector.toml ``ja4plus``)
        self.remaining = READ_CAP
        self.handshake_bytes = b""  # what the peer sent during the TLS handshake (its first HANDSHAKE_KEPT bytes)
        self.heard = bytearray()  # the first HEARD_BYTES received, whoever read them
        self.received = 0  # bytes the peer has sent so far: its TLS handshake, then what ``receive`` returned
        self.ended = False  # the peer closed or reset the connection (rather than staying silent)
        self.connected_in = connected_in  # seconds the TCP handshake took: a round trip to the peer
        self.follow_ups = True  # probes may go beyond the identifying exchange (``shoal scan --no-follow-ups``)
        self._on_close: Callable[[], None] | None = on_close
        self._tls: TlsSession | None = None

    @property
    def tls(self) -> ssl.SSLObject | None:
        return None if self._tls is None else self._tls.session

    def _deadline(self, timeout: float) -> float:
        return self.stream.loop.time() + timeout

    async def send(self, data: bytes) -> None:
        if self._tls is not None:
            self._tls.session.write(data)
            data = self._tls.outgoing.read()
        await self.stream.write(data, self._deadline(self.timeouts.first_byte))

    async def _received(self, deadline: float) -> bytes:
        """The next bytes from the peer (decrypted, inside TLS); b"" at the end of the stream or of the cap."""
        while True:
            if self._tls is not None:
                try:
                    data = self._tls.session.read(CHUNK)
                except ssl.SSLWantReadError:
                    pass
                else:
                    self.ended = self.ended or not data  # b"": the peer closed the TLS session (close_notify)
                    return data
            if self.remaining <= 0:
                return b""
            data = await self.stream.read(min(CHUNK, self.remaining), deadline)
            self.remaining -= len(data)
            if not data:
                self.ended = True
                return data
            if self._tls is None:
                return data
            self._tls.incoming.write(data)

    async def receive(self, done: Callable[[bytes], bool] = any_data, timeout: float | None = None) -> bytes:
        """Bytes until ``done(bytes so far)``, the peer closes, the cap, or the timeout (default: first_byte),
        whichever comes first. A reset or a timeout returns what arrived before it."""
        buffer = bytearray()
        deadline = self._deadline(self.timeouts.first_byte if timeout is None else timeout)
        try:
            while chunk := await self._received(deadline):
                buffer += chunk
                self.received += len(chunk)
                if len(self.heard) < HEARD_BYTES:
                    self.heard += chunk[: HEARD_BYTES - len(self.heard)]
                if done(buffer):
                    break
        except TimeoutError:  # first: it is an OSError too
            pass
        except (OSError, EOFError):  # a reset; ssl.SSLError (a bad record, the peer's alert) is an OSError too
            self.ended = True
        return bytes(buffer)

    async def start_tls(self, context: ssl.SSLContext, server_name: str | None = None) -> ssl.SSLObject:
        """Upgrade to TLS, with SNI only for a host name visited (domain scans; targets are addresses); what the
        peer sent meanwhile is kept in ``handshake_bytes``. Raises ssl.SSLError / OSError / TimeoutError."""
        if self._tls is not None:
            raise ssl.SSLError("TLS is already running on this connection")
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        session = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
        received = bytearray()
        deadline = self._deadline(self.timeouts.first_byte)
        while True:
            try:
                session.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self.stream.write(outgoing.read(), deadline)
                data = await self.stream.read(min(CHUNK, self.remaining), deadline)
                if not data:
                    raise ConnectionResetError("the peer closed the connection during the TLS handshake") from None
                self.remaining -= len(data)
                self.received += len(data)
                received += data[: HANDSHAKE_KEPT - len(received)]
                incoming.write(data)
        await self.stream.write(outgoing.read(), deadline)  # the client's last handshake flight
        self._tls = TlsSession(session, incoming, outgoing)
        self.handshake_bytes = bytes(received)
        return session

    def close(self) -> None:
        if self._on_close is None:
            return
        self._on_close()
        self._on_close = None
        if self.stream.transport is not None:
            self.stream.transport.abort()


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
        self._allowed: dict[str, None] = {}  # addresses the policy allowed, newest last (it does not change)

    async def open(self, ip: str, port: int) -> Connection:
        """A connection to ip:port; TargetNotAllowed before any packet if the policy refuses it,
        PortClosed if the connect fails."""
        release = await self._admit(ip)
        try:
            await self.rate.acquire()
            self.connects += 1
            started = time.perf_counter()
            async with asyncio.timeout(self.timeouts.connect):
                loop = asyncio.get_running_loop()
                _, stream = await loop.create_connection(lambda: Stream(loop), ip, port)
        except (OSError, TimeoutError) as exc:
            release()
            raise PortClosed(f"{ip}:{port}: {exc or type(exc).__name__}") from exc
        except BaseException:
            release()
            raise
        connected_in = time.perf_counter() - started
        return Connection(stream, ip, port, self.timeouts, release, self.policy.ja4plus, connected_in)

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
        """Check ip against the policy and take one of its host's slots; returns what gives the slot back. The
        policy's verdict on an address is remembered (the policy is immutable): a service's second connection
        does not parse and match the address again."""
        if ip not in self._allowed:
            self.policy.check_address(ip)  # raises TargetNotAllowed: a refusal is never remembered
            if len(self._allowed) >= ALLOWED_KEPT:
                del self._allowed[next(iter(self._allowed))]
            self._allowed[ip] = None
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
