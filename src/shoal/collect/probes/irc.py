"""IRC: ``CAP LS 302`` and ``VERSION`` before registering (no nick, no user: no login); the replies name the
server and the capabilities it lists. A server that greets first (``NOTICE AUTH``) is recognised from it."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

REPLY = re.compile(rb"^(?::(\S+) )?([A-Z]+|\d{3}) ", re.MULTILINE)
CAPABILITIES = re.compile(rb"^:\S+ CAP \S+ LS (?:\* )?:?([^\r\n]*)", re.MULTILINE)
MAX_CAPABILITIES = 64


def recognizes(answer: bytes, usual_port: bool) -> bool:
    """A server message (``:server NOTICE …``, a numeric reply) or the ``ERROR :…`` a server closes with."""
    first = answer.split(b"\n", 1)[0]
    if first.startswith(b"ERROR :") and b"IRC" in first.upper():
        return True
    match = REPLY.match(first)
    return match is not None and match[1] is not None and match[2] in (b"NOTICE", b"CAP", b"451", b"421", b"020")


def replies_complete(data: bytes) -> bool:
    return data.count(b"\n") >= 2 or data.startswith(b"ERROR")


def irc_service(answer: bytes) -> Service | None:
    if not recognizes(answer, False):
        return None
    items = []
    server = REPLY.match(answer)
    if server and server[1]:
        items.append(Item("server-name", printable(server[1], 256), "irc"))
    capabilities = CAPABILITIES.search(answer)
    if capabilities:
        words = capabilities[1].split()[:MAX_CAPABILITIES]
        items += [Item("capability", printable(word, 128), "irc") for word in words]
    lines = [line.strip() for line in answer.split(b"\n") if line.strip()]
    return Service("irc", printable(b"\n".join(lines[:4]), 1024), items)


async def converse(connection: Connection, banner: bytes) -> Service | None:
    return irc_service(banner + await connection.receive(replies_complete, timeout=0.5))


async def run(connection: Connection) -> Service | None:
    await connection.send(b"CAP LS 302\r\nVERSION\r\n")
    return irc_service(await connection.receive(replies_complete))
