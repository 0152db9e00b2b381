"""Where an alert may post: the webhook target policy.

An http(s) URL whose host resolves; never to a link-local or cloud-metadata address (whoever made the alert).
An alert the operator made (``shoal alert create`` on the data directory) may post anywhere else, loopback and
private networks included (the common self-hosted receiver). An alert a token made over the API may post only
to public addresses, or inside a network the operator allows (``shoal serve --webhook-allow CIDR``): a token
cannot make the server reach its own private network. The policy is checked when the alert is made and again,
on the addresses the name then resolves to, before each delivery.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from shoal.errors import BadParameter
from shoal.model import IPNetwork, ipv4_of_mapped

MAX_URL_LENGTH = 2048
WEBHOOK = "webhook"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud instance-metadata services (AWS, GCP, Azure, OpenStack; AWS's IPv6; Alibaba; Oracle) and link-local ranges
NEVER: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(text)
    for text in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32", "192.0.0.192/32")
)


def checked_webhook(url: str, allowed: Sequence[IPNetwork] | None) -> str:
    """``url`` if an alert may post there, else BadParameter saying why. ``allowed``: None for the operator
    (anything but link-local and metadata), else the networks a token's alert may reach beside public ones."""
    host, port = url_target(url)
    for address in resolved(host, port):
        refusal = refused(address, allowed)
        if refusal:
            raise BadParameter(WEBHOOK, f"the webhook {url!r} resolves to {address}, {refusal}")
    return url


def url_target(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL, or BadParameter."""
    if len(url) > MAX_URL_LENGTH:
        raise BadParameter(WEBHOOK, f"the webhook URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BadParameter(WEBHOOK, f"the webhook {url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise BadParameter(WEBHOOK, f"the webhook must be an http:// or https:// URL, not {url!r}")
    if not parts.hostname:
        raise BadParameter(WEBHOOK, f"the webhook URL {url!r} names no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolved(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` names (itself, if it is an address), or BadParameter."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadParameter(WEBHOOK, f"the webhook host {host!r} does not resolve: {exc}") from None
    return [ipaddress.ip_address(str(answer[4][0]).partition("%")[0]) for answer in answers]


def refused(address: IPAddress, allowed: Sequence[IPNetwork] | None) -> str:
    """Why an alert may not post to ``address`` ("" if it may)."""
    plain = ipv4_of_mapped(ipaddress.ip_network(address))
    if any(plain.subnet_of(network) for network in NEVER if network.version == plain.version):  # type: ignore[arg-type]
        return "a link-local or cloud-metadata address, where no alert may post"
    if allowed is None or plain.network_address.is_global:
        return ""
    if any(plain.subnet_of(network) for network in allowed if network.version == plain.version):  # type: ignore[arg-type]
        return ""
    return (
        "not a public address: an alert made over the API posts only to public addresses or where"
        " 'shoal serve --webhook-allow' allows"
    )
