"""The HTTP protocol ``shoal serve`` runs: uvicorn's httptools protocol with two changes.

- A request the HTTP parser refuses (bytes that are not HTTP, raw non-ASCII in the request line, an unknown
  method…) is answered 400 with Shoal's one JSON error shape (``code`` ``malformed_request``), not plain text.
- The request line and headers may hold at most ``MAX_HEAD_BYTES``: past that the answer is 431 and the
  connection closes (httptools itself would buffer a header of any size in memory).
"""

from __future__ import annotations

from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shoal.api.errors import error_bytes
from shoal.errors import HeadersTooLarge, MalformedRequest, ShoalError

MAX_HEAD_BYTES = 64 * 1024
MALFORMED = "malformed HTTP request: the server could not parse its request line or headers"
TOO_LARGE = f"the request line and headers are larger than {MAX_HEAD_BYTES:,} bytes"


def error_response(error: ShoalError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole HTTP/1.1 response carrying ``error`` in the one JSON error shape; the connection then closes."""
    body = error_bytes(error)
    status = f"{error.status} {HTTPStatus(error.status).phrase}".encode()
    lines = [b"HTTP/1.1 " + status + b"\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        body,
    ]
    return b"".join(lines)


class JsonErrorProtocol(HttpToolsProtocol):
    reading_head = True  # between the start of a request and the end of its headers
    head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self.reading_head:
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self.reading_head = False
                self.transport.write(error_response(HeadersTooLarge(TOO_LARGE), self.server_state.default_headers))
                self.transport.close()
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True

    def on_headers_complete(self) -> None:
        self.reading_head, self.head_bytes = False, 0
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(error_response(MalformedRequest(MALFORMED), self.server_state.default_headers))
        self.transport.close()
