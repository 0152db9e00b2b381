"""SSH: the server's identification line (``SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3``), sent unprompted."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, first_line, line_complete, printable


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"SSH-")


async def converse(connection: Connection, banner: bytes) -> Service | None:
    if not line_complete(banner):
        banner += await connection.receive(line_complete)
    return Service("ssh", printable(first_line(banner), 256))
