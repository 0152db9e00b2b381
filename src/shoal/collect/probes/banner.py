"""Anything else that speaks first: its first bytes (and whatever follows quickly), as text."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.text import printable

MORE_WAIT = 0.25  # seconds to wait for the rest of a banner that arrived in pieces


async def generic_service(connection: Connection, banner: bytes) -> Service:
    banner += await connection.receive(lambda _: False, timeout=MORE_WAIT)
    return Service("generic", printable(banner).strip())
