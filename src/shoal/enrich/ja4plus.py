"""JA4S (a TLS server's answer to a ClientHello) and JA4X (how a certificate was built): two of FoxIO's JA4+
fingerprints, written for Shoal from FoxIO's published specification (github.com/FoxIO-LLC/ja4,
``technical_details/JA4S.md`` and ``JA4X.md``), sharing no code with FoxIO's.

**Licence.** This code is Shoal's (Apache-2.0); the JA4S and JA4X *methods* are FoxIO's, patent pending, and
offered under the FoxIO License 1.1 (non-commercial use, which includes internal business use; see ``NOTICE``).
``docs/collector.md`` ("JA4S and JA4X: the licence") says what that means for an operator, and ``ja4plus = false``
in ``collector.toml`` turns both off. Kept in this one module so that the methods are easy to find and remove.

- ``ja4s(server_hello)``: ``t130200_1301_a56c5b993250`` — TLS over TCP, the version chosen (from
  supported_versions when present), the number of extensions, the first and last characters of the ALPN chosen
  (``00``: none), the cipher chosen, and the first 12 hex digits of the SHA-256 of the extension types in the
  order the server sent them.
- ``ja4x(certificate)``: ``96a6439c8f5c_96a6439c8f5c_aae71e8db6d7`` — the first 12 hex digits of the SHA-256 of
  the issuer's attribute types, of the subject's, and of the extensions' (each an OID's DER content bytes in
  hex, comma-separated, in the certificate's order). An empty list is ``000000000000``, as JA4's empty lists and
  Driftnet's own JA4X implementation (``driftnet-io/go-ja4x``) write it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography import x509

EMPTY = "000000000000"
TLS_VERSIONS = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}
SUPPORTED_VERSIONS, ALPN = 0x002B, 0x0010
SERVER_HELLO = 2


def hash12(values: Iterable[str]) -> str:
    text = ",".join(values)
    return hashlib.sha256(text.encode()).hexdigest()[:12] if text else EMPTY


def is_grease(value: int) -> bool:
    """RFC 8701's reserved values (0x0a0a, 0x1a1a, … 0xfafa), which JA4+ ignores wherever they appear."""
    return value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


def alpn_characters(protocol: bytes) -> str:
    """The first and last characters of the ALPN chosen, or of its hex when either byte is not alphanumeric."""
    if not protocol:
        return "00"
    first, last = chr(protocol[0]), chr(protocol[-1])
    if first.isascii() and first.isalnum() and last.isascii() and last.isalnum():
        return first + last
    text = protocol.hex()
    return text[0] + text[-1]


def ja4s(server_hello: bytes) -> str | None:
    """The JA4S of a ServerHello handshake message (its 4-byte header first); None if it is not a whole one."""
    if len(server_hello) < 4 or server_hello[0] != SERVER_HELLO:
        return None
    body = server_hello[4 : 4 + int.from_bytes(server_hello[1:4], "big")]
    if len(body) < int.from_bytes(server_hello[1:4], "big"):
        return None
    try:
        version = int.from_bytes(body[0:2], "big")
        position = 34 + 1 + body[34]  # version, random, the session id's length and the session id
        cipher = int.from_bytes(body[position : position + 2], "big")
        position += 3  # the cipher and the compression method
        extensions: list[int] = []
        alpn = b""
        if position < len(body):
            end = position + 2 + int.from_bytes(body[position : position + 2], "big")
            position += 2
            while position + 4 <= end:
                kind = int.from_bytes(body[position : position + 2], "big")
                length = int.from_bytes(body[position + 2 : position + 4], "big")
                data = body[position + 4 : position + 4 + length]
                position += 4 + length
                if is_grease(kind):
                    continue
                extensions.append(kind)
                if kind == SUPPORTED_VERSIONS and len(data) == 2:
                    version = int.from_bytes(data, "big")
                elif kind == ALPN and len(data) >= 3:
                    alpn = data[3 : 3 + data[2]]
    except IndexError:
        return None
    if position > len(body):  # a message shorter than its own lengths
        return None
    part_a = f"t{TLS_VERSIONS.get(version, '00')}{min(len(extensions), 99):02d}{alpn_characters(alpn)}"
    return f"{part_a}_{cipher:04x}_{hash12(f'{kind:04x}' for kind in extensions)}"


def oid_hex(oid: x509.ObjectIdentifier) -> str:
    """An OID's DER content bytes in hex (2.5.4.3 → ``550403``): base-128 arcs, the first two as 40·a + b."""
    arcs = [int(arc) for arc in oid.dotted_string.split(".")]
    encoded = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        group = [arc & 0x7F]
        while arc := arc >> 7:
            group.append(0x80 | (arc & 0x7F))
        encoded += bytes(reversed(group))
    return encoded.hex()


def ja4x(certificate: x509.Certificate) -> str | None:
    """The JA4X of a parsed certificate; None if its extensions do not parse (e.g. one is repeated)."""
    try:
        extensions = [extension.oid for extension in certificate.extensions]
    except (ValueError, x509.DuplicateExtension):
        return None
    parts = (
        (attribute.oid for rdn in certificate.issuer.rdns for attribute in rdn),
        (attribute.oid for rdn in certificate.subject.rdns for attribute in rdn),
        extensions,
    )
    return "_".join(hash12(oid_hex(oid) for oid in oids) for oids in parts)
