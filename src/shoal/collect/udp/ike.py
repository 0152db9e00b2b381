"""IKE (IPsec key exchange): an IKEv2 ``IKE_SA_INIT`` request and an IKEv1 Main Mode proposal, both offering
common algorithms, sent together on port 500; on 4500 (and any port but 500, where IKE daemons expect NAT
traversal's framing) the IKEv2 request after a non-ESP marker. Any answer naming our SPI (cookie) names the
service, even a refusal (``NO_PROPOSAL_CHOSEN``, ``INVALID_KE_PAYLOAD``): its version, the transforms the
responder chose, its notifications and its vendor ids (``strongSwan``, ``Cisco Unity``, RFC 3947 NAT-T…)."""

from __future__ import annotations

import hashlib
import struct

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import Conversation, DatagramProbe, Query
from shoal.model import Item

IKE_PORTS = frozenset({500})
NAT_T_PORTS = frozenset({4500})
NON_ESP_MARKER = bytes(4)  # before an IKE message on any port but 500 (NAT traversal, RFC 3948)
HEADER = 28
IKE_SA_INIT, MAIN_MODE, INFORMATIONAL_V1 = 34, 2, 5
# Payload types, IKEv2 (RFC 7296) and IKEv1 (RFC 2408).
SA_V2, KE_V2, NONCE_V2, NOTIFY_V2, VENDOR_V2 = 33, 34, 40, 41, 43
SA_V1, PROPOSAL_V1, TRANSFORM_V1, NOTIFY_V1, VENDOR_V1 = 1, 2, 3, 11, 13
MODP_2048 = 14
RESPONSE_FLAG = 0x20  # IKEv2 header flags
MAX_PAYLOADS = 32
NOTIFY_NAMES = {
    1: "UNSUPPORTED_CRITICAL_PAYLOAD",
    4: "INVALID_IKE_SPI",
    5: "INVALID_MAJOR_VERSION",
    7: "INVALID_SYNTAX",
    14: "NO_PROPOSAL_CHOSEN",
    17: "INVALID_KE_PAYLOAD",
    24: "AUTHENTICATION_FAILED",
    16388: "NAT_DETECTION_SOURCE_IP",
    16389: "NAT_DETECTION_DESTINATION_IP",
    16390: "COOKIE",
    16404: "MULTIPLE_AUTH_SUPPORTED",
    16418: "CHILDLESS_IKEV2_SUPPORTED",
    16430: "IKEV2_FRAGMENTATION_SUPPORTED",
    16431: "SIGNATURE_HASH_ALGORITHMS",
    16441: "INTERMEDIATE_EXCHANGE_SUPPORTED",
}
# Vendor ids: what their bytes are commonly known to stand for (a prefix of the payload's data).
VENDOR_IDS = {
    hashlib.md5(b"strongSwan").hexdigest(): "strongSwan",
    "12f5f28c457168a9702d9fe274cc": "Cisco Unity",
    "afcad71368a1f1c96b8696fc77570100": "Dead Peer Detection v1.0",
    "4a131c81070358455c5728f20e95452f": "RFC 3947 NAT-T",
    "90cb80913ebb696e086381b5ec427b1f": "draft-ietf-ipsec-nat-t-ike-02",
    "09002689dfd6b712": "XAUTH",
    "1e2b516905991c7d7c96fcbfb587e461": "MS NT5 ISAKMPOAKLEY",
    "4048b7d56ebce88525e7de7f00d6c2d3": "IKE fragmentation",
    "4865617274426561745f4e6f74696679": "Heartbeat Notify",
    "cb91e5cfa45f5ee6e71c81a2e5d99ae6": "Fortinet",
    "f4ed19e0c114eb516faaac0ee37daf28": "Juniper",
}
ENCRYPTION = {3: "3DES", 12: "AES_CBC", 20: "AES_GCM_16"}
PRF = {2: "PRF_HMAC_SHA1", 5: "PRF_HMAC_SHA2_256", 7: "PRF_HMAC_SHA2_512"}
INTEGRITY = {2: "HMAC_SHA1_96", 12: "HMAC_SHA2_256_128", 14: "HMAC_SHA2_512_256"}
GROUPS = {2: "MODP_1024", 5: "MODP_1536", 14: "MODP_2048", 19: "ECP_256"}
TRANSFORM_NAMES = {1: ENCRYPTION, 2: PRF, 3: INTEGRITY, 4: GROUPS}
KEY_LENGTH = 14  # the IKEv2 transform attribute (and IKEv1 SA attribute) holding a key size in bits
V1_ATTRIBUTES = {1: ("encryption", {1: "DES", 5: "3DES", 7: "AES"}), 2: ("hash", {1: "MD5", 2: "SHA1", 4: "SHA2_256"})}
V1_ATTRIBUTES |= {
    3: ("auth", {1: "PSK", 3: "RSA_SIG"}),
    4: ("group", {2: "MODP_1024", 5: "MODP_1536", 14: "MODP_2048"}),
}
# IKEv1 transforms offered: (encryption, key bits, hash, authentication, group), most wanted first.
V1_OFFERS = (
    (7, 256, 2, 1, 14),
    (7, 128, 2, 1, 2),
    (5, 0, 2, 1, 2),
    (5, 0, 1, 1, 2),
    (7, 256, 4, 1, 14),
    (7, 256, 4, 3, 14),
)


