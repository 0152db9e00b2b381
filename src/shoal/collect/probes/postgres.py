"""PostgreSQL: an SSLRequest, then a second one the server cannot accept; its error is the banner
(``FATAL:  unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0``). No login is tried.
A server that offers TLS gets a handshake first, and its certificate is recorded."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import tls
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
ERROR_RESPONSE = ord("E")


def error_complete(data: bytes) -> bool:
    return len(data) >= 5 and len(data) >= 1 + int.from_bytes(data[1:5], "big")


def error_text(response: bytes) -> str | None:
    """``SEVERITY:  message`` from an ErrorResponse, None if it is not one."""
    if len(response) < 5 or response[0] != ERROR_RESPONSE:
        return None
    fields = {}
    for field in response[5 : 1 + int.from_bytes(response[1:5], "big")].split(b"\x00"):
        if field:
            fields.setdefault(chr(field[0]), field[1:])
    severity = fields.get("V") or fields.get("S")
    message = fields.get("M")
    if severity is None or message is None:
        return None
    return printable(severity + b":  " + message, 512)


async def run(connection: Connection) -> Service | None:
    await connection.send(SSL_REQUEST)
    answer = await connection.receive(lambda data: len(data) >= 1)
    certificate: list[Item] = []
    if answer == b"S":
        certificate = await tls.handshake(connection)
    elif answer != b"N":
        return None
    await connection.send(SSL_REQUEST)
    banner = error_text(await connection.receive(error_complete))
    if banner is None:
        return None
    return Service("postgres", banner, certificate)
