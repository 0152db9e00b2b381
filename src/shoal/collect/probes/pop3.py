"""POP3: the ``+OK`` greeting, ``CAPA`` (its capabilities and SASL mechanisms), then ``STLS`` where it is
offered and the certificate behind it. No login."""

from __future__ import annotations

import contextlib

from shoal.collect.connection import Connection
from shoal.collect.probes import starttls
from shoal.collect.probes.base import Service, first_line, line_complete
from shoal.model import Item
from shoal.text import printable

MAX_CAPABILITIES = 64


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"+OK")


def list_complete(data: bytes) -> bool:
    """A multi-line answer ends with a lone dot; an error is one line."""
    return data.endswith(b"\r\n.\r\n") or b"\n.\r\n" in data or (data.startswith(b"-ERR") and b"\n" in data)


def capa_items(answer: bytes) -> list[Item]:
    if not answer.startswith(b"+OK"):
        return []
    items = []
    for line in answer.split(b"\n")[1:MAX_CAPABILITIES]:
        word = line.strip()
        if not word or word == b".":
            continue
        if word.upper().startswith(b"SASL"):
            items += [Item("auth-method", printable(mechanism, 128), "pop3") for mechanism in word.split()[1:]]
        else:
            items.append(Item("capability", printable(word, 128), "pop3"))
    return items


async def converse(connection: Connection, banner: bytes) -> Service | None:
    if not line_complete(banner):
        banner += await connection.receive(line_complete)
    items: list[Item] = []
    with contextlib.suppress(OSError):  # the greeting named the service; what follows only adds to it
        await connection.send(b"CAPA\r\n")
        items = capa_items(await connection.receive(list_complete))
        if Item("capability", "STLS", "pop3") in items:
            await connection.send(b"STLS\r\n")
            if (await connection.receive(line_complete)).startswith(b"+OK"):
                items += await starttls.upgrade(connection, "pop3")
    return Service("pop3", printable(first_line(banner), 1024), items)
