"""MongoDB: ``isMaster`` and ``buildInfo`` as OP_QUERY commands on ``admin.$cmd`` (every server version answers
these before any login); the answers give the wire versions, replica set, and the server's version."""

from __future__ import annotations

import struct

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

OP_REPLY, OP_QUERY = 1, 2004
MAX_DEPTH = 8


class BsonError(ValueError):
    pass


def bson_document(fields: dict[str, int]) -> bytes:
    """A BSON document of int32 fields (all a command needs here)."""
    body = b"".join(b"\x10" + name.encode() + b"\0" + struct.pack("<i", value) for name, value in fields.items())
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def query(request_id: int, command: dict[str, int]) -> bytes:
    body = struct.pack("<i", 0) + b"admin.$cmd\0" + struct.pack("<ii", 0, -1) + bson_document(command)
    return struct.pack("<iiii", 16 + len(body), request_id, 0, OP_QUERY) + body


REQUEST = query(1, {"isMaster": 1}) + query(2, {"buildInfo": 1})


def read_document(data: bytes, position: int = 0, depth: int = 0) -> tuple[dict[str, object], int]:
    """One BSON document at ``position``: its fields (the types a handshake uses) and the position after it."""
    if depth > MAX_DEPTH:
        raise BsonError("documents nest too deep")
    size = struct.unpack_from("<i", data, position)[0]
    end = position + size
    if size < 5 or end > len(data):
        raise BsonError("a document is cut short")
    fields: dict[str, object] = {}
    position += 4
    while position < end - 1:
        kind = data[position]
        name_end = data.index(b"\0", position + 1)
        name = data[position + 1 : name_end].decode("utf-8", "replace")
        position = name_end + 1
        if kind == 0x01:
            fields[name], position = struct.unpack_from("<d", data, position)[0], position + 8
        elif kind in (0x02, 0x0D, 0x0E):
            length = struct.unpack_from("<i", data, position)[0]
            fields[name], position = (
                data[position + 4 : position + 3 + length].decode("utf-8", "replace"),
                position + 4 + length,
            )
        elif kind in (0x03, 0x04):
            document, position = read_document(data, position, depth + 1)
            fields[name] = list(document.values()) if kind == 0x04 else document
        elif kind == 0x08:
            fields[name], position = data[position] != 0, position + 1
        elif kind == 0x10:
            fields[name], position = struct.unpack_from("<i", data, position)[0], position + 4
        elif kind in (0x09, 0x11, 0x12):
            fields[name], position = struct.unpack_from("<q", data, position)[0], position + 8
        elif kind == 0x07:
            fields[name], position = data[position : position + 12].hex(), position + 12
        elif kind == 0x13:
            fields[name], position = data[position : position + 16].hex(), position + 16
        elif kind in (0x0A, 0x06, 0xFF, 0x7F):
            fields[name] = None
        elif kind == 0x05:
            length = struct.unpack_from("<i", data, position)[0]
            fields[name], position = None, position + 5 + length
        else:
            raise BsonError(f"BSON type 0x{kind:02x} is not read")
    return fields, end


def reply_document(reply: bytes) -> tuple[int, dict[str, object]] | None:
    """(the request it answers, its first document) of an OP_REPLY; None if it is not one."""
    if len(reply) < 36:
        return None
    length, _, response_to, opcode = struct.unpack_from("<iiii", reply)
    if opcode != OP_REPLY or length > len(reply):
        return None
    return response_to, read_document(reply[:length], 36)[0]


def replies_complete(data: bytes) -> bool:
    """Both replies have arrived (or the first is not a reply at all)."""
    if len(data) < 16:
        return False
    first = struct.unpack_from("<i", data)[0]
    if first < 16 or struct.unpack_from("<i", data, 12)[0] != OP_REPLY:
        return True
    return len(data) >= first + 16 and len(data) >= first + struct.unpack_from("<i", data, first)[0]


def split_replies(data: bytes) -> list[bytes]:
    replies, position = [], 0
    while position + 16 <= len(data):
        length = struct.unpack_from("<i", data, position)[0]
        if length < 16:
            break
        replies.append(data[position : position + length])
        position += length
    return replies


def handshake_service(answers: dict[int, dict[str, object]]) -> Service | None:
    hello, build = answers.get(1), answers.get(2, {})
    if hello is None or not any(key in hello for key in ("ismaster", "isWritablePrimary", "maxWireVersion")):
        return None
    items = []
    if isinstance(build.get("version"), str):
        items.append(Item("version", printable(build["version"].encode(), 64), "mongodb"))
    if isinstance(hello.get("maxWireVersion"), int):
        items.append(
            Item("protocol-version", f"wire {hello.get('minWireVersion', 0)}-{hello['maxWireVersion']}", "mongodb")
        )
    for key, item_type in (("setName", "server-name"), ("me", "server-name")):
        if isinstance(hello.get(key), str):
            items.append(Item(item_type, printable(hello[key].encode(), 256), "mongodb"))
    if hello.get("msg") == "isdbgrid":
        items.append(Item("capability", "mongos", "mongodb"))
    mechanisms = hello.get("saslSupportedMechs")
    if isinstance(mechanisms, list):
        items += [Item("auth-method", printable(str(name).encode(), 64), "mongodb") for name in mechanisms]
    version = f" {build['version']}" if isinstance(build.get("version"), str) else ""
    return Service("mongodb", f"MongoDB{version}", items)


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    answers = {}
    try:
        for reply in split_replies(await connection.receive(replies_complete)):
            found = reply_document(reply)
            if found is not None:
                answers[found[0]] = found[1]
    except (BsonError, struct.error, ValueError, IndexError):
        return None
    return handshake_service(answers)
