"""ZooKeeper: the ``srvr`` four-letter word (version, mode, node count), or the refusal of a server whose
four-letter words are switched off."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

VERSION = re.compile(rb"^Zookeeper version: ([^,\r\n]+)", re.MULTILINE)
MODE = re.compile(rb"^Mode: (\S+)", re.MULTILINE)


async def run(connection: Connection) -> Service | None:
    await connection.send(b"srvr")
    answer = await connection.receive(lambda _: False)  # the server answers and closes
    version = VERSION.search(answer)
    if version is None:
        if b"is not executed because it is not in the whitelist" not in answer:
            return None
        return Service("zookeeper", printable(answer.strip(), 512))
    items = [Item("version", printable(version[1], 128), "zookeeper")]
    mode = MODE.search(answer)
    if mode:
        items.append(Item("capability", f"mode: {printable(mode[1], 64)}", "zookeeper"))
    return Service("zookeeper", printable(answer.strip(), 1024), items)
