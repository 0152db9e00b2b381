"""NATS: the ``INFO {json}`` line the server sends first (its version, name, whether it wants TLS or a login)."""

from __future__ import annotations

import orjson

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, first_line, line_complete
from shoal.model import Item
from shoal.text import printable

FLAGS = ("headers", "jetstream", "auth_required", "tls_required", "tls_available")


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"INFO {")


def info_items(info: dict[str, object]) -> list[Item]:
    items = []
    for key, item_type in (("version", "version"), ("server_name", "server-name"), ("proto", "protocol-version")):
        if isinstance(info.get(key), str | int) and not isinstance(info.get(key), bool):
            items.append(Item(item_type, printable(str(info[key]).encode(), 256), "nats"))
    return items + [Item("capability", flag, "nats") for flag in FLAGS if info.get(flag) is True]


async def converse(connection: Connection, banner: bytes) -> Service | None:
    if not line_complete(banner):
        banner += await connection.receive(line_complete)
    line = first_line(banner)
    try:
        info = orjson.loads(line[5:])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(info, dict):
        return None
    return Service("nats", printable(line, 2048), info_items(info))
