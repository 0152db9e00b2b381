"""Servers that misbehave: the collector must neither hang nor crash, and must say what it saw."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import struct
import time

import pytest
from cryptography.x509.oid import NameOID

from shoal.collect.connection import READ_CAP, Timeouts
from shoal.text import MAX_BANNER_CHARS
from tests.collect.certificates import write_certificate
from tests.collect.conftest import BLOCK, FAST, collect_one, items_of
from tests.collect.fakes import Handler, answers, fake_server, sends

SHORT = Timeouts(connect=1.0, first_byte=0.5, service=3.0)


def timed(ip: str, port: int, timeouts: Timeouts = SHORT) -> tuple[object, float]:
    started = time.monotonic()
    report = collect_one(ip, port, timeouts)
    return report, time.monotonic() - started


def test_a_slow_loris_banner_is_cut_off_in_time() -> None:
    async def trickle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    with fake_server(f"127.{BLOCK}.1.1", 4001, trickle):
        report, elapsed = timed(f"127.{BLOCK}.1.1", 4001)
    assert elapsed < SHORT.service + 1
    assert report is not None and items_of(report, "server-banner")[0][0] == "generic"


def test_slow_http_headers_give_what_arrived_in_time() -> None:
    async def slow_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nServer: tarpit\r\nX-Slow: ")
        while True:
            writer.write(b"z")
            await writer.drain()
            await asyncio.sleep(0.05)

    with fake_server(f"127.{BLOCK}.1.2", 80, slow_headers):
        report, elapsed = timed(f"127.{BLOCK}.1.2", 80)
    assert elapsed < SHORT.service + 1
    assert report is not None
    assert items_of(report, "server-banner") == [("http", "HTTP/1.1 200 OK")]
    assert ("Server", "tarpit") in items_of(report, "http-header")


def test_a_silent_server_is_an_open_port_without_a_report() -> None:
    async def silent(_: asyncio.StreamReader, __: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    with fake_server(f"127.{BLOCK}.1.3", 4003, silent) as clients:
        report, elapsed = timed(f"127.{BLOCK}.1.3", 4003)
    assert report is None
    assert elapsed < SHORT.service + 1
    assert clients  # it was connected to: discovery recorded the open port


def test_garbage_bytes_become_an_escaped_generic_banner() -> None:
    garbage = bytes(range(256)) + os.urandom(512)
    with fake_server(f"127.{BLOCK}.1.4", 4004, sends(garbage)):
        report, _ = timed(f"127.{BLOCK}.1.4", 4004)
    assert report is not None
    [(protocol, banner)] = items_of(report, "server-banner")
    assert protocol == "generic"
    assert "\\x00" in banner and "\\x1b" in banner
    assert not any(ord(char) < 32 and char not in "\t\r\n" for char in banner)


def test_a_huge_banner_is_capped() -> None:
    with fake_server(f"127.{BLOCK}.1.5", 4005, sends(b"A" * (4 * READ_CAP))):
        report, elapsed = timed(f"127.{BLOCK}.1.5", 4005)
    assert report is not None
    [(_, banner)] = items_of(report, "server-banner")
    assert banner == "A" * MAX_BANNER_CHARS
    assert elapsed < SHORT.service


def test_a_reset_in_the_middle_of_a_response_keeps_what_arrived() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nServer: half")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST

    with fake_server(f"127.{BLOCK}.1.6", 8080, reset):
        report, _ = timed(f"127.{BLOCK}.1.6", 8080)
    assert report is not None
    assert items_of(report, "server-banner") == [("http", "HTTP/1.1 503 Service Unavailable")]


def test_a_closed_port_is_nothing() -> None:
    report, elapsed = timed(f"127.{BLOCK}.1.7", 4007)  # nothing listens there
    assert report is None and elapsed < 1


@pytest.fixture(scope="module")
def odd_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, bytes]:
    """Expired, no SAN, a non-ASCII subject with a character that needs escaping."""
    subject = [(NameOID.ORGANIZATION_NAME, "Ödd Ltd"), (NameOID.COMMON_NAME, "Zürich, Ünïcode+Test")]
    certificate, key, der = write_certificate(tmp_path_factory.mktemp("odd"), "odd", subject, days=(-30, -1))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context, der


def test_tls_with_an_odd_certificate(odd_certificate: tuple[ssl.SSLContext, bytes]) -> None:
    context, der = odd_certificate
    with fake_server(f"127.{BLOCK}.1.8", 443, answers(b"\r\n\r\n", b"HTTP/1.0 404 Not Found\r\n\r\n"), tls=context):
        report, _ = timed(f"127.{BLOCK}.1.8", 443)
    assert report is not None
    assert items_of(report, "server-banner") == [("https", "HTTP/1.0 404 Not Found")]
    assert items_of(report, "subject") == [("", "CN=Zürich\\, Ünïcode\\+Test, O=Ödd Ltd")]
    assert items_of(report, "host") == [] and items_of(report, "ip")[1:] == []
    assert items_of(report, "cert-sha256") == [("", hashlib.sha256(der).hexdigest())]


def test_tls_that_says_nothing_inside(odd_certificate: tuple[ssl.SSLContext, bytes]) -> None:
    context, _ = odd_certificate

    async def close_after_handshake(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await reader.read(1)

    with fake_server(f"127.{BLOCK}.1.9", 8443, close_after_handshake, tls=context):
        report, _ = timed(f"127.{BLOCK}.1.9", 8443)
    assert report is not None
    [(protocol, banner)] = items_of(report, "server-banner")
    assert protocol == "tls" and banner.startswith("TLSv1")


def test_a_tls_handshake_that_never_answers_is_given_up() -> None:
    async def swallow(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        while await reader.read(1024):
            pass

    with fake_server(f"127.{BLOCK}.1.10", 443, swallow):
        report, elapsed = timed(f"127.{BLOCK}.1.10", 443)
    assert report is None and elapsed < SHORT.service + 1


@pytest.mark.parametrize(
    ("packet", "banner"),
    [
        (b"\x0a8.0.36-0ubuntu0.22.04.1\x00\x08\x00\x00\x00abcdefgh\x00\xff\xf7", "8.0.36-0ubuntu0.22.04.1"),
        (b"\xffj\x04Host '192.0.2.9' is not allowed to connect to this MySQL server", None),
    ],
)
def test_mysql_greetings(packet: bytes, banner: str | None) -> None:
    frame = len(packet).to_bytes(3, "little") + b"\x00" + packet
    with fake_server(f"127.{BLOCK}.1.11", 3306, sends(frame)):
        report, _ = timed(f"127.{BLOCK}.1.11", 3306)
    assert report is not None
    expected = banner or "Host '192.0.2.9' is not allowed to connect to this MySQL server"
    assert items_of(report, "server-banner") == [("mysql", expected)]


def test_telnet_negotiation_on_an_unlisted_port() -> None:
    async def negotiate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\xff\xfd\x18\xff\xfb\x01")  # DO TERMINAL-TYPE, WILL ECHO
        await writer.drain()
        assert await reader.readexactly(6) == b"\xff\xfc\x18\xff\xfe\x01"  # WONT, DONT
        writer.write(b"\r\nUser Access Verification\r\n\r\nUsername: ")
        await writer.drain()
        await asyncio.sleep(1)

    with fake_server(f"127.{BLOCK}.1.12", 4012, negotiate):
        report, _ = timed(f"127.{BLOCK}.1.12", 4012, FAST)
    assert report is not None
    assert items_of(report, "server-banner") == [("telnet", "\r\nUser Access Verification\r\n\r\nUsername: ")]


def greets_220(greeting: bytes, answers: dict[bytes, bytes]) -> Handler:
    """A server that greets with 220, then answers each command it knows (by its first word), else ``500``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        while line := await reader.readline():
            writer.write(answers.get(line.split()[0] if line.split() else b"", b"500 unknown command\r\n"))
            await writer.drain()

    return handler


