"""memcached: ``version``; the answer is ``VERSION 1.6.18``. An ``ERROR`` line in answer to another probe's
bytes (``GET /``, a TLS hello) names it too."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, first_line, line_complete
from shoal.model import Item
from shoal.text import printable

VERSION = re.compile(rb"^VERSION (\S+)\r?\n")


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return answer.startswith((b"ERROR\r\n", b"CLIENT_ERROR ", b"SERVER_ERROR "))


async def run(connection: Connection) -> Service | None:
    await connection.send(b"version\r\n")
    answer = await connection.receive(line_complete)
    match = VERSION.match(answer)
    if match is None:
        return None
    return Service(
        "memcached", printable(first_line(answer), 256), [Item("version", printable(match[1], 64), "memcached")]
    )
