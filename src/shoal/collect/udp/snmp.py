"""SNMP: SNMPv3 engine discovery (RFC 3414 §4), never a community string and never a user: a GetRequest with an
empty engine id and user, marked reportable, makes an agent answer with a Report naming its authoritative engine:
its id (whose first four bytes hold the vendor's IANA enterprise number), its boots and its time (seconds since
its last boot)."""

from __future__ import annotations

import ipaddress

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item

SNMP_PORTS = frozenset({161})
SEQUENCE, INTEGER, OCTET_STRING, GET_REQUEST, REPORT = 0x30, 0x02, 0x04, 0xA0, 0xA8
REPORTABLE = b"\x04"  # msgFlags: no authentication, no privacy, a Report is wanted
USM = 3  # msgSecurityModel: the user-based security model
MAX_SIZE = 65_507
# Enterprise numbers (IANA's registry) of the engines most often seen, for the banner.
ENTERPRISES = {
    2: "IBM",
    9: "Cisco",
    11: "HP",
    311: "Microsoft",
    318: "APC",
    674: "Dell",
    1991: "Brocade",
    2011: "Huawei",
    2636: "Juniper",
    3375: "F5",
    4526: "Netgear",
    6486: "Alcatel-Lucent",
    6876: "VMware",
    8072: "net-snmp",
    12356: "Fortinet",
    14988: "MikroTik",
    25461: "Palo Alto Networks",
    25506: "H3C",
    30065: "Arista",
    41112: "Ubiquiti",
}


def encoded(tag: int, content: bytes) -> bytes:
    """One BER element (definite length)."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def integer(value: int) -> bytes:
    return encoded(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def message_id(query: Query) -> int:
    return int.from_bytes(query.nonce[8:12], "big") & 0x7FFFFFFF


def request(query: Query) -> bytes:
    global_data = encoded(
        SEQUENCE, integer(message_id(query)) + integer(MAX_SIZE) + encoded(OCTET_STRING, REPORTABLE) + integer(USM)
    )
    empty = encoded(OCTET_STRING, b"")
    security = encoded(SEQUENCE, empty + integer(0) + integer(0) + empty + empty + empty)
    request_id = int.from_bytes(query.nonce[12:16], "big") & 0x7FFFFFFF
    pdu = encoded(GET_REQUEST, integer(request_id) + integer(0) + integer(0) + encoded(SEQUENCE, b""))
    scoped = encoded(SEQUENCE, empty + empty + pdu)
    return encoded(SEQUENCE, integer(3) + global_data + encoded(OCTET_STRING, security) + scoped)


def elements(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) elements of a BER string, in order; ValueError if it is malformed."""
    found = []
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise ValueError("truncated element")
        tag, size = data[position], data[position + 1]
        position += 2
        if size & 0x80:
            count = size & 0x7F
            if not 0 < count <= 4 or position + count > len(data):
                raise ValueError("bad length")
            size = int.from_bytes(data[position : position + count], "big")
            position += count
        if position + size > len(data):
            raise ValueError("truncated content")
        found.append((tag, data[position : position + size]))
        position += size
    return found


def one(data: bytes, tag: int) -> bytes:
    [(found, content)] = elements(data)[:1] or [(None, b"")]
    if found != tag:
        raise ValueError(f"expected tag {tag:#x}")
    return content


def engine_items(engine: bytes) -> tuple[str, list[Item]]:
    """What an engine id (RFC 3411 SnmpEngineID) says: the enterprise's name for the banner, and its items."""
    items = [Item("guid", engine.hex(), "snmp")]
    if len(engine) < 5:
        return "", items
    enterprise = int.from_bytes(engine[:4], "big") & 0x7FFFFFFF
    items.append(Item("snmp-enterprise", str(enterprise)))
    name = ENTERPRISES.get(enterprise, f"enterprise {enterprise}")
    if engine[0] & 0x80:  # the RFC 3411 format: a format byte, then the data
        kind, data = engine[4], engine[5:]
        if kind == 1 and len(data) == 4:
            items.append(Item("ip", str(ipaddress.IPv4Address(data)), "snmp-engine-id"))
        elif kind == 2 and len(data) == 16:
            items.append(Item("ip", str(ipaddress.IPv6Address(data)), "snmp-engine-id"))
        elif kind == 3 and len(data) == 6:
            items.append(Item("mac-address", ":".join(f"{byte:02x}" for byte in data), "snmp-engine-id"))
    return name, items


def answer(data: bytes, query: Query) -> Service | None:
    try:
        parts = elements(one(data, SEQUENCE))
        if len(parts) < 4 or parts[0] != (INTEGER, b"\x03"):
            return None
        (tag, global_data), (security_tag, security) = parts[1], parts[2]
        header = elements(global_data)
        if tag != SEQUENCE or not header or header[0][0] != INTEGER or security_tag != OCTET_STRING:
            return None
        if int.from_bytes(header[0][1], "big") != message_id(query):
            return None
        fields = elements(one(security, SEQUENCE))
        if len(fields) < 3 or fields[0][0] != OCTET_STRING or not fields[0][1]:
            return None
        engine, boots, uptime = fields[0][1], int.from_bytes(fields[1][1], "big"), int.from_bytes(fields[2][1], "big")
    except ValueError:
        return None
    name, items = engine_items(engine)
    items += [Item("snmp-engine-boots", str(boots)), Item("snmp-engine-time", str(uptime))]
    banner = f"SNMPv3 {name} engine {engine.hex()}" if name else f"SNMPv3 engine {engine.hex()}"
    return Service("snmp", banner, items)


PROBE = DatagramProbe("snmp", SNMP_PORTS, request, answer)
