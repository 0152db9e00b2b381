"""TLS: a handshake that accepts any certificate, the certificate's items, then what speaks inside:
HTTP (``https``) or another service's banner (``tls``)."""

from __future__ import annotations

import ssl

from shoal.certificates import certificate_items
from shoal.collect.connection import Connection
from shoal.collect.probes import http
from shoal.collect.probes.base import Service, printable
from shoal.model import Item

TLS_PORTS = frozenset(
    {443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 2376, 4443, 5061, 5986, 6443, 8443, 8883, 9443, 10443}
)
# Services that greet first inside TLS (mail, FTP, IRC, …): wait for their banner instead of sending HTTP.
BANNER_FIRST_PORTS = frozenset({465, 563, 989, 990, 992, 993, 994, 995, 6697})


def client_context() -> ssl.SSLContext:
    """Any certificate, any protocol version and cipher the local OpenSSL still speaks: we record, not trust."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


CONTEXT = client_context()


async def handshake(connection: Connection, server_name: str | None = None) -> list[Item]:
    """Upgrade the connection to TLS (SNI ``server_name``, if given); the peer certificate's items (empty if it
    sent none)."""
    tls = await connection.start_tls(CONTEXT, server_name)
    der = tls.getpeercert(binary_form=True)
    return certificate_items(der) if der else []


def session_text(connection: Connection) -> str:
    """``TLSv1.3 TLS_AES_256_GCM_SHA384``: the banner of a TLS service that says nothing itself."""
    tls = connection.tls
    if tls is None:
        return ""
    cipher = tls.cipher()
    return f"{tls.version() or ''} {cipher[0] if cipher else ''}".strip()


async def run(connection: Connection) -> Service | None:
    certificate = await handshake(connection)
    inner = await inner_exchange(connection)
    service = http.parse_response(inner, "https", connection.ip, connection.port)
    if service is None:
        service = Service("tls", printable(inner).strip() or session_text(connection))
    service.items += certificate
    service.tls = True
    return service


async def inner_exchange(connection: Connection) -> bytes:
    """What the service inside TLS says: its banner on greet-first ports, else its answer to ``GET /``.
    Once the handshake worked the service is TLS, whatever happens inside, so errors here give b""."""
    try:
        if connection.port in BANNER_FIRST_PORTS:
            return await connection.receive()
        await connection.send(http.request_bytes(connection.ip))
        return await connection.receive(http.response_complete)
    except (OSError, TimeoutError):
        return b""


async def visit(connection: Connection, name: str) -> Service | None:
    """HTTPS by name (domain scans): SNI and ``Host:`` are ``name``."""
    certificate = await handshake(connection, name)
    await connection.send(http.request_bytes(connection.ip, name))
    response = await connection.receive(http.response_complete)
    service = http.parse_response(response, "https", connection.ip, connection.port, name)
    if service is not None:
        service.items += certificate
    return service
