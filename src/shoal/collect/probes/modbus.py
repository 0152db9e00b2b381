"""Modbus/TCP: Read Device Identification (function 43/14, basic objects) to unit 0; vendor, product and
revision are the banner (``Unit ID: 0\\nDevice: Vendor Product v1.0``), or the exception code."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.text import printable

UNIT = 0
TRANSACTION = b"\x13\x37"
# MBAP header (transaction, protocol 0, length 5, unit) then the PDU: 0x2b/0x0e, basic identification, object 0
REQUEST = TRANSACTION + b"\x00\x00\x00\x05" + bytes((UNIT,)) + b"\x2b\x0e\x01\x00"
DEVICE_ID, DEVICE_ID_EXCEPTION = 0x2B, 0xAB
HEADER = 7


def frame_complete(data: bytes) -> bool:
    return len(data) >= 6 and len(data) >= 6 + int.from_bytes(data[4:6], "big")


def device_objects(pdu: bytes) -> list[bytes]:
    """The object values of a Read Device Identification answer (after function, MEI type and 4 fields)."""
    count, position, values = pdu[6], 7, []
    for _ in range(count):
        length = pdu[position + 1]
        values.append(pdu[position + 2 : position + 2 + length])
        position += 2 + length
    return values


def banner_of(frame: bytes) -> str | None:
    if len(frame) < HEADER + 2 or frame[:2] != TRANSACTION or frame[2:4] != b"\x00\x00":
        return None
    pdu = frame[HEADER:]
    if pdu[0] == DEVICE_ID_EXCEPTION:
        return f"Unit ID: {frame[6]}\nException: {pdu[1]}"
    if pdu[0] != DEVICE_ID or len(pdu) < 7:
        return None
    device = b" ".join(value for value in device_objects(pdu) if value)
    return f"Unit ID: {frame[6]}\nDevice: {printable(device, 512)}"


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    try:
        banner = banner_of(await connection.receive(frame_complete))
    except IndexError:  # a frame shorter than the objects it announces
        return None
    return None if banner is None else Service("modbus", banner)
