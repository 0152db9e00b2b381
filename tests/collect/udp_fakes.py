"""Small fake UDP servers on their own thread, for the edge cases of UDP probing (silence, garbage, floods,
answers from elsewhere). The protocols themselves are tested against real daemons (test_udp_daemons.py)."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Answer = Callable[[bytes], list[bytes]]


@contextmanager
def udp_server(ip: str, port: int, answer: Answer, reply_from: str | None = None) -> Iterator[list[bytes]]:
    """Serve on ip:port/udp until the block ends, answering each datagram with ``answer(datagram)`` (from
    ``reply_from``'s address instead, if given); yields the list of datagrams received."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_DGRAM)
    listener.bind((ip, port))
    replier = listener
    if reply_from is not None:
        replier = socket.socket(family, socket.SOCK_DGRAM)
        replier.bind((reply_from, 0))
    received: list[bytes] = []
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            if not select.select([listener], [], [], 0.05)[0]:
                continue
            data, client = listener.recvfrom(65_535)
            received.append(data)
            for reply in answer(data):
                replier.sendto(reply, client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        stopping.set()
        thread.join(5)
        listener.close()
        replier.close()


def silent(_: bytes) -> list[bytes]:
    return []
