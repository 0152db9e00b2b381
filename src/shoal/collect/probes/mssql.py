"""Microsoft SQL Server (TDS): a PRELOGIN packet; the server's PRELOGIN answer gives its version (15.0.2000 is
SQL Server 2019) and whether it encrypts (off, on, required). No login packet is sent."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item

PRELOGIN, RESPONSE = 0x12, 0x04
VERSION, ENCRYPTION, INSTANCE, THREAD_ID, MARS, TERMINATOR = 0, 1, 2, 3, 4, 0xFF
ENCRYPTION_MODES = {0: "off", 1: "on", 2: "not supported", 3: "required"}
NAMES = {  # major version → product
    8: "SQL Server 2000",
    9: "SQL Server 2005",
    10: "SQL Server 2008",
    11: "SQL Server 2012",
    12: "SQL Server 2014",
    13: "SQL Server 2016",
    14: "SQL Server 2017",
    15: "SQL Server 2019",
    16: "SQL Server 2022",
}


def prelogin_request() -> bytes:
    """VERSION (ours: 0), ENCRYPTION (off), INSTOPT (empty name), THREADID, MARS (off)."""
    options = [(VERSION, bytes(6)), (ENCRYPTION, b"\x00"), (INSTANCE, b"\x00"), (THREAD_ID, bytes(4)), (MARS, b"\x00")]
    offset = 5 * len(options) + 1
    table, data = b"", b""
    for token, value in options:
        table += bytes((token,)) + (offset + len(data)).to_bytes(2, "big") + len(value).to_bytes(2, "big")
        data += value
    payload = table + bytes((TERMINATOR,)) + data
    return bytes((PRELOGIN, 1)) + (8 + len(payload)).to_bytes(2, "big") + bytes(4) + payload


REQUEST = prelogin_request()


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return len(answer) >= 8 and answer[0] == RESPONSE and answer[1] in (0, 1)


def packet_complete(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= int.from_bytes(data[2:4], "big")


def prelogin_options(packet: bytes) -> dict[int, bytes]:
    """The PRELOGIN options of a response packet; ValueError if it is not one."""
    if not recognizes(packet, False):
        raise ValueError("not a TDS response")
    payload = packet[8 : int.from_bytes(packet[2:4], "big")]
    options: dict[int, bytes] = {}
    position = 0
    while position < len(payload) and payload[position] != TERMINATOR:
        token = payload[position]
        offset = int.from_bytes(payload[position + 1 : position + 3], "big")
        length = int.from_bytes(payload[position + 3 : position + 5], "big")
        if offset + length > len(payload):
            raise ValueError("a PRELOGIN option points outside the packet")
        options[token] = payload[offset : offset + length]
        position += 5
    if VERSION not in options or len(options[VERSION]) < 6:
        raise ValueError("a PRELOGIN response without a version")
    return options


def prelogin_service(packet: bytes) -> Service:
    options = prelogin_options(packet)
    raw = options[VERSION]
    version = f"{raw[0]}.{raw[1]}.{int.from_bytes(raw[2:4], 'big')}"
    items = [Item("version", version, "mssql")]
    if raw[0] in NAMES:
        items.append(Item("product", NAMES[raw[0]], "mssql"))
    encryption = options.get(ENCRYPTION, b"")
    if encryption:
        items.append(Item("capability", f"encryption {ENCRYPTION_MODES.get(encryption[0], encryption[0])}", "mssql"))
    return Service("mssql", f"TDS prelogin: version {version}", items)


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    try:
        return prelogin_service(await connection.receive(packet_complete))
    except (ValueError, IndexError):
        return None
