"""MQTT: a CONNECT (3.1.1, clean session, no credentials); the CONNACK's return code is the banner."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service

CLIENT_ID = b"shoal"
CONNECT = (
    bytes((0x10, 12 + len(CLIENT_ID)))  # CONNECT, remaining length
    + b"\x00\x04MQTT\x04\x02\x00\x3c"  # protocol name, level 4 (3.1.1), clean session, keep-alive 60 s
    + len(CLIENT_ID).to_bytes(2, "big")
    + CLIENT_ID
)
DISCONNECT = b"\xe0\x00"
CONNACK = 0x20


async def run(connection: Connection) -> Service | None:
    await connection.send(CONNECT)
    answer = await connection.receive(lambda data: len(data) >= 4)
    if len(answer) < 4 or answer[0] != CONNACK or answer[1] != 2:
        return None
    await connection.send(DISCONNECT)
    return Service("mqtt", f"MQTT Connection Code: {answer[3]}")
