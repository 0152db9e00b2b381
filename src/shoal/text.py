"""Text from untrusted bytes, as items keep it: what the collector's probes and the importers' readers both write
(a banner, a header, a page title), one way.
"""

from __future__ import annotations

import html
import re

MAX_BANNER_CHARS = 4096  # a banner item keeps this much text; the read itself is capped at 64 KiB
MAX_TITLE_CHARS = 1024
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[str]:
    """The words of a name or a phrase, case- and punctuation-insensitive: ``Example-Net, Inc.`` → example net inc."""
    return WORD.findall(text.casefold())


def printable(data: bytes, limit: int = MAX_BANNER_CHARS) -> str:
    """Text for an item: UTF-8 where it is, ``\\xNN`` for other bytes and control characters (tab, CR and
    LF stay), at most ``limit`` characters."""
    text = data[: limit * 4].decode("utf-8", "backslashreplace")
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)[:limit]


def page_title(body: bytes, content_type: str) -> str | None:
    """The ``<title>`` of an HTML page, decoded by the charset its Content-Type names (else UTF-8), entities
    resolved and white space collapsed; None without one."""
    match = TITLE.search(body)
    if match is None:
        return None
    charset = CHARSET.search(content_type)
    encoding = charset.group(1) if charset else "utf-8"
    try:
        text = match.group(1).decode(encoding, "replace")
    except LookupError:
        text = match.group(1).decode("utf-8", "replace")
    return printable(" ".join(html.unescape(text).split()).encode(), MAX_TITLE_CHARS)
