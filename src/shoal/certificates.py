"""The items a certificate gives, wherever it was seen (a TLS handshake, a scanner's output, a CT log):

``subject`` and ``issuer`` (``CN=…, O=…, C=…``, most specific first), a ``host`` item with context
``cert-dns-name`` per SAN DNS name, an ``ip`` item with context ``cert-ip-address`` per SAN IP, and
``cert-sha256`` (of the DER bytes). One function for DER (``certificate_items``), one for the parsed fields
that scanners print when they do not give the DER (``named_items``).

``validity_items`` adds ``cert-serial`` (lower-case hex, no leading zeros) and ``cert-not-before`` /
``cert-not-after`` (the UTC day, ``YYYY-MM-DD``, so that dates compare as text); ``certificate_details`` adds
what the collector also records of a certificate it was shown: the key's type and size, the signature
algorithm, whether it is self-signed and whether it had expired, and its JA4X (``ja4x-hash``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import ipaddress
import re
import warnings
from collections.abc import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning

from shoal.enrich.fingerprints import cert_sha256
from shoal.enrich.ja4plus import ja4x
from shoal.model import Item

MAX_NAME_CHARS = 256
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def name_text(name: x509.Name) -> str:
    """``CN=example.com, O=Example, C=GB``: most specific first, as certificates are usually shown."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


def clean_name(text: str) -> str:
    """A host name as an item value: control characters written ``\\xNN``, at most 256 characters."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text.strip())[:MAX_NAME_CHARS]


def san_values(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of the certificate's subjectAltName; empty if it has none."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return [], []
    dns_names = [name for name in names.get_values_for_type(x509.DNSName) if name]
    return dns_names, [str(address) for address in names.get_values_for_type(x509.IPAddress)]


def certificate_items(der: bytes) -> list[Item]:
    """The items of a DER certificate. A certificate that does not parse still gives its digest. Cached: the
    same certificate is seen on many addresses (and parsing it is most of an import's decoding)."""
    return list(_certificate_items(der))


@functools.lru_cache(maxsize=4096)
def _certificate_items(der: bytes) -> tuple[Item, ...]:
    items: list[Item] = []
    try:
        certificate = parsed_certificate(der)
        subject, issuer = name_text(certificate.subject), name_text(certificate.issuer)
        dns_names, ips = san_values(certificate)
    except ValueError:
        pass  # a certificate cryptography refuses: keep its digest
    else:
        items += named_items(subject, issuer, dns_names, ips)
    items.append(Item("cert-sha256", cert_sha256(der)))
    return tuple(items)


@functools.lru_cache(maxsize=256)
def parsed_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate parsed (ValueError if it does not parse), kept for the next reader of the same one:
    a CT entry's items and its validity both read it."""
    return x509.load_der_x509_certificate(der)


def validity_items(der: bytes) -> list[Item]:
    """``cert-serial``, ``cert-not-before`` and ``cert-not-after``; empty if the certificate does not parse."""
    try:
        certificate = parsed_certificate(der)
        return [
            Item("cert-serial", format(certificate.serial_number, "x")),
            Item("cert-not-before", certificate.not_valid_before_utc.date().isoformat()),
            Item("cert-not-after", certificate.not_valid_after_utc.date().isoformat()),
        ]
    except ValueError:
        return []


def certificate_details(der: bytes, now: dt.datetime, ja4plus: bool = True) -> list[Item]:
    """The validity items, ``cert-key-type`` (``rsa``, ``ec``, ``dsa``, ``ed25519``, ``ed448``), ``cert-key-bits``,
    ``cert-signature-algorithm`` (OpenSSL's name, e.g. ``sha256WithRSAEncryption``, else the OID),
    ``cert-self-signed`` and ``cert-expired`` at ``now`` (``true``/``false``), and ``ja4x-hash`` unless ``ja4plus``
    is off. Empty if the certificate does not parse."""
    try:
        certificate = parsed_certificate(der)
    except ValueError:
        return []
    expired = certificate.not_valid_after_utc < now
    items = [*validity_items(der), *_described(der), Item("cert-expired", str(expired).lower())]
    fingerprint = ja4x(certificate) if ja4plus else None
    if fingerprint is not None:
        items.append(Item("ja4x-hash", fingerprint))
    return items


@functools.lru_cache(maxsize=4096)
def _described(der: bytes) -> tuple[Item, ...]:
    """Key, signature algorithm and self-signature of a certificate that parses (a signature check: cached). A DSA
    key is recorded, not a reason to warn (cryptography deprecates DSA and warns when one is used)."""
    certificate = parsed_certificate(der)
    items = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            key_type, bits = key_of(certificate.public_key())
            items += [Item("cert-key-type", key_type), Item("cert-key-bits", str(bits))]
        except (ValueError, UnsupportedAlgorithm):
            pass  # a key cryptography cannot load: its type stays unknown
        signed_by_itself = self_signed(certificate)
    algorithm = certificate.signature_algorithm_oid
    name = getattr(algorithm, "_name", "Unknown OID")
    items.append(Item("cert-signature-algorithm", algorithm.dotted_string if name == "Unknown OID" else name))
    items.append(Item("cert-self-signed", str(signed_by_itself).lower()))
    return tuple(items)


def key_of(key: object) -> tuple[str, int]:
    """(type, size in bits) of a certificate's public key; ValueError for a kind not listed here."""
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 456
    size = getattr(key, "key_size", None)
    if type(key).__name__.startswith("DSA") and isinstance(size, int):  # named: importing dsa warns
        return "dsa", size
    raise ValueError(f"a {type(key).__name__} key")


def self_signed(certificate: x509.Certificate) -> bool:
    """Issued by itself: the issuer is the subject and the certificate's own key verifies its signature."""
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def base64_certificate_items(text: str) -> list[Item] | None:
    """The items of a base64 DER certificate (a scanner's ``raw``, a PEM's body); None if the text is not base64,
    for the reader to fall back on the fields it has."""
    try:
        return certificate_items(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return None


def named_items(
    subject: str, issuer: str, dns_names: Iterable[str], ips: Iterable[str], fingerprint: object = None
) -> list[Item]:
    """subject, issuer, SAN names and SAN addresses as items (empty values and bad addresses left out), and the
    ``cert-sha256`` of a scanner's ``fingerprint`` if it is one."""
    items = [Item(kind, value) for kind, value in (("subject", subject), ("issuer", issuer)) if value]
    seen: set[str] = set()
    for name in dns_names:
        value = clean_name(name)
        if value and value not in seen:
            seen.add(value)
            items.append(Item("host", value, "cert-dns-name"))
    for text in ips:
        try:
            address = str(ipaddress.ip_address(text.strip()))
        except ValueError:
            continue
        if address not in seen:
            seen.add(address)
            items.append(Item("ip", address, "cert-ip-address"))
    digest = digest_item(fingerprint)
    if digest:
        items.append(digest)
    return items


def digest_item(value: object) -> Item | None:
    """A ``cert-sha256`` item from a scanner's hex fingerprint (``AB:CD…`` or ``abcd…``), if it is one."""
    if not isinstance(value, str):
        return None
    text = value.replace(":", "").strip().lower()
    return Item("cert-sha256", text) if SHA256_HEX.fullmatch(text) else None
