"""RDP: an X.224 Connection Request offering TLS and CredSSP (NLA); the Connection Confirm says which the server
chose (or why it refuses, e.g. that it requires NLA), and its flags. A server that chose TLS or CredSSP then
shows its certificate in the TLS handshake that follows. No credentials are ever sent."""

from __future__ import annotations

import contextlib

from shoal.collect.connection import Connection
from shoal.collect.probes import tls
from shoal.collect.probes.base import Service
from shoal.model import Item

PROTOCOL_RDP, PROTOCOL_SSL, PROTOCOL_HYBRID, PROTOCOL_RDSTLS, PROTOCOL_HYBRID_EX = 0, 1, 2, 4, 8
PROTOCOLS = {
    PROTOCOL_RDP: "standard RDP security",
    PROTOCOL_SSL: "TLS",
    PROTOCOL_HYBRID: "CredSSP (NLA)",
    PROTOCOL_RDSTLS: "RDSTLS",
    PROTOCOL_HYBRID_EX: "CredSSP with early user authorization (NLA)",
}
FAILURES = {
    1: "SSL_REQUIRED_BY_SERVER",
    2: "SSL_NOT_ALLOWED_BY_SERVER",
    3: "SSL_CERT_NOT_ON_SERVER",
    4: "INCONSISTENT_FLAGS",
    5: "HYBRID_REQUIRED_BY_SERVER",
    6: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
}
FLAGS = {
    0x01: "EXTENDED_CLIENT_DATA_SUPPORTED",
    0x02: "DYNVC_GFX_PROTOCOL_SUPPORTED",
    0x08: "RESTRICTED_ADMIN_MODE_SUPPORTED",
    0x10: "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED",
}
NEGOTIATION_RESPONSE, NEGOTIATION_FAILURE = 2, 3
CONNECTION_CONFIRM = 0xD0
REQUESTED = PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX
# TPKT (version 3, length) + X.224 Connection Request + RDP_NEG_REQ (type 1, flags 0, length 8, protocols)
NEGOTIATION = bytes((1, 0, 8, 0)) + REQUESTED.to_bytes(4, "little")
X224 = bytes((6 + len(NEGOTIATION), 0xE0, 0, 0, 0, 0, 0)) + NEGOTIATION
REQUEST = bytes((3, 0)) + (4 + len(X224)).to_bytes(2, "big") + X224


def recognizes(answer: bytes, usual_port: bool) -> bool:
    """A TPKT frame (version 3) carrying an X.224 TPDU: what an RDP server answers any other bytes with."""
    return len(answer) >= 7 and answer[:2] == b"\x03\x00" and int.from_bytes(answer[2:4], "big") >= 7


def frame_complete(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= int.from_bytes(data[2:4], "big")


def confirm_items(frame: bytes) -> tuple[list[Item], int | None, str]:
    """(items, the protocol chosen or None, a summary) of a Connection Confirm; ValueError if it is not one."""
    if not recognizes(frame, False) or frame[5] != CONNECTION_CONFIRM:
        raise ValueError("not an X.224 Connection Confirm")
    negotiation = frame[11:19]
    if len(negotiation) < 8:
        return [Item("auth-method", PROTOCOLS[PROTOCOL_RDP], "rdp")], PROTOCOL_RDP, "no negotiation (old server)"
    kind, flags, value = negotiation[0], negotiation[1], int.from_bytes(negotiation[4:8], "little")
    if kind == NEGOTIATION_FAILURE:
        failure = FAILURES.get(value, f"failure {value}")
        items = [Item("capability", failure, "rdp")]
        if value == 5:
            items.append(Item("auth-method", PROTOCOLS[PROTOCOL_HYBRID], "rdp"))
        return items, None, f"refused: {failure}"
    if kind != NEGOTIATION_RESPONSE:
        raise ValueError("not an RDP negotiation response")
    chosen = PROTOCOLS.get(value, f"protocol {value}")
    items = [Item("auth-method", chosen, "rdp")]
    items += [Item("capability", name, "rdp") for bit, name in FLAGS.items() if flags & bit]
    return items, value, f"chose {chosen}"


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    try:
        items, chosen, summary = confirm_items(await connection.receive(frame_complete))
    except (ValueError, IndexError):
        return None
    if chosen not in (None, PROTOCOL_RDP):
        with contextlib.suppress(OSError, TimeoutError):
            items += await tls.handshake(connection)
    return Service("rdp", f"RDP: {summary}", items)
