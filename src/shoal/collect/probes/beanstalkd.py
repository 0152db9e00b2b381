"""beanstalkd: ``stats`` (a YAML document: its version, and counters); ``UNKNOWN_COMMAND`` in answer to another
probe's bytes names it too."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

STATS = re.compile(rb"^OK (\d+)\r\n")
VERSION = re.compile(rb"^version: \"?([^\"\r\n]+)\"?", re.MULTILINE)


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return answer.startswith((b"UNKNOWN_COMMAND\r\n", b"BAD_FORMAT\r\n"))


def stats_complete(data: bytes) -> bool:
    match = STATS.match(data)
    return match is not None and len(data) >= match.end() + int(match[1]) + 2


async def run(connection: Connection) -> Service | None:
    await connection.send(b"stats\r\n")
    answer = await connection.receive(stats_complete)
    if STATS.match(answer) is None:
        return None
    version = VERSION.search(answer)
    items = [Item("version", printable(version[1], 64), "beanstalkd")] if version else []
    banner = f"beanstalkd {version[1].decode(errors='replace')}" if version else "beanstalkd"
    return Service("beanstalkd", printable(banner.encode(), 256), items)
