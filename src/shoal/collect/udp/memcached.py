"""memcached over UDP (``-U``): the ``version`` command in a UDP frame (request id, sequence 0 of 1); the
answer's frame carries the same request id. (``version``, not ``stats``: a one-line answer, no amplification.)"""

from __future__ import annotations

from shoal.collect.probes.base import Service, first_line
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

MEMCACHED_PORTS = frozenset({11211})
FRAME = 8


def request_id(query: Query) -> bytes:
    return query.nonce[14:16]


def request(query: Query) -> bytes:
    return request_id(query) + b"\x00\x00\x00\x01\x00\x00" + b"version\r\n"


def answer(data: bytes, query: Query) -> Service | None:
    if len(data) < FRAME or data[:2] != request_id(query) or data[6:8] != b"\x00\x00":
        return None
    line = first_line(data[FRAME:])
    if not line.startswith(b"VERSION "):
        return None
    version = printable(line.removeprefix(b"VERSION ").strip(), 64)
    return Service("memcached", printable(line, 256), [Item("version", version, "memcached")])


PROBE = DatagramProbe("memcached", MEMCACHED_PORTS, request, answer)
