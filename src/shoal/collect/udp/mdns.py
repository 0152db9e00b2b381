"""mDNS (multicast DNS, RFC 6762/6763), asked by unicast: the service types a responder announces
(``_services._dns-sd._udp.local.`` PTR), then, in one more query, the instances of each (PTR) and where they are
(SRV: host name and port). A responder answers a query from a port other than 5353 directly ("legacy unicast").

Answers are read here, not by dnspython: responders compress the names inside SRV records (RFC 6762 §18.14
allows it), which dnspython refuses as RFC 2782 asks of unicast DNS.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype

from shoal.collect.probes.base import Service, printable
from shoal.collect.udp.base import Conversation, DatagramProbe, Query
from shoal.collect.udp.dns import message_id
from shoal.model import Item

MDNS_PORTS = frozenset({5353})
SERVICES = "_services._dns-sd._udp.local"
PTR, SRV = 12, 33
QR = 0x80
MAX_SERVICE_TYPES = 16  # asked about in the follow-up, in one query
MAX_RECORDS = 64  # read of one answer
MAX_POINTERS = 16  # compression pointers followed in one name


class Record(NamedTuple):
    name: str
    type: int
    data: int  # where its data starts in the message


def read_name(message: bytes, position: int) -> tuple[str, int]:
    """The name at ``position`` (following compression pointers) and where the data after it starts; ValueError if
    it does not parse."""
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


def answer_records(message: bytes, ident: int) -> list[Record] | None:
    """The records of every section of a DNS response to ``ident``, or None if ``message`` is not one."""
    if len(message) < 12:
        return None
    ident_seen, flags, questions, *counts = struct.unpack(">HBxHHHH", message[:12])
    if ident_seen != ident or not flags & QR:
        return None
    try:
        position = 12
        for _ in range(questions):
            position = read_name(message, position)[1] + 4
        found = []
        for _ in range(min(sum(counts), MAX_RECORDS)):
            name, position = read_name(message, position)
            kind, size = struct.unpack(">H6xH", message[position : position + 10])
            found.append(Record(name, kind, position + 10))
            position += 10 + size
    except (ValueError, IndexError, struct.error):
        return None
    return found


def query(names: list[str], ident: int) -> bytes:
    ask = dns.message.make_query(names[0] + ".", dns.rdatatype.PTR, dns.rdataclass.IN)
    for name in names[1:]:
        ask.find_rrset(ask.question, dns.name.from_text(name + "."), dns.rdataclass.IN, dns.rdatatype.PTR, create=True)
    ask.id = ident
    ask.flags = 0
    return ask.to_wire()


def request(query_: Query) -> bytes:
    return query([SERVICES], message_id(query_, 4))


def pointed(message: bytes, records: list[Record], owners: set[str]) -> list[tuple[str, str]]:
    """(owner, target) of the PTR records of those owners."""
    found = []
    for record in records:
        if record.type == PTR and record.name.lower() in owners:
            try:
                found.append((record.name, read_name(message, record.data)[0]))
            except (ValueError, IndexError):
                continue
    return found


def answer(data: bytes, query_: Query) -> Service | None:
    records = answer_records(data, message_id(query_, 4))
    if records is None:
        return None
    kinds = sorted({target for _, target in pointed(data, records, {SERVICES})})  # stable from scan to scan
    if not kinds:
        return None  # a DNS server's empty answer is not an mDNS responder
    banner = printable(f"services: {', '.join(kinds)}".encode())
    return Service("mdns", banner, [Item("mdns-service", kind) for kind in kinds])


def instances_answer(data: bytes, query_: Query, kinds: list[str]) -> list[Item] | None:
    records = answer_records(data, message_id(query_, 6))
    if records is None:
        return None
    items = [
        Item("mdns-instance", target, owner) for owner, target in pointed(data, records, {k.lower() for k in kinds})
    ]
    for record in records:
        if record.type == SRV:
            try:
                port = int.from_bytes(data[record.data + 4 : record.data + 6], "big")
                host = read_name(data, record.data + 6)[0]
            except (ValueError, IndexError):
                continue
            items += [Item("mdns-srv", f"{host}:{port}", record.name), Item("host", host, "mdns")]
    return list(dict.fromkeys(items))


async def follow_up(conversation: Conversation, query_: Query, service: Service) -> None:
    kinds = [item.value for item in service.items if item.type == "mdns-service"][:MAX_SERVICE_TYPES]
    try:
        datagram = query(kinds, message_id(query_, 6))
    except (dns.exception.DNSException, ValueError):
        return  # a service type that is not a valid name
    items = await conversation.ask(datagram, lambda data: instances_answer(data, query_, kinds))
    service.items += items or []


PROBE = DatagramProbe("mdns", MDNS_PORTS, request, answer, follow_up, elsewhere=False)
