"""DNS: a ``version.bind`` CH TXT query names the service (the banner: ``version.bind: unbound 1.17.1``, or its
status when the server hides it), then a normal query (``localhost. A``, recursion desired: a resolver answers it
itself, nothing is looked up elsewhere) says whether the server offers recursion."""

from __future__ import annotations

from shoal.collect.probes.base import Service
from shoal.collect.udp import dnswire
from shoal.collect.udp.base import Conversation, DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

DNS_PORTS = frozenset({53})
VERSION_BIND = "version.bind"
LOCALHOST = "localhost"
MAX_VERSION_CHARS = 256


def message_id(query: Query, offset: int) -> int:
    return int.from_bytes(query.nonce[offset : offset + 2], "big")


def answer_to(data: bytes, ident: int, name: str) -> dnswire.Response | None:
    """The response ``data`` holds to our query ``ident`` about ``name`` (some servers drop the question)."""
    found = dnswire.response(data, ident)
    if found is None or found.question.lower() not in ("", name):
        return None
    return found


def request(query: Query) -> bytes:
    return dnswire.query(message_id(query, 0), [VERSION_BIND], dnswire.TXT, dnswire.CH)


def answer(data: bytes, query: Query) -> Service | None:
    found = answer_to(data, message_id(query, 0), VERSION_BIND)
    if found is None:
        return None
    records = [record for record in found.records if record.type == dnswire.TXT]
    version = printable(dnswire.texts(data, records[0]), MAX_VERSION_CHARS).strip() if records else ""
    if not version:
        return Service("dns", f"version.bind: {found.rcode}")
    return Service("dns", f"version.bind: {version}", [Item("version", version, "dns")])


async def follow_up(conversation: Conversation, query: Query, service: Service) -> None:
    ident = message_id(query, 2)
    datagram = dnswire.query(ident, [LOCALHOST], dnswire.A, recursion=True)
    found = await conversation.ask(datagram, lambda data: answer_to(data, ident, LOCALHOST))
    if found is not None and found.flags & dnswire.RA:
        service.items.append(Item("capability", "recursion", "dns"))


PROBE = DatagramProbe("dns", DNS_PORTS, request, answer, follow_up)
