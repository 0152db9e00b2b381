"""A CT log that attacks its reader (issue 22, items 1 and 2): ``get-sth`` answers honestly, ``get-entries``
answers as ``mode`` says — a protocol fixture over real HTTP on a loopback address, not a CT implementation.

- ``huge``: a JSON answer of ``HUGE_BYTES`` (600 MB) streamed without a length, entries of 1 MiB each;
- ``bomb``: a gzip answer of ``BOMB_BYTES`` (10 MB) compressed that inflates to about 10 GB of JSON whitespace;
- ``values``: 60 MB of ``{},`` — few bytes, millions of JSON values;
- ``trickle``: a 200 head, then one byte of the body every ``trickle_seconds``;
- ``silent``: accepts, reads the request, answers nothing;
- ``fat``: just under 64 MiB: as many entries as asked for (up to 1024), each an x509 entry of 47 KiB of junk;
- ``precert``: one honest answer whose only entry is a precert with an empty pre-certificate and timestamp 0.
"""

from __future__ import annotations

import base64
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson

HUGE_BYTES = 600 << 20
BOMB_BYTES = 10 << 20
VALUES_BYTES = 60 << 20
FAT_CERTIFICATE = 47 << 10  # bytes: 1024 entries of it in base64 are just under 64 MiB
SEGMENT = 1 << 20  # bytes of JSON whitespace per repeated deflate block of the bomb
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass
class HostileLog:
    mode: str
    tree_size: int = 10
    trickle_seconds: float = 2.0
    stop: threading.Event = field(default_factory=threading.Event)


def bomb_pieces() -> tuple[bytes, bytes]:
    """(the start of a raw deflate stream holding ``{"entries":[``, a block of it that inflates to SEGMENT spaces
    and can be repeated as often as wished: each ends with a full flush, so each compresses alike)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = compressor.compress(b'{"entries":[') + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b" " * SEGMENT) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(b" " * SEGMENT) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert again == block
    return start, block


def empty_precert_entry() -> dict[str, str]:
    leaf = b"\0\0" + (0).to_bytes(8, "big") + (1).to_bytes(2, "big") + b"\0" * 32 + b"\0\0\0" + b"\0\0"
    return {"leaf_input": base64.b64encode(leaf).decode(), "extra_data": base64.b64encode(b"\0\0\0").decode()}


def handler_for(log: HostileLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def head(self, length: int | None = None, encoding: str | None = None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if encoding:
                self.send_header("Content-Encoding", encoding)
            if length is None:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()

        def send(self, data: bytes) -> None:
            self.head(len(data))
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            try:
                if path.endswith("/ct/v1/get-sth"):
                    self.send(orjson.dumps({"tree_size": log.tree_size, "timestamp": 0}))
                elif path.endswith("/ct/v1/get-entries"):
                    getattr(self, log.mode)()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def huge(self) -> None:
            self.head()
            entry = b'{"leaf_input":"' + b"A" * SEGMENT + b'","extra_data":""}'
            self.wfile.write(b'{"entries":[' + entry)
            sent = len(entry)
            while sent < HUGE_BYTES and not log.stop.is_set():
                self.wfile.write(b"," + entry)
                sent += len(entry) + 1
            self.wfile.write(b"]}")

        def bomb(self) -> None:
            start, block = bomb_pieces()
            self.head(encoding="gzip")
            self.wfile.write(GZIP_HEADER + start)
            for _ in range(BOMB_BYTES // len(block)):
                if log.stop.is_set():
                    return
                self.wfile.write(block)

        def values(self) -> None:
            self.send(b'{"entries":[' + b"{}," * (VALUES_BYTES // 3) + b"{}]}")

        def trickle(self) -> None:
            body = orjson.dumps({"entries": [empty_precert_entry()] * 10})
            self.head(len(body))
            for byte in body:
                if log.stop.wait(log.trickle_seconds):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def silent(self) -> None:
            log.stop.wait(600)

        def fat(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            asked = int(query["end"][0]) - int(query["start"][0]) + 1
            junk = b"\x30" * FAT_CERTIFICATE
            timestamp = (1_700_000_000_000).to_bytes(8, "big")  # 2023
            leaf = b"\0\0" + timestamp + b"\0\0" + len(junk).to_bytes(3, "big") + junk + b"\0\0"
            entry = {"leaf_input": base64.b64encode(leaf).decode(), "extra_data": ""}
            self.send(orjson.dumps({"entries": [entry] * min(asked, 1024)}))

        def precert(self) -> None:
            self.send(orjson.dumps({"entries": [empty_precert_entry()]}))

    return Handler


@contextmanager
def hostile_log(log: HostileLog, ip: str) -> Iterator[str]:
    """The log over HTTP on ip (a free port); yields its base URL. Every answer in progress stops at the end."""
    server = ThreadingHTTPServer((ip, 0), handler_for(log))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{ip}:{server.server_address[1]}/hostile/"
    finally:
        log.stop.set()
        server.shutdown()
        server.server_close()
