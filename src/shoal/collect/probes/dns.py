"""DNS over TCP: the ``version.bind`` CH TXT query; the answer's text (``unbound 1.17.1``), or its status
(REFUSED, NOTIMP, …) when the server hides it."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

QUERY_ID = 0x5348
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TXT, CHAOS = 16, 3


def version_query() -> bytes:
    """A ``version.bind`` TXT query in class CHAOS, no recursion wanted (the DNS message, without a length)."""
    name = b"".join(bytes((len(label),)) + label for label in (b"version", b"bind")) + b"\0"
    return QUERY_ID.to_bytes(2, "big") + bytes(2) + (1).to_bytes(2, "big") + bytes(6) + name + bytes((0, TXT, 0, CHAOS))


def skip_name(message: bytes, position: int) -> int:
    for _ in range(128):
        length = message[position]
        if length & 0xC0 == 0xC0:
            return position + 2
        if length == 0:
            return position + 1
        position += 1 + length
    raise ValueError("a DNS name is too long")


def version_answer(message: bytes) -> tuple[str, list[str]] | None:
    """(status, TXT strings of the answers) of a response to ``version_query``; None if it is not one."""
    if len(message) < 12 or int.from_bytes(message[:2], "big") != QUERY_ID or not message[2] & 0x80:
        return None
    status = RCODES.get(message[3] & 0x0F, str(message[3] & 0x0F))
    questions, answers = int.from_bytes(message[4:6], "big"), int.from_bytes(message[6:8], "big")
    position = 12
    for _ in range(questions):
        position = skip_name(message, position) + 4
    texts = []
    for _ in range(min(answers, 16)):
        position = skip_name(message, position)
        kind, length = (
            int.from_bytes(message[position : position + 2], "big"),
            int.from_bytes(message[position + 8 : position + 10], "big"),
        )
        data = message[position + 10 : position + 10 + length]
        position += 10 + length
        while kind == TXT and data:
            texts.append(printable(data[1 : 1 + data[0]], 256))
            data = data[1 + data[0] :]
    return status, texts


def message_complete(data: bytes) -> bool:
    return len(data) >= 2 and len(data) >= 2 + int.from_bytes(data[:2], "big")


async def run(connection: Connection) -> Service | None:
    query = version_query()
    await connection.send(len(query).to_bytes(2, "big") + query)
    answer = await connection.receive(message_complete)
    try:
        found = version_answer(answer[2:])
    except (ValueError, IndexError):
        return None
    if found is None:
        return None
    status, texts = found
    items = [Item("version", text, "dns") for text in texts]
    return Service("dns", f"version.bind: {texts[0]}" if texts else f"version.bind: {status}", items)
