"""HTTP: ``GET /`` and the status line, every header (original case), the page title, the URL and the body
(de-chunked, kept for ``scan/protocols/body``; marked truncated when the read cap cut it). Then where the answer
leads — over the same connection (HTTP/1.1 keep-alive) while the server keeps it open and the pages stay on the
same origin; otherwise all of it in a follow-up, run once the service is identified, with connections of its own:

- **Redirects**: each 3xx answer's ``Location`` is recorded as ``url;redirect`` (absolute), with ``host;redirect``
  when it names a host other than the one visited, and followed — at most ``MAX_REDIRECTS`` times — when it
  stays on the host visited (any port, either scheme) or names an address the allow-list permits. Another host
  name is never resolved, so never followed. The ``title`` becomes that of the page reached, whose body is kept
  too (context ``redirect``).
- **The favicon**: the page's ``<link rel="icon">`` (or a ``data:`` URI in it), else ``/favicon.ico``, under the
  same rules, at most ``MAX_FAVICON_BYTES``: its ``url`` and ``obj-md5``, ``obj-sha1``, ``obj-sha256`` and
  ``obj-murmur3`` (Shodan's favicon hash) with context ``favicon``, and its bytes as a body. A fetched favicon
  is also a ``favicons`` report of its own (``favicon_report``), which the collector stores beside the site's.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import html
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit

from shoal import __version__
from shoal.collect.connection import READ_CAP, RECORDING_TLS, Connection, Connector
from shoal.collect.policy import canonical
from shoal.collect.probes.base import Service
from shoal.enrich.fingerprints import favicon_mmh3
from shoal.model import BODY_SHA256, FAVICONS, MAX_BODY_BYTES, Body, Item, Report
from shoal.text import page_title, printable

DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = f"shoal-collector/{__version__}"
LINK = re.compile(rb"<link\b[^>]{0,2048}>", re.IGNORECASE)
ATTRIBUTE = re.compile(rb"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
MAX_HEADERS = 100
MAX_URL_CHARS = 2048
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 3  # redirects followed from a page
MAX_FAVICON_FETCHES = 4  # requests spent looking for the favicon, its own redirects included
MAX_FAVICON_BYTES = 64 * 1024
HEAD_BYTES = 16 * 1024  # read beyond a favicon's bytes: its TLS handshake and response head
SAFE_PATH = "/%:@!$&'()*+,;=-._~"  # what a request path keeps as it is; anything else is percent-encoded
SAFE_QUERY = SAFE_PATH + "?"
PLAIN_PATH = re.compile(
    r"/(?!/)[A-Za-z0-9_~/-]*(?:\.[A-Za-z0-9_~-]+)*"
)  # /favicon.ico: no dot segment, nothing to quote


@dataclass(frozen=True, slots=True)
class Page:
    """Where a request goes: the address connected to, the scheme and port, the host name visited (``Host:`` and
    SNI; None: the address is the host) and the path."""

    scheme: str
    ip: str
    port: int
    name: str | None = None
    path: str = "/"

    @property
    def host(self) -> str:
        return self.name or (f"[{self.ip}]" if ":" in self.ip else self.ip)

    @property
    def origin(self) -> tuple[str, str, int, str | None]:
        return self.scheme, self.ip, self.port, self.name

    @property
    def url(self) -> str:
        """The page's URL; the port only where it is not the scheme's own."""
        suffix = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{self.host}{suffix}{self.path}"


@dataclass(frozen=True, slots=True)
class Response:
    status_line: bytes
    status: int  # 0 if the status line has no number
    headers: list[tuple[str, str]]  # (name as sent, value), at most MAX_HEADERS
    body: Body
    framed: bool = False  # its end was known (no body, a length, the last chunk) and all of it arrived

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    @property
    def kept_open(self) -> bool:
        """The server keeps the connection open for another request: the response was framed, and HTTP/1.1 did
        not say ``close`` (HTTP/1.0: said ``keep-alive``)."""
        connection = (self.header("connection") or "").lower()
        if self.status_line.startswith(b"HTTP/1.0"):
            return self.framed and "keep-alive" in connection
        return self.framed and "close" not in connection


def request_bytes(ip: str, name: str | None = None, path: str = "/", keep_alive: bool = False) -> bytes:
    """``GET path`` with ``Host:`` the name visited, or the address; ``keep_alive``: more requests may follow."""
    host = name if name is not None else f"[{ip}]" if ":" in ip else ip
    ending = "" if keep_alive else "Connection: close\r\n"
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\n{ending}\r\n".encode()


def bodiless(head: bytes) -> bool:
    """A status that never has a body (1xx, 204, 304)."""
    status = head[9:12]
    return status[:1] == b"1" or status in (b"204", b"304")


def response_complete(data: bytes) -> bool:
    """The whole response is here: the head, then Content-Length bytes or the last chunk (or no body at all)."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    if bodiless(head):
        return True
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


