"""STARTTLS and its kin (STLS, AUTH TLS, LDAP's StartTLS, XMPP's <starttls/>, MySQL's and PostgreSQL's SSL
requests): once the service has agreed, the TLS layer is the TLS probe's, so the certificate's items are the
same as on a TLS port. No login follows."""

from __future__ import annotations

import ssl

from shoal.collect.connection import Connection
from shoal.collect.probes import tls
from shoal.model import Item

STARTTLS = "starttls"  # the item type: context the protocol, value "offered" (or "required")


async def upgrade(connection: Connection, protocol: str, offer: str = "offered") -> list[Item]:
    """The ``starttls`` item, then the certificate's items once the handshake is done (none if it failed:
    the offer is still a fact worth keeping)."""
    offered = Item(STARTTLS, offer, protocol)
    try:
        return [offered, *await tls.handshake(connection)]
    except (OSError, TimeoutError, ssl.SSLError):
        return [offered]
