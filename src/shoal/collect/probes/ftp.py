"""FTP: the ``220`` greeting (all its lines), then ``QUIT``."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, printable
from shoal.collect.probes.replies import complete_reply, reply_text


def recognizes(banner: bytes, usual_port: bool) -> bool:
    """A 220 greeting that says FTP, or any 220 greeting on an FTP port (SMTP takes the other 220s)."""
    return banner.startswith(b"220") and (b"ftp" in banner.lower() or usual_port)


def greeting_service(greeting: bytes) -> Service:
    return Service("ftp", printable(reply_text(greeting)))


async def converse(connection: Connection, banner: bytes) -> Service | None:
    greeting = await complete_reply(connection, banner)
    await connection.send(b"QUIT\r\n")
    return greeting_service(greeting)
