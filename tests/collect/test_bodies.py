"""The HTTP probe keeps the body behind a report: de-chunked, named by a body-sha256 item, marked truncated when
the read cap (or the server) cut it short."""

from __future__ import annotations

import hashlib

import pytest

from shoal.collect.probes.http import dechunked, parse_response
from shoal.model import BODY_SHA256


def test_a_plain_body_is_kept_and_named() -> None:
    page = b"<html><title>Hi</title>hello</html>"
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(page) + page
    service = parse_response(response, "http", "192.0.2.1", 80)
    assert service is not None
    [body] = service.bodies
    assert (body.data, body.content_type, body.truncated) == (page, "text/html", False)
    assert [(i.context, i.value, i.is_metadata) for i in service.items if i.type == BODY_SHA256] == [
        ("http", hashlib.sha256(page).hexdigest(), True)
    ]


def test_a_chunked_body_is_dechunked() -> None:
    chunks = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
    service = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks, "http", "::1", 8080)
    assert service is not None and service.bodies[0].data == b"hello, world"
    assert not service.bodies[0].truncated
    assert ("url", "http://[::1]:8080/") in [(i.type, i.value) for i in service.items]


@pytest.mark.parametrize(
    ("chunks", "data"),
    [(b"5\r\nhel", b"hel"), (b"zz\r\nhello", b""), (b"5\r\nhello\r\n", b"hello"), (b"", b"")],
)
def test_cut_or_broken_chunks_are_truncated(chunks: bytes, data: bytes) -> None:
    assert dechunked(chunks) == (data, False)


def test_a_body_shorter_than_its_length_is_truncated_and_no_body_is_none() -> None:
    service = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", "https", "192.0.2.1", 443)
    assert service is not None and service.bodies[0].truncated
    empty = parse_response(b"HTTP/1.1 204 No Content\r\n\r\n", "http", "192.0.2.1", 80, "www.example.org")
    assert empty is not None and empty.bodies == []
    assert ("url", "http://www.example.org/") in [(i.type, i.value) for i in empty.items]
