"""mDNS (multicast DNS, RFC 6762/6763), asked by unicast: the service types a responder announces
(``_services._dns-sd._udp.local.`` PTR), then, in one more query, the instances of each (PTR) and where they are
(SRV: host name and port). A responder answers a query from a port other than 5353 directly ("legacy unicast")."""

from __future__ import annotations

from shoal.collect.probes.base import Service
from shoal.collect.udp import dnswire
from shoal.collect.udp.base import Conversation, DatagramProbe, Query
from shoal.collect.udp.dns import message_id
from shoal.model import Item
from shoal.text import printable

MDNS_PORTS = frozenset({5353})
SERVICES = "_services._dns-sd._udp.local"
MAX_SERVICE_TYPES = 16  # asked about in the follow-up, in one query


def request(query: Query) -> bytes:
    return dnswire.query(message_id(query, 4), [SERVICES], dnswire.PTR)


def pointed(message: bytes, found: dnswire.Response, owners: set[str]) -> list[tuple[str, str]]:
    """(owner, target) of the PTR records of those owners."""
    pairs = []
    for record in found.records:
        if record.type == dnswire.PTR and record.name.lower() in owners:
            try:
                pairs.append((record.name, dnswire.read_name(message, record.data)[0]))
            except (ValueError, IndexError):
                continue
    return pairs


def answer(data: bytes, query: Query) -> Service | None:
    found = dnswire.response(data, message_id(query, 4))
    if found is None:
        return None
    kinds = sorted({target for _, target in pointed(data, found, {SERVICES})})  # stable from scan to scan
    if not kinds:
        return None  # a DNS server's empty answer is not an mDNS responder
    banner = printable(f"services: {', '.join(kinds)}".encode())
    return Service("mdns", banner, [Item("mdns-service", kind) for kind in kinds])


def instances_answer(data: bytes, query: Query, kinds: list[str]) -> list[Item] | None:
    found = dnswire.response(data, message_id(query, 6))
    if found is None:
        return None
    owners = {kind.lower() for kind in kinds}
    items = [Item("mdns-instance", target, owner) for owner, target in pointed(data, found, owners)]
    for record in found.records:
        if record.type == dnswire.SRV:
            try:
                port = int.from_bytes(data[record.data + 4 : record.data + 6], "big")
                host = dnswire.read_name(data, record.data + 6)[0]
            except (ValueError, IndexError):
                continue
            items += [Item("mdns-srv", f"{host}:{port}", record.name), Item("host", host, "mdns")]
    return list(dict.fromkeys(items))


async def follow_up(conversation: Conversation, query: Query, service: Service) -> None:
    kinds = [item.value for item in service.items if item.type == "mdns-service"][:MAX_SERVICE_TYPES]
    try:
        datagram = dnswire.query(message_id(query, 6), kinds, dnswire.PTR)
    except ValueError:
        return  # a service type that is not a valid name
    items = await conversation.ask(datagram, lambda data: instances_answer(data, query, kinds))
    service.items += items or []


PROBE = DatagramProbe("mdns", MDNS_PORTS, request, answer, follow_up, elsewhere=False)
