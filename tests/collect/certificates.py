"""Self-signed certificates for the TLS daemons and fake servers (EC P-256: quick to make)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def write_certificate(
    folder: Path,
    name: str,
    subject: list[tuple[x509.ObjectIdentifier, str]],
    dns_names: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    days: tuple[int, int] = (-1, 365),
) -> tuple[Path, Path, bytes]:
    """(certificate file, key file, DER) of a self-signed certificate valid from/to the given day offsets."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject_name = x509.Name([x509.NameAttribute(oid, value) for oid, value in subject])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(subject_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
    )
    alternatives = [x509.DNSName(dns) for dns in dns_names] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if alternatives:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    certificate_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_path, key_path, certificate.public_bytes(serialization.Encoding.DER)


def subject_of(common_name: str) -> list[tuple[x509.ObjectIdentifier, str]]:
    return [
        (NameOID.COUNTRY_NAME, "GB"),
        (NameOID.ORGANIZATION_NAME, "Shoal Tests"),
        (NameOID.COMMON_NAME, common_name),
    ]


def write_chain(folder: Path, name: str, dns_name: str) -> tuple[Path, Path, bytes]:
    """(chain file: the leaf then its issuing CA, the leaf's key file, the leaf's DER) of an RSA-2048 leaf signed
    by an intermediate CA that a root CA signed, as a public CA would serve it."""
    now = dt.datetime.now(dt.UTC)

    def issued(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name, signer: rsa.RSAPrivateKey) -> x509.Certificate:
        ca = subject != dns_name
        builder = (
            x509.CertificateBuilder()
            .subject_name(name_of(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=2))
            .not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    root_key, middle_key, leaf_key = (rsa.generate_private_key(65537, 2048) for _ in range(3))
    middle = issued("Shoal Test Issuing CA", middle_key, name_of("Shoal Test Root CA"), root_key)
    leaf = issued(dns_name, leaf_key, middle.subject, middle_key)
    chain_path, key_path = folder / f"{name}.chain.crt", folder / f"{name}.key"
    chain_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, middle)))
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return chain_path, key_path, leaf.public_bytes(serialization.Encoding.DER)


def name_of(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in subject_of(common_name)])
