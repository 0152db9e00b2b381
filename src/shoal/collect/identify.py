"""Which probes to try on an open port, in what order, stopping at the first that recognises the service.

The plan for a port: the client-first probes the port is known for (443 → TLS, 6379 → Redis, …), then one
wait for a banner (every server-first protocol is asked about it), then the other client-first probes in the
registry's order (the answer to ``GET /`` sorts them: a server that stays silent waits for a length-prefixed
protocol). What a step heard is shown to the client-first protocols not tried yet: those that recognise
it are tried next (memcached's ``ERROR`` to ``GET /``, an AMQP broker's protocol header, ClickHouse's "Port 9000
is for clickhouse-client program"). An HTTP service whose answer another protocol claims (ClickHouse's,
Squid's, Elasticsearch's) keeps its name only if the claimants find nothing better.

Each step gets its own connection; the first step may reuse the discovery connection. The port's own steps (its
hinted probes, the banner wait on a server-first protocol's port) run alone, each with the full wait
(``--wait``). The others overlap where waiting would be wasted: once every step under way has heard nothing for
a quick wait (``QUICK_WAIT``, or ``ROUND_TRIPS`` connect round trips if longer), the next step starts beside
them while they keep their full wait, up to ``MAX_OVERLAP`` at once. A service that answers its probes at once
(nearly all) is planned exactly as if the steps ran in turn; one that waits in silence for bytes that make sense
to it (SMB, DNS, Modbus on an unusual port) no longer costs a full wait per probe it ignores.

TLS is a layer: once the TLS step's handshake has succeeded, the plan runs again inside it, each step on a
connection that starts with its own TLS handshake — the protocols the port is known for inside TLS (993 → IMAP,
2376 → Docker; else HTTP first: most TLS services are HTTPS), the banner wait, then the others. What it finds is
named as it is inside TLS (``imap`` → ``imaps``, the registry's ``tls_name``) and carries the TLS session's items;
if nothing inside is recognised, the service is ``tls``.

Once a probe has recognised the service, its follow-ups (more connections: SSH's other host keys, HTTP's
redirects and favicon) run in what is left of the service timeout; one that fails or runs out of time keeps
what it added, and the service stays identified.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace

from shoal.collect.connection import RECORDING_TLS, Connection, Connector, PortClosed
from shoal.collect.probes.banner import generic_service
from shoal.collect.probes.base import ClientFirst, Service
from shoal.collect.protocols import CLIENT_FIRST, SERVER_FIRST, TLS_NAMES
from shoal.errors import TargetNotAllowed
from shoal.text import printable

log = logging.getLogger("shoal.collect")
RECOGNISERS = tuple((row, row.recognizes) for row in CLIENT_FIRST if row.recognizes is not None)
CATCH_ALL = next(row for row in CLIENT_FIRST if row.catch_all)
QUICK_WAIT = 0.5  # seconds of silence after which the next step may start beside the silent ones
ROUND_TRIPS = 4  # … or this many round trips to the peer (its TCP handshake's time), if that is longer
MAX_OVERLAP = 4  # steps under way at once on one port (IRC servers refuse a fifth connection from one address)

BANNER_WAIT = "banner"  # the plan step that waits for a server-first banner
Step = ClientFirst | str
Plan = tuple[tuple[Step, ...], int]  # the steps, and how many of the first are the port's own (they run alone)


@functools.lru_cache(maxsize=4096)
def planned(port: int) -> Plan:
    hinted = [row for row in CLIENT_FIRST if port in row.ports]
    own = len(hinted) + any(port in row.ports for row in SERVER_FIRST)
    return (*hinted, BANNER_WAIT, *(row for row in CLIENT_FIRST if row not in hinted)), own


@functools.lru_cache(maxsize=4096)
def planned_inside_tls(port: int) -> Plan:
    """The plan inside TLS: the protocols the port is known for inside TLS (else HTTP), the banner wait, the rest."""
    inside = [row for row in CLIENT_FIRST if not row.layer]
    hinted = [row for row in inside if port in row.tls_ports]
    greets = any(port in row.tls_ports for row in SERVER_FIRST)
    first = hinted if hinted or greets else [CATCH_ALL]
    return (*first, BANNER_WAIT, *(row for row in inside if row not in first)), len(hinted) + greets


def plan(port: int) -> list[Step]:
    return list(planned(port)[0])


def claimants(heard: bytes, steps: Collection[Step]) -> list[ClientFirst]:
    """The client-first protocols among ``steps`` that recognise ``heard`` (an answer to another probe), in the
    registry's order."""
    if not heard:
        return []
    pending = set(steps)
    return [row for row, recognizes in RECOGNISERS if row in pending and recognizes(heard, False)]


