"""JA4S and JA4X against the examples of FoxIO's specification (and its published fingerprint list), edge cases of
the ServerHello, and bytes that are not one: never an exception."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st

from shoal.enrich.ja4plus import alpn_characters, is_grease, ja4s, ja4x, oid_hex


def server_hello(version: int, cipher: int, extensions: list[tuple[int, bytes]], session_id: bytes = b"") -> bytes:
    body = version.to_bytes(2, "big") + bytes(32) + bytes((len(session_id),)) + session_id
    body += cipher.to_bytes(2, "big") + b"\x00"
    block = b"".join(kind.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data for kind, data in extensions)
    body += len(block).to_bytes(2, "big") + block
    return b"\x02" + len(body).to_bytes(3, "big") + body


def alpn(protocol: bytes) -> tuple[int, bytes]:
    entry = bytes((len(protocol),)) + protocol
    return 0x0010, len(entry).to_bytes(2, "big") + entry


def test_the_specifications_example() -> None:
    extensions = [(0x0005, b""), (0x0017, b""), (0xFF01, b"\x00"), (0x0000, b"")]
    assert ja4s(server_hello(0x0303, 0xC030, extensions)) == "t120400_c030_4e8089b08790"


def test_tls13_takes_its_version_from_supported_versions() -> None:
    extensions = [(0x002B, b"\x03\x04"), (0x0033, bytes(36))]
    # As FoxIO's published list has it for a Go TLS 1.3 server (ja4plus-mapping.csv).
    assert ja4s(server_hello(0x0303, 0x1301, extensions, bytes(32))) == "t130200_1301_a56c5b993250"


def test_alpn_grease_and_a_missing_extension_block() -> None:
    hello = server_hello(0x0303, 0xC02F, [(0x0A0A, b""), alpn(b"h2"), (0xFF01, b"\x00")])
    assert ja4s(hello).startswith("t1202h2_c02f_")  # type: ignore[union-attr]
    bare = server_hello(0x0301, 0x002F, [])[:-2]  # no extensions length at all
    assert ja4s(b"\x02" + (len(bare) - 4).to_bytes(3, "big") + bare[4:]) == "t100000_002f_000000000000"


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [(b"http/1.1", "h1"), (b"h2", "h2"), (b"x", "xx"), (b"", "00"), (b"\xab\xcd", "ad"), (b"0\xab\xcd1", "01")],
)
def test_alpn_characters(protocol: bytes, expected: str) -> None:
    assert alpn_characters(protocol) == expected


def test_grease_values() -> None:
    assert all(is_grease(value) for value in (0x0A0A, 0x1A1A, 0xFAFA))
    assert not any(is_grease(value) for value in (0x0A1A, 0x0000, 0x002B, 0xFF01))


@given(st.binary(max_size=200))
def test_any_bytes_give_a_fingerprint_or_none(data: bytes) -> None:
    for message in (data, b"\x02" + len(data).to_bytes(3, "big") + data):
        result = ja4s(message)
        assert result is None or result.startswith("t")


def test_a_cut_server_hello_is_none() -> None:
    hello = server_hello(0x0303, 0xC030, [(0x0005, b""), (0xFF01, b"\x00")])
    assert ja4s(hello) is not None
    assert all(ja4s(hello[:end]) is None for end in range(len(hello)))


def test_the_ja4x_example() -> None:
    """Issuer and subject CN, C, ST, O; extensions key usage, extended key usage, subject alternative names."""
    names = [
        (NameOID.COMMON_NAME, "example"),
        (NameOID.COUNTRY_NAME, "GB"),
        (NameOID.STATE_OR_PROVINCE_NAME, "London"),
        (NameOID.ORGANIZATION_NAME, "Example"),
    ]
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in names])
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    assert ja4x(certificate) == "96a6439c8f5c_96a6439c8f5c_aae71e8db6d7"


@pytest.mark.parametrize(
    ("dotted", "expected"),
    [
        ("2.5.4.3", "550403"),
        ("1.3.6.1.5.5.7.1.1", "2b06010505070101"),
        ("1.3.6.1.4.1.11129.2.4.2", "2b06010401d679020402"),
    ],
)
def test_oid_bytes(dotted: str, expected: str) -> None:
    assert oid_hex(x509.ObjectIdentifier(dotted)) == expected