def payload(next_type: int, body: bytes) -> bytes:
    return struct.pack(">BBH", next_type, 0, 4 + len(body)) + body


def header(spi: bytes, first: int, version: int, exchange: int, flags: int, body: bytes) -> bytes:
    return spi + bytes(8) + struct.pack(">BBBBII", first, version, exchange, flags, 0, HEADER + len(body)) + body


def v2_transform(last: bool, kind: int, ident: int, key_bits: int = 0) -> bytes:
    attribute = struct.pack(">HH", 0x8000 | KEY_LENGTH, key_bits) if key_bits else b""
    return struct.pack(">BBHBBH", 0 if last else 3, 0, 8 + len(attribute), kind, 0, ident) + attribute


def v2_request(query: Query) -> bytes:
    offers = [(1, 12, 256), (1, 12, 128), (1, 3, 0), (2, 5, 0), (2, 2, 0), (3, 12, 0), (3, 2, 0), (4, MODP_2048, 0)]
    transforms = b"".join(v2_transform(i == len(offers) - 1, *offer) for i, offer in enumerate(offers))
    proposal = struct.pack(">BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, len(offers)) + transforms
    key_data = hashlib.shake_256(query.nonce).digest(256)
    body = payload(KE_V2, proposal)
    body += payload(NONCE_V2, struct.pack(">HH", MODP_2048, 0) + key_data)
    body += payload(0, hashlib.sha256(query.nonce).digest())
    return header(query.nonce[:8], SA_V2, 0x20, IKE_SA_INIT, 0x08, body)


def v1_transform(number: int, last: bool, offer: tuple[int, int, int, int, int]) -> bytes:
    encryption, key_bits, digest, auth, group = offer
    attributes = struct.pack(">HH", 0x8001, encryption) + (
        struct.pack(">HH", 0x8000 | KEY_LENGTH, key_bits) if key_bits else b""
    )
    attributes += struct.pack(">HHHHHH", 0x8002, digest, 0x8003, auth, 0x8004, group)
    attributes += struct.pack(">HHHHI", 0x800B, 1, 0x000C, 4, 28800)  # life: 28,800 seconds
    return payload(0 if last else TRANSFORM_V1, struct.pack(">BBH", number, 1, 0) + attributes)


def v1_request(query: Query) -> bytes:
    transforms = b"".join(v1_transform(i + 1, i == len(V1_OFFERS) - 1, offer) for i, offer in enumerate(V1_OFFERS))
    proposal = payload(0, struct.pack(">BBBB", 1, 1, 0, len(V1_OFFERS)) + transforms)
    sa = payload(0, struct.pack(">II", 1, 1) + proposal)  # DOI IPsec, situation identity only
    return header(query.nonce[8:16], SA_V1, 0x10, MAIN_MODE, 0, sa)


def payloads(data: bytes, first: int) -> list[tuple[int, bytes]]:
    """(type, body) of the payload chain after the header."""
    found = []
    kind, position = first, HEADER
    while kind and position + 4 <= len(data) and len(found) < MAX_PAYLOADS:
        following, size = data[position], int.from_bytes(data[position + 2 : position + 4], "big")
        if size < 4 or position + size > len(data):
            break
        found.append((kind, data[position + 4 : position + size]))
        kind, position = following, position + size
    return found


def vendor_items(body: bytes) -> list[Item]:
    items = [Item("ike-vendor-id", body.hex())]
    name = next((name for prefix, name in VENDOR_IDS.items() if body.hex().startswith(prefix)), None)
    return [*items, Item("product", name, "ike")] if name else items


def v2_transforms(body: bytes) -> list[str]:
    """The chosen transforms of an IKEv2 SA payload (its first proposal)."""
    chosen, position = [], 8
    while position + 8 <= len(body):
        size, kind, ident = (
            int.from_bytes(body[position + 2 : position + 4], "big"),
            body[position + 4],
            int.from_bytes(body[position + 6 : position + 8], "big"),
        )
        if size < 8:
            break
        name = TRANSFORM_NAMES.get(kind, {}).get(ident, f"{kind}:{ident}")
        if size >= 12 and int.from_bytes(body[position + 8 : position + 10], "big") == 0x8000 | KEY_LENGTH:
            name += f"_{int.from_bytes(body[position + 10 : position + 12], 'big')}"
        chosen.append(name)
        position += size
    return chosen


def v1_transform_text(body: bytes) -> str:
    """The transform an IKEv1 responder chose (SA → proposal → transform attributes): ``AES_256/SHA1/PSK/MODP_2048``."""
    proposal = body[8:]  # after the DOI and the situation
    transform = proposal[8 + proposal[6] :] if len(proposal) >= 8 else b""  # after its header and its SPI
    attributes, values, position = transform[8:], {}, 0
    while position + 4 <= len(attributes):
        kind, value = (
            int.from_bytes(attributes[position : position + 2], "big"),
            int.from_bytes(attributes[position + 2 : position + 4], "big"),
        )
        if not kind & 0x8000:
            position += 4 + value
            continue
        values[kind & 0x7FFF] = value
        position += 4
    parts = [names.get(values[code], str(values[code])) for code, (_, names) in V1_ATTRIBUTES.items() if code in values]
    if KEY_LENGTH in values and parts:
        parts[0] += f"_{values[KEY_LENGTH]}"
    return "/".join(parts)


def parsed(data: bytes, spi: bytes) -> Service | None:
    if len(data) < HEADER or data[:8] != spi:
        return None
    major, exchange = data[17] >> 4, data[18]
    if major == 2 and not data[19] & RESPONSE_FLAG:
        return None  # a request (our own, echoed)
    if major == 1 and not any(data[8:16]) and exchange != INFORMATIONAL_V1:
        return None  # no responder cookie: not an answer to Main Mode
    if major not in (1, 2):
        return None
    items = [Item("protocol-version", f"{major}.{data[17] & 0x0F}", "ike")]
    notes: list[str] = []
    for kind, body in payloads(data, data[16]):
        if kind in (VENDOR_V2, VENDOR_V1):
            items += vendor_items(body)
        elif kind == NOTIFY_V2 and major == 2 and len(body) >= 4:
            notes.append(NOTIFY_NAMES.get(int.from_bytes(body[2:4], "big"), str(int.from_bytes(body[2:4], "big"))))
        elif kind == NOTIFY_V1 and major == 1 and len(body) >= 10:
            notes.append(NOTIFY_NAMES.get(int.from_bytes(body[6:8], "big"), str(int.from_bytes(body[6:8], "big"))))
        elif kind == SA_V2 and major == 2:
            items += [Item("ike-transform", name) for name in v2_transforms(body)]
        elif kind == SA_V1 and major == 1 and (chosen := v1_transform_text(body)):
            items.append(Item("ike-transform", chosen))
    items += [Item("ike-notify", note) for note in dict.fromkeys(notes)]
    transforms = [item.value for item in items if item.type == "ike-transform"]
    said = "/".join(transforms) or ", ".join(notes[:3]) or f"exchange {exchange}"
    return Service("ike", f"IKEv{major} {said}", list(dict.fromkeys(items)))


def v2_answer(data: bytes, query: Query) -> Service | None:
    return parsed(data, query.nonce[:8])


def v1_answer(data: bytes, query: Query) -> Service | None:
    return parsed(data, query.nonce[8:16])


async def follow_up(conversation: Conversation, query: Query, service: Service) -> None:
    """The answer to the other version's request, sent beside it on port 500: a responder that speaks both says so."""
    for other in await conversation.more(lambda data: v2_answer(data, query) or v1_answer(data, query)):
        service.items += [item for item in other.items if item not in service.items]


def nat_t_request(query: Query) -> bytes:
    return NON_ESP_MARKER + v2_request(query)


def nat_t_answer(data: bytes, query: Query) -> Service | None:
    return v2_answer(data[4:], query) if data.startswith(NON_ESP_MARKER) else None


PROBE = DatagramProbe("ike", IKE_PORTS, v2_request, v2_answer, follow_up)
PROBE_V1 = DatagramProbe("ike", IKE_PORTS, v1_request, v1_answer, follow_up, elsewhere=False)
PROBE_NAT_T = DatagramProbe("ike", NAT_T_PORTS, nat_t_request, nat_t_answer)
