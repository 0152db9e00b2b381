"""IPP (CUPS and network printers): a Get-Printer-Attributes request posted over HTTP; the answer's IPP version
and status, the printer's make and model, name and state, beside the HTTP headers (CUPS names itself in
``Server``)."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import web
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

GET_PRINTER_ATTRIBUTES = 0x000B
OPERATION_ATTRIBUTES, END_OF_ATTRIBUTES = 0x01, 0x03
STATUS_NAMES = {
    0x0000: "successful-ok",
    0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated",
    0x0406: "client-error-not-found",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
}
WANTED = ("printer-make-and-model", "printer-name", "printer-info", "ipp-versions-supported", "cups-version")
ITEM_TYPES = {"printer-make-and-model": "product", "printer-name": "server-name", "cups-version": "version"}


def attribute(tag: int, name: str, value: str) -> bytes:
    return bytes((tag,)) + len(name).to_bytes(2, "big") + name.encode() + len(value).to_bytes(2, "big") + value.encode()


def request_body(ip: str, port: int) -> bytes:
    host = f"[{ip}]" if ":" in ip else ip
    body = (
        bytes((2, 0))
        + GET_PRINTER_ATTRIBUTES.to_bytes(2, "big")
        + (1).to_bytes(4, "big")
        + bytes((OPERATION_ATTRIBUTES,))
    )
    body += attribute(0x47, "attributes-charset", "utf-8") + attribute(0x48, "attributes-natural-language", "en")
    body += attribute(0x45, "printer-uri", f"ipp://{host}:{port}/")
    body += attribute(0x44, "requested-attributes", WANTED[0])
    body += b"".join(attribute(0x44, "", name) for name in WANTED[1:])
    return body + bytes((END_OF_ATTRIBUTES,))


def recognizes(answer: bytes, usual_port: bool) -> bool:
    head, _ = web.answer_of(answer)
    return b" ipp/" in head or b"application/ipp" in head


def ipp_attributes(body: bytes) -> tuple[str, int, dict[str, list[str]]]:
    """(version, status, attributes) of an IPP response; ValueError if it is not one."""
    if len(body) < 9 or body[0] not in (1, 2):
        raise ValueError("not an IPP response")
    version, status = f"{body[0]}.{body[1]}", int.from_bytes(body[2:4], "big")
    attributes: dict[str, list[str]] = {}
    position, name = 8, ""
    while position < len(body) and body[position] != END_OF_ATTRIBUTES:
        tag = body[position]
        if tag < 0x10:  # a group delimiter
            position += 1
            continue
        name_length = int.from_bytes(body[position + 1 : position + 3], "big")
        name = body[position + 3 : position + 3 + name_length].decode("utf-8", "replace") or name
        position += 3 + name_length
        value_length = int.from_bytes(body[position : position + 2], "big")
        value = body[position + 2 : position + 2 + value_length]
        position += 2 + value_length
        if tag >= 0x40 and len(attributes.get(name, [])) < 16:
            attributes.setdefault(name, []).append(printable(value, 256))
    return version, status, attributes


async def run(connection: Connection) -> Service | None:
    body = request_body(connection.ip, connection.port)
    service = await web.fetch(connection, "POST", "/", {"Content-Type": "application/ipp"}, body)
    if service is None:
        return None
    try:
        version, status, attributes = ipp_attributes(service.bodies[0].data if service.bodies else b"")
    except (ValueError, IndexError):  # refused before IPP (CUPS takes only "localhost" from a local peer)
        server = web.header(service, "server") or ""
        return web.named(service, "ipp", f"IPP: {service.banner}") if " IPP/" in f" {server}" else None
    items = [Item("protocol-version", version, "ipp")]
    for name, item_type in ITEM_TYPES.items():
        items += [Item(item_type, value, "ipp") for value in attributes.get(name, [])]
    items += [Item("protocol-version", value, "ipp") for value in attributes.get("ipp-versions-supported", [])]
    status_text = STATUS_NAMES.get(status, f"0x{status:04x}")
    return web.named(service, "ipp", f"IPP/{version} {status_text}", items)
