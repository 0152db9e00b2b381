"""A hostile DNS server for the edge cases (UDP and TCP on one loopback address), by the first label asked:

- ``slow.*``: never answers;  ``garbage.*``: answers with bytes that are not DNS;
- ``trunc.*``: a truncated UDP answer (TC), the A record over TCP;
- ``huge.*``: over TCP, a TXT answer of about 60 KiB (UDP: truncated first);
- ``cname<N>.*``: a CNAME to ``cname<N+1>`` (a chain longer than any client should follow).

PTR queries for ``127.x.y.N`` (``shoal dns`` of a network), by N (``REVERSE``):

- 1 huge: 2,000 PTR names (UDP: truncated first);  2 loop: a CNAME to itself;  3 cut: UDP truncated, and the
  TCP answer stops halfway;  4 slow: never answers;  5 garbage: names of NUL bytes, escapes and spaces beside one
  good name;  6 deep: a name of 40 labels, under which every NS query is answered empty (a long walk up).
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

REVERSE = {1: "huge", 2: "loop", 3: "cut", 4: "slow", 5: "garbage", 6: "deep"}
DEEP_NAME = ".".join(f"l{n}" for n in range(38)) + ".deep.test.example."
GARBAGE_NAMES = ("\\000\\000.test.example.", "two\\032words.test.example.", "good.test.example.")


def reverse_answer(request: dns.message.Message, kind: str, over_tcp: bool) -> bytes | None:
    name = request.question[0].name
    response = dns.message.make_response(request)
    if kind == "slow":
        return None
    if kind in ("huge", "cut") and not over_tcp:
        response.flags |= dns.flags.TC
        return response.to_wire()
    if kind == "huge":
        response.answer.append(
            dns.rrset.from_text_list(name, 60, "IN", "PTR", [f"h{n}.huge.test.example." for n in range(2000)])
        )
    elif kind == "cut":
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "PTR", "never.test.example."))
        whole = response.to_wire()
        return whole[: len(whole) // 2]
    elif kind == "loop":
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", name.to_text()))
    elif kind == "garbage":
        response.answer.append(dns.rrset.from_text_list(name, 60, "IN", "PTR", list(GARBAGE_NAMES)))
    elif kind == "deep":
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "PTR", DEEP_NAME))
    return response.to_wire(max_size=65535)


def answer(query: bytes, over_tcp: bool) -> bytes | None:
    request = dns.message.from_wire(query)
    name = request.question[0].name
    first = name.labels[0].decode()
    if request.question[0].rdtype == dns.rdatatype.PTR and first.isdigit() and int(first) in REVERSE:
        return reverse_answer(request, REVERSE[int(first)], over_tcp)
    response = dns.message.make_response(request)
    if first == "slow":
        return None
    if first == "garbage":
        return b"\x00\x01 not dns at all"
    if first in ("trunc", "huge") and not over_tcp:
        response.flags |= dns.flags.TC
        return response.to_wire()
    if first == "trunc":
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "192.0.2.1"))
    elif first == "huge":
        strings = " ".join(f'"{"x" * 250}"' for _ in range(240))
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "TXT", strings))
    elif first.startswith("cname"):
        following = f"cname{int(first[5:] or 0) + 1}." + name.parent().to_text()
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", following))
    return response.to_wire(max_size=65535)


class UdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        reply = answer(data, over_tcp=False)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class TcpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        header = self.request.recv(2)
        if len(header) < 2:
            return
        (length,) = struct.unpack("!H", header)
        query = b""
        while len(query) < length:
            chunk = self.request.recv(length - len(query))
            if not chunk:
                return
            query += chunk
        reply = answer(query, over_tcp=True)
        if reply is not None:
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


class ThreadingUdp(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = True


class ThreadingTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def hostile_dns(ip: str) -> Iterator[tuple[str, int]]:
    """The hostile server on ip, on a free port (UDP and TCP on the same number)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((ip, 0))
        port = probe.getsockname()[1]
    servers = [ThreadingUdp((ip, port), UdpHandler), ThreadingTcp((ip, port), TcpHandler)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield ip, port
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
