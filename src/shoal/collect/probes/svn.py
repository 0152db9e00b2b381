"""Subversion's svnserve: its greeting, ``( success ( min max ( mechanisms ) ( capabilities ) ) )``."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

GREETING = re.compile(rb"^\( success \( (\d+) (\d+) \( ([^)]*)\) \( ([^)]*)\) \) \)")


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"( success ( ")


def greeting_complete(data: bytes) -> bool:
    return GREETING.match(data) is not None


async def converse(connection: Connection, banner: bytes) -> Service | None:
    if not greeting_complete(banner):
        banner += await connection.receive(lambda data: greeting_complete(banner + data))
    match = GREETING.match(banner)
    if match is None:
        return None
    low, high = match.group(1).decode(), match.group(2).decode()
    items = [Item("protocol-version", f"{low}-{high}", "svn")]
    items += [Item("capability", printable(word, 64), "svn") for word in match.group(4).split()]
    return Service("svn", printable(match.group(0), 1024), items)
