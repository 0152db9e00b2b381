"""What a probe is and what it finds.

A ``RequestProbe`` speaks first (HTTP, TLS, Redis, …): it gets a fresh connection and says whether the answer
is its protocol. A ``BannerProbe`` recognises a service that speaks first (SSH, FTP, SMTP, …) from the bytes
it sent unprompted, and may talk on to complete the picture. What needs more connections once the service is
identified (SSH's other host keys, HTTP's redirects and favicon) is a ``FollowUp`` the service carries, run by
``shoal.collect.identify.follow_up`` through the connector, inside the service timeout.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from shoal.collect.connection import Connection, Connector
from shoal.model import Body, Item

MAX_BANNER_CHARS = 4096  # a banner item keeps this much text; the read itself is capped at 64 KiB
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


def printable(data: bytes, limit: int = MAX_BANNER_CHARS) -> str:
    """Text for an item: UTF-8 where it is, ``\\xNN`` for other bytes and control characters (tab, CR and
    LF stay), at most ``limit`` characters."""
    text = data[: limit * 4].decode("utf-8", "backslashreplace")
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)[:limit]


def line_complete(data: bytes) -> bool:
    return b"\n" in data


def first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].rstrip(b"\r")