def parsed(response: bytes) -> Response | None:
    """An HTTP response's status, headers and body; None if it is not HTTP."""
    if not response.startswith(b"HTTP/"):
        return None
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    code = status_line.split(b" ", 2)[1:2]
    headers = []
    for line in header_lines[:MAX_HEADERS]:
        key, colon, value = line.partition(b":")
        if colon and key.strip():
            headers.append((printable(key.strip(), 256), printable(value.strip())))
    content_type = next((value for key, value in headers if key.lower() == "content-type"), "")
    status = int(code[0]) if code and code[0].isdigit() and len(code[0]) == 3 else 0
    answer = response_body(head, body, content_type)
    lowered = head.lower()
    delimited = b"\r\ncontent-length:" in lowered or (b"\r\ntransfer-encoding:" in lowered and b"chunked" in lowered)
    framed = bodiless(head) or (delimited and not answer.truncated and response_complete(response))
    return Response(status_line, status, headers, answer, framed)


def parse_response(response: bytes, scheme: str, ip: str, port: int, name: str | None = None) -> Service | None:
    """The service an HTTP response shows; ``name`` is the host name visited (domain scans), if any."""
    answer = parsed(response)
    return None if answer is None else service_of(answer, Page(scheme, ip, port, name))


def service_of(answer: Response, page: Page) -> Service:
    items = [Item("http-header", value, key) for key, value in answer.headers]
    title = page_title(answer.body.data, answer.body.content_type)
    if title is not None:
        items.append(Item("title", title))
    items.append(Item("url", page.url))
    bodies = [answer.body] if answer.body.data else []
    items += [Item(BODY_SHA256, body.sha256, page.scheme, True) for body in bodies]
    return Service(page.scheme, printable(answer.status_line.strip(), 256), items, bodies=bodies)


async def get(connection: Connection, page: Page) -> Service | None:
    """``GET`` the page over the connection (keep-alive): the service its answer shows, and where it leads (over the
    same connection where it can, else in a follow-up; neither with ``--no-follow-ups``); None if the answer is not
    HTTP."""
    await connection.send(request_bytes(page.ip, page.name, page.path, keep_alive=True))
    answer = parsed(await connection.receive(response_complete))
    if answer is None:
        return None
    service = service_of(answer, page)
    if connection.follow_ups:
        await lead_here(service, page, answer, connection)
    return service


def target_of(page: Page, reference: str) -> tuple[str, Page | None] | None:
    """Where ``reference`` (a Location, an icon's href) leads from ``page``: its absolute URL, and the page to
    request if it may be followed (the host visited, or an address; the caller checks the allow-list). None if
    it is not an http(s) URL."""
    plain = PLAIN_PATH.fullmatch(reference) and "/." not in reference and "//" not in reference
    if plain and (page.name or is_canonical(page.ip)):
        here = Page(page.scheme, page.ip, page.port, page.name, reference)  # what the general case below gives
        return here.url, here
    try:
        url = urljoin(page.url, reference.strip())
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    path = quote(parts.path or "/", SAFE_PATH) + (f"?{quote(parts.query, SAFE_QUERY)}" if parts.query else "")
    if page.name is not None and host == page.name.lower().rstrip("."):
        return url, Page(scheme, page.ip, port, page.name, path)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url, None  # another host name: never resolved here, so never followed
    return url, Page(scheme, str(canonical(address)), port, None, path)


@functools.lru_cache(maxsize=1024)
def is_canonical(ip: str) -> bool:
    """Is ``ip`` written as the policy writes the address (so a URL naming it leads to the same Page)?"""
    return str(canonical(ipaddress.ip_address(ip))) == ip


class Elsewhere(Exception):
    """A page the connection at hand cannot fetch: on another origin, or the server no longer keeps it open."""


