"""Network UPS Tools (upsd): ``VER``, ``NETVER`` and ``LIST UPS`` (the UPS names it serves to anyone). No login;
an ``ERR UNKNOWN-COMMAND`` in answer to another probe's bytes names it too."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

REQUEST = b"VER\nNETVER\nLIST UPS\n"
VERSION = re.compile(rb"upsd (\d[\w.-]*)")
UPS = re.compile(rb'^UPS (\S+) "([^"]*)"', re.MULTILINE)
MAX_UPS = 64


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return answer.startswith((b"ERR UNKNOWN-COMMAND", b"ERR INVALID-ARGUMENT"))


def answers_complete(data: bytes) -> bool:
    """All three answered: the UPS list ended, or its third answer was an error."""
    lines = data.split(b"\n")
    return b"END LIST UPS" in data or (len(lines) > 3 and lines[-2].startswith(b"ERR"))


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    answer = await connection.receive(answers_complete)
    lines = answer.split(b"\n")
    if len(lines) < 2 or not (lines[0].startswith(b"Network UPS Tools") or recognizes(answer, False)):
        return None
    items = []
    version = VERSION.search(lines[0])
    if version:
        items.append(Item("version", printable(version[1], 64), "nut"))
    if re.fullmatch(rb"\d+\.\d+", lines[1].strip()):
        items.append(Item("protocol-version", lines[1].strip().decode(), "nut"))
    items += [Item("share", printable(name, 256), "nut") for name, _ in UPS.findall(answer)[:MAX_UPS]]
    return Service("nut", printable(lines[0].strip(), 512), items)
