"""SIP: an ``OPTIONS`` request (``rport`` in its Via, so the answer comes back to our port); the answer carrying
our Call-ID gives the status line and what the server says of itself, as SIP over TCP reports it: ``http-header``
per header (SIP shares HTTP's syntax) but those that only echo our request, ``capability`` per method ``Allow``
lists."""

from __future__ import annotations

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

SIP_PORTS = frozenset({5060})
MAX_HEADERS = 50
COMPACT = {
    "i": "Call-ID",
    "v": "Via",
    "f": "From",
    "t": "To",
    "l": "Content-Length",
    "k": "Supported",
    "c": "Content-Type",
}
ECHOED = {"call-id", "via", "from", "to", "cseq", "content-length", "max-forwards"}


def call_id(query: Query) -> str:
    return f"{query.nonce[:8].hex()}@shoal.invalid"


def request(query: Query) -> bytes:
    host = f"[{query.ip}]" if ":" in query.ip else query.ip
    tag = query.nonce[8:12].hex()
    return (
        f"OPTIONS sip:nm@{host}:{query.port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP shoal.invalid;branch=z9hG4bK{query.nonce[4:12].hex()};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:nm@shoal.invalid>;tag={tag}\r\n"
        f"To: <sip:nm@{host}>\r\n"
        f"Call-ID: {call_id(query)}\r\n"
        "CSeq: 42 OPTIONS\r\n"
        "Contact: <sip:nm@shoal.invalid>\r\n"
        "Accept: application/sdp\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def answer(data: bytes, query: Query) -> Service | None:
    if not data.startswith(b"SIP/2.0 "):
        return None
    status, *lines = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    headers = []
    for line in lines[:MAX_HEADERS]:
        name, colon, value = line.partition(b":")
        if colon:
            text = printable(name.strip(), 64)
            headers.append((COMPACT.get(text.lower(), text), printable(value.strip(), 1024)))
    if call_id(query) not in [value for name, value in headers if name.lower() == "call-id"]:
        return None
    items = [Item("http-header", value, name) for name, value in headers if name.lower() not in ECHOED]
    for name, value in headers:
        if name.lower() == "allow":
            items += [Item("capability", method.strip(), "sip") for method in value.split(",") if method.strip()]
    return Service("sip", printable(status, 256), items)


PROBE = DatagramProbe("sip", SIP_PORTS, request, answer)
