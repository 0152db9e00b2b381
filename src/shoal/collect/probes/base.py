"""What a probe is and what it finds.

A ``RequestProbe`` speaks first (HTTP, TLS, Redis, …): it gets a fresh connection and says whether the answer
is its protocol. A ``BannerProbe`` recognises a service that speaks first (SSH, FTP, SMTP, …) from the bytes
it sent unprompted, and may talk on to complete the picture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shoal.collect.connection import Connection
from shoal.model import Body, Item

# The text of what a service says, as items keep it; it lives below collect/, where the importers read it too.
from shoal.text import MAX_BANNER_CHARS as MAX_BANNER_CHARS
from shoal.text import printable as printable


@dataclass(slots=True)
class Service:
    """What a probe identified on one ip:port: the protocol, its banner, and items after the banner."""

    protocol: str
    banner: str
    items: list[Item] = field(default_factory=list)
    tls: bool = False  # the port speaks TLS from the first byte (the collector then adds a JARM fingerprint)
    bodies: list[Body] = field(default_factory=list)  # raw responses kept for scan/protocols/body (HTTP bodies)


@dataclass(frozen=True, slots=True)
class RequestProbe:
    name: str
    ports: frozenset[int]  # where it is tried before anything else
    run: Callable[[Connection], Awaitable[Service | None]]


@dataclass(frozen=True, slots=True)
class BannerProbe:
    name: str
    recognizes: Callable[[bytes, int], bool]  # (first bytes the service sent, port)
    converse: Callable[[Connection, bytes], Awaitable[Service | None]]  # None: not this protocol after all


def line_complete(data: bytes) -> bool:
    return b"\n" in data


def first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].rstrip(b"\r")
