"""Cassandra (CQL native protocol): an OPTIONS frame (protocol v4); the SUPPORTED answer lists the CQL
versions, compressions and protocol versions. A server that speaks only older protocols answers with an error
frame that says so. No STARTUP: no login."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

OPTIONS, SUPPORTED, ERROR = 0x05, 0x06, 0x00
REQUEST = bytes((0x04, 0x00)) + (1).to_bytes(2, "big") + bytes((OPTIONS,)) + bytes(4)
ITEM_TYPES = {"CQL_VERSION": "version", "PROTOCOL_VERSIONS": "protocol-version", "COMPRESSION": "capability"}


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return len(answer) >= 9 and answer[0] & 0x80 and answer[0] & 0x7F <= 6 and answer[4] in (ERROR, SUPPORTED)


def frame_complete(data: bytes) -> bool:
    return len(data) >= 9 and len(data) >= 9 + int.from_bytes(data[5:9], "big")


def read_string(data: bytes, position: int) -> tuple[str, int]:
    length = int.from_bytes(data[position : position + 2], "big")
    return data[position + 2 : position + 2 + length].decode("utf-8", "replace"), position + 2 + length


def string_multimap(body: bytes) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    count, position = int.from_bytes(body[:2], "big"), 2
    for _ in range(min(count, 64)):
        key, position = read_string(body, position)
        values, position = int.from_bytes(body[position : position + 2], "big"), position + 2
        found[key] = []
        for _ in range(min(values, 64)):
            value, position = read_string(body, position)
            found[key].append(value)
    return found


def frame_service(frame: bytes) -> Service | None:
    if not recognizes(frame, False):
        return None
    body = frame[9 : 9 + int.from_bytes(frame[5:9], "big")]
    if frame[4] == ERROR:
        message, _ = read_string(body, 4)
        return Service("cassandra", printable(f"CQL error: {message}".encode(), 512))
    supported = string_multimap(body)
    items = [
        Item(ITEM_TYPES[key], printable(value.encode(), 128), "cassandra")
        for key, values in supported.items()
        if key in ITEM_TYPES
        for value in values
    ]
    versions = ", ".join(supported.get("CQL_VERSION", []))
    return Service("cassandra", f"CQL {versions}".strip(), items)


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    try:
        return frame_service(await connection.receive(frame_complete))
    except IndexError:
        return None
