"""ClickHouse's native protocol: a Ping before any Hello. The server answers with an exception ("Unexpected
packet from client") that names it without any credential being sent; an old server's stack trace names its
version. Its answer to ``GET /`` (``Port 9000 is for clickhouse-client program``) names it too."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

PING, EXCEPTION = 4, 2
HTTP_HINT = b"is for clickhouse-client program"
LIBRARY_VERSION = re.compile(rb"libclickhouse\.so\.(\d+\.\d+)")


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return HTTP_HINT in answer[:512] or (answer[:1] == bytes((EXCEPTION,)) and b"DB::" in answer[:64])


def read_string(data: bytes, position: int) -> tuple[bytes, int]:
    """A ClickHouse string: a varint length, then the bytes."""
    length, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80 or shift > 35:
            break
    return data[position : position + length], position + length


def exception_service(answer: bytes) -> Service | None:
    if answer[:1] != bytes((EXCEPTION,)) or len(answer) < 6:
        return None
    code = int.from_bytes(answer[1:5], "little")
    name, position = read_string(answer, 5)
    message, _ = read_string(answer, position)
    if not name.startswith(b"DB::"):
        return None
    items = [Item("capability", f"exception code {code}", "clickhouse")]
    version = LIBRARY_VERSION.search(answer)
    if version:
        items.append(Item("version", version[1].decode(), "clickhouse"))
    text = message.split(b"\n", 1)[0] if message.startswith(name) else name + b": " + message.split(b"\n", 1)[0]
    return Service("clickhouse", printable(text, 512), items)


def exception_complete(data: bytes) -> bool:
    """The code, name, message and stack trace have arrived (or it is not an exception at all)."""
    if data[:1] != bytes((EXCEPTION,)):
        return bool(data)
    try:
        position = 5
        for _ in range(3):
            _, position = read_string(data, position)
        return position <= len(data)
    except IndexError:
        return False


async def run(connection: Connection) -> Service | None:
    await connection.send(bytes((PING,)))
    try:
        return exception_service(await connection.receive(exception_complete))
    except IndexError:
        return None
