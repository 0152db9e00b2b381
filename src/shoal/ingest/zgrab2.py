"""zgrab2 JSON Lines (``zgrab2 multiple`` or one module) as reports: one report per module that succeeded.

A line is ``{"ip", "domain"?, "port"?, "data": {NAME: {"status", "protocol", "port"?, "timestamp", "result"}}}``
(NAME is the module's name, or the section name of a ``multiple`` ini file; ``protocol`` says which module).
Each entry whose ``status`` is ``success`` becomes one report dated by its own ``timestamp`` (UTC day): in
``domains`` when the line names a ``domain`` (a visit by host name), else in ``protocols``. Other statuses
(connection refused, timeouts, …) are valid input with nothing to report: skipped, never rejected. The port is
the entry's ``port`` (zgrab2 ≥ 0.2), the line's, or the module's default port. docs/importers.md has the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shoal.certificates import base64_certificate_items, named_items
from shoal.ingest.jsonl import LineChunk
from shoal.ingest.records import (
    BadRecord,
    Record,
    checked_ip,
    checked_port,
    day_of,
    decode_json_lines,
    record_id,
    target_items,
    text_of,
)
from shoal.model import BODY_SHA256, DOMAINS, PROTOCOLS, Body, Item, Report, host_key
from shoal.text import page_title

FORMAT = "zgrab2"
DEFAULT_PORTS = {
    "http": 80,
    "tls": 443,
    "ssh": 22,
    "ftp": 21,
    "smtp": 25,
    "redis": 6379,
    "mqtt": 1883,
    "modbus": 502,
    "postgres": 5432,
    "mysql": 3306,
    "telnet": 23,
}
MAX_HEADERS = 100


def decode_zgrab2_chunk(chunk: LineChunk) -> list[Record]:
    return decode_json_lines(chunk, decode_line)


def decode_line(line: Any, raw: bytes, source: str, number: int) -> Iterator[Report]:
    if type(line) is not dict:
        raise BadRecord("a zgrab2 line must be a JSON object")
    data = line.get("data")
    if type(data) is not dict:
        raise BadRecord("a zgrab2 line needs a 'data' object (module name → result)")
    domain = line.get("domain")
    host = host_key(text_of(domain, 256)) if type(domain) is str and domain.strip() else None
    for name, entry in data.items():
        if type(entry) is not dict:
            raise BadRecord(f"'data.{name:.40}' must be a JSON object")
        if entry.get("status") != "success":
            continue
        ip = checked_ip(line.get("ip"))
        protocol = entry.get("protocol") if type(entry.get("protocol")) is str else name
        result = entry.get("result") if type(entry.get("result")) is dict else {}
        port = _port(entry, line, protocol, result, name)
        day = day_of(entry.get("timestamp"), f"data.{name}.timestamp")
        mapper = MAPPERS.get(protocol)
        if mapper is None:  # a module without its own mapping: its name and its banner, if it has one
            context, banner, items, bodies = protocol[:64], text_of(result.get("banner")).strip(), [], []
        else:
            context, banner, items, bodies = mapper(result)
        report_items = [*target_items(ip, port, host), Item("server-banner", banner, context), *items]
        for body in bodies:
            report_items.append(Item(BODY_SHA256, body.sha256, context, True))
        yield Report(
            date=day,
            items=tuple(report_items),
            id=record_id(FORMAT, raw, name),
            dataset=DOMAINS if host else PROTOCOLS,
            bodies=tuple(bodies),
        )


def _port(entry: dict[str, Any], line: dict[str, Any], protocol: str, result: dict[str, Any], name: str) -> int:
    for value in (entry.get("port"), line.get("port")):
        if value is not None:
            return checked_port(value, "port")
    if protocol == "http":
        url = _dig(result, "response", "request", "url")
        if type(url) is dict:
            host = url.get("host")
            if type(host) is str and host.rpartition(":")[2].isdigit() and "]" not in host.rpartition(":")[2]:
                return checked_port(host.rpartition(":")[2])
            if url.get("scheme") == "https":
                return 443
    if protocol in DEFAULT_PORTS:
        return DEFAULT_PORTS[protocol]
    raise BadRecord(f"'data.{name:.40}' has no 'port' and module {protocol!r:.40} has no default port")


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if type(value) is not dict:
            return None
        value = value.get(key)
    return value


Mapped = tuple[str, str, list[Item], list[Body]]  # (server-banner context, banner, items after it, bodies)


def _tls_items(log: Any) -> list[Item]:
    """The server certificate of a zgrab2 TLS log: from its DER (``raw``) when present, else its parsed fields."""
    certificate = _dig(log, "handshake_log", "server_certificates", "certificate")
    if type(certificate) is not dict:
        return []
    raw = certificate.get("raw")
    if type(raw) is str and raw and (decoded := base64_certificate_items(raw)) is not None:
        return decoded
    parsed = certificate.get("parsed")
    if type(parsed) is not dict:
        return []
    san = _dig(parsed, "extensions", "subject_alt_name") or {}
    return named_items(
        text_of(parsed.get("subject_dn")),
        text_of(parsed.get("issuer_dn")),
        [name for name in san.get("dns_names", []) if type(name) is str],
        [address for address in san.get("ip_addresses", []) if type(address) is str],
        parsed.get("fingerprint_sha256"),
    )


def _session_text(log: Any) -> str:
    hello = _dig(log, "handshake_log", "server_hello")
    if type(hello) is not dict:
        return ""
    version = _dig(hello, "version", "name")
    cipher = _dig(hello, "cipher_suite", "name")
    return " ".join(text for text in (version, cipher) if type(text) is str)


def _header_name(key: str) -> str:
    """zgrab2 prints header names lower-case with ``_`` for ``-`` (``content_type``): back to ``Content-Type``."""
    return "-".join(part[:1].upper() + part[1:] for part in key.replace("_", "-").split("-"))


def _headers(headers: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if type(headers) is not dict:
        return pairs
    for key, values in headers.items():
        if key == "unknown" and type(values) is list:
            for entry in values:
                if type(entry) is dict and type(entry.get("key")) is str:
                    pairs += [(_header_name(entry["key"]), value) for value in _strings(entry.get("value"))]
        else:
            pairs += [(_header_name(key), value) for value in _strings(values)]
    return pairs[:MAX_HEADERS]


def _strings(value: Any) -> list[str]:
    if type(value) is str:
        return [value]
    return [text for text in value if type(text) is str] if type(value) is list else []


def _http(result: dict[str, Any]) -> Mapped:
    response = result.get("response")
    if type(response) is not dict:
        raise BadRecord("an http result needs a 'response' object")
    request = response.get("request") if type(response.get("request")) is dict else {}
    url = request.get("url") if type(request.get("url")) is dict else {}
    tls_log = request.get("tls_log")
    scheme = "https" if url.get("scheme") == "https" or tls_log else "http"
    version = _dig(response, "protocol", "name")
    status = text_of(response.get("status_line"), 256)
    banner = f"{version} {status}".strip() if type(version) is str else status
    items: list[Item] = []
    content_type = ""
    for name, value in _headers(response.get("headers")):
        text = text_of(value)
        items.append(Item("http-header", text, name[:256]))
        if name == "Content-Type" and not content_type:
            content_type = text
    bodies: list[Body] = []
    body = response.get("body")
    if type(body) is str and body:
        data = body.encode("utf-8", "surrogateescape")
        bodies.append(Body.capped(data, content_type))
        title = page_title(data, content_type)
        if title is not None:
            items.append(Item("title", title))
    if type(url.get("host")) is str and url["host"]:
        path = url.get("path") if type(url.get("path")) is str else "/"
        items.append(Item("url", text_of(f"{scheme}://{url['host']}{path or '/'}", 2048)))
    items += _tls_items(tls_log)
    return scheme, banner, items, bodies


def _tls(result: dict[str, Any]) -> Mapped:
    return "tls", _session_text(result), _tls_items(result), []


def _ssh(result: dict[str, Any]) -> Mapped:
    banner = text_of(_dig(result, "server_id", "raw"), 256) or text_of(result.get("banner"), 256)
    items: list[Item] = []
    key = _dig(result, "key_exchange", "server_host_key")
    if type(key) is dict and type(key.get("fingerprint_sha256")) is str:
        algorithm = key.get("algorithm") if type(key.get("algorithm")) is str else ""
        items.append(Item("ssh-hostkey", text_of(key["fingerprint_sha256"], 128), algorithm[:64]))
    return "ssh", banner, items, []


def _banner_of(protocol: str) -> Any:
    def mapped(result: dict[str, Any]) -> Mapped:
        return protocol, text_of(result.get("banner")).strip(), _tls_items(result.get("tls")), []

    return mapped


def _redis(result: dict[str, Any]) -> Mapped:
    version = result.get("version")
    if type(version) is str and version:
        banner = f"redis_version:{text_of(version, 128)}"
    else:
        banner = next(
            (text_of(result[key]) for key in ("auth_response", "ping_response", "info_response") if result.get(key)),
            "",
        )
    return "redis", banner, [], []


def _mqtt(result: dict[str, Any]) -> Mapped:
    code = result.get("connect_return_code")
    banner = f"MQTT Connection Code: {code}" if type(code) is int else text_of(result.get("response"))
    return "mqtt", banner, _tls_items(result.get("tls")), []


def _modbus(result: dict[str, Any]) -> Mapped:
    unit = result.get("unit_id", 0)
    objects = _dig(result, "mei_response", "objects")
    if type(objects) is dict:
        fields = [objects.get(key) for key in ("vendor", "product_code", "revision")]
        device = " ".join(text_of(value, 512) for value in fields if type(value) is str)
        return "modbus", f"Unit ID: {unit}\nDevice: {device}", [], []
    exception = _dig(result, "exception_response", "exception_type")
    return "modbus", f"Unit ID: {unit}\nException: {exception}", [], []


def _postgres(result: dict[str, Any]) -> Mapped:
    banner = text_of(result.get("supported_versions")) or text_of(_dig(result, "protocol_error", "message"))
    return "postgres", banner, _tls_items(result.get("tls")), []


def _mysql(result: dict[str, Any]) -> Mapped:
    banner = text_of(result.get("server_version"), 256) or text_of(result.get("error_message"))
    return "mysql", banner, _tls_items(result.get("tls")), []


def _generic(result: dict[str, Any]) -> Mapped:
    return "generic", text_of(result.get("banner")).strip(), _tls_items(result.get("tls")), []


MAPPERS = {
    "http": _http,
    "tls": _tls,
    "ssh": _ssh,
    "banner": _generic,
    "ftp": _banner_of("ftp"),
    "smtp": _banner_of("smtp"),
    "telnet": _banner_of("telnet"),
    "redis": _redis,
    "mqtt": _mqtt,
    "modbus": _modbus,
    "postgres": _postgres,
    "mysql": _mysql,
}
