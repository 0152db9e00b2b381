"""DNS messages as the UDP probes need them (RFC 1035): queries built, answers read, by hand and bounded.

Not dnspython: its message parser costs four times the rest of an identification, and it refuses what mDNS
responders send (names compressed inside SRV records, which RFC 6762 §18.14 allows and RFC 2782 does not).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from shoal.text import printable

QR, RA = 0x8000, 0x0080  # header flags: a response; recursion available
RD = 0x0100  # recursion desired
A, PTR, TXT, SRV = 1, 12, 16, 33
IN, CH = 1, 3
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
MAX_RECORDS = 64  # read of one answer
MAX_POINTERS = 16  # compression pointers followed in one name


class Record(NamedTuple):
    name: str
    type: int
    data: int  # where its data starts in the message
    size: int


class Response(NamedTuple):
    flags: int
    question: str  # the first question's name, "" when the answer has none
    records: list[Record]  # of every section

    @property
    def rcode(self) -> str:
        return RCODES.get(self.flags & 0x0F, str(self.flags & 0x0F))


def encoded_name(name: str) -> bytes:
    labels = [label.encode() for label in name.rstrip(".").split(".") if label]
    if any(len(label) > 63 for label in labels):
        raise ValueError(f"a label of {name!r} is longer than 63 bytes")
    return b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"


def query(ident: int, names: list[str], kind: int, rdclass: int = IN, recursion: bool = False) -> bytes:
    """A query for ``kind`` records of each name (several questions, as mDNS allows)."""
    header = struct.pack(">HHHHHH", ident, RD if recursion else 0, len(names), 0, 0, 0)
    return header + b"".join(encoded_name(name) + struct.pack(">HH", kind, rdclass) for name in names)


def read_name(message: bytes, position: int) -> tuple[str, int]:
    """The name at ``position`` (following compression pointers) and where the data after it starts; ValueError or
    IndexError if it does not parse."""
    labels: list[str] = []
    end = -1
    for _ in range(MAX_POINTERS):
        while True:
            size = message[position]
            if size & 0xC0 == 0xC0:
                if end < 0:
                    end = position + 2
                position = (size & 0x3F) << 8 | message[position + 1]
                break
            if size == 0:
                return ".".join(labels), position + 1 if end < 0 else end
            labels.append(printable(message[position + 1 : position + 1 + size], 63))
            position += 1 + size
    raise ValueError("too many compression pointers")


def response(message: bytes, ident: int) -> Response | None:
    """The response to query ``ident`` that ``message`` is, or None if it is not one (or does not parse)."""
    if len(message) < 12:
        return None
    ident_seen, flags, questions, *counts = struct.unpack(">HHHHHH", message[:12])
    if ident_seen != ident or not flags & QR:
        return None
    try:
        question, position = "", 12
        for number in range(questions):
            name, position = read_name(message, position)
            question, position = question if number else name, position + 4
        records = []
        for _ in range(min(sum(counts), MAX_RECORDS)):
            name, position = read_name(message, position)
            kind, size = struct.unpack(">H6xH", message[position : position + 10])
            if position + 10 + size > len(message):
                raise ValueError("a record longer than the message")
            records.append(Record(name, kind, position + 10, size))
            position += 10 + size
    except (ValueError, IndexError, struct.error):
        return None
    return Response(flags, question, records)


def texts(message: bytes, record: Record) -> bytes:
    """A TXT record's strings, joined."""
    found, position, end = bytearray(), record.data, record.data + record.size
    while position < end:
        size = message[position]
        found += message[position + 1 : min(position + 1 + size, end)]
        position += 1 + size
    return bytes(found)
