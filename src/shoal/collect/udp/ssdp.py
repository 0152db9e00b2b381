"""SSDP (UPnP discovery): a unicast ``M-SEARCH`` for ``ssdp:all``; a device answers once per device and service
type it offers (``HTTP/1.1 200 OK`` with ``SERVER``, ``LOCATION`` — the URL of its description —, ``ST`` and
``USN``), and every answer that arrives shortly after the first is read too. Its headers are ``http-header``
items (SSDP is HTTP over UDP), the location a ``url`` too."""

from __future__ import annotations

from shoal import __version__
from shoal.collect.probes.base import Service
from shoal.collect.udp.base import Conversation, DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

SSDP_PORTS = frozenset({1900})
MAX_HEADERS = 50
KEPT = ("SERVER", "LOCATION", "ST", "USN")  # what a device says of itself; the rest is caching and dates


def request(query: Query) -> bytes:
    host = f"[{query.ip}]" if ":" in query.ip else query.ip
    return (
        f'M-SEARCH * HTTP/1.1\r\nHOST: {host}:{query.port}\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n'
        f"USER-AGENT: shoal-collector/{__version__} UPnP/1.1\r\n\r\n"
    ).encode()


def headers(data: bytes) -> dict[str, str] | None:
    """The headers of an M-SEARCH answer (names upper-cased, as SSDP writes them), or None if ``data`` is not one."""
    head = data.split(b"\r\n\r\n", 1)[0]
    status, *lines = head.split(b"\r\n")
    if not status.startswith(b"HTTP/1.") or b" 200" not in status:
        return None
    found: dict[str, str] = {}
    for line in lines[:MAX_HEADERS]:
        name, colon, value = line.partition(b":")
        if colon:
            found.setdefault(printable(name.strip(), 64).upper(), printable(value.strip(), 1024))
    return found if "ST" in found or "USN" in found else None


def items_of(found: dict[str, str]) -> list[Item]:
    items = [Item("http-header", found[name], name) for name in KEPT if found.get(name)]
    if found.get("LOCATION"):
        items.append(Item("url", found["LOCATION"], "ssdp-location"))
    return items


def answer(data: bytes, query: Query) -> Service | None:
    found = headers(data)
    if found is None:
        return None
    return Service("ssdp", found.get("SERVER") or printable(data.split(b"\r\n", 1)[0], 256), items_of(found))


async def follow_up(conversation: Conversation, query: Query, service: Service) -> None:
    for found in await conversation.more(headers):
        service.items += [item for item in items_of(found) if item not in service.items]


PROBE = DatagramProbe("ssdp", SSDP_PORTS, request, answer, follow_up, elsewhere=False)
