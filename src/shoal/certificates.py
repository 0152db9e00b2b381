"""The items a certificate gives, wherever it was seen (a TLS handshake, a scanner's output, a CT log):

``subject`` and ``issuer`` (``CN=…, O=…, C=…``, most specific first), a ``host`` item with context
``cert-dns-name`` per SAN DNS name, an ``ip`` item with context ``cert-ip-address`` per SAN IP, and
``cert-sha256`` (of the DER bytes). One function for DER (``certificate_items``), one for the parsed fields
that scanners print when they do not give the DER (``named_items``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import re
from collections.abc import Iterable

from cryptography import x509

from shoal.enrich.fingerprints import cert_sha256
from shoal.model import Item

MAX_NAME_CHARS = 256
# Certificates up to this size are cached by their DER (the same certificate is seen on many addresses; real
# ones are 1–4 KiB). Larger ones are parsed each time: a cache keyed by 16 MiB DERs a stranger sends (a CT
# log, a TLS server) would hold gigabytes.
CACHED_DER_BYTES = 16 << 10
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
    return list(_certificate_items(der) if len(der) <= CACHED_DER_BYTES else _uncached_items(der))


def _uncached_items(der: bytes) -> tuple[Item, ...]:
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


_certificate_items = functools.lru_cache(maxsize=4096)(_uncached_items)


def parsed_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate parsed (ValueError if it does not parse), kept for the next reader of the same one:
    a CT entry's items and its validity both read it."""
    return _parsed(der) if len(der) <= CACHED_DER_BYTES else x509.load_der_x509_certificate(der)


_parsed = functools.lru_cache(maxsize=256)(x509.load_der_x509_certificate)


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
