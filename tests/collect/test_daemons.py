"""The collector against real daemons on loopback: the protocol and the items each must produce."""

from __future__ import annotations

import re

import pytest

from shoal.model import Item
from tests.collect.conftest import BLOCK, CERT_IPS, CERT_NAMES, NGINX_TITLE, Target, collect_one, items_of

pytestmark = pytest.mark.daemon


def banner_of(target: Target, **options: object) -> tuple[str, str, list[Item]]:
    report = collect_one(*target, **options)  # type: ignore[arg-type]
    assert report is not None, f"nothing identified on {target}"
    ip, port = target
    assert report.items[:2] == (Item("ip", ip, "", True), Item("port-tcp", str(port), "", True))
    banner = report.items[2]
    assert banner.type == "server-banner"
    return banner.context, banner.value, list(report.items[3:])


def test_nginx_http(nginx: dict[str, Target]) -> None:
    protocol, banner, items = banner_of(nginx["http"])
    assert (protocol, banner) == ("http", "HTTP/1.1 200 OK")
    headers = {item.context: item.value for item in items if item.type == "http-header"}
    assert headers["Server"].startswith("nginx")
    assert headers["X-Clacks-Overhead"] == "GNU Terry Pratchett"
    assert headers["Content-Type"] == "text/html"
    assert Item("title", NGINX_TITLE) in items
    assert Item("url", f"http://127.{BLOCK}.0.2/") in items


def test_http_on_a_port_with_no_hint_is_found_by_the_generic_order(nginx: dict[str, Target]) -> None:
    protocol, banner, items = banner_of(nginx["http-unlisted"])
    assert (protocol, banner) == ("http", "HTTP/1.1 200 OK")
    assert Item("url", f"http://127.{BLOCK}.0.2:8181/") in items


def test_nginx_https_certificate_and_jarm(nginx: dict[str, Target]) -> None:
    report = collect_one(*nginx["https"], jarm=True)
    assert report is not None
    assert items_of(report, "server-banner") == [("https", "HTTP/1.1 200 OK")]
    assert ("", NGINX_TITLE) in items_of(report, "title")
    assert ("", f"https://127.{BLOCK}.0.2/") in items_of(report, "url")
    assert items_of(report, "subject") == [("", "CN=shoal-test.example, O=Shoal Tests, C=GB")]
    assert items_of(report, "issuer") == [("", "CN=shoal-test.example, O=Shoal Tests, C=GB")]
    assert [value for context, value in items_of(report, "host") if context == "cert-dns-name"] == list(CERT_NAMES)
    assert [value for context, value in items_of(report, "ip") if context == "cert-ip-address"] == list(CERT_IPS)
    [(_, digest)] = items_of(report, "cert-sha256")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    [(_, jarm)] = items_of(report, "jarm")
    assert re.fullmatch(r"[0-9a-f]{62}", jarm) and jarm != "0" * 62
    kinds = [item.type for item in report.items]
    assert kinds.index("url") < kinds.index("subject") < kinds.index("cert-sha256") < kinds.index("jarm")


def test_openssh(sshd: Target) -> None:
    protocol, banner, _ = banner_of(sshd)
    assert protocol == "ssh"
    assert re.fullmatch(r"SSH-2\.0-OpenSSH_\S+( .*)?", banner), banner


def test_redis_open(redis: dict[str, Target]) -> None:
    protocol, banner, _ = banner_of(redis["open"])
    assert protocol == "redis"
    assert re.fullmatch(r"redis_version:\d+\.\d+\.\d+", banner), banner


def test_redis_with_a_password_on_an_unlisted_port(redis: dict[str, Target]) -> None:
    assert banner_of(redis["password"])[:2] == ("redis", "-NOAUTH Authentication required.")


def test_vsftpd(vsftpd: Target) -> None:
    protocol, banner, _ = banner_of(vsftpd)
    assert protocol == "ftp"
    assert re.fullmatch(r"220 \(vsFTPd \d+\.\d+\.\d+\)", banner), banner


def test_mosquitto(mosquitto: Target) -> None:
    assert banner_of(mosquitto)[:2] == ("mqtt", "MQTT Connection Code: 0")


def test_postgres(postgres: Target) -> None:
    assert banner_of(postgres)[:2] == (
        "postgres",
        "FATAL:  unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0",
    )


def test_telnetd(telnetd: Target) -> None:
    protocol, banner, _ = banner_of(telnetd)
    assert protocol == "telnet"
    assert banner.rstrip().endswith("login:"), banner
    assert "\xff" not in banner and "\\xff" not in banner  # negotiation bytes are not banner text


def test_modbus(modbus: Target) -> None:
    assert banner_of(modbus)[:2] == ("modbus", "Unit ID: 0\nDevice: Shoal Automation PLC-7 v2.9")


def test_aiosmtpd(smtp: Target) -> None:
    protocol, banner, _ = banner_of(smtp)
    assert protocol == "smtp"
    assert re.fullmatch(r"220 \S+ Python SMTP \S+", banner), banner
