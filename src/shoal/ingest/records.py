"""What every format reader shares: stable report ids, dates from a record's own timestamp, and the loop that
turns the lines of a chunk into records, with one rejection (line number and reason) per bad line.

A reader's ``decode_*_chunk`` functions are module-level, so ``ingest_chunks`` can run them in worker
processes; each takes a ``LineChunk`` and returns Reports, observations and Rejected records.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from shoal.ingest.jsonl import LineChunk, Rejected
from shoal.model import (
    ID_LENGTH,
    Item,
    PortObservation,
    Report,
    UdpObservation,
    canonical_ip,
    pack_ip,
)
from shoal.text import printable

Record = Report | PortObservation | UdpObservation | Rejected
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
MAX_UNIX_SECONDS = 5_662_310_399  # 2149-06-06, the last day the observation store holds


class BadRecord(ValueError):
    """A record or line is malformed; the message says how (it becomes the line's rejection)."""


def record_id(*parts: str | bytes) -> str:
    """A 22-character id derived from what identifies a record in its input (e.g. the raw line and the module
    name): importing the same file again gives the same ids, so it adds nothing."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return base64.urlsafe_b64encode(digest.digest()).decode()[:ID_LENGTH]


def day_of(value: Any, what: str = "timestamp") -> dt.date:
    """The UTC day of an RFC 3339 / ISO 8601 time (``2025-11-26T10:00:00Z``, ``…+01:00``, ``2025-11-26``), or of
    Unix seconds (a number or digits). BadRecord naming ``what`` if it is neither."""
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 12:
        value = int(value)
    if type(value) in (int, float):
        return unix_day(value, what)
    if type(value) is not str or len(value) < 10:
        raise BadRecord(f"{what!r} must be a date-time such as 2025-11-26T10:00:00Z, not {value!r:.40}")
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRecord(f"{what!r} is not a date-time such as 2025-11-26T10:00:00Z: {value!r:.40}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def unix_day(seconds: float, what: str = "timestamp") -> dt.date:
    """The UTC day of Unix seconds (Unix time has no leap seconds); BadRecord naming ``what`` if it is before
    1970 or after the last day the observation store holds."""
    if not 0 <= seconds <= MAX_UNIX_SECONDS:
        raise BadRecord(f"{what!r} out of range: {seconds}")
    return dt.date.fromordinal(EPOCH_ORDINAL + int(seconds) // 86_400)


def checked_ip(value: Any, what: str = "ip") -> str:
    """An IP address in its canonical text form; BadRecord if it is not one."""
    if type(value) is not str:
        raise BadRecord(f"{what!r} must be an IP address, not {value!r:.40}")
    try:
        packed = pack_ip(value.strip())
    except ValueError:
        raise BadRecord(f"{what!r} is not an IP address: {value!r:.60}") from None
    return canonical_ip(packed)


def checked_port(value: Any, what: str = "port") -> int:
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 5:
        value = int(value)
    if type(value) is not int or not 0 <= value <= 0xFFFF:
        raise BadRecord(f"{what!r} must be a port number from 0 to 65535, not {value!r:.40}")
    return value


def target_items(ip: str, port: int | None = None, host: str | None = None) -> list[Item]:
    """The identity items a report starts with (context "", metadata): host (domains), ip, port-tcp."""
    items = [] if host is None else [Item("host", host, "", True)]
    items.append(Item("ip", ip, "", True))
    if port is not None:
        items.append(Item("port-tcp", str(port), "", True))
    return items


def text_of(value: Any, limit: int = 4096) -> str:
    """A scanner's string as an item value: control characters other than tab, CR and LF written ``\\xNN``,
    at most ``limit`` characters; "" for anything that is not a string."""
    if type(value) is not str:
        return ""
    return printable(value.encode("utf-8", "surrogateescape"), limit)


LineDecoder = Callable[[Any, bytes, str, int], Iterable[Record]]  # (parsed JSON, raw line, source, number)


def decode_json_lines(chunk: LineChunk, decode: LineDecoder) -> list[Record]:
    """Each non-blank line parsed as JSON and given to ``decode``; a line that is not JSON, or that ``decode``
    refuses (BadRecord, InvalidReport), becomes one Rejected with its number and the reason."""
    records: list[Record] = []
    for number, line in enumerate(chunk.lines, start=chunk.first_line):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            parsed = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            records.append(Rejected(chunk.source, number, f"not valid JSON: {exc}"))
            continue
        try:
            records.extend(decode(parsed, stripped, chunk.source, number))
        except ValueError as exc:  # BadRecord, InvalidReport
            records.append(Rejected(chunk.source, number, str(exc)))
        except (TypeError, KeyError, AttributeError, IndexError) as exc:  # a shape the reader did not expect
            records.append(Rejected(chunk.source, number, f"malformed record: {type(exc).__name__}: {exc}"))
    return records
