"""HTTP: ``GET /`` and the status line, every header (original case), the page title and the URL."""

from __future__ import annotations

import html
import re

from shoal import __version__
from shoal.collect.connection import Connection
from shoal.collect.probes.base import RequestProbe, Service, printable
from shoal.model import Item

HTTP_PORTS = frozenset({80, 81, 591, 3000, 5000, 7547, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090})
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"shoal-collector/{__version__}"
TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
MAX_TITLE_CHARS = 1024
MAX_HEADERS = 100


def request_bytes(ip: str) -> bytes:
    host = f"[{ip}]" if ":" in ip else ip
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


def parse_response(response: bytes, scheme: str, ip: str, port: int) -> Service | None:
    if not response.startswith(b"HTTP/"):
        return None
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    items: list[Item] = []
    content_type = ""
    for line in header_lines[:MAX_HEADERS]:
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            continue
        header = printable(name.strip(), 256)
        text = printable(value.strip())
        items.append(Item("http-header", text, header))
        if header.lower() == "content-type":
            content_type = text
    title = page_title(body, content_type)
    if title is not None:
        items.append(Item("title", title))
    items.append(Item("url", url_of(scheme, ip, port)))
    return Service(scheme, printable(status_line.strip(), 256), items)


def page_title(body: bytes, content_type: str) -> str | None:
    match = TITLE.search(body)
    if match is None:
        return None
    charset = CHARSET.search(content_type)
    encoding = charset.group(1) if charset else "utf-8"
    try:
        text = match.group(1).decode(encoding, "replace")
    except LookupError:
        text = match.group(1).decode("utf-8", "replace")
    return printable(" ".join(html.unescape(text).split()).encode(), MAX_TITLE_CHARS)


def url_of(scheme: str, ip: str, port: int) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    suffix = "" if DEFAULT_PORTS.get(scheme) == port else f":{port}"
    return f"{scheme}://{host}{suffix}/"


async def run(connection: Connection) -> Service | None:
    await connection.send(request_bytes(connection.ip))
    response = await connection.receive(response_complete)
    return parse_response(response, "http", connection.ip, connection.port)


PROBE = RequestProbe("http", HTTP_PORTS, run)
