"""cert_sha256, Shodan's favicon hash (checked against an independent MurmurHash3), and JARM against a TLS
server this test starts on 127.0.0.1 (only loopback, only the port it opened)."""

from __future__ import annotations

import base64
import codecs
import datetime as dt
import hashlib
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shoal.enrich.fingerprints import cert_sha256, favicon_mmh3, jarm


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, signed, written from the algorithm's description (a check on mmh3)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed
    whole = len(data) - len(data) % 4
    for offset in range(0, whole, 4):
        k = int.from_bytes(data[offset : offset + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        h ^= (k * c2) & mask
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[whole:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        h ^= (k * c2) & mask
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def test_murmur3_reference_vectors() -> None:
    assert murmur3_32(b"") == 0
    assert murmur3_32(b"hello") == 613153351
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog") == 776992547


@pytest.mark.parametrize("size", [0, 1, 57, 58, 1000, 5430])
def test_favicon_hash_is_shodans(size: int) -> None:
    content = bytes((index * 7 + 3) % 256 for index in range(size))
    encoded = codecs.encode(content, "base64")  # what Shodan hashes: base64 with a newline every 76 characters
    if size > 57:
        assert encoded[76:77] == b"\n"
    assert favicon_mmh3(content) == murmur3_32(encoded)
    assert favicon_mmh3(content) != murmur3_32(base64.b64encode(content)) or size == 0


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shoal-test.localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem", cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def tls_server(certificate: tuple[Path, Path, bytes]) -> Iterator[int]:
    """A TLS server on 127.0.0.1 (a port the OS picks), answering handshakes until the module ends."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate[0], certificate[1])
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def handle(connection: socket.socket) -> None:
        try:
            connection.settimeout(5)
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            connection.close()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_cert_sha256_of_what_the_server_presents(tls_server: int, certificate: tuple[Path, Path, bytes]) -> None:
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", tls_server), timeout=5) as raw, client.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der == certificate[2]
    assert cert_sha256(der) == hashlib.sha256(der).hexdigest()
    assert cert_sha256(der) == x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex()
    assert len(cert_sha256(der)) == 64


def test_jarm_of_a_local_tls_server(tls_server: int) -> None:
    filters = list(warnings.filters)
    first = jarm("127.0.0.1", tls_server, timeout=5)
    assert warnings.filters == filters  # pyjarm's process-wide "ignore all warnings" does not outlive the call
    assert first is not None and len(first) == 62 and set(first) <= set("0123456789abcdef")
    assert first != "0" * 62
    assert jarm("127.0.0.1", tls_server, timeout=5) == first  # deterministic for one server


def test_jarm_of_a_closed_port_is_none() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]  # bound and then closed below: nothing listens there
    assert jarm("127.0.0.1", port, timeout=2) is None