def test_an_ftp_greeting_on_the_smtp_port_is_ftp() -> None:
    refuses_ehlo = {
        b"EHLO": b"530 Please login with USER and PASS.\r\n",
        b"FEAT": b"211-Features:\r\n EPSV\r\n211 End\r\n",
    }
    with fake_server(f"127.{BLOCK}.1.13", 25, greets_220(b"220-Welcome\r\n220 Service ready\r\n", refuses_ehlo)):
        report, _ = timed(f"127.{BLOCK}.1.13", 25)
    assert report is not None
    assert items_of(report, "server-banner") == [("ftp", "220-Welcome\r\n220 Service ready")]
    assert items_of(report, "capability") == [("ftp", "EPSV")]


def test_a_220_greeting_that_is_neither_smtp_nor_ftp_is_generic() -> None:
    """A DICT server (RFC 2229) greets with 220 too: refusing EHLO does not make it FTP."""
    greeting = b"220 dict.example dictd 1.13.0/rf on Linux 6.1 <auth.mime> <12.345.678@dict.example>\r\n"
    with fake_server(f"127.{BLOCK}.1.16", 2628, greets_220(greeting, {})):
        report, _ = timed(f"127.{BLOCK}.1.16", 2628)
    assert report is not None
    assert items_of(report, "server-banner")[0] == ("generic", greeting.decode().strip())


