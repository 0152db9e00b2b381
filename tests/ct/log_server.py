"""A small RFC 6962 log for the tests of ``shoal ct follow`` — a protocol fixture, not a CT implementation.

No RFC 6962 log server is packaged for Debian or PyPI here, so this one serves ``get-sth`` and ``get-entries``
over real HTTP on a loopback address, with real content: certificates and pre-certificates (with the CT poison
extension) made with ``cryptography`` and signed by a test CA, real ``MerkleTreeLeaf`` structures (x509 and
precert entries, the precert's issuer key hash and TBSCertificate), the chain in ``extra_data``, the RFC 6962
Merkle tree hash as ``sha256_root_hash``, and a tree head signed with the log's own ECDSA key.

``hostile=True`` makes every 7th entry garbage and answers the first request of each batch with a 503.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FIRST_ENTRY = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
MAX_ENTRIES_PER_ANSWER = 64  # like real logs, it answers fewer entries than asked for


def opaque24(data: bytes) -> bytes:
    return len(data).to_bytes(3, "big") + data


@dataclass
class LoggedCertificate:
    index: int
    names: tuple[str, ...]
    addresses: tuple[str, ...]
    precert: bool
    der: bytes  # the certificate, or the pre-certificate
    timestamp_ms: int


@dataclass
class FixtureLog:
    size: int
    hostile: bool = False
    ca_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    log_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    certificates: list[LoggedCertificate] = field(default_factory=list)
    entries: list[dict[str, str]] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Shoal Test CT CA")])
        self.ca_name = ca_name
        self.ca = self._sign(
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .public_key(self.ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True),
            serial=1,
        )
        spki = self.ca.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.issuer_key_hash = hashlib.sha256(spki).digest()
        for index in range(self.size):
            self._add(index)

    def _sign(self, builder: x509.CertificateBuilder, serial: int) -> x509.Certificate:
        return (
            builder.issuer_name(self.ca_name)
            .serial_number(serial)
            .not_valid_before(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
            .sign(self.ca_key, hashes.SHA256())
        )

    def _add(self, index: int) -> None:
        names = (f"host{index}.ct-test.example", f"www.host{index}.ct-test.example")
        addresses = (f"192.0.2.{index % 250 + 1}",) if index % 5 == 0 else ()
        precert = index % 3 == 1
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.DNSName(name) for name in names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .public_key(key.public_key())
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        )
        # The precert leaf's TBSCertificate is the pre-certificate's without the poison extension (RFC 6962 §3.2):
        # the same certificate signed without it has exactly that TBS.
        unpoisoned = self._sign(builder, serial=1000 + index)
        if precert:
            builder = builder.add_extension(x509.PrecertPoison(), critical=True)
        certificate = self._sign(builder, serial=1000 + index) if precert else unpoisoned
        timestamp = int((FIRST_ENTRY + dt.timedelta(hours=index)).timestamp() * 1000)
        der = certificate.public_bytes(serialization.Encoding.DER)
        ca_der = self.ca.public_bytes(serialization.Encoding.DER)
        if precert:
            signed = self.issuer_key_hash + opaque24(unpoisoned.tbs_certificate_bytes)
            extra = opaque24(der) + opaque24(opaque24(ca_der))
        else:
            signed = opaque24(der)
            extra = opaque24(opaque24(ca_der))
        leaf = b"\0\0" + timestamp.to_bytes(8, "big") + (1 if precert else 0).to_bytes(2, "big") + signed + b"\0\0"
        if self.hostile and index % 7 == 3:
            leaf = b"\1garbage"
        self.leaves.append(leaf)
        self.entries.append(
            {"leaf_input": base64.b64encode(leaf).decode(), "extra_data": base64.b64encode(extra).decode()}
        )
        self.certificates.append(LoggedCertificate(index, names, addresses, precert, der, timestamp))

    def grow(self, count: int) -> None:
        for index in range(self.size, self.size + count):
            self._add(index)
        self.size += count

    def root_hash(self, size: int) -> bytes:
        """RFC 6962 §2.1 Merkle tree hash of the first ``size`` leaves."""

        def mth(leaves: list[bytes]) -> bytes:
            if not leaves:
                return hashlib.sha256(b"").digest()
            if len(leaves) == 1:
                return hashlib.sha256(b"\0" + leaves[0]).digest()
            split = 1 << ((len(leaves) - 1).bit_length() - 1)
            return hashlib.sha256(b"\1" + mth(leaves[:split]) + mth(leaves[split:])).digest()

        return mth(self.leaves[:size])

    def sth(self) -> dict[str, object]:
        timestamp = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        root = self.root_hash(self.size)
        signed = b"\0\1" + timestamp.to_bytes(8, "big") + self.size.to_bytes(8, "big") + root  # TreeHeadSignature
        signature = self.log_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        digitally_signed = b"\4\3" + len(signature).to_bytes(2, "big") + signature  # sha256, ecdsa
        return {
            "tree_size": self.size,
            "timestamp": timestamp,
            "sha256_root_hash": base64.b64encode(root).decode(),
            "tree_head_signature": base64.b64encode(digitally_signed).decode(),
        }


def handler_for(log: FixtureLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def answer(self, status: int, body: object) -> None:
            data = orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            log.requests += 1
            url = urlsplit(self.path)
            if url.path.endswith("/ct/v1/get-sth"):
                self.answer(200, log.sth())
                return
            if not url.path.endswith("/ct/v1/get-entries"):
                self.answer(404, {"error": "not found"})
                return
            query = parse_qs(url.query)
            try:
                start, end = int(query["start"][0]), int(query["end"][0])
            except (KeyError, ValueError):
                self.answer(400, {"error": "start and end"})
                return
            if log.hostile and log.requests % 5 == 0:
                self.answer(503, {"error": "busy"})
                return
            if not 0 <= start <= end or start >= log.size:
                self.answer(400, {"error": "bad range"})
                return
            end = min(end, log.size - 1, start + MAX_ENTRIES_PER_ANSWER - 1)
            self.answer(200, {"entries": log.entries[start : end + 1]})

    return Handler


@contextmanager
def serving(log: FixtureLog, ip: str) -> Iterator[str]:
    """The log over HTTP on ip (a free port); yields its base URL."""
    server = ThreadingHTTPServer((ip, 0), handler_for(log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{ip}:{server.server_address[1]}/testlog/"
    finally:
        server.shutdown()
        server.server_close()