def next_steps(step: Step, connection: Connection, claimed: list[ClientFirst], steps: list[Step]) -> list[Step]:
    """After a step that found nothing: the claimants first, then (after the catch-all step) the protocols that
    wait in silence if the server was silent, else those that do not (the banner wait keeps its place)."""
    rest = [step for step in steps if step not in claimed]
    if isinstance(step, ClientFirst) and step.catch_all:
        waiting = not connection.heard and not connection.ended
        rest.sort(key=lambda other: isinstance(other, ClientFirst) and other.waits != waiting)
    return [*claimed, *rest]


async def identify(
    connector: Connector, ip: str, port: int, first: Connection | None = None, follow: bool = True
) -> Service | None:
    """The service on ip:port: the one a probe recognised, else a ``generic`` one with the first answer any probe
    drew; None if nothing answered. ``first``, an open connection to the port, is used (and closed) by the first
    step; ``follow``: run the service's follow-ups. Bounded by the service timeout as a whole."""
    deadline = asyncio.get_running_loop().time() + connector.timeouts.service
    identification = Identification(Route(connector, ip, port), planned(port), first, follow)
    try:
        async with asyncio.timeout_at(deadline):
            service = await identification.run()
    except (PortClosed, TimeoutError):
        service = identification.found
    if service is None and identification.heard.strip():  # it answered, but no probe knew the answer
        service = Service("generic", printable(identification.heard).strip())
    if service is not None and follow:
        await follow_up(service, connector, deadline)
    return service


@dataclass(frozen=True, slots=True)
class Route:
    """How each step reaches the service: a connection of its own, and TLS over it for the steps inside TLS."""

    connector: Connector
    ip: str
    port: int
    tls: bool = False

    async def open(self) -> Connection:
        """A connection ready for a step. Raises PortClosed; inside TLS also ssl.SSLError, OSError, TimeoutError."""
        connection = await self.connector.open(self.ip, self.port)
        if self.tls:
            try:
                await connection.start_tls(RECORDING_TLS)
            except BaseException:
                connection.close()
                raise
        return connection


@dataclass(slots=True, eq=False)
class Attempt:
    """One step under way: its task, and its connection once that is ready."""

    step: Step
    own: bool  # one of the port's own steps: nothing runs beside it
    task: asyncio.Task[Service | None] | None = None
    connection: Connection | None = None
    began: float = 0.0  # when the connection was ready (the event loop's clock)
    mark: int = 0  # what the connection had received by then (a TLS handshake)

    def silent_since(self) -> float | None:
        """When the step began, if its connection is ready and has heard nothing since (not even a hang-up)."""
        connection = self.connection
        if connection is None or connection.ended or connection.received != self.mark:
            return None
        return self.began

    def quick_wait(self) -> float:
        assert self.connection is not None
        quick = max(QUICK_WAIT, ROUND_TRIPS * self.connection.connected_in)
        return min(quick, self.connection.timeouts.first_byte)


