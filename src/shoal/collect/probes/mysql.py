"""MySQL / MariaDB: the handshake packet the server sends first (its version, capabilities, authentication
plugin), or its error packet. A server that offers TLS gets an SSL request and the handshake, and its
certificate is recorded; no login packet follows."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import starttls
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

HANDSHAKE_V10, ERROR_PACKET = 0x0A, 0xFF
CLIENT_PROTOCOL_41, CLIENT_SSL, CLIENT_SECURE_CONNECTION = 0x0200, 0x0800, 0x8000
# An SSLRequest (sequence 1): our capabilities, a maximum packet size, utf8mb4, 23 reserved zeros.
SSL_REQUEST_BODY = (
    (CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION).to_bytes(4, "little")
    + (16 * 1024 * 1024).to_bytes(4, "little")
    + bytes((45,))
    + bytes(23)
)
SSL_REQUEST = len(SSL_REQUEST_BODY).to_bytes(3, "little") + b"\x01" + SSL_REQUEST_BODY


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


def handshake_fields(payload: bytes) -> tuple[int, bytes]:
    """(capability flags, authentication plugin name) of a protocol-10 handshake; (0, b"") where cut short."""
    position = payload.index(b"\x00", 1) + 1 + 4 + 8 + 1  # version, thread id, scramble part 1, filler
    if len(payload) < position + 2:
        return 0, b""
    capabilities = int.from_bytes(payload[position : position + 2], "little")
    if len(payload) >= position + 7:
        capabilities |= int.from_bytes(payload[position + 5 : position + 7], "little") << 16
    scramble_length = payload[position + 7] if len(payload) > position + 7 else 0
    plugin_start = position + 7 + 1 + 10 + max(13, scramble_length - 8)
    return capabilities, payload[plugin_start:].split(b"\x00", 1)[0]


async def converse(connection: Connection, banner: bytes) -> Service | None:
    length = int.from_bytes(banner[:3], "little")
    payload = banner[4 : 4 + length]
    if payload[0] != HANDSHAKE_V10:
        return Service("mysql", banner_text(payload))
    if b"\x00" not in payload[1:]:
        return None
    capabilities, plugin = handshake_fields(payload)
    items = [Item("auth-method", printable(plugin, 64), "mysql")] if plugin else []
    if capabilities & CLIENT_SSL:
        await connection.send(SSL_REQUEST)
        items += await starttls.upgrade(connection, "mysql")
    return Service("mysql", banner_text(payload), items)
