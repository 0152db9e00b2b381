"""SMB: an SMB2 NEGOTIATE (dialects 2.0.2 to 3.1.1) over a NetBIOS session; the answer gives the dialect the
server chose, whether it signs (enabled or required), its GUID and capabilities. No session is set up:
no login. An SMB1 answer (a server that speaks nothing newer) is named too."""

from __future__ import annotations

import os

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item

DIALECTS = {0x0202: "2.0.2", 0x0210: "2.1", 0x0300: "3.0", 0x0302: "3.0.2", 0x0311: "3.1.1", 0x02FF: "2.???"}
CAPABILITIES = {
    0x01: "DFS",
    0x02: "LEASING",
    0x04: "LARGE_MTU",
    0x08: "MULTI_CHANNEL",
    0x10: "PERSISTENT_HANDLES",
    0x20: "DIRECTORY_LEASING",
    0x40: "ENCRYPTION",
}
SIGNING_ENABLED, SIGNING_REQUIRED = 0x01, 0x02
SMB2, SMB1 = b"\xfeSMB", b"\xffSMB"
NEGOTIATE = 0


def negotiate_request() -> bytes:
    """NEGOTIATE with the five dialects, signing enabled, and the two contexts 3.1.1 requires."""
    dialects = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311]
    header = SMB2 + (64).to_bytes(2, "little") + bytes(2) + bytes(4) + NEGOTIATE.to_bytes(2, "little")
    header += (1).to_bytes(2, "little") + bytes(4) + bytes(4) + bytes(8) + bytes(4) + bytes(4) + bytes(8) + bytes(16)
    dialect_bytes = b"".join(dialect.to_bytes(2, "little") for dialect in dialects)
    contexts_offset = 64 + 36 + len(dialect_bytes)
    padding = bytes(-contexts_offset % 8)
    contexts_offset += len(padding)
    preauth = (1).to_bytes(2, "little") + (32).to_bytes(2, "little") + (0x0001).to_bytes(2, "little") + os.urandom(32)
    encryption = (2).to_bytes(2, "little") + (0x0002).to_bytes(2, "little") + (0x0001).to_bytes(2, "little")
    contexts = b""
    for kind, data in ((1, preauth), (2, encryption)):
        contexts += bytes(-len(contexts) % 8)
        contexts += kind.to_bytes(2, "little") + len(data).to_bytes(2, "little") + bytes(4) + data
    body = (36).to_bytes(2, "little") + len(dialects).to_bytes(2, "little") + SIGNING_ENABLED.to_bytes(2, "little")
    body += bytes(2) + (0x7F).to_bytes(4, "little") + os.urandom(16)
    body += contexts_offset.to_bytes(4, "little") + (2).to_bytes(2, "little") + bytes(2)
    message = header + body + dialect_bytes + padding + contexts
    return len(message).to_bytes(4, "big") + message  # the NetBIOS session header: type 0, 24-bit length


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return len(answer) >= 8 and answer[0] == 0 and answer[4:8] in (SMB2, SMB1)


def message_complete(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[1:4], "big")


def negotiate_items(response: bytes) -> list[Item]:
    """The items of an SMB2 NEGOTIATE response (after the NetBIOS header); ValueError if it is not one."""
    if response[:4] != SMB2 or len(response) < 64 + 64:
        raise ValueError("not an SMB2 negotiate response")
    body = response[64:]
    security_mode = int.from_bytes(body[2:4], "little")
    dialect = int.from_bytes(body[4:6], "little")
    guid = body[8:24]
    capabilities = int.from_bytes(body[24:28], "little")
    signing = (
        "required" if security_mode & SIGNING_REQUIRED else "enabled" if security_mode & SIGNING_ENABLED else "disabled"
    )
    items = [
        Item("protocol-version", DIALECTS.get(dialect, f"0x{dialect:04x}"), "smb"),
        Item("signing", signing, "smb"),
        Item("guid", guid_text(guid), "smb"),
    ]
    return items + [Item("capability", name, "smb") for bit, name in CAPABILITIES.items() if capabilities & bit]


def guid_text(guid: bytes) -> str:
    """A GUID as Windows writes it (the first three fields little-endian)."""
    fields = (guid[3::-1], guid[5:3:-1], guid[7:5:-1], guid[8:10], guid[10:16])
    return "-".join(field.hex() for field in fields)


async def run(connection: Connection) -> Service | None:
    await connection.send(negotiate_request())
    answer = await connection.receive(message_complete)
    if not recognizes(answer, False):
        return None
    message = answer[4:]
    if message.startswith(SMB1):
        return Service("smb", "SMB1 negotiate response", [Item("protocol-version", "1", "smb")])
    try:
        items = negotiate_items(message)
    except (ValueError, IndexError):
        return None
    summary = ", ".join(f"{item.type} {item.value}" for item in items[:2])
    return Service("smb", f"SMB2 negotiate response: {summary}", items)
