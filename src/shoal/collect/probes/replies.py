"""Numbered multi-line replies, as FTP and SMTP send them: ``220-first``, ``220-more``, ``220 last``."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection

LAST_LINE = re.compile(rb"(?:^|\n)(\d{3}) [^\n]*\n", re.MULTILINE)


def reply_complete(data: bytes) -> bool:
    """A whole reply: its last line is ``ddd text`` (a space after the code) and ends with a newline."""
    return LAST_LINE.search(data) is not None


async def complete_reply(connection: Connection, received: bytes) -> bytes:
    if reply_complete(received):
        return received
    return received + await connection.receive(reply_complete)


def reply_text(reply: bytes) -> bytes:
    """The reply's lines up to its last, joined with CRLF, without the final line break."""
    match = LAST_LINE.search(reply)
    end = match.end() if match else len(reply)
    return b"\r\n".join(line.rstrip(b"\r") for line in reply[:end].rstrip(b"\r\n").split(b"\n"))
