"""HTTP APIs named from their answers (Elasticsearch, Docker, Kubernetes, etcd, IPP, proxies): one request to
the path that describes the service, read as the HTTP probe reads ``GET /``, its JSON body decoded."""

from __future__ import annotations

import functools

import orjson

from shoal.collect.connection import Connection
from shoal.collect.probes import http
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable


def request_bytes(ip: str, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    host = f"[{ip}]" if ":" in ip else ip
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {http.USER_AGENT}", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "Connection: close", "", ""])).encode() + body


async def fetch(
    connection: Connection, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> Service | None:
    """The HTTP service that answers ``method target`` (its headers, title, url and body), or None."""
    await connection.send(request_bytes(connection.ip, method, target, headers, body))
    response = await connection.receive(http.response_complete)
    return http.parse_response(response, http.scheme_of(connection), connection.ip, connection.port)


async def fetch_json(connection: Connection, target: str, key: str) -> tuple[Service, dict[str, object]] | None:
    """``GET target`` and its JSON body, if the answer is JSON with ``key`` (a field that names the API)."""
    service = await fetch(connection, "GET", target)
    document = json_body(service) if service else None
    if service is None or document is None or not field(document, key):
        return None
    return service, document


def json_body(service: Service) -> dict[str, object] | None:
    if not service.bodies:
        return None
    try:
        document = orjson.loads(service.bodies[0].data)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def header(service: Service, name: str) -> str | None:
    return next(
        (item.value for item in service.items if item.type == "http-header" and item.context.lower() == name), None
    )


def named(service: Service, protocol: str, banner: str | None = None, items: list[Item] | None = None) -> Service:
    """The HTTP service, named ``protocol`` (its HTTP items kept, ``items`` first)."""
    return Service(
        protocol,
        printable((banner or service.banner).encode(), 1024),
        [*(items or []), *service.items],
        bodies=service.bodies,
    )


@functools.lru_cache(maxsize=8)  # several recognisers ask about the same answer in a row
def answer_of(heard: bytes) -> tuple[bytes, bytes]:
    """(head, lowercased; start of the body) of an HTTP answer another probe heard."""
    head, _, body = heard.partition(b"\r\n\r\n")
    return head.lower(), body


def field(document: dict[str, object], *path: str) -> str | None:
    value: object = document
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return (
        printable(str(value).encode(), 256)
        if isinstance(value, str | int | float) and not isinstance(value, bool)
        else None
    )
