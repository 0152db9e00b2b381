"""STUN: a Binding request (RFC 5389); the success answer carries our transaction id, and often the server's
``SOFTWARE`` and, for NAT-behaviour discovery servers, its other address. A classic RFC 3489 server echoes the
whole 16-byte id, which is the same bytes."""

from __future__ import annotations

import ipaddress

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

STUN_PORTS = frozenset({3478, 19302})
BINDING_REQUEST, BINDING_SUCCESS, BINDING_ERROR = 0x0001, 0x0101, 0x0111
MAGIC_COOKIE = bytes.fromhex("2112a442")
SOFTWARE, ERROR_CODE, OTHER_ADDRESS, CHANGED_ADDRESS = 0x8022, 0x0009, 0x802C, 0x0005
HEADER = 20
MAX_ATTRIBUTES = 32


def transaction(query: Query) -> bytes:
    return query.nonce[:12]


def request(query: Query) -> bytes:
    return BINDING_REQUEST.to_bytes(2, "big") + b"\x00\x00" + MAGIC_COOKIE + transaction(query)


def attributes(body: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    position = 0
    while position + 4 <= len(body) and len(found) < MAX_ATTRIBUTES:
        kind, size = (
            int.from_bytes(body[position : position + 2], "big"),
            int.from_bytes(body[position + 2 : position + 4], "big"),
        )
        found.setdefault(kind, body[position + 4 : position + 4 + size])
        position += 4 + (size + 3) // 4 * 4
    return found


def address(value: bytes) -> str | None:
    """A MAPPED-ADDRESS-style attribute: reserved, family, port, address."""
    if len(value) == 8 and value[1] == 1:
        return str(ipaddress.IPv4Address(value[4:8]))
    if len(value) == 20 and value[1] == 2:
        return str(ipaddress.IPv6Address(value[4:20]))
    return None


def answer(data: bytes, query: Query) -> Service | None:
    if len(data) < HEADER or data[4:8] + data[8:20] != MAGIC_COOKIE + transaction(query):
        return None
    kind = int.from_bytes(data[:2], "big")
    if kind not in (BINDING_SUCCESS, BINDING_ERROR):
        return None
    found = attributes(data[HEADER : HEADER + int.from_bytes(data[2:4], "big")])
    items = []
    software = printable(found.get(SOFTWARE, b"").rstrip(b"\x00"), 256).strip()
    if software:
        items.append(Item("product", software, "stun"))
    other = address(found.get(OTHER_ADDRESS) or found.get(CHANGED_ADDRESS) or b"")
    if other is not None:
        items.append(Item("ip", other, "stun-other-address"))
    if kind == BINDING_ERROR:
        error = found.get(ERROR_CODE, b"")
        status = f"error {error[2] * 100 + error[3]}" if len(error) >= 4 else "error"
    else:
        status = "binding success"
    return Service("stun", f"STUN {status}" + (f": {software}" if software else ""), items)


PROBE = DatagramProbe("stun", STUN_PORTS, request, answer)
