"""DNS: a ``version.bind`` CH TXT query names the service (its answer, if any, is the banner), then a normal
query (``localhost. A``, recursion desired: a resolver answers it itself, nothing is looked up elsewhere) says
whether the server offers recursion."""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from shoal.collect.probes.base import Service, printable
from shoal.collect.udp.base import Conversation, DatagramProbe, Query
from shoal.model import Item

DNS_PORTS = frozenset({53})
VERSION_BIND = dns.name.from_text("version.bind.")
LOCALHOST = dns.name.from_text("localhost.")
MAX_VERSION_CHARS = 256


def message_id(query: Query, offset: int) -> int:
    return int.from_bytes(query.nonce[offset : offset + 2], "big")


def message(name: dns.name.Name, kind: int, rdclass: int, ident: int, recursion: bool) -> bytes:
    request = dns.message.make_query(name, kind, rdclass)
    request.id = ident
    request.flags = dns.flags.RD if recursion else 0
    return request.to_wire()


def parsed_answer(data: bytes, ident: int, name: dns.name.Name) -> dns.message.Message | None:
    """The DNS response ``data`` holds to our query ``ident`` about ``name``, or None if it is not one."""
    try:
        response = dns.message.from_wire(data, ignore_trailing=True, one_rr_per_rrset=True)
    except (dns.exception.DNSException, ValueError, UnicodeError):
        return None
    if response.id != ident or not response.flags & dns.flags.QR:
        return None
    if response.question and response.question[0].name != name:
        return None
    return response


def request(query: Query) -> bytes:
    return message(VERSION_BIND, dns.rdatatype.TXT, dns.rdataclass.CH, message_id(query, 0), recursion=False)


def txt_text(response: dns.message.Message) -> str:
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            for rdata in rrset:
                return printable(b"".join(rdata.strings), MAX_VERSION_CHARS).strip()  # type: ignore[attr-defined]
    return ""


def answer(data: bytes, query: Query) -> Service | None:
    response = parsed_answer(data, message_id(query, 0), VERSION_BIND)
    if response is None:
        return None
    version = txt_text(response)
    if not version:
        return Service("dns", f"version.bind: {dns.rcode.to_text(response.rcode())}")
    return Service("dns", version, [Item("dns-version", version)])


async def follow_up(conversation: Conversation, query: Query, service: Service) -> None:
    ident = message_id(query, 2)
    datagram = message(LOCALHOST, dns.rdatatype.A, dns.rdataclass.IN, ident, recursion=True)
    response = await conversation.ask(datagram, lambda data: parsed_answer(data, ident, LOCALHOST))
    if response is not None:
        service.items.append(Item("dns-recursion", "yes" if response.flags & dns.flags.RA else "no"))


PROBE = DatagramProbe("dns", DNS_PORTS, request, answer, follow_up)
