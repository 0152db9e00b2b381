"""Erlang's port mapper (epmd, beside RabbitMQ, CouchDB, ejabberd…): ``NAMES``; the answer lists each Erlang
node on the host and its distribution port."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

NAMES_REQUEST = (1).to_bytes(2, "big") + b"n"
NODE = re.compile(rb"^name (\S+) at port (\d+)$", re.MULTILINE)
MAX_NODES = 64


async def run(connection: Connection) -> Service | None:
    await connection.send(NAMES_REQUEST)
    answer = await connection.receive(lambda _: False)  # the mapper answers and closes
    if len(answer) < 4:
        return None
    port, listing = int.from_bytes(answer[:4], "big"), answer[4:]
    nodes = NODE.findall(listing)[:MAX_NODES]
    if not nodes and (listing.strip() or port != connection.port):  # no node: the mapper still names its port
        return None
    items = [Item("server-name", printable(name, 256), "epmd") for name, _ in nodes]
    lines = [f"epmd on port {port}"] + [f"{printable(name, 256)} at port {number.decode()}" for name, number in nodes]
    return Service("epmd", "\n".join(lines), items)
