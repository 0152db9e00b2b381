"""git daemon (git://): a request for the upload service of a repository that is not there; the daemon
answers with its error packet (or, exporting everything, a reference list). Nothing is fetched."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

PACKET_LENGTH = re.compile(rb"^[0-9a-f]{4}")
AGENT = re.compile(rb"agent=(\S+)")


def request(ip: str) -> bytes:
    body = f"git-upload-pack /shoal-probe.git\0host={ip}\0".encode()
    return f"{len(body) + 4:04x}".encode() + body


def first_packet(data: bytes) -> bytes | None:
    """The payload of the first pkt-line, None if ``data`` does not start with a whole one."""
    if PACKET_LENGTH.match(data) is None:
        return None
    length = int(data[:4], 16)
    if length < 4 or len(data) < length:
        return None
    return data[4:length]


def packet_complete(data: bytes) -> bool:
    return first_packet(data) is not None or (len(data) >= 4 and PACKET_LENGTH.match(data) is None)


async def run(connection: Connection) -> Service | None:
    await connection.send(request(connection.ip))
    packet = first_packet(await connection.receive(packet_complete))
    if packet is None:
        return None
    if packet.startswith(b"ERR "):
        return Service("git", printable(packet.strip(), 512))
    if not re.match(rb"^[0-9a-f]{40} |^version \d", packet):
        return None
    agent = AGENT.search(packet)
    items = [Item("version", printable(agent[1], 128), "git")] if agent else []
    return Service("git", printable(packet.split(b"\0", 1)[0].strip(), 512), items)
