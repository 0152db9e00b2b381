"""Which UDP probes a port gets, and when; what its answers (or its silence) say.

A UDP port has no handshake: it is open when it answers, closed when an ICMP port unreachable comes back
(filtered for the other ICMP unreachables), and "open|filtered" when nothing comes back at all (not stored:
nothing proves a service is there). The plan:

1. the probes the port is known for (53 → DNS, 161 → SNMP, …), each sent ``retries + 1`` times, one wait each;
   on a port no probe is known for, a single pilot datagram instead (the first probe of the registry), so a
   closed port costs one datagram;
2. every other probe at once (a burst: one datagram each), ``retries + 1`` times, one wait each; not those of
   protocols that only live on their own port (mDNS, SSDP: multicast), nor IKEv1 (IKE daemons on another
   port than 500 expect NAT traversal's framing, which the NAT-T probe sends).

The first answer a probe recognises names the service, and its ``follow_up`` may ask more. An answer none
recognises makes the port open: the plan goes on without retries, and if nothing is recognised by its end the
report is ``generic`` (the first bytes). Every wait is ``first_byte``; the whole plan is bounded by the service
timeout, so an open|filtered port costs at most three waits (pilot, burst, its retry).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from shoal.collect.connection import Connector
from shoal.collect.datagrams import Datagram, DatagramExchange, Unreachable
from shoal.collect.probes.base import Service
from shoal.collect.udp import UDP_PROBES
from shoal.collect.udp.base import NONCE_BYTES, DatagramProbe, Query
from shoal.text import printable

log = logging.getLogger("shoal.collect")
MORE_WAIT = 0.25  # seconds to wait for further answers to one request (SSDP answers once per service type)
T = TypeVar("T")


class PortState(Enum):
    OPEN = "open"  # it answered
    CLOSED = "closed"  # ICMP port unreachable
    FILTERED = "filtered"  # ICMP host or network unreachable, or administratively prohibited
    SILENT = "open|filtered"  # no answer after every retry


@dataclass(frozen=True, slots=True)
class Step:
    probes: tuple[DatagramProbe, ...]
    tries: int


@dataclass(slots=True)
class Outcome:
    state: PortState
    service: Service | None = None
    sent: int = 0  # datagrams sent to the port


@dataclass(slots=True)
class Heard:
    """What a port said so far: the probes sent (in the plan's order) and its first unrecognised answer."""

    sent: dict[DatagramProbe, None] = field(default_factory=dict)
    unrecognised: Datagram | None = None
    service: Service | None = None


def plan(port: int, retries: int, probes: Sequence[DatagramProbe] = UDP_PROBES) -> list[Step]:
    hinted = tuple(probe for probe in probes if port in probe.ports)
    others = tuple(probe for probe in probes if probe not in hinted and probe.elsewhere)
    first = Step(hinted, retries + 1) if hinted else Step(others[:1], 1)
    return [first, Step(others, retries + 1)] if others else [first]


async def identify_udp(connector: Connector, ip: str, port: int, retries: int) -> Outcome:
    """Probe ip:port over UDP. TargetNotAllowed before any datagram if the policy refuses it."""
    exchange = await connector.open_datagrams(ip, port)
    query = Query(ip, port, os.urandom(NONCE_BYTES))
    heard = Heard()
    state = PortState.SILENT
    try:
        async with asyncio.timeout(connector.timeouts.service):
            await run_plan(exchange, query, plan(port, retries), heard, connector.timeouts.first_byte, retries)
    except Unreachable as exc:
        state = PortState.CLOSED if exc.closed else PortState.FILTERED
    except TimeoutError:
        pass
    finally:
        exchange.close()
    if heard.service is None and heard.unrecognised is not None:
        heard.service = Service("generic", printable(heard.unrecognised.data).strip())
    if heard.service is not None:
        state = PortState.OPEN
    return Outcome(state, heard.service, exchange.sent)


async def run_plan(
    exchange: DatagramExchange, query: Query, steps: list[Step], heard: Heard, wait: float, retries: int
) -> None:
    for step in steps:
        if heard.unrecognised is not None:
            step = Step(step.probes, 1)  # the port is open: no retries
        found = await burst(exchange, query, step, heard, wait)
        if found is not None:
            probe, heard.service = found
            if probe.follow_up is not None:
                await follow_up(probe, ProbeConversation(exchange, wait, retries + 1), query, heard.service)
            return


async def burst(
    exchange: DatagramExchange, query: Query, step: Step, heard: Heard, wait: float
) -> tuple[DatagramProbe, Service] | None:
    """Send the step's probes (``tries`` times, a wait each) until an answer is recognised; no more tries once the
    port has answered something none of the probes sent recognises."""
    for _ in range(step.tries):
        for probe in step.probes:
            await exchange.send(probe.request(query))
            heard.sent[probe] = None
        deadline = time.monotonic() + wait
        while (datagram := await exchange.receive(deadline)) is not None:
            found = recognise(datagram, query, heard.sent, exchange.port)
            if found is not None:
                return found
            heard.unrecognised = heard.unrecognised or datagram
        if heard.unrecognised is not None:
            return None
    return None


def recognise(
    datagram: Datagram, query: Query, sent: dict[DatagramProbe, None], port: int
) -> tuple[DatagramProbe, Service] | None:
    for probe in sent:
        if datagram.port != port and not probe.any_source_port:
            continue
        try:
            service = probe.answer(datagram.data, query)
        except Exception:
            log.warning("UDP probe %s failed on an answer from %s:%d", probe.name, query.ip, port, exc_info=True)
            continue
        if service is not None:
            return probe, service
    return None


async def follow_up(probe: DatagramProbe, conversation: ProbeConversation, query: Query, service: Service) -> None:
    """The probe's further questions; a service that stops answering (or says unreachable) keeps what it said."""
    assert probe.follow_up is not None
    try:
        await probe.follow_up(conversation, query, service)
    except Unreachable:
        pass
    except Exception:
        log.warning("UDP follow-up %s failed on %s:%d", probe.name, query.ip, query.port, exc_info=True)


class ProbeConversation:
    """``Conversation`` over one exchange: answers only from the target's port, a wait per try."""

    def __init__(self, exchange: DatagramExchange, wait: float, tries: int) -> None:
        self.exchange = exchange
        self.wait = wait
        self.tries = tries

    async def ask(self, datagram: bytes, accept: Callable[[bytes], T | None]) -> T | None:
        for _ in range(self.tries):
            await self.exchange.send(datagram)
            found = await self._accepted(accept, self.wait)
            if found:
                return found[0]
        return None

    async def more(self, accept: Callable[[bytes], T | None]) -> list[T]:
        found: list[T] = []
        deadline = time.monotonic() + MORE_WAIT
        while batch := await self._accepted(accept, deadline - time.monotonic()):
            found += batch
        return found

    async def _accepted(self, accept: Callable[[bytes], T | None], wait: float) -> list[T]:
        """The first answer ``accept`` takes within ``wait`` seconds (a list of it), or an empty list."""
        deadline = time.monotonic() + wait
        while (datagram := await self.exchange.receive(deadline)) is not None:
            if datagram.port != self.exchange.port:
                continue
            value = accept(datagram.data)
            if value is not None:
                return [value]
        return []
