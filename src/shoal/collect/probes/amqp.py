"""AMQP 0-9-1: the protocol header, then the broker's Connection.Start: its version, the server properties
(product, version, platform, cluster name, capabilities) and SASL mechanisms. No Start-Ok: no login.
A broker answers any other bytes with its own protocol header, which names it too."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

HEADER = b"AMQP\x00\x00\x09\x01"
METHOD_FRAME, FRAME_END = 1, 0xCE
CONNECTION_START = (10, 10)
MAX_DEPTH = 4  # nested field tables (capabilities sit one level down)


class FieldTableError(ValueError):
    pass


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return answer.startswith(b"AMQP") and len(answer) >= 8


def frame_complete(data: bytes) -> bool:
    if data.startswith(b"AMQP"):
        return len(data) >= 8
    return len(data) >= 7 and len(data) >= 8 + int.from_bytes(data[3:7], "big")


def read_value(data: bytes, position: int, depth: int) -> tuple[object, int]:
    """One field value (its type octet at ``position``); the value and the position after it."""
    kind = chr(data[position])
    position += 1
    if kind == "S":
        size = int.from_bytes(data[position : position + 4], "big")
        return data[position + 4 : position + 4 + size], position + 4 + size
    if kind == "s":
        return data[position + 1 : position + 1 + data[position]], position + 1 + data[position]
    if kind == "t":
        return data[position] != 0, position + 1
    if kind == "F":
        size = int.from_bytes(data[position : position + 4], "big")
        return read_table(data[position + 4 : position + 4 + size], depth + 1), position + 4 + size
    sizes = {"b": 1, "B": 1, "U": 2, "u": 2, "I": 4, "i": 4, "L": 8, "l": 8, "T": 8, "f": 4, "d": 8, "D": 5}
    if kind in sizes:
        return int.from_bytes(data[position : position + min(sizes[kind], 8)], "big"), position + sizes[kind]
    if kind == "V":
        return None, position
    raise FieldTableError(f"field type {kind!r} is not read")


def read_table(data: bytes, depth: int = 0) -> dict[str, object]:
    if depth > MAX_DEPTH:
        raise FieldTableError("field tables nest too deep")
    table: dict[str, object] = {}
    position = 0
    while position < len(data):
        size = data[position]
        name = data[position + 1 : position + 1 + size].decode("utf-8", "replace")
        table[name], position = read_value(data, position + 1 + size, depth)
    return table


def connection_start(frame: bytes) -> tuple[str, dict[str, object], list[bytes]] | None:
    """(protocol version, server properties, mechanisms) of a Connection.Start frame, None if it is not one."""
    if len(frame) < 12 or frame[0] != METHOD_FRAME or frame[7 + int.from_bytes(frame[3:7], "big")] != FRAME_END:
        return None
    payload = frame[7 : 7 + int.from_bytes(frame[3:7], "big")]
    if (int.from_bytes(payload[0:2], "big"), int.from_bytes(payload[2:4], "big")) != CONNECTION_START:
        return None
    version = f"{payload[4]}-{payload[5]}"  # 0-9 for AMQP 0-9-1
    size = int.from_bytes(payload[6:10], "big")
    properties = read_table(payload[10 : 10 + size])
    position = 10 + size
    mechanisms_size = int.from_bytes(payload[position : position + 4], "big")
    mechanisms = payload[position + 4 : position + 4 + mechanisms_size].split()
    return version, properties, mechanisms


def text(value: object) -> str:
    return printable(value, 256) if isinstance(value, bytes) else str(value)


def start_service(version: str, properties: dict[str, object], mechanisms: list[bytes]) -> Service:
    items = [Item("protocol-version", version, "amqp")]
    for key, item_type in (("product", "product"), ("version", "version"), ("cluster_name", "server-name")):
        if key in properties:
            items.append(Item(item_type, text(properties[key]), "amqp"))
    capabilities = properties.get("capabilities")
    if isinstance(capabilities, dict):
        items += [Item("capability", name, "amqp") for name, on in capabilities.items() if on is True]
    items += [Item("auth-method", printable(mechanism, 64), "amqp") for mechanism in mechanisms]
    described = " ".join(text(properties[key]) for key in ("product", "version") if key in properties)
    platform = f" ({text(properties['platform'])})" if "platform" in properties else ""
    return Service("amqp", f"AMQP {version} {described}{platform}".strip(), items)


async def run(connection: Connection) -> Service | None:
    await connection.send(HEADER)
    frame = await connection.receive(frame_complete)
    if frame.startswith(b"AMQP"):  # a broker of another AMQP version: its header says which
        return Service("amqp", f"AMQP protocol header {'-'.join(str(byte) for byte in frame[4:8])}")
    try:
        start = connection_start(frame)
    except (FieldTableError, IndexError):
        return None
    return None if start is None else start_service(*start)
