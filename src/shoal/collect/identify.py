"""Which probes to try on an open port, in what order, stopping at the first that recognises the service.

The plan for a port: the client-first probe the port is known for (443 → TLS, 6379 → Redis, …), then one
wait for a banner (every server-first probe is asked about it), then the other client-first probes in the
registry's order. Each step gets its own connection; the first step may reuse the discovery connection.
Once a probe has recognised the service, its follow-ups (more connections: SSH's other host keys, HTTP's
redirects and favicon) run in what is left of the service timeout; one that fails or runs out of time keeps
what it added, and the service stays identified.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from shoal.collect.connection import Connection, Connector, PortClosed
from shoal.collect.probes import BANNER_PROBES, REQUEST_PROBES, BannerProbe, RequestProbe, Service
from shoal.collect.probes.banner import generic_service
from shoal.errors import TargetNotAllowed

log = logging.getLogger("shoal.collect")

BANNER_WAIT = "banner"  # the plan step that waits for a server-first banner
Step = RequestProbe | str


def plan(port: int) -> list[Step]:
    hinted: list[Step] = [probe for probe in REQUEST_PROBES if port in probe.ports]
    return [*hinted, BANNER_WAIT, *(probe for probe in REQUEST_PROBES if probe not in hinted)]


async def identify(
    connector: Connector, ip: str, port: int, first: Connection | None = None, follow: bool = True
) -> Service | None:
    """The service on ip:port, or None if nothing recognisable answered. ``first``, an open connection to
    the port, is used (and closed) by the first step; ``follow``: run the service's follow-ups. Bounded by the
    service timeout as a whole."""
    deadline = asyncio.get_running_loop().time() + connector.timeouts.service
    try:
        async with asyncio.timeout_at(deadline):
            for step in plan(port):
                connection = first or await connector.open(ip, port)
                first = None
                try:
                    service = await run_step(step, connection)
                finally:
                    connection.close()
                if service is not None:
                    break
            else:
                return None
    except (PortClosed, TimeoutError):
        return None
    finally:
        if first is not None:
            first.close()
    if follow:
        await follow_up(service, connector, deadline)
    return service


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
        if isinstance(step, RequestProbe):
            return await step.run(connection)
        return await from_banner(connection, BANNER_PROBES)
    except (OSError, EOFError, TimeoutError):
        return None  # a reset, a refused TLS handshake, a broken pipe, a send or handshake that stalled
    except Exception:
        log.warning(
            "probe %s failed on %s:%d", getattr(step, "name", step), connection.ip, connection.port, exc_info=True
        )
        return None


async def from_banner(connection: Connection, probes: Sequence[BannerProbe]) -> Service | None:
    banner = await connection.receive()
    if not banner:
        return None
    for probe in probes:
        if probe.recognizes(banner, connection.port):
            service = await probe.converse(connection, banner)
            if service is not None:
                return service
    return await generic_service(connection, banner)
