"""SIP over TCP: an ``OPTIONS`` request to the address; the status line, ``Server``/``User-Agent`` and the
methods in ``Allow``. Nothing is registered, no call is placed."""

from __future__ import annotations

import os

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service, printable
from shoal.collect.probes.rtsp import head_complete, header_items


def request(ip: str, port: int) -> bytes:
    host = f"[{ip}]" if ":" in ip else ip
    tag = os.urandom(6).hex()
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP shoal.invalid;branch=z9hG4bK{tag}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:shoal@shoal.invalid>;tag={tag}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: {tag}@shoal.invalid\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Accept: application/sdp\r\n"
        "User-Agent: shoal\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def recognizes(answer: bytes, usual_port: bool) -> bool:
    return answer.startswith(b"SIP/2.0 ")


async def run(connection: Connection) -> Service | None:
    await connection.send(request(connection.ip, connection.port))
    answer = await connection.receive(head_complete)
    if not recognizes(answer, False):
        return None
    head = answer.split(b"\r\n\r\n", 1)[0]
    status, _, rest = head.partition(b"\r\n")
    return Service("sip", printable(status.strip(), 256), header_items(rest, "sip", "allow"))
