"""NTP: a client request (mode 3, version 4, a random transmit time the server copies back as its origin time);
the server's answer (mode 4) says its version, stratum, reference id and leap indicator."""

from __future__ import annotations

import ipaddress

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

NTP_PORTS = frozenset({123})
CLIENT, SERVER = 3, 4
PACKET_BYTES = 48
LEAP = {0: "", 1: "last minute has 61 seconds", 2: "last minute has 59 seconds", 3: "unsynchronized"}


def request(query: Query) -> bytes:
    return bytes((0 << 6 | 4 << 3 | CLIENT,)) + bytes(39) + query.nonce[:8]


def reference_id(stratum: int, raw: bytes) -> str:
    """Stratum 0 (a kiss code) and 1 (a clock: GPS, PPS…) name their reference in ASCII; the others give the
    IPv4 address of their server (or a hash of an IPv6 one)."""
    if stratum <= 1:
        return printable(raw.rstrip(b"\x00"), 4)
    return str(ipaddress.IPv4Address(raw))


def answer(data: bytes, query: Query) -> Service | None:
    if len(data) < PACKET_BYTES or data[0] & 0x07 != SERVER or data[24:32] != query.nonce[:8]:
        return None
    leap, version, stratum = data[0] >> 6, data[0] >> 3 & 0x07, data[1]
    refid = reference_id(stratum, data[12:16])
    banner = f"NTP v{version}, stratum {stratum}, reference {refid}"
    if leap == 3:
        banner += ", unsynchronized"
    items = [
        Item("protocol-version", str(version), "ntp"),
        Item("ntp-stratum", str(stratum)),
        Item("ntp-refid", refid),
        Item("ntp-leap", LEAP[leap] or "none"),
    ]
    return Service("ntp", banner, items)


PROBE = DatagramProbe("ntp", NTP_PORTS, request, answer)
