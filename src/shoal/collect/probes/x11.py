"""X11: the connection setup (protocol 11.0, no authorization data); the server accepts (its vendor and release)
or refuses (its reason). A server that accepts anyone is an open display."""

from __future__ import annotations

import struct

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

SETUP = b"l\x00" + struct.pack("<HHHH", 11, 0, 0, 0) + bytes(2)  # little-endian, 11.0, no authorization
FAILED, SUCCESS, AUTHENTICATE = 0, 1, 2


def answer_complete(data: bytes) -> bool:
    return len(data) >= 8 and len(data) >= 8 + 4 * int.from_bytes(data[6:8], "little")


def release_text(release: int) -> str:
    """X.Org's release number as a version: 12101007 → 1.21.1.7."""
    if release < 10_000_000:
        return str(release)
    parts = (release // 10_000_000, release // 100_000 % 100, release // 1000 % 100, release % 1000)
    return ".".join(str(part) for part in parts)


def setup_service(answer: bytes) -> Service | None:
    if len(answer) < 8 or answer[0] not in (FAILED, SUCCESS, AUTHENTICATE):
        return None
    major, minor = struct.unpack_from("<HH", answer, 2)
    if major != 11:
        return None
    items = [Item("protocol-version", f"{major}.{minor}", "x11")]
    if answer[0] != SUCCESS:
        reason = printable(answer[8 : 8 + answer[1]], 512) if answer[0] == FAILED else "authentication required"
        return Service("x11", f"X11 {major}.{minor}: refused: {reason}", items)
    if len(answer) < 40:
        return None
    (release,) = struct.unpack_from("<I", answer, 8)
    (vendor_length,) = struct.unpack_from("<H", answer, 24)
    vendor = printable(answer[40 : 40 + vendor_length], 256)
    items += [Item("product", vendor, "x11"), Item("version", release_text(release), "x11")]
    return Service("x11", f"X11 {major}.{minor}: access granted: {vendor} {release_text(release)}", items)


async def run(connection: Connection) -> Service | None:
    await connection.send(SETUP)
    return setup_service(await connection.receive(answer_complete))
