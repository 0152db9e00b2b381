"""Which importer reads an input, decided by its first bytes (never by its file name)."""

from __future__ import annotations

import enum
import re
from typing import BinaryIO

import orjson

HEAD_BYTES = 64 * 1024
MASSCAN_LIST_LINE = re.compile(rb"(open|closed|banner)\s+[a-z]+\s+\d+\s+\S+\s+\d+")


class Format(enum.Enum):
    REPORTS = "reports"  # JSON Lines of reports in the API's result shape
    MASSCAN_JSON = "masscan-json"  # masscan -oJ (or -oD)
    MASSCAN_LIST = "masscan-list"  # masscan -oL


def detect(stream: BinaryIO) -> Format:
    """The format of a (decompressed) stream, peeked at without consuming it. Reports unless it looks like
    masscan output; a file that is neither is then rejected line by line by the reports reader."""
    peek = getattr(stream, "peek", None)
    head = peek(HEAD_BYTES)[:HEAD_BYTES] if peek is not None else b""
    return detect_head(head)


def detect_head(head: bytes) -> Format:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    first_line = text.split(b"\n", 1)[0].strip()
    if text.startswith(b"#") or MASSCAN_LIST_LINE.match(first_line):
        return Format.MASSCAN_LIST
    if text.startswith(b"["):
        return Format.MASSCAN_JSON
    if text.startswith(b"{"):
        try:
            record = orjson.loads(first_line.rstrip(b","))
        except orjson.JSONDecodeError:
            return Format.REPORTS
        if (
            isinstance(record, dict)
            and "items" not in record
            and "ip" in record
            and ("ports" in record or "port" in record)
        ):
            return Format.MASSCAN_JSON
    return Format.REPORTS
