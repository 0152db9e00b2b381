"""SMTP: the ``220`` greeting, confirmed by a ``250`` answer to ``EHLO``, then ``QUIT``.

A 220 greeting whose server rejects EHLO is FTP's (the other protocol that greets with 220)."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import ftp
from shoal.collect.probes.base import Service, printable
from shoal.collect.probes.replies import complete_reply, reply_complete, reply_text

HELO_NAME = b"shoal.invalid"


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"220")


async def converse(connection: Connection, banner: bytes) -> Service | None:
    greeting = await complete_reply(connection, banner)
    await connection.send(b"EHLO " + HELO_NAME + b"\r\n")
    answer = await connection.receive(reply_complete)
    if not answer.startswith(b"250"):
        return ftp.greeting_service(greeting)
    await connection.send(b"QUIT\r\n")
    return Service("smtp", printable(reply_text(greeting)))
