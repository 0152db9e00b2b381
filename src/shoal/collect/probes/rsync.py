"""rsync daemon: the ``@RSYNCD:`` greeting (protocol version, checksums), then the module list it publishes to
anyone (an empty module name asks for it). No module is opened."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, first_line, line_complete
from shoal.model import Item
from shoal.text import printable

GREETING = re.compile(rb"^@RSYNCD: (\d+(?:\.\d+)?)([^\n]*)\n")
MAX_MODULES = 64


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"@RSYNCD:")


def listing_complete(data: bytes) -> bool:
    return b"@RSYNCD: EXIT" in data or b"@ERROR" in data


def module_items(listing: bytes) -> list[Item]:
    """``share;rsync`` per module listed (its name; the comment after a tab is dropped)."""
    items = []
    for line in listing.split(b"\n")[:MAX_MODULES]:
        name = line.split(b"\t", 1)[0].strip()
        if name and not line.startswith(b"@"):
            items.append(Item("share", printable(name, 256), "rsync"))
    return items


async def converse(connection: Connection, banner: bytes) -> Service | None:
    if not line_complete(banner):
        banner += await connection.receive(line_complete)
    match = GREETING.match(banner)
    if match is None:
        return None
    items = [Item("protocol-version", match.group(1).decode(), "rsync")]
    items += [Item("capability", printable(word, 64), "rsync") for word in match.group(2).split()]
    await connection.send(match.group(0) + b"\n")  # its own greeting back (protocol 32 wants the digests too)
    items += module_items(banner[match.end() :] + await connection.receive(listing_complete))
    return Service("rsync", printable(first_line(banner), 256), items)
