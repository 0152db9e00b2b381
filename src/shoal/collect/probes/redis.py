"""Redis: ``INFO server`` as a RESP array; the version line, or the error a locked server answers with."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, first_line
from shoal.text import printable

INFO_SERVER = b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"
ERROR_REPLY = re.compile(rb"^-[A-Z]+ ")
VERSION = re.compile(rb"redis_version:[^\r\n]*")


def reply_complete(data: bytes) -> bool:
    if data.startswith(b"$"):
        size, separator, rest = data[1:].partition(b"\r\n")
        return bool(separator) and size.isdigit() and len(rest) >= int(size)
    return b"\r\n" in data


def recognize(reply: bytes) -> str | None:
    """The banner if this is a Redis reply: ``redis_version:7.0.15``, or an error such as ``-NOAUTH …``."""
    if ERROR_REPLY.match(reply):
        return printable(first_line(reply), 512)
    version = VERSION.search(reply) if reply.startswith(b"$") else None
    return printable(version.group(), 256) if version else None


async def run(connection: Connection) -> Service | None:
    await connection.send(INFO_SERVER)
    banner = recognize(await connection.receive(reply_complete))
    return None if banner is None else Service("redis", banner)