class SameConnection:
    """Pages fetched over the connection the first answer came on, while the server keeps it open (HTTP/1.1
    keep-alive) and they are on the same origin (scheme, address, port and name); else ``Elsewhere``."""

    def __init__(self, connection: Connection, origin: Page, first: Response) -> None:
        self.connection = connection
        self.origin = origin
        self.open = first.kept_open and not connection.ended

    def allows(self, page: Page) -> bool:
        if not (page.origin == self.origin.origin and self.open):
            raise Elsewhere(page.url)
        return True

    async def get(self, page: Page, limit: int) -> Response | None:
        self.allows(page)
        self.connection.remaining = limit
        await self.connection.send(request_bytes(page.ip, page.name, page.path, keep_alive=True))
        answer = parsed(await self.connection.receive(response_complete))
        self.open = answer is not None and answer.kept_open and not self.connection.ended
        return answer


class NewConnections:
    """Pages fetched each on a connection of its own (TLS for https, SNI the name visited), where the allow-list
    permits. ``get`` raises PortClosed, TargetNotAllowed, OSError, TimeoutError."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    def allows(self, page: Page) -> bool:
        return self.connector.policy.permits(ipaddress.ip_address(page.ip))

    async def get(self, page: Page, limit: int) -> Response | None:
        connection = await self.connector.open(page.ip, page.port)
        try:
            connection.remaining = limit
            if page.scheme == "https":
                await connection.start_tls(RECORDING_TLS, page.name)
            await connection.send(request_bytes(page.ip, page.name, page.path))
            return parsed(await connection.receive(response_complete))
        finally:
            connection.close()


Pages = SameConnection | NewConnections


async def lead_here(service: Service, start: Page, first: Response, connection: Connection) -> None:
    """Where the first answer leads, over its connection if everything is there; else none of it now, and all of it
    in a follow-up with connections of its own."""
    here = Service(service.protocol, service.banner, list(service.items), bodies=list(service.bodies))
    try:
        await lead(here, start, first, SameConnection(connection, start, first))
    except (Elsewhere, OSError, EOFError):  # a page elsewhere, or the connection broke: start again from the first
        service.follow_ups.append(functools.partial(lead_elsewhere, service, start, first))
        return
    service.items, service.bodies = here.items, here.bodies


async def lead_elsewhere(service: Service, start: Page, first: Response, connector: Connector) -> None:
    await lead(service, start, first, NewConnections(connector))


async def lead(service: Service, start: Page, first: Response, pages: Pages) -> None:
    """The redirects of an HTTP(S) answer, then the favicon of the page reached."""
    page, response, seen = start, first, {start.url}
    for hop in range(MAX_REDIRECTS + 1):
        location = response.header("location") if response.status in REDIRECTS else None
        if not location:
            break
        target = target_of(page, location)
        if target is None:  # not an http(s) URL: recorded as it was sent
            service.items.append(Item("url", printable(location.encode(), MAX_URL_CHARS), "redirect"))
            break
        url, following = target
        service.items += redirect_items(start, url)
        if hop == MAX_REDIRECTS or following is None or following.url in seen or not pages.allows(following):
            break
        seen.add(following.url)
        answer = await pages.get(following, READ_CAP)
        if answer is None:
            return
        page, response = following, answer
    if page is not start and response.status not in REDIRECTS:
        reached(service, response)
    await find_favicon(service, pages, page, response)


def redirect_items(start: Page, url: str) -> list[Item]:
    """``url;redirect``, and ``host;redirect`` when the URL names another host than the one visited."""
    items = [Item("url", printable(url.encode(), MAX_URL_CHARS), "redirect")]
    host = (urlsplit(url).hostname or "").rstrip(".")
    if host and host != (start.name or start.ip).lower().rstrip("."):
        items.append(Item("host", printable(host.encode(), 256), "redirect"))
    return items


def reached(service: Service, response: Response) -> None:
    """The page the redirects led to: its title replaces the first answer's, its body is kept."""
    title = page_title(response.body.data, response.body.content_type)
    if title is not None:
        service.items = [item for item in service.items if item.type != "title" or item.context != ""]
        service.items.append(Item("title", title))
    if response.body.data:
        service.bodies.append(response.body)
        service.items.append(Item(BODY_SHA256, response.body.sha256, "redirect", True))


def icon_reference(body: bytes) -> str | None:
    """The ``href`` of the first ``<link>`` whose ``rel`` has the word ``icon``, if any."""
    for link in LINK.finditer(body):
        attributes = {key.lower(): b"".join(values) for key, *values in ATTRIBUTE.findall(link.group())}
        if b"icon" in attributes.get(b"rel", b"").lower().split() and attributes.get(b"href"):
            return html.unescape(attributes[b"href"].decode("utf-8", "replace"))
    return None


