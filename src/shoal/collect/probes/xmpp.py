"""XMPP (client port): a stream header addressed to the scanned address; the server's stream header (its
domain), then its stream features (STARTTLS and whether it is required, SASL mechanisms, others) or the stream
error of a server that does not serve that address. STARTTLS is followed to the certificate. No login."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes import starttls
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

STREAM = re.compile(rb"<stream:stream\b[^>]*>")
FROM = re.compile(rb"\bfrom=['\"]([^'\"]*)['\"]")
FEATURES = re.compile(rb"<stream:features>(.*?)</stream:features>", re.DOTALL)
FEATURE = re.compile(rb"<([a-zA-Z][\w-]*)\b[^>]*\bxmlns=['\"]([^'\"]*)['\"]")
MECHANISM = re.compile(rb"<mechanism>([^<]*)</mechanism>")
ERROR = re.compile(rb"<stream:error>\s*<([\w-]+)")
TLS_NAMESPACE = b"urn:ietf:params:xml:ns:xmpp-tls"
MAX_FEATURES = 32


def stream_header(ip: str) -> bytes:
    return (
        f"<?xml version='1.0'?><stream:stream to='{ip}' xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    ).encode()


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return b"<stream:stream" in answer[:512] and b"http://etherx.jabber.org/streams" in answer[:1024]


def answer_complete(data: bytes) -> bool:
    return b"</stream:features>" in data or b"</stream:error>" in data or b"</stream:stream>" in data


def stream_items(answer: bytes) -> list[Item]:
    items = []
    header = STREAM.search(answer)
    domain = FROM.search(header.group()) if header else None
    if domain and domain[1]:
        items.append(Item("server-name", printable(domain[1], 256), "xmpp"))
    features = FEATURES.search(answer)
    if features is None:
        return items
    body = features[1]
    for name, namespace in FEATURE.findall(body)[:MAX_FEATURES]:
        if name != b"mechanism":
            items.append(Item("capability", printable(namespace if name == b"mechanisms" else name, 256), "xmpp"))
    items += [Item("auth-method", printable(mechanism, 64), "xmpp") for mechanism in MECHANISM.findall(body)]
    return items


def starttls_offer(answer: bytes) -> str | None:
    features = FEATURES.search(answer)
    if features is None or TLS_NAMESPACE not in features[1]:
        return None
    tls = features[1][features[1].index(TLS_NAMESPACE) :]
    return "required" if b"<required" in tls.split(b"</starttls>", 1)[0] else "offered"


async def run(connection: Connection) -> Service | None:
    await connection.send(stream_header(connection.ip))
    answer = await connection.receive(answer_complete)
    if not recognizes(answer, False):
        return None
    items = stream_items(answer)
    error = ERROR.search(answer)
    offer = starttls_offer(answer)
    if offer is not None:
        await connection.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        if b"<proceed" in await connection.receive(lambda data: b"/>" in data or b"</" in data):
            items += await starttls.upgrade(connection, "xmpp", offer)
    header = STREAM.search(answer)
    banner = printable(header.group() if header else answer[:512], 1024)
    return Service("xmpp", f"{banner}\nstream error: {error[1].decode()}" if error else banner, items)
