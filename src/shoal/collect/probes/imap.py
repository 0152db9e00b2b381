"""IMAP: the greeting, the capabilities (from the greeting, or ``CAPABILITY``), then ``STARTTLS`` where it is
offered and the certificate behind it. No login."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from shoal.collect.connection import Connection
from shoal.collect.probes import starttls
from shoal.collect.probes.base import Service, first_line, line_complete
from shoal.model import Item
from shoal.text import printable

GREETING = re.compile(rb"^\* (?:OK|PREAUTH|BYE)\b")
CAPABILITIES = re.compile(rb"\[CAPABILITY ([^\]]*)\]|^\* CAPABILITY ([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
MAX_CAPABILITIES = 64


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return GREETING.match(banner) is not None


def tagged_complete(tag: bytes) -> Callable[[bytes], bool]:
    return lambda data: re.search(rb"(?:^|\n)" + tag + rb" [^\n]*\n", data) is not None


def capabilities(text: bytes) -> list[str]:
    match = CAPABILITIES.search(text)
    if match is None:
        return []
    words = (match.group(1) or match.group(2)).split()
    return [printable(word, 128) for word in words[:MAX_CAPABILITIES]]


def capability_items(words: list[str]) -> list[Item]:
    """``capability;imap`` per capability, ``auth-method;imap`` per ``AUTH=`` mechanism."""
    items = [Item("capability", word, "imap") for word in words if not word.upper().startswith("AUTH=")]
    return items + [Item("auth-method", word[5:], "imap") for word in words if word.upper().startswith("AUTH=")]


async def converse(connection: Connection, banner: bytes) -> Service | None:
    if not line_complete(banner):
        banner += await connection.receive(line_complete)
    greeting = first_line(banner)
    words = capabilities(greeting)
    items: list[Item] = []
    with contextlib.suppress(OSError):  # the greeting named the service; what follows only adds to it
        if not words:
            await connection.send(b"a1 CAPABILITY\r\n")
            words = capabilities(await connection.receive(tagged_complete(b"a1")))
        items = capability_items(words)
        if "STARTTLS" in (word.upper() for word in words):
            await connection.send(b"a2 STARTTLS\r\n")
            if (await connection.receive(tagged_complete(b"a2"))).startswith(b"a2 OK"):
                items += await starttls.upgrade(connection, "imap")
    return Service("imap", printable(greeting, 1024), items)
