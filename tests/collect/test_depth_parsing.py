"""The pure logic behind the depth items: where a Location or an icon link may lead, what counts as a favicon,
the ServerHello found in the server's TLS records, and SSH messages that are not what they claim."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import pytest
from pytest import MonkeyPatch

from shoal.collect.connection import Connector
from shoal.collect.identify import follow_up
from shoal.collect.policy import PolicyFileError, load_policy
from shoal.collect.probes import http
from shoal.collect.probes.base import Service
from shoal.collect.probes.http import Page, Response, data_uri, icon_reference, is_icon, request_bytes, target_of
from shoal.collect.probes.ssh import (
    KEXINIT_LISTS,
    ProtocolError,
    Reader,
    client_kexinit,
    host_key_algorithms,
    kexinit_lists,
    key_items,
    mpint,
    string,
)
from shoal.collect.probes.tls import server_hello
from shoal.model import Body, Item

ADDRESS = Page("http", "192.0.2.10", 80)
NAMED = Page("https", "192.0.2.10", 443, "www.example.org", "/a/b")


@pytest.mark.parametrize(
    ("page", "reference", "url", "followed"),
    [
        (ADDRESS, "/login", "http://192.0.2.10/login", Page("http", "192.0.2.10", 80, None, "/login")),
        (ADDRESS, "https://192.0.2.10:8443/x?y=1", None, Page("https", "192.0.2.10", 8443, None, "/x?y=1")),
        (ADDRESS, "http://[::ffff:192.0.2.11]/", None, Page("http", "192.0.2.11", 80, None, "/")),
        (ADDRESS, "http://www.example.org/", None, None),  # another name: never resolved
        (NAMED, "c", "https://www.example.org/a/c", Page("https", "192.0.2.10", 443, "www.example.org", "/a/c")),
        (NAMED, "//WWW.Example.ORG./d", None, Page("https", "192.0.2.10", 443, "www.example.org", "/d")),
        (NAMED, "http://www.example.org:8080/", None, Page("http", "192.0.2.10", 8080, "www.example.org", "/")),
    ],
)
def test_where_a_reference_leads(page: Page, reference: str, url: str | None, followed: Page | None) -> None:
    target = target_of(page, reference)
    assert target is not None
    assert target[1] == followed
    if url is not None:
        assert target[0] == url


PLAIN_OR_NOT = ["/favicon.ico", "/img/fav-1_2~3.png", "/a/b.c", "/", "/a/", "/a.", "/a..b", "/x/../y", "/a//b"]
PLAIN_OR_NOT += ["/.well-known/i", "//elsewhere/x", "/a b", "/a%20b", "/a/.", "/.."]


@pytest.mark.parametrize("page", [ADDRESS, NAMED, Page("http", "::1", 80), Page("http", "::ffff:192.0.2.1", 80)])
@pytest.mark.parametrize("reference", PLAIN_OR_NOT)
def test_plain_paths_lead_where_url_resolution_leads(page: Page, reference: str, monkeypatch: MonkeyPatch) -> None:
    shortcut = target_of(page, reference)
    monkeypatch.setattr(http, "PLAIN_PATH", re.compile("(?!)"))  # no path is plain: always resolved
    assert shortcut == target_of(page, reference)


@pytest.mark.parametrize("reference", ["ftp://192.0.2.10/", "mailto:a@example.org", "http://[::1", "http://x:99999/"])
def test_references_that_lead_nowhere(reference: str) -> None:
    assert target_of(ADDRESS, reference) is None


def test_a_location_cannot_inject_a_header() -> None:
    target = target_of(ADDRESS, "/a b\r\nX-Injected: 1")
    assert target is not None and target[1] is not None
    request = request_bytes(target[1].ip, target[1].name, target[1].path)
    assert request.count(b"\r\n") == 6 and b"X-Injected:" not in request.split(b"\r\n", 1)[1]


@pytest.mark.parametrize(
    ("html", "reference"),
    [
        (b'<link rel="icon" href="/i.png">', "/i.png"),
        (b"<LINK HREF='/s.ico' REL='Shortcut Icon'>", "/s.ico"),
        (b'<link rel=apple-touch-icon href=/a.png><link rel=icon href=/b.png type="image/png">', "/b.png"),
        (b'<link rel="stylesheet" href="/s.css">', None),
        (b'<link rel="icon" href="/x?a=1&amp;b=2">', "/x?a=1&b=2"),
        (b"<link rel='icon'>", None),
    ],
)
def test_icon_links(html: bytes, reference: str | None) -> None:
    assert icon_reference(b"<html><head>" + html + b"</head></html>") == reference


def test_data_uris() -> None:
    assert data_uri("data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()) == (b"\x89PNG", "image/png")
    assert data_uri("data:image/svg+xml,%3Csvg%3E") == (b"<svg>", "image/svg+xml")
    assert data_uri("/favicon.ico") is None


@pytest.mark.parametrize(
    ("status", "data", "content_type", "truncated", "icon"),
    [
        (200, b"\x00\x00\x01\x00", "image/x-icon", False, True),
        (200, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", False, True),
        (200, b"<!DOCTYPE html><html>not found</html>", "", False, False),
        (200, b"\x00\x00\x01\x00", "text/html; charset=utf-8", False, False),
        (404, b"\x00\x00\x01\x00", "image/x-icon", False, False),
        (200, b"\x00" * 10, "image/x-icon", True, False),
        (200, b"", "image/x-icon", False, False),
    ],
)
def test_what_counts_as_a_favicon(status: int, data: bytes, content_type: str, truncated: bool, icon: bool) -> None:
    assert is_icon(Response(b"HTTP/1.1", status, [], Body(data, content_type, truncated))) is icon


def record(payload: bytes, kind: int = 22) -> bytes:
    return bytes((kind, 3, 3)) + len(payload).to_bytes(2, "big") + payload


def test_the_server_hello_is_reassembled_from_its_records() -> None:
    message = b"\x02\x00\x00\x06" + b"abcdef"
    assert server_hello(record(message) + record(b"\x0b\x00", 22)) == message
    assert server_hello(record(message[:3]) + record(message[3:])) == message
    assert server_hello(record(b"\x02\x28", 21)) == b""  # an alert
    assert server_hello(record(message[:5])) == b""  # cut


def test_host_key_algorithms_one_per_key_type_at_most_six() -> None:
    offered: dict[str, list[str]] = {name: [] for name in KEXINIT_LISTS}
    offered["server_host_key_algorithms"] = [
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-rsa-cert-v01@openssh.com",
        "ecdsa-sha2-nistp256",
        "sk-ssh-ed25519@openssh.com",
        "ssh-ed25519",
        "ssh-rsa",
        *(f"unknown-{n}" for n in range(100)),
    ]
    assert host_key_algorithms(offered) == ["rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-ed25519"]
    offered["server_host_key_algorithms"] = [
        "ssh-dss",
        "ssh-ed448",
        "ssh-rsa",
        *(f"ecdsa-sha2-nistp{n}" for n in (256, 384, 521)),
        "ssh-ed25519",
    ]
    assert len(host_key_algorithms(offered)) == 6


def test_a_kexinit_is_parsed_once_and_its_lists_copied_into_ours() -> None:
    lists = [b"curve25519-sha256,ecdh-sha2-nistp256", b"ssh-ed25519,rsa-sha2-512", b"aes128-ctr", b"aes256-ctr"]
    lists += [b"hmac-sha2-256", b"hmac-sha2-512", b"none", b"none,zlib@openssh.com", b"", b""]
    payload = bytes(16) + b"".join(string(names) for names in lists) + bytes(5)
    offered = kexinit_lists(payload)
    assert offered["mac_algorithms"] == ["hmac-sha2-512"] and offered["languages_client_to_server"] == []
    assert offered.method is not None and offered.method.name == "curve25519-sha256"
    ours = Reader(client_kexinit(offered, "curve25519-sha256", "rsa-sha2-512")[1:])
    mine = kexinit_lists(ours.data)
    assert [mine[name] for name in KEXINIT_LISTS] == [
        ["curve25519-sha256"],
        ["rsa-sha2-512"],
        *(offered[name] for name in KEXINIT_LISTS[2:8]),
        [],
        [],
    ]
    assert ours.data[-5:] == bytes(5)  # no guessed packet follows; reserved
    with pytest.raises(ProtocolError):
        kexinit_lists(payload[:40])


def test_key_items_and_messages_shorter_than_their_fields() -> None:
    rsa = b"\x00\x00\x00\x07ssh-rsa" + mpint(65537) + mpint(1 << 2047)
    [_, bits] = key_items(rsa)
    assert (bits.context, bits.value) == ("ssh-rsa", "2048")
    with pytest.raises(ProtocolError):
        key_items(b"\x00\x00\x00\x07ssh-rsa\x00\x00\x01\x00")
    with pytest.raises(ProtocolError):
        Reader(b"\xff\xff\xff\xff").string()


def test_collector_toml_ja4plus(tmp_path: Path) -> None:
    (tmp_path / "collector.toml").write_text('allow = ["192.0.2.0/24"]\nja4plus = false\n')
    assert load_policy(tmp_path).ja4plus is False
    assert load_policy(tmp_path.parent).ja4plus is True  # no file: the default
    (tmp_path / "collector.toml").write_text('ja4plus = "no"\n')
    with pytest.raises(PolicyFileError, match="'ja4plus' must be true or false"):
        load_policy(tmp_path)


def test_follow_ups_keep_what_they_found_and_stop_at_the_deadline() -> None:
    service = Service("ssh", "SSH-2.0-x")
    ran: list[str] = []

    async def adds(_: Connector) -> None:
        service.items.append(Item("ssh-kex", "found", "kex_algorithms"))
        raise ConnectionResetError

    async def slow(_: Connector) -> None:
        ran.append("slow")
        await asyncio.sleep(10)

    async def never(_: Connector) -> None:
        ran.append("never")

    async def main() -> float:
        service.follow_ups += [adds, slow, never]
        started = asyncio.get_running_loop().time()
        await follow_up(service, None, started + 0.2)  # type: ignore[arg-type]
        return asyncio.get_running_loop().time() - started

    elapsed = asyncio.run(main())
    assert service.items == [Item("ssh-kex", "found", "kex_algorithms")]
    assert ran == ["slow"] and elapsed < 1 and service.follow_ups == []
