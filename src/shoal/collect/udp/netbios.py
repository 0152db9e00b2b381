"""NetBIOS name service: a node status request (NBSTAT, RFC 1002 §4.2.17) for the wildcard name ``*``; the
answer lists the node's names (its computer name, workgroup or domain, the services it runs, each by its
suffix) and the MAC address of its adapter."""

from __future__ import annotations

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query
from shoal.model import Item
from shoal.text import printable

NETBIOS_PORTS = frozenset({137})
NBSTAT, INTERNET = 0x21, 0x01
RESPONSE = 0x80
NAME_BYTES = 18  # 15 characters, the suffix, 2 bytes of flags
GROUP = 0x80
# What a name is by its suffix (and whether it is a group name): the context of its netbios-name item.
ROLES = {
    (0x00, False): "workstation",
    (0x00, True): "workgroup",
    (0x03, False): "messenger",
    (0x20, False): "file-server",
    (0x1B, False): "domain-master-browser",
    (0x1C, True): "domain-controllers",
    (0x1D, False): "master-browser",
    (0x1E, True): "browser-election",
    (0x01, True): "master-browser",
}


def encoded_name(name: bytes) -> bytes:
    """A NetBIOS name in the first-level encoding of RFC 1001 §14.1 (each half byte as a letter from A)."""
    padded = name.ljust(16, b"\x00")
    return b"\x20" + bytes(ord("A") + (byte >> shift & 0x0F) for byte in padded for shift in (4, 0)) + b"\x00"


def transaction(query: Query) -> bytes:
    return query.nonce[10:12]


def request(query: Query) -> bytes:
    header = transaction(query) + b"\x00\x00" + b"\x00\x01" + b"\x00\x00" * 3
    return header + encoded_name(b"*") + NBSTAT.to_bytes(2, "big") + INTERNET.to_bytes(2, "big")


def answer(data: bytes, query: Query) -> Service | None:
    if len(data) < 12 or data[:2] != transaction(query) or not data[2] & RESPONSE:
        return None
    position = 12
    if data[position : position + 1] == b"\x20":
        position += 34  # the encoded name, as asked
    elif data[position : position + 1] == b"\xc0":
        position += 2  # a pointer to it
    else:
        return None
    if data[position : position + 2] != NBSTAT.to_bytes(2, "big") or len(data) < position + 11:
        return None
    count = data[position + 10]
    names_at = position + 11
    if len(data) < names_at + count * NAME_BYTES:
        return None
    items = []
    for index in range(count):
        entry = data[names_at + index * NAME_BYTES : names_at + (index + 1) * NAME_BYTES]
        name, suffix, group = entry[:15].rstrip(b" \x00"), entry[15], bool(entry[16] & GROUP)
        role = ROLES.get((suffix, group), f"{suffix:02x}{' group' if group else ''}")
        items.append(Item("netbios-name", printable(name, 15), role))
    mac = data[names_at + count * NAME_BYTES : names_at + count * NAME_BYTES + 6]
    if len(mac) == 6:
        items.append(Item("mac-address", ":".join(f"{byte:02x}" for byte in mac), "netbios"))
    names = {item.context: item.value for item in reversed(items) if item.type == "netbios-name"}
    computer = names.get("workstation") or names.get("file-server")
    banner = f"NetBIOS name {computer or '?'}"
    if "workgroup" in names:
        banner += f", workgroup {names['workgroup']}"
    if computer:
        items.insert(0, Item("server-name", computer, "netbios-ns"))
    return Service("netbios-ns", banner, list(dict.fromkeys(items)))


PROBE = DatagramProbe("netbios-ns", NETBIOS_PORTS, request, answer)
