"""TLS depth against nginx with certificates the test makes: a CA-issued RSA leaf served with its chain (TLS 1.2
and 1.3) on 443, and an expired self-signed EC certificate (TLS 1.2 only) on an unusual port. Validity, serial,
key and signature are checked against the certificates made; JA4X against the OIDs OpenSSL's own parser finds
(``openssl asn1parse``); JA4S against the ServerHello as OpenSSL hands it to a message callback."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import socket
import ssl
import subprocess
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from shoal.collect.connection import recording_context
from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.enrich.ja4plus import ja4s
from shoal.model import Report
from tests.collect.certificates import subject_of, write_certificate, write_chain
from tests.collect.conftest import BLOCK, FAST, TEST_NETWORK, ListSink, collect_one, items_of
from tests.collect.daemons import binary, running
from tests.collect.launchers import nginx_command

pytestmark = pytest.mark.daemon

TLS_IP = f"127.{BLOCK}.51.2"
CHAIN, EXPIRED = (TLS_IP, 443), (TLS_IP, 4433)
LEAF_NAME = "tls-chain.example"


@pytest.fixture(scope="module")
def tls_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, x509.Certificate]]:
    """nginx serving CHAIN and EXPIRED; yields the two leaf certificates it serves."""
    nginx_binary = binary("/usr/sbin/nginx")
    folder = tmp_path_factory.mktemp("tls-nginx")
    (folder / "www").mkdir()
    (folder / "www/index.html").write_text("<html><head><title>TLS depth</title></head></html>")
    chain, chain_key, leaf = write_chain(folder, "chain", LEAF_NAME)
    old, old_key, expired = write_certificate(folder, "expired", subject_of("expired.example"), days=(-30, -2))
    blocks = [
        f"listen {CHAIN[0]}:{CHAIN[1]} ssl; ssl_protocols TLSv1.2 TLSv1.3; root {folder}/www;"
        f" ssl_certificate {chain}; ssl_certificate_key {chain_key};",
        f"listen {EXPIRED[0]}:{EXPIRED[1]} ssl; ssl_protocols TLSv1.2; root {folder}/www;"
        f" ssl_certificate {old}; ssl_certificate_key {old_key};",
    ]
    with running(nginx_command(nginx_binary, folder, blocks), *CHAIN, folder):
        yield {"chain": x509.load_der_x509_certificate(leaf), "expired": x509.load_der_x509_certificate(expired)}


def values(report: Report) -> dict[str, str]:
    """The value of each item type with an empty context (the first one)."""
    found: dict[str, str] = {}
    for item in report.items:
        if item.context == "":
            found.setdefault(item.type, item.value)
    return found


def openssl_ja4x(certificate: x509.Certificate) -> str:
    """JA4X from the OIDs ``openssl asn1parse`` finds: the issuer's and subject's attribute types (depth 5 under
    the TBSCertificate's 4th and 6th fields) and the extension ids (depth 5 under its 8th)."""
    der = certificate.public_bytes(Encoding.DER)
    output = subprocess.run(["openssl", "asn1parse", "-inform", "DER"], input=der, capture_output=True, check=True)
    field, parts = -1, {3: [], 5: [], 7: []}
    line = re.compile(r"\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)\s+(?:prim|cons):\s*(\S+)")
    for match in line.finditer(output.stdout.decode()):
        offset, depth, header, length, kind = (*map(int, match.groups()[:4]), match.group(5))
        field += depth == 2
        if depth == 5 and kind == "OBJECT" and field in parts:
            parts[field].append(der[offset + header : offset + header + length].hex())
    return "_".join(
        hashlib.sha256(",".join(oids).encode()).hexdigest()[:12] if oids else "0" * 12 for oids in parts.values()
    )


def openssl_server_hello(ip: str, port: int) -> bytes:
    """The ServerHello that OpenSSL parsed in a handshake with the collector's own TLS settings."""
    context = recording_context()
    hellos: list[bytes] = []

    def seen(_: object, direction: str, __: object, content: object, message: object, data: bytes) -> None:
        if direction == "read" and content == ssl._TLSContentType.HANDSHAKE and message == 2:  # type: ignore[attr-defined]
            hellos.append(data)

    context._msg_callback = seen  # type: ignore[attr-defined]
    with socket.create_connection((ip, port), timeout=5) as plain, context.wrap_socket(plain):
        pass
    return hellos[0]


def test_a_chain_leaf(tls_nginx: dict[str, x509.Certificate]) -> None:
    leaf = tls_nginx["chain"]
    report = collect_one(*CHAIN)
    assert report is not None
    found = values(report)
    assert found["issuer"] == "CN=Shoal Test Issuing CA, O=Shoal Tests, C=GB"
    assert (found["cert-self-signed"], found["cert-expired"]) == ("false", "false")
    assert (found["cert-key-type"], found["cert-key-bits"]) == ("rsa", "2048")
    assert found["cert-signature-algorithm"] == "sha256WithRSAEncryption"
    assert found["cert-serial"] == format(leaf.serial_number, "x")
    assert found["cert-not-before"] == leaf.not_valid_before_utc.date().isoformat()
    assert found["cert-not-after"] == leaf.not_valid_after_utc.date().isoformat()
    assert found["ja4x-hash"] == openssl_ja4x(leaf)
    assert found["ja4s-hash"].startswith("t13")
    assert found["ja4s-hash"] == ja4s(openssl_server_hello(*CHAIN))


def test_an_expired_self_signed_certificate_on_an_unusual_port(tls_nginx: dict[str, x509.Certificate]) -> None:
    report = collect_one(*EXPIRED)
    assert report is not None
    assert items_of(report, "server-banner") == [("https", "HTTP/1.1 200 OK")]
    found = values(report)
    assert (found["cert-self-signed"], found["cert-expired"]) == ("true", "true")
    assert (found["cert-key-type"], found["cert-key-bits"], found["cert-signature-algorithm"]) == (
        "ec",
        "256",
        "ecdsa-with-SHA256",
    )
    assert found["cert-not-after"] < dt.date.today().isoformat()  # the dates compare as text
    assert found["ja4x-hash"] == openssl_ja4x(tls_nginx["expired"])
    assert found["ja4s-hash"].startswith("t12")
    assert found["ja4s-hash"] == ja4s(openssl_server_hello(*EXPIRED))


def test_the_policy_can_turn_ja4_off(tls_nginx: dict[str, x509.Certificate]) -> None:
    policy = ScanPolicy(allow=(TEST_NETWORK,), ja4plus=False)
    report = run_event_loop(Collector(policy, ScanSettings(timeouts=FAST, jarm=False), ListSink()).collect(*CHAIN))
    assert report is not None
    kinds = {item.type for item in report.items}
    assert "cert-serial" in kinds and "cert-sha256" in kinds
    assert not kinds & {"ja4s-hash", "ja4x-hash"}
