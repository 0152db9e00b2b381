"""TLS: a handshake that accepts any certificate, and the items of what the server showed. What speaks inside is
identified by the plan run again inside TLS (``shoal.collect.identify``); domain scans ``visit`` HTTPS by name.

``handshake`` is the one function every TLS upgrade goes through (this probe, PostgreSQL's SSLRequest, the
STARTTLS probes, domain scans): the certificate's items (``shoal.certificates``: names, digest, serial,
validity, key, signature algorithm, self-signed, expired, ``ja4x-hash``) and the ServerHello's ``ja4s-hash``.
``session_items`` gives the same from a certificate and handshake bytes obtained some other way.
"""

from __future__ import annotations

import datetime as dt

from shoal.certificates import certificate_details, certificate_items
from shoal.collect.connection import RECORDING_TLS, Connection
from shoal.collect.probes import http
from shoal.collect.probes.base import Service
from shoal.enrich.ja4plus import ja4s
from shoal.model import Item

HANDSHAKE_RECORD = 22  # a TLS record of handshake messages


async def handshake(connection: Connection, server_name: str | None = None) -> list[Item]:
    """Upgrade the connection to TLS (SNI ``server_name``, if given); the items of what the server showed (JA4S
    and JA4X only where the policy allows them, ``Connection.ja4plus``). Raises as ``Connection.start_tls``."""
    session = await connection.start_tls(RECORDING_TLS, server_name)
    return session_items(session.getpeercert(binary_form=True), connection.handshake_bytes, connection.ja4plus)


def session_items(certificate: bytes | None, handshake_bytes: bytes = b"", ja4plus: bool = True) -> list[Item]:
    """The items of a TLS session: its certificate's (DER; none if the server sent none), then the ``ja4s-hash``
    of the ServerHello at the start of ``handshake_bytes`` (what the server sent during the handshake)."""
    items = []
    if certificate:
        items += certificate_items(certificate)
        items += certificate_details(certificate, dt.datetime.now(dt.UTC), ja4plus)
    fingerprint = ja4s(server_hello(handshake_bytes)) if ja4plus else None
    if fingerprint is not None:
        items.append(Item("ja4s-hash", fingerprint))
    return items


def server_hello(handshake_bytes: bytes) -> bytes:
    """The first handshake message in the server's TLS records (its ServerHello), reassembled if it spans
    records; b"" if the records end first or something else comes first (an alert)."""
    message = bytearray()
    position = 0
    while position + 5 <= len(handshake_bytes) and handshake_bytes[position] == HANDSHAKE_RECORD:
        length = int.from_bytes(handshake_bytes[position + 3 : position + 5], "big")
        message += handshake_bytes[position + 5 : position + 5 + length]
        position += 5 + length
        if len(message) >= 4 and len(message) >= 4 + int.from_bytes(message[1:4], "big"):
            return bytes(message[: 4 + int.from_bytes(message[1:4], "big")])
    return b""


def session_text(connection: Connection) -> str:
    """``TLSv1.3 TLS_AES_256_GCM_SHA384``: the banner of a TLS service that says nothing itself."""
    tls = connection.tls
    if tls is None:
        return ""
    cipher = tls.cipher()
    return f"{tls.version() or ''} {cipher[0] if cipher else ''}".strip()


async def run(connection: Connection) -> Service | None:
    """The TLS layer: a handshake that accepts any certificate, and the session's items. What runs inside is named
    by the plan run again inside TLS (``shoal.collect.identify``); the banner here is for a service nothing names."""
    items = await handshake(connection)
    return Service("tls", session_text(connection), items, tls=True)


async def visit(connection: Connection, name: str) -> Service | None:
    """HTTPS by name (domain scans): SNI and ``Host:`` are ``name``."""
    session = await handshake(connection, name)
    service = await http.get(connection, http.Page("https", connection.ip, connection.port, name))
    if service is not None:
        service.items += session
    return service