def test_modbus_exception_and_short_frames_do_not_crash() -> None:
    exception = b"\x13\x37\x00\x00\x00\x03\x00\xab\x01"
    with fake_server(f"127.{BLOCK}.1.14", 502, answers(b"\x00", exception)):
        report, _ = timed(f"127.{BLOCK}.1.14", 502)
    assert report is not None
    assert items_of(report, "server-banner") == [("modbus", "Unit ID: 0\nException: 1")]
    truncated = b"\x13\x37\x00\x00\x00\x20\x00\x2b\x0e\x01\x83\x00\x00\x03\x00\x10Shoal"
    with fake_server(f"127.{BLOCK}.1.15", 502, answers(b"\x00", truncated)):
        _, elapsed = timed(f"127.{BLOCK}.1.15", 502)
    assert elapsed < SHORT.service + 1


def test_a_server_that_hangs_up_after_its_greeting_keeps_its_name() -> None:
    """FTP, SMTP, IMAP and POP3 are named by their greeting; a FEAT, EHLO or CAPA the server does not wait for
    only adds nothing."""

    def greet_and_hang_up(greeting: bytes) -> Handler:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(greeting)
            await writer.drain()
            await reader.read(1024)

        return handler

    cases = [
        (b"220 (vsFTPd 3.0.3)\r\n", 21, "ftp"),
        (b"* OK IMAP ready\r\n", 143, "imap"),
        (b"+OK ready\r\n", 110, "pop3"),
    ]
    for host, (greeting, port, protocol) in enumerate(cases, start=1):
        with fake_server(f"127.{BLOCK}.1.{40 + host}", port, greet_and_hang_up(greeting)):
            report = collect_one(f"127.{BLOCK}.1.{40 + host}", port, FAST)
        assert report is not None and items_of(report, "server-banner")[0][0] == protocol


def test_a_service_no_probe_knows_is_generic_with_the_first_answer_it_gave() -> None:
    """A line protocol Shoal has no probe for, which speaks only when spoken to: its answer is still recorded."""

    async def grumble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline():
            writer.write(b"?? unknown request, try HELP\r\n")
            await writer.drain()

    with fake_server(f"127.{BLOCK}.1.50", 4050, grumble):
        report = collect_one(f"127.{BLOCK}.1.50", 4050, FAST)
    assert report is not None
    [(protocol, banner)] = items_of(report, "server-banner")
    assert protocol == "generic" and banner.startswith("?? unknown request, try HELP")
