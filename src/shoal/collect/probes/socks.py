"""SOCKS5 (RFC 1928): a greeting offering "no authentication" and "username/password"; the method the server
picks says whether it is an open proxy (``none``) or wants a login. No request is ever sent, and no credentials:
the exchange stops at the method the server chose."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item

GREETING = b"\x05\x02\x00\x02"  # version 5, two methods: no authentication, username/password
METHODS = {0x00: "none", 0x01: "GSSAPI", 0x02: "username/password", 0xFF: "no acceptable method"}


async def run(connection: Connection) -> Service | None:
    await connection.send(GREETING)
    answer = await connection.receive(lambda data: len(data) >= 2)
    if len(answer) != 2 or answer[0] != 5 or answer[1] not in METHODS:
        return None
    method = METHODS[answer[1]]
    items = [Item("protocol-version", "5", "socks"), Item("auth-method", method, "socks")]
    return Service("socks", f"SOCKS5: method {method}", items)