class Identification:
    """A plan under way on one port (or inside its TLS): the steps not started, those running, what they found."""

    def __init__(self, route: Route, plan: Plan, first: Connection | None, follow: bool = True) -> None:
        steps, own = plan
        self.route = route
        self.follow = follow  # depth beyond the identifying exchange (Connection.follow_ups)
        self.pending: list[Step] = list(steps)
        self.own = frozenset(steps[:own])
        self.first = first  # the connection the first step uses
        self.running: list[Attempt] = []
        self.stopping: list[asyncio.Task[Service | None]] = []  # cancelled, closing their connections
        self.found: Service | None = None  # a service whose answer other protocols claim: kept if they find nothing
        self.heard = b""  # what the first step that heard anything heard (a TLS service's banner if nothing is named)

    async def run(self) -> Service | None:
        """The service the plan names, or what ``found`` holds once every step has run. Raises PortClosed."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self.running and self.pending and self.pending[0] in self.own:  # alone: no task needed
                    attempt = Attempt(self.pending.pop(0), own=True)
                    service = self._settle(attempt, await self._attempt(attempt))
                    if service is not None:
                        return service
                    continue
                self._start_steps(loop.time())
                if not self.running:
                    return self.found
                tasks = {attempt.task for attempt in self.running if attempt.task is not None}
                await asyncio.wait(tasks, timeout=self._wake_in(loop.time()), return_when=asyncio.FIRST_COMPLETED)
                for attempt in [attempt for attempt in self.running if attempt.task in tasks and attempt.task.done()]:
                    self.running.remove(attempt)
                    service = self._settle(attempt, attempt.task.result() if attempt.task else None)
                    if service is not None:
                        return service
        finally:
            await self._stop()

    def _start_steps(self, now: float) -> None:
        while self.pending and self._may_start(now):
            step = self.pending.pop(0)
            attempt = Attempt(step, step in self.own)
            attempt.task = asyncio.create_task(self._attempt(attempt))
            self.running.append(attempt)

    def _may_start(self, now: float) -> bool:
        """Nothing runs; or the next step is not the port's own, nor is any step under way, there is room, and
        every step under way has been silent for its quick wait."""
        if not self.running:
            return True
        ready = self._ready_at()
        return ready is not None and now >= ready

    def _ready_at(self) -> float | None:
        """When the next step may start beside those under way (if they stay silent); None: not beside them."""
        if self.pending[0] in self.own or len(self.running) >= MAX_OVERLAP:
            return None
        ready = 0.0
        for attempt in self.running:
            began = attempt.silent_since()
            if attempt.own or began is None:
                return None
            ready = max(ready, began + attempt.quick_wait())
        return ready

    def _wake_in(self, now: float) -> float | None:
        """Seconds until the next step may start beside the others (None: until one of them ends)."""
        if not self.pending:
            return None
        if any(attempt.connection is None for attempt in self.running):
            return QUICK_WAIT  # a connection is still being opened: look again then
        ready = self._ready_at()
        return None if ready is None else max(0.0, ready - now)

    async def _attempt(self, attempt: Attempt) -> Service | None:
        """One step on its own connection (the first one's, for the first step). Inside TLS, a step whose handshake
        fails finds nothing; a closed port ends the whole plan (PortClosed)."""
        if self.first is not None:
            connection, self.first = self.first, None
        else:
            try:
                connection = await self.route.open()
            except (OSError, TimeoutError):  # inside TLS: a handshake that failed this time
                return None
        attempt.connection, attempt.mark = connection, connection.received
        attempt.began = asyncio.get_running_loop().time()
        connection.follow_ups = self.follow
        try:
            service = await run_step(attempt.step, connection)
            if service is not None and isinstance(attempt.step, ClientFirst) and attempt.step.layer:
                plan = planned_inside_tls(self.route.port)
                inside = Identification(replace(self.route, tls=True), plan, connection, self.follow)
                service = inside_tls(service, await inside.run(), inside.heard)
            return service
        finally:
            connection.close()

    def _settle(self, attempt: Attempt, service: Service | None) -> Service | None:
        """Take in what a step that ended found: the service if it is the answer, else the plan goes on."""
        connection, step = attempt.connection, attempt.step
        heard = bytes(connection.heard) if connection is not None else b""
        self.heard = self.heard or heard
        if service is not None:
            if not (isinstance(step, ClientFirst) and step.catch_all):
                return service
            claimed = claimants(heard, self.pending)
            if not claimed:
                return service
            self.found, self.pending = self.found or service, [*claimed]
            self._cancel_running()  # what else ran was looking for a service that has answered since
        elif connection is not None:
            self.pending = next_steps(step, connection, claimants(heard, self.pending), self.pending)
        return None

    def _cancel_running(self) -> None:
        for attempt in self.running:
            if attempt.task is not None:
                attempt.task.cancel()
                self.stopping.append(attempt.task)
        self.running.clear()

    async def _stop(self) -> None:
        """Cancel the steps still under way and wait for them to close their connections."""
        self._cancel_running()
        if self.stopping:
            await asyncio.gather(*self.stopping, return_exceptions=True)
        if self.first is not None:
            self.first.close()


def inside_tls(layer: Service, inner: Service | None, heard: bytes) -> Service:
    """What runs inside TLS, named as it is there, with the TLS session's items after its own; ``tls`` (its banner
    what was heard inside, else the protocol version and cipher) if nothing inside was recognised."""
    if inner is None or inner.protocol == "generic":
        text = inner.banner if inner is not None else printable(heard).strip()
        return Service("tls", text or layer.banner, layer.items, tls=True)
    inner.protocol = TLS_NAMES.get(inner.protocol, inner.protocol)
    inner.items += layer.items
    inner.tls = True
    return inner


async def follow_up(service: Service, connector: Connector, deadline: float) -> None:
    """Run the service's follow-ups, in order, until ``deadline`` (the event loop's clock); each failure is its
    own, and the first one late stops the rest."""
    follow_ups, service.follow_ups = service.follow_ups, []
    for run in follow_ups:
        try:
            async with asyncio.timeout_at(deadline):
                await run(connector)
        except TimeoutError:
            return
        except (OSError, EOFError, ValueError, PortClosed, TargetNotAllowed):
            continue  # a reset, a closed port, bytes that are not the protocol, an address the policy refuses
        except Exception:
            log.warning("a follow-up of %s failed", service.protocol, exc_info=True)


async def run_step(step: Step, connection: Connection) -> Service | None:
    """One step on its own connection; a peer that resets, stalls or sends nonsense only fails the step."""
    try:
        if isinstance(step, ClientFirst):
            return await step.probe(connection)
        return await from_banner(connection)
    except TimeoutError:  # first: it is an OSError too
        return None  # a send or handshake that stalled
    except (OSError, EOFError):
        connection.ended = True
        return None  # a reset, a refused TLS handshake, a broken pipe
    except Exception:
        log.warning(
            "probe %s failed on %s:%d", getattr(step, "name", step), connection.ip, connection.port, exc_info=True
        )
        return None


async def from_banner(connection: Connection) -> Service | None:
    """The server-first service whose banner this is; a ``generic`` one if none recognises it, unless a
    client-first protocol does (an IRC server's NOTICE): its probe is then tried next."""
    banner = await connection.receive()
    if not banner:
        return None
    talked = False  # a probe spoke on the connection: what follows the banner now answers it
    for row in SERVER_FIRST:
        if row.recognizes(banner, connection.port in (row.ports if connection.tls is None else row.tls_ports)):
            service = await row.probe(connection, banner)
            if service is not None:
                return service
            talked = True
    if claimants(bytes(connection.heard), CLIENT_FIRST):
        return None
    return Service("generic", printable(banner).strip()) if talked else await generic_service(connection, banner)
