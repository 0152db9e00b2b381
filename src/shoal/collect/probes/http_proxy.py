"""HTTP proxies: a request in absolute form for the proxy's own address (so an open proxy fetches nothing from
anyone else); a proxy answers as one (its error page, ``Via``, ``X-Squid-Error``, ``Proxy-Authenticate``)
where a web server serves or refuses a path."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import http, web
from shoal.collect.probes.base import Service

PROXY_HEADERS = (b"\r\nx-squid-error:", b"\r\nproxy-authenticate:", b"\r\nproxy-connection:", b"\r\nx-cache-lookup:")


def recognizes(answer: bytes, usual_port: bool) -> bool:
    head, _ = web.answer_of(answer)
    return head.startswith(b"http/") and (any(header in head for header in PROXY_HEADERS) or b" 407 " in head[:16])


async def run(connection: Connection) -> Service | None:
    own = http.Page(http.scheme_of(connection), connection.ip, connection.port).url
    service = await web.fetch(connection, "GET", own)
    if service is None:
        return None
    head = "\r\n" + "\r\n".join(f"{item.context}: {item.value}" for item in service.items if item.type == "http-header")
    if not recognizes(f"{service.banner}{head}\r\n\r\n".encode(), False):
        return None
    return web.named(service, "http-proxy")
