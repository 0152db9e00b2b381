"""FTP: the ``220`` greeting (all its lines), ``FEAT`` (its features are items), then ``AUTH TLS`` where it is
offered and the certificate behind it, else ``QUIT``. No login."""

from __future__ import annotations

import contextlib

from shoal.collect.connection import Connection
from shoal.collect.probes import starttls
from shoal.collect.probes.base import Service
from shoal.collect.probes.replies import complete_reply, reply_complete, reply_text
from shoal.model import Item
from shoal.text import printable

MAX_FEATURES = 64


def recognizes(banner: bytes, usual_port: bool) -> bool:
    """A 220 greeting that says FTP, or any 220 greeting on an FTP port (SMTP takes the other 220s)."""
    return banner.startswith(b"220") and (b"ftp" in banner.lower() or usual_port)


def greeting_service(greeting: bytes, items: list[Item] | None = None) -> Service:
    return Service("ftp", printable(reply_text(greeting)), items or [])


def feature_items(answer: bytes) -> list[Item]:
    """``capability;ftp`` per feature line of a ``211`` FEAT answer."""
    if not answer.startswith(b"211"):
        return []
    lines = answer.split(b"\n")[1:MAX_FEATURES]
    return [Item("capability", printable(line.strip(), 256), "ftp") for line in lines if line.startswith(b" ")]


async def confirmed(connection: Connection, greeting: bytes) -> Service | None:
    """FTP only if the server answers FEAT as FTP does (``211``, features listed): for a 220 greeting that did not
    say FTP and whose server refused SMTP's EHLO."""
    service = await converse(connection, greeting)
    return service if service.items else None


async def converse(connection: Connection, banner: bytes) -> Service:
    greeting = await complete_reply(connection, banner)
    items: list[Item] = []
    with contextlib.suppress(OSError):  # the greeting named the service; what follows only adds to it
        await connection.send(b"FEAT\r\n")
        items = feature_items(await connection.receive(reply_complete))
        if any(item.value.upper().startswith("AUTH") and "TLS" in item.value.upper() for item in items):
            await connection.send(b"AUTH TLS\r\n")
            if (await connection.receive(reply_complete)).startswith(b"234"):
                items += await starttls.upgrade(connection, "ftp")
                return greeting_service(greeting, items)
        await connection.send(b"QUIT\r\n")
    return greeting_service(greeting, items)
