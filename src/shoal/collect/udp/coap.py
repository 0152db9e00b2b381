"""CoAP (RFC 7252): a confirmable ``GET /.well-known/core``; the answer (piggybacked on the ACK, or separate,
with our token) lists the resources the device offers in the CoRE link format (RFC 6690)."""

from __future__ import annotations

import re

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

COAP_PORTS = frozenset({5683})
VERSION = 1
CONFIRMABLE, ACKNOWLEDGEMENT = 0, 2
GET = 0x01
URI_PATH = 11
PAYLOAD_MARKER = 0xFF
MAX_RESOURCES = 64
LINK = re.compile(rb"<([^>]{1,512})>")
CODES = {0x45: "2.05 Content", 0x84: "4.04 Not Found", 0x85: "4.05 Method Not Allowed", 0x81: "4.01 Unauthorized"}


def token(query: Query) -> bytes:
    return query.nonce[12:16]


def request(query: Query) -> bytes:
    first = VERSION << 6 | CONFIRMABLE << 4 | len(token(query))
    options = bytes((URI_PATH << 4 | 11,)) + b".well-known" + bytes((4,)) + b"core"  # two Uri-Path options
    return bytes((first, GET)) + query.nonce[10:12] + token(query) + options


def extended(nibble: int, data: bytes, position: int) -> tuple[int | None, int]:
    """An option's delta or length: the nibble, or the 1 or 2 bytes that follow for 13 and 14 (15 is invalid)."""
    if nibble < 13:
        return nibble, position
    if nibble == 13 and position < len(data):
        return data[position] + 13, position + 1
    if nibble == 14 and position + 2 <= len(data):
        return int.from_bytes(data[position : position + 2], "big") + 269, position + 2
    return None, position


def payload_of(data: bytes, start: int) -> bytes | None:
    """The payload after the options that begin at ``start``, or None if they do not parse."""
    position = start
    while position < len(data):
        head = data[position]
        if head == PAYLOAD_MARKER:
            return data[position + 1 :]
        delta, position = extended(head >> 4, data, position + 1)
        length, position = extended(head & 0x0F, data, position)
        if delta is None or length is None:
            return None
        position += length
    return b"" if position == len(data) else None


def answer(data: bytes, query: Query) -> Service | None:
    size = len(token(query))
    if len(data) < 4 + size or data[0] >> 6 != VERSION or data[0] & 0x0F != size or data[4 : 4 + size] != token(query):
        return None
    code = data[1]
    if code >> 5 not in (2, 4, 5):
        return None  # not a response: an empty ACK (the answer follows separately), or a request
    body = payload_of(data, 4 + size)
    if body is None:
        return None
    status = CODES.get(code, f"{code >> 5}.{code & 0x1F:02d}")
    resources = [printable(match.group(1), 512) for match in LINK.finditer(body)][:MAX_RESOURCES]
    return Service("coap", f"CoAP {status}", [Item("coap-resource", path) for path in dict.fromkeys(resources)])


PROBE = DatagramProbe("coap", COAP_PORTS, request, answer)
