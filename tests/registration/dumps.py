"""Small registration dumps in their real formats, written the way the registries and route collectors write
them: RPSL objects (RFC 2622), a delegated-extended statistics file, MRT TABLE_DUMP_V2 records (RFC 6396)."""

from __future__ import annotations

import ipaddress
import struct

TABLE_DUMP_V2 = 13
PEER_INDEX_TABLE, RIB_IPV4_UNICAST, RIB_IPV6_UNICAST = 1, 2, 4
ORIGIN, AS_PATH = 1, 2
AS_SET, AS_SEQUENCE = 1, 2
TRANSITIVE = 0x40


def rpsl(*objects: str, header: bool = True) -> bytes:
    """Objects separated by blank lines, after the comment header a registry's split dump starts with."""
    preamble = "#\n# The contents of this file are subject to\n# the Database Terms and Conditions\n#\n\n"
    body = "\n".join(text.strip("\n") + "\n" for text in objects)
    return ((preamble if header else "") + body).encode()


ORGANISATION = """\
organisation:   ORG-EX1-TEST
org-name:       Example Networks B.V.
org-type:       LIR
address:        Somewhere 1
e-mail:         noc@mail.example.nl
mnt-by:         EXAMPLE-MNT
last-modified:  2026-03-01T10:00:00Z
source:         TEST
"""
INETNUM = """\
inetnum:        198.51.100.0 - 198.51.100.255
netname:        EXAMPLE-NET
descr:          Example Networks
                hosting # a continuation line, then a comment
country:        NL
org:            ORG-EX1-TEST
admin-c:        EX1-TEST
status:         ASSIGNED PA
last-modified:  2026-03-02T10:00:00Z
source:         TEST
"""
INETNUM_WIDE = """\
inetnum:        198.51.0.0 - 198.51.255.255
netname:        WIDE-BLOCK
descr:          Regional Allocation Holder
country:        NL
status:         ALLOCATED PA
last-modified:  2026-02-01T10:00:00Z
source:         TEST
"""
INET6NUM = """\
inet6num:       2001:db8:100::/48
netname:        EXAMPLE-V6
descr:          Example Six Hosting
abuse-mailbox:  abuse@six.example.com
country:        DE
last-modified:  2026-03-03T10:00:00Z
source:         TEST
"""
AUTNUM = """\
aut-num:        AS64500
as-name:        EXAMPLE-AS
descr:          Example Networks backbone
org:            ORG-EX1-TEST
last-modified:  2026-03-01T10:00:00Z
source:         TEST
"""
ROUTE = """\
route:          203.0.113.0/24
descr:          Documentation Routes Ltd
origin:         AS64501
last-modified:  2026-03-04T10:00:00Z
source:         TEST
"""
PERSON = """\
person:         Ex Ample
address:        Somewhere 1
nic-hdl:        EX1-TEST
source:         TEST
"""


def delegated(registry: str = "testnic", end: str = "20260305") -> bytes:
    lines = [
        "# delegated-extended statistics",
        f"2|{registry}|{end}|4|19930101|{end}|+0000",
        f"{registry}|*|asn|*|1|summary",
        f"{registry}|*|ipv4|*|2|summary",
        f"{registry}|*|ipv6|*|1|summary",
        f"{registry}|NL|asn|64500|1|20100101|allocated|holder-1",
        f"{registry}|NL|ipv4|192.0.2.0|256|20100101|allocated|holder-1",
        f"{registry}|US|ipv4|100.64.0.0|512|20110101|assigned|holder-9",
        f"{registry}|ZZ|ipv4|100.80.0.0|256||available|",
        f"{registry}|DE|ipv6|2001:db8:200::|48|20120101|allocated|holder-1",
    ]
    return ("\n".join(lines) + "\n").encode()


# -- MRT (RFC 6396) ----------------------------------------------------------------------------------------------


def mrt_record(timestamp: int, subtype: int, body: bytes) -> bytes:
    """Common header (section 2): timestamp, type, subtype, length; then the message."""
    return struct.pack(">IHHI", timestamp, TABLE_DUMP_V2, subtype, len(body)) + body


def peer_index_table(timestamp: int, collector: str, view: str, peers: list[tuple[str, int]]) -> bytes:
    """Section 4.3.1: collector BGP id, view name, then each peer (type 0x02: IPv4 address, 4-byte AS)."""
    body = ipaddress.IPv4Address(collector).packed + struct.pack(">H", len(view)) + view.encode()
    body += struct.pack(">H", len(peers))
    for address, asn in peers:
        body += bytes([0x02]) + ipaddress.IPv4Address(address).packed + ipaddress.IPv4Address(address).packed
        body += struct.pack(">I", asn)
    return mrt_record(timestamp, PEER_INDEX_TABLE, body)


def attribute(code: int, value: bytes) -> bytes:
    return bytes([TRANSITIVE, code, len(value)]) + value


def as_path(*segments: tuple[int, list[int]]) -> bytes:
    """An AS_PATH of 4-byte AS numbers (section 4.3.4: always 4 bytes in TABLE_DUMP_V2)."""
    value = b"".join(
        bytes([kind, len(asns)]) + b"".join(struct.pack(">I", asn) for asn in asns) for kind, asns in segments
    )
    return attribute(AS_PATH, value)


def rib(timestamp: int, sequence: int, prefix: str, paths: list[bytes], *, attributes: bytes | None = None) -> bytes:
    """Section 4.3.2: a RIB_IPV4_UNICAST / RIB_IPV6_UNICAST record with one entry per peer (its AS_PATH)."""
    network = ipaddress.ip_network(prefix)
    length = network.prefixlen
    body = struct.pack(">IB", sequence, length) + network.network_address.packed[: (length + 7) // 8]
    body += struct.pack(">H", len(paths))
    for peer, path in enumerate(paths):
        encoded = attribute(ORIGIN, b"\x00") + path if attributes is None else attributes
        body += struct.pack(">HIH", peer, timestamp, len(encoded)) + encoded
    return mrt_record(timestamp, RIB_IPV4_UNICAST if network.version == 4 else RIB_IPV6_UNICAST, body)


MRT_TIME = 1_772_700_000  # 2026-03-05 08:40 UTC


def rib_dump(collector: str = "192.0.2.250", timestamp: int = MRT_TIME) -> bytes:
    """Two peers; 203.0.113.0/24 from AS64501 (a more specific /25 from AS64502); 198.51.100.0/24 and an IPv6
    prefix from AS64500."""
    peers = [("192.0.2.1", 64496), ("192.0.2.2", 64497)]
    return b"".join(
        [
            peer_index_table(timestamp, collector, "", peers),
            rib(
                timestamp,
                0,
                "203.0.113.0/24",
                [as_path((AS_SEQUENCE, [64496, 64501])), as_path((AS_SEQUENCE, [64497, 64501]))],
            ),
            rib(timestamp, 1, "203.0.113.128/25", [as_path((AS_SEQUENCE, [64496, 64502]))]),
            rib(timestamp, 2, "2001:db8:100::/40", [as_path((AS_SEQUENCE, [64497, 64500]))]),
            rib(timestamp, 3, "198.51.100.0/24", [as_path((AS_SEQUENCE, [64496, 64499, 64500]))]),
        ]
    )
