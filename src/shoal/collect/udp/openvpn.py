"""OpenVPN: a ``P_CONTROL_HARD_RESET_CLIENT_V2`` (the first packet of a session, before TLS); a server without a
``tls-auth``/``tls-crypt`` key answers ``P_CONTROL_HARD_RESET_SERVER_V2``, acknowledging our session id. (One
with such a key drops packets that lack its HMAC: it stays silent, as it does for nmap.)"""

from __future__ import annotations

from shoal.collect.probes.base import Service
from shoal.collect.udp.base import DatagramProbe, Query

OPENVPN_PORTS = frozenset({1194})
HARD_RESET_CLIENT_V2, HARD_RESET_SERVER_V2 = 7, 8
OPCODES = {HARD_RESET_SERVER_V2: "P_CONTROL_HARD_RESET_SERVER_V2", 10: "P_CONTROL_HARD_RESET_CLIENT_V3"}


def session(query: Query) -> bytes:
    return query.nonce[:8]


def request(query: Query) -> bytes:
    # opcode and key id 0, our session id, no acknowledgements, message packet id 0
    return bytes((HARD_RESET_CLIENT_V2 << 3,)) + session(query) + b"\x00" + bytes(4)


def answer(data: bytes, query: Query) -> Service | None:
    if len(data) < 10 or data[0] >> 3 != HARD_RESET_SERVER_V2:
        return None
    acknowledged = data[9]
    if not 1 <= acknowledged <= 8 or len(data) < 10 + 4 * acknowledged + 8:
        return None
    remote = data[10 + 4 * acknowledged : 10 + 4 * acknowledged + 8]
    if remote != session(query):
        return None
    return Service("openvpn", f"OpenVPN {OPCODES[HARD_RESET_SERVER_V2]}, key id {data[0] & 0x07}")


PROBE = DatagramProbe("openvpn", OPENVPN_PORTS, request, answer)
