"""The little of ASN.1 BER that LDAP's probe needs: definite lengths, building and walking TLVs."""

from __future__ import annotations

from collections.abc import Iterator

SEQUENCE, SET, OCTET_STRING, INTEGER, ENUMERATED, BOOLEAN = 0x30, 0x31, 0x04, 0x02, 0x0A, 0x01


def tlv(tag: int, value: bytes) -> bytes:
    length = len(value)
    if length < 0x80:
        return bytes((tag, length)) + value
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + value


def integer(value: int, tag: int = INTEGER) -> bytes:
    return tlv(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def octets(value: bytes | str, tag: int = OCTET_STRING) -> bytes:
    return tlv(tag, value.encode() if isinstance(value, str) else value)


def header(data: bytes, position: int = 0) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the TLV at ``position``; ValueError if it is cut short."""
    if position + 2 > len(data):
        raise ValueError("a BER element is cut short")
    tag, first = data[position], data[position + 1]
    start = position + 2
    if first < 0x80:
        length = first
    else:
        size = first & 0x7F
        if size == 0 or size > 4 or start + size > len(data):
            raise ValueError("a BER length is malformed")
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    if start + length > len(data):
        raise ValueError("a BER element is cut short")
    return tag, start, start + length


def elements(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(tag, value) of each TLV between start and end."""
    end = len(data) if end is None else end
    while start < end:
        tag, value_start, value_end = header(data, start)
        yield tag, data[value_start:value_end]
        start = value_end


def complete(data: bytes) -> bool:
    """The first TLV in ``data`` has arrived whole."""
    try:
        header(data)
    except ValueError:
        return False
    return True