def data_uri(reference: str) -> tuple[bytes, str] | None:
    """(bytes, media type) of a ``data:`` URI, None if it is not one or does not decode."""
    if not reference.lower().startswith("data:") or "," not in reference:
        return None
    header, _, payload = reference[5:].partition(",")
    try:
        if header.lower().endswith(";base64"):
            return base64.b64decode(payload[: MAX_FAVICON_BYTES * 2], validate=False), header[:-7]
        return unquote_to_bytes(payload), header
    except (binascii.Error, ValueError):
        return None


def is_icon(response: Response) -> bool:
    """A whole 200 answer of at most MAX_FAVICON_BYTES that is not an HTML page (a "not found" page served as 200)."""
    body = response.body
    if response.status != 200 or not body.data or body.truncated or len(body.data) > MAX_FAVICON_BYTES:
        return False
    start = body.data[:64].lstrip().lower()
    return "html" not in body.content_type.lower() and not start.startswith((b"<!doctype html", b"<html"))


async def find_favicon(service: Service, pages: Pages, page: Page, response: Response) -> None:
    """The page's icon link, else ``/favicon.ico``; the first that gives an icon is recorded."""
    reference = icon_reference(response.body.data)
    inline = data_uri(reference) if reference else None
    if inline is not None and 0 < len(inline[0]) <= MAX_FAVICON_BYTES:
        icon = Body(*inline)
        service.items += favicon_items(icon, None)
        service.bodies.append(icon)
        return
    fetches = 0
    candidates = dict.fromkeys(reference for reference in (reference, "/favicon.ico") if reference)
    for candidate in candidates:
        target = target_of(page, candidate)
        following = target[1] if target else None
        for _ in range(MAX_REDIRECTS + 1):
            if following is None or fetches == MAX_FAVICON_FETCHES or not pages.allows(following):
                break
            fetches += 1
            answer = await pages.get(following, MAX_FAVICON_BYTES + HEAD_BYTES)
            if answer is None:
                break
            if is_icon(answer):
                service.items += favicon_items(answer.body, following.url)
                service.bodies.append(answer.body)
                return
            location = answer.header("location") if answer.status in REDIRECTS else None
            target = target_of(following, location) if location else None
            following = target[1] if target else None


def favicon_items(icon: Body, url: str | None) -> list[Item]:
    """The favicon's ``url`` (none for a ``data:`` URI), its digests and Shodan's hash (context ``favicon``),
    and the ``body-sha256`` naming its bytes."""
    data = icon.data
    items = [Item("url", printable(url.encode(), MAX_URL_CHARS), "favicon")] if url else []
    items += [
        Item("obj-md5", hashlib.md5(data, usedforsecurity=False).hexdigest(), "favicon"),
        Item("obj-sha1", hashlib.sha1(data, usedforsecurity=False).hexdigest(), "favicon"),
        Item("obj-sha256", icon.sha256, "favicon"),
        Item("obj-murmur3", str(favicon_mmh3(data)), "favicon"),
    ]
    return [*items, Item(BODY_SHA256, icon.sha256, "favicon", True)]


def favicon_report(site: Report) -> Report | None:
    """The ``favicons`` report of the favicon ``site`` (a protocols or domains report) fetched, or None when it
    fetched none (a ``data:`` URI is not fetched: it has no URL to be known by). It holds the favicon's URL
    (context "", metadata), the site's ``host``, ``ip`` and ``port-tcp``, and the favicon's hashes (context
    ``favicon``); its bytes stay with the site's report."""
    url = next((item.value for item in site.items if item.type == "url" and item.context == "favicon"), None)
    if url is None:
        return None
    target = [item for item in site.items if item.context == "" and item.type in ("host", "ip", "port-tcp")]
    hashes = [item for item in site.items if item.context == "favicon" and item.type.startswith("obj-")]
    return Report(site.date, (Item("url", url, "", True), *target, *hashes), dataset=FAVICONS)


def scheme_of(connection: Connection) -> str:
    return "http" if connection.tls is None else "https"


async def run(connection: Connection) -> Service | None:
    return await get(connection, Page(scheme_of(connection), connection.ip, connection.port))


async def visit(connection: Connection, name: str) -> Service | None:
    """HTTP by name (domain scans): ``Host:`` is ``name``."""
    return await get(connection, Page("http", connection.ip, connection.port, name))
