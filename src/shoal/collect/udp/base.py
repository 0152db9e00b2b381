"""What a UDP probe is: one row of the registry (``shoal.collect.udp.UDP_PROBES``).

A probe names its protocol and the ports it is tried first on, builds its request datagram from the ``Query``
(the target and 16 random bytes its ids are taken from), and says whether a datagram is the answer to that
request, and which service it shows. Answers are strict: a probe accepts only an answer that names its own
request (a DNS id, a STUN transaction, an IKE SPI, a SIP Call-ID…), so a burst of probes to one port can be
read in any order. ``follow_up`` may ask more of an identified service (DNS: a second query; mDNS: the instances
of its services), through a ``Conversation``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from shoal.collect.probes.base import Service

T = TypeVar("T")
NONCE_BYTES = 16


@dataclass(frozen=True, slots=True)
class Query:
    ip: str
    port: int
    nonce: bytes  # NONCE_BYTES random bytes for this target: each probe takes its ids from them


class Conversation(Protocol):
    """More exchanges with a service already identified (see ``shoal.collect.udp.identify``)."""

    async def ask(self, datagram: bytes, accept: Callable[[bytes], T | None]) -> T | None:
        """Send ``datagram`` (again after each wait, up to the retries) until an answer ``accept`` takes."""
        ...

    async def more(self, accept: Callable[[bytes], T | None]) -> list[T]:
        """Further answers ``accept`` takes that arrive within a short wait (several answers to one request)."""
        ...


@dataclass(frozen=True, slots=True)
class DatagramProbe:
    name: str  # the protocol: the context of the report's server-banner
    ports: frozenset[int]  # tried alone, first, on these ports
    request: Callable[[Query], bytes]
    answer: Callable[[bytes, Query], Service | None]  # None: not the answer to this probe's request
    follow_up: Callable[[Conversation, Query, Service], Awaitable[None]] | None = None
    any_source_port: bool = False  # the answer may come from another port of the target (TFTP)
    elsewhere: bool = True  # also sent to ports no probe is known for (not: mDNS and SSDP have one port each)
