"""MySQL / MariaDB: the handshake packet the server sends first (its version), or its error packet."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, printable

HANDSHAKE_V10, ERROR_PACKET = 0x0A, 0xFF


def recognizes(banner: bytes, usual_port: bool) -> bool:
    """A first packet (3-byte length, sequence 0) that is a protocol-10 handshake or an error."""
    if len(banner) < 7 or banner[3] != 0 or banner[4] not in (HANDSHAKE_V10, ERROR_PACKET):
        return False
    return 0 < int.from_bytes(banner[:3], "little") <= 0xFFFF


def banner_text(payload: bytes) -> str:
    if payload[0] == HANDSHAKE_V10:
        return printable(payload[1:].split(b"\x00", 1)[0], 256)
    message = payload[3:]  # after the marker and the 2-byte error code
    if message.startswith(b"#"):
        message = message[6:]  # '#' and the 5-character SQL state
    return printable(message, 512)


async def converse(connection: Connection, banner: bytes) -> Service | None:
    length = int.from_bytes(banner[:3], "little")
    payload = banner[4 : 4 + length]
    if payload[0] == HANDSHAKE_V10 and b"\x00" not in payload[1:]:
        return None
    return Service("mysql", banner_text(payload))
