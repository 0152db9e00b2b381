"""HTTP: ``GET /`` and the status line, every header (original case), the page title, the URL and the body
(de-chunked, kept for ``scan/protocols/body``; marked truncated when the read cap cut it)."""

from __future__ import annotations

import re

from shoal import __version__
from shoal.collect.connection import Connection
from shoal.collect.probes.base import RequestProbe, Service, printable
from shoal.model import BODY_SHA256, MAX_BODY_BYTES, Body, Item
from shoal.text import page_title

HTTP_PORTS = frozenset({80, 81, 591, 3000, 5000, 7547, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090})
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"shoal-collector/{__version__}"
MAX_HEADERS = 100


def request_bytes(ip: str, name: str | None = None) -> bytes:
    """``GET /`` with ``Host:`` the name visited, or the address."""
    host = name if name is not None else f"[{ip}]" if ":" in ip else ip
    return (
        f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    ).encode()


def response_complete(data: bytes) -> bool:
    """The whole response is here: the head, then Content-Length bytes or the last chunk."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    lowered = head.lower()
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", lowered)
    if length:
        return len(body) >= int(length.group(1))
    if b"\r\ntransfer-encoding:" in lowered and b"chunked" in lowered:
        return body.endswith(b"0\r\n\r\n")
    return False


def dechunked(body: bytes) -> tuple[bytes, bool]:
    """A chunked body's data, and whether it was complete (its last chunk arrived)."""
    data = bytearray()
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return bytes(data), False
        try:
            size = int(body[position:line_end].split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            return bytes(data), False
        if size == 0:
            return bytes(data), True
        start = line_end + 2
        data += body[start : start + size]
        if start + size > len(body):
            return bytes(data), False
        position = start + size + 2


def response_body(head: bytes, body: bytes, content_type: str) -> Body:
    lowered = head.lower()
    if b"\r\ntransfer-encoding:" in lowered and b"chunked" in lowered:
        data, complete = dechunked(body)
        return Body(data[:MAX_BODY_BYTES], content_type, not complete or len(data) > MAX_BODY_BYTES)
    length = re.search(rb"\r\ncontent-length:\s*(\d+)", lowered)
    declared = int(length.group(1)) if length else len(body)
    return Body(body[:MAX_BODY_BYTES], content_type, declared > len(body) or len(body) > MAX_BODY_BYTES)


def parse_response(response: bytes, scheme: str, ip: str, port: int, name: str | None = None) -> Service | None:
    """The service an HTTP response shows; ``name`` is the host name visited (domain scans), if any."""
    if not response.startswith(b"HTTP/"):
        return None
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    items: list[Item] = []
    content_type = ""
    for line in header_lines[:MAX_HEADERS]:
        key, colon, value = line.partition(b":")
        if not colon or not key.strip():
            continue
        header = printable(key.strip(), 256)
        text = printable(value.strip())
        items.append(Item("http-header", text, header))
        if header.lower() == "content-type":
            content_type = text
    kept = response_body(head, body, content_type)
    title = page_title(kept.data, content_type)
    if title is not None:
        items.append(Item("title", title))
    items.append(Item("url", url_of(scheme, name or ip, port)))
    bodies = [kept] if kept.data else []
    items += [Item(BODY_SHA256, body.sha256, scheme, True) for body in bodies]
    return Service(scheme, printable(status_line.strip(), 256), items, bodies=bodies)


def url_of(scheme: str, ip: str, port: int) -> str:
    """The URL of ``/`` on ip (or a host name) and port; the port only where it is not the scheme's own."""
    host = f"[{ip}]" if ":" in ip else ip
    suffix = "" if DEFAULT_PORTS.get(scheme) == port else f":{port}"
    return f"{scheme}://{host}{suffix}/"


async def run(connection: Connection) -> Service | None:
    await connection.send(request_bytes(connection.ip))
    response = await connection.receive(response_complete)
    return parse_response(response, "http", connection.ip, connection.port)


async def visit(connection: Connection, name: str) -> Service | None:
    """HTTP by name (domain scans): ``Host:`` is ``name``."""
    await connection.send(request_bytes(connection.ip, name))
    response = await connection.receive(response_complete)
    return parse_response(response, "http", connection.ip, connection.port, name)


PROBE = RequestProbe("http", HTTP_PORTS, run)
