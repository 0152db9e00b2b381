"""SMTP: the ``220`` greeting, confirmed by a ``250`` answer to ``EHLO`` (its extensions are items), then
``STARTTLS`` where it is offered and the certificate behind it, else ``QUIT``. No mail, no login.

A 220 greeting whose server rejects EHLO is FTP's (the other protocol that greets with 220) if it answers FEAT
as FTP does; else it is neither (DICT, say), and the banner wait goes on to other protocols or ``generic``."""

from __future__ import annotations

import contextlib

from shoal.collect.connection import Connection
from shoal.collect.probes import ftp, starttls
from shoal.collect.probes.base import Service
from shoal.collect.probes.replies import complete_reply, reply_complete, reply_text
from shoal.model import Item
from shoal.text import printable

HELO_NAME = b"shoal.invalid"
MAX_EXTENSIONS = 64


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"220")


def extension_items(answer: bytes) -> list[Item]:
    """``capability;smtp`` per EHLO keyword (with its parameters), ``auth-method;smtp`` per AUTH mechanism."""
    items = []
    for line in answer.split(b"\n")[1:MAX_EXTENSIONS]:
        keyword = line[4:].strip()
        if not line.startswith(b"250") or not keyword:
            continue
        words = keyword.split()
        if words[0].upper() == b"AUTH":
            items += [Item("auth-method", printable(word, 128), "smtp") for word in words[1:]]
        else:
            items.append(Item("capability", printable(keyword, 256), "smtp"))
    return items


async def converse(connection: Connection, banner: bytes) -> Service | None:
    greeting = await complete_reply(connection, banner)
    await connection.send(b"EHLO " + HELO_NAME + b"\r\n")
    answer = await connection.receive(reply_complete)
    if not answer.startswith(b"250"):
        return await ftp.confirmed(connection, greeting)
    items = extension_items(answer)
    with contextlib.suppress(OSError):  # EHLO named the service; what follows only adds to it
        if any(item.type == "capability" and item.value.upper() == "STARTTLS" for item in items):
            await connection.send(b"STARTTLS\r\n")
            if (await connection.receive(reply_complete)).startswith(b"220"):
                items += await starttls.upgrade(connection, "smtp")
        else:
            await connection.send(b"QUIT\r\n")
    return Service("smtp", printable(reply_text(greeting)), items)
