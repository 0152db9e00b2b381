"""TFTP: a read request for a file that does not exist (a random name); the server's error packet (``File not
found``, or its refusal) names the service. The answer comes from a port of the server's own (its transfer id)."""

from __future__ import annotations

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.text import printable

TFTP_PORTS = frozenset({69})
READ, DATA, ERROR, OPTION_ACK = 1, 3, 5, 6
MAX_ERROR_CODE = 8


def request(query: Query) -> bytes:
    return READ.to_bytes(2, "big") + f"shoal-{query.nonce.hex()[:16]}".encode() + b"\x00octet\x00"


def answer(data: bytes, query: Query) -> Service | None:
    if len(data) < 4 or data[0] != 0:
        return None
    opcode = data[1]
    if opcode == ERROR and int.from_bytes(data[2:4], "big") <= MAX_ERROR_CODE and data.endswith(b"\x00"):
        message = printable(data[4:-1], 512)
        return Service("tftp", f"error {int.from_bytes(data[2:4], 'big')}: {message}")
    if opcode == DATA and data[2:4] == b"\x00\x01":
        return Service("tftp", f"read allowed: block 1 of {len(data) - 4} bytes")
    return None


PROBE = DatagramProbe("tftp", TFTP_PORTS, request, answer, any_source_port=True)
