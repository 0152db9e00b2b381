"""What a probe is and what it finds.

Every protocol is one row of the registry (``shoal.collect.protocols``): a ``ServerFirst`` protocol (SSH, FTP,
SMTP, …) is recognised from the bytes the service sends unprompted, then its probe may talk on to complete the
picture; a ``ClientFirst`` protocol (HTTP, TLS, Redis, …) stays silent until asked, so its probe speaks first on
a fresh connection and says whether the answer is its protocol. A client-first protocol may also recognise the
answer a service gave to another protocol's probe (memcached answers ``GET /`` with ``ERROR``): it is then
tried next. What needs more connections once the service is identified (SSH's other host keys, HTTP's redirects
and favicon) is a ``FollowUp`` the service carries, run by ``shoal.collect.identify.follow_up`` through the
connector, inside the service timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shoal.collect.connection import Connection, Connector
from shoal.model import Body, Item

# (bytes the service sent, is this port one of the protocol's default ports?) → is it this protocol?
Recognizer = Callable[[bytes, bool], bool]


FollowUp = Callable[[Connector], Awaitable[None]]  # adds to its service what further connections show


@dataclass(slots=True)
class Service:
    """What a probe identified on one ip:port: the protocol, its banner, and items after the banner."""

    protocol: str
    banner: str
    items: list[Item] = field(default_factory=list)
    tls: bool = False  # the port speaks TLS from the first byte (the collector then adds a JARM fingerprint)
    bodies: list[Body] = field(default_factory=list)  # raw responses kept for scan/protocols/body (HTTP bodies)
    follow_ups: list[FollowUp] = field(default_factory=list)  # run once identified, each opening its connections


@dataclass(frozen=True, slots=True, eq=False)  # a row is itself: compared (and hashed) by identity
class ClientFirst:
    """A protocol whose service waits for the client: ``probe`` speaks first on its own connection."""

    name: str
    ports: frozenset[int]  # where its probe is tried before anything else
    probe: Callable[[Connection], Awaitable[Service | None]]
    recognizes: Recognizer | None = None  # an answer to another protocol's probe that names this one
    waits: bool = False  # its servers wait in silence for bytes that make sense to them (length-prefixed)
    catch_all: bool = False  # it accepts what others answer too (HTTP): they may claim its answer; its silence
    # means a server that waits for length-prefixed bytes, so the protocols that ``wait`` go next
    tls_ports: frozenset[int] = frozenset()  # where it runs inside TLS from the first byte (443 for HTTP)
    tls_name: str | None = None  # its name inside TLS (https), if it has one of its own; else ``name``
    layer: bool = False  # its probe opens a layer (TLS) that the plan runs again inside


@dataclass(frozen=True, slots=True, eq=False)
class ServerFirst:
    """A protocol whose service speaks first: ``recognizes`` its banner, ``probe`` talks on from there."""

    name: str
    ports: frozenset[int]  # where the banner wait comes first
    probe: Callable[[Connection, bytes], Awaitable[Service | None]]  # None: not this protocol after all
    recognizes: Recognizer
    tls_ports: frozenset[int] = frozenset()  # where it runs inside TLS from the first byte (993 for IMAP)
    tls_name: str | None = None  # its name inside TLS (imaps), if it has one of its own; else ``name``


Protocol = ClientFirst | ServerFirst


def line_complete(data: bytes) -> bool:
    return b"\n" in data


def first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].rstrip(b"\r")
