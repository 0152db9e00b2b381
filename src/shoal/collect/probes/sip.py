"""SIP over TCP: an ``OPTIONS`` request to the address; the status line, ``Server``/``User-Agent`` and the
methods in ``Allow``. Nothing is registered, no call is placed."""

from __future__ import annotations

import os

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.collect.probes.rtsp import answer_service, head_complete


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
    return answer_service(answer, "sip", "allow") if recognizes(answer, False) else None
