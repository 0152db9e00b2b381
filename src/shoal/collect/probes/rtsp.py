"""RTSP (cameras, media servers): ``OPTIONS *``; the status line, the ``Server`` header and the methods it
lists in ``Public``. An ``RTSP/1.0`` answer to another probe's request names it too."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

REQUEST = b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: shoal\r\n\r\n"
HEADER = re.compile(rb"^([A-Za-z-]+):[ \t]*([^\r\n]*)", re.MULTILINE)


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return answer.startswith(b"RTSP/1.")


def head_complete(data: bytes) -> bool:
    return b"\r\n\r\n" in data


def header_items(head: bytes, protocol: str, listed: str) -> list[Item]:
    """``http-header;<Name>`` per header (RTSP and SIP share HTTP's syntax), ``capability`` per method the
    ``listed`` header names."""
    items = []
    for name, value in HEADER.findall(head)[:64]:
        items.append(Item("http-header", printable(value.strip(), 1024), printable(name, 128)))
        if name.decode().lower() == listed:
            items += [
                Item("capability", printable(method.strip(), 64), protocol)
                for method in value.split(b",")
                if method.strip()
            ]
    return items


def answer_service(answer: bytes, protocol: str, listed: str) -> Service:
    """The service an RTSP or SIP answer shows: its status line, headers, and the methods ``listed`` names."""
    head = answer.split(b"\r\n\r\n", 1)[0]
    status, _, rest = head.partition(b"\r\n")
    return Service(protocol, printable(status.strip(), 256), header_items(rest, protocol, listed))


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    answer = await connection.receive(head_complete)
    return answer_service(answer, "rtsp", "public") if recognizes(answer, False) else None
