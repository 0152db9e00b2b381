"""Which probes to try on an open port, in what order, stopping at the first that recognises the service.

The plan for a port: the client-first probes the port is known for (443 → TLS, 6379 → Redis, …), then one
wait for a banner (every server-first protocol is asked about it), then the other client-first probes in the
registry's order (the answer to ``GET /`` sorts them: a server that stays silent waits for a length-prefixed
protocol). What a step heard is shown to the client-first protocols not tried yet: those that recognise
it are tried next (memcached's ``ERROR`` to ``GET /``, an AMQP broker's protocol header, ClickHouse's "Port 9000
is for clickhouse-client program"). An HTTP service whose answer another protocol claims (ClickHouse's,
Squid's, Elasticsearch's) keeps its name only if the claimants find nothing better.
Each step gets its own connection; the first step may reuse the discovery connection.
Once a probe has recognised the service, its follow-ups (more connections: SSH's other host keys, HTTP's
redirects and favicon) run in what is left of the service timeout; one that fails or runs out of time keeps
what it added, and the service stays identified.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Collection

from shoal.collect.connection import Connection, Connector, PortClosed
from shoal.collect.probes.banner import generic_service
from shoal.collect.probes.base import ClientFirst, Service
from shoal.collect.protocols import CLIENT_FIRST, SERVER_FIRST
from shoal.errors import TargetNotAllowed

log = logging.getLogger("shoal.collect")
RECOGNISERS = tuple((row, row.recognizes) for row in CLIENT_FIRST if row.recognizes is not None)

BANNER_WAIT = "banner"  # the plan step that waits for a server-first banner
Step = ClientFirst | str


@functools.lru_cache(maxsize=4096)
def planned(port: int) -> tuple[Step, ...]:
    hinted = [row for row in CLIENT_FIRST if port in row.ports]
    return (*hinted, BANNER_WAIT, *(row for row in CLIENT_FIRST if row not in hinted))


def plan(port: int) -> list[Step]:
    return list(planned(port))


def claimants(heard: bytes, steps: Collection[Step]) -> list[ClientFirst]:
    """The client-first protocols among ``steps`` that recognise ``heard`` (an answer to another probe), in the
    registry's order."""
    if not heard:
        return []
    pending = set(steps)
    return [row for row, recognizes in RECOGNISERS if row in pending and recognizes(heard, False)]


def next_steps(step: Step, connection: Connection, claimed: list[ClientFirst], steps: list[Step]) -> list[Step]:
    """After a step that found nothing: the claimants first, then (after the catch-all step) the protocols that
    wait in silence if the server was silent, else those that do not."""
    rest = [step for step in steps if step not in claimed]
    if isinstance(step, ClientFirst) and step.catch_all:
        waiting = not connection.heard and not connection.ended
        rest.sort(key=lambda other: not isinstance(other, ClientFirst) or other.waits != waiting)
    return [*claimed, *rest]


async def identify(
    connector: Connector, ip: str, port: int, first: Connection | None = None, follow: bool = True
) -> Service | None:
    """The service on ip:port, or None if nothing recognisable answered. ``first``, an open connection to
    the port, is used (and closed) by the first step; ``follow``: run the service's follow-ups. Bounded by the
    service timeout as a whole."""
    deadline = asyncio.get_running_loop().time() + connector.timeouts.service
    service = await recognise(connector, ip, port, first, deadline)
    if service is not None and follow:
        await follow_up(service, connector, deadline)
    return service


async def recognise(
    connector: Connector, ip: str, port: int, first: Connection | None, deadline: float
) -> Service | None:
    """The plan's steps, until one names the service or ``deadline`` (the event loop's clock) passes."""
    steps = plan(port)
    found: Service | None = None  # a service whose answer other protocols claim: kept if they find nothing
    try:
        async with asyncio.timeout_at(deadline):
            while steps:
                step, *steps = steps
                connection = first or await connector.open(ip, port)
                first = None
                try:
                    service = await run_step(step, connection)
                finally:
                    connection.close()
                if service is not None:
                    if not (isinstance(step, ClientFirst) and step.catch_all):
                        return service
                    claimed = claimants(bytes(connection.heard), steps)
                    if not claimed:
                        return service
                    found, steps = found or service, [*claimed]
                else:
                    steps = next_steps(step, connection, claimants(bytes(connection.heard), steps), steps)
    except (PortClosed, TimeoutError):
        pass
    finally:
        if first is not None:
            first.close()
    return found


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
    for row in SERVER_FIRST:
        if row.recognizes(banner, connection.port in row.ports):
            service = await row.probe(connection, banner)
            if service is not None:
                return service
    if claimants(bytes(connection.heard), CLIENT_FIRST):
        return None
    return await generic_service(connection, banner)
