"""VNC (RFB): the server's version line, echoed back, then the security types it offers (or the reason it
refuses). No type is chosen: no login."""

from __future__ import annotations

import re

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

VERSION = re.compile(rb"^RFB (\d{3})\.(\d{3})\n")
SECURITY_TYPES = {
    0: "Invalid",
    1: "None",
    2: "VNC Authentication",
    5: "RA2",
    6: "RA2ne",
    16: "Tight",
    17: "Ultra",
    18: "TLS",
    19: "VeNCrypt",
    20: "GTK-VNC SASL",
    21: "MD5 hash",
    22: "Colin Dean xvp",
    30: "Apple Remote Desktop",
    113: "MSLogonII",
}


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return VERSION.match(banner) is not None


def security_complete(data: bytes) -> bool:
    """RFB 3.7+: a count and that many types; a count of 0 is followed by a reason (length, text)."""
    if not data:
        return False
    if data[0] == 0:
        return len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[1:5], "big")
    return len(data) >= 1 + data[0]


def security_items(major: int, minor: int, answer: bytes) -> tuple[list[Item], str | None]:
    """``auth-method;vnc`` per security type offered, and the refusal's reason, if any."""
    if (major, minor) < (3, 7):  # RFB 3.3: the server picks one type, a 32-bit number (0: a reason follows)
        if len(answer) < 4:
            return [], None
        chosen = int.from_bytes(answer[:4], "big")
        reason = printable(answer[8:], 512) if chosen == 0 else None
        return ([] if chosen == 0 else [type_item(chosen)]), reason
    if not answer:
        return [], None
    if answer[0] == 0:
        return [], printable(answer[5 : 5 + int.from_bytes(answer[1:5], "big")], 512)
    return [type_item(number) for number in answer[1 : 1 + answer[0]]], None


def type_item(number: int) -> Item:
    return Item("auth-method", SECURITY_TYPES.get(number, f"type {number}"), "vnc")


async def converse(connection: Connection, banner: bytes) -> Service | None:
    match = VERSION.match(banner)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    await connection.send(match.group(0))  # the same version back: the server then lists its security types
    answer = banner[12:] or await connection.receive(security_complete)
    items, reason = security_items(major, minor, answer)
    items.insert(0, Item("protocol-version", f"{major}.{minor}", "vnc"))
    text = printable(match.group(0).strip())
    return Service("vnc", f"{text}\nRefused: {reason}" if reason else text, items)
