"""``ip/summary`` and ``ip/reverse``: what is known about who holds an address, and which networks a name holds.

``ip/summary`` answers ``{"domain": {"apex_domain", "cidr", "context"}, "entity": {"cidr", "context", "name"}}``
(a key absent when nothing is known for it) from three sources:

- ``rdns`` (``restrict=rdns``): the newest ``domain/rdns`` report of the address; its PTR name's registrable
  domain (the Public Suffix List's ICANN section, shipped in the ``publicsuffixlist`` package). Its CIDR is
  the address itself. Gives a domain only.
- ``net`` (``restrict=whois``): the most specific registered network (RPSL inetnum/inet6num, or a delegation);
  its entity is the organisation's name (else its first descr, else its netname; a delegation: the name of the
  AS its holder holds), its domain the registrable domain of the organisation's (else the network's) mailbox.
- ``bgpasn`` (``restrict=bgp``): the most specific announced prefix (an MRT import, or RPSL route objects) and
  its origin AS's name (an imported aut-num's, else the bundled ASN table's); with no import, the bundled ASN
  table's range holding the address, as its largest CIDR holding the address. Gives an entity only.

Without ``restrict``: the domain from rdns, else whois; the entity from bgp, else whois. ``rwhois`` has no
source in Shoal (no referral whois is imported): always nothing.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections.abc import Callable
from typing import Any

from shoal.enrich.asntable import AsnTable
from shoal.model import RDNS
from shoal.registration.book import BGPASN, NET, Network, RegistrationBook
from shoal.store.base import PAGE_SIZE, Filters, Store

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Part = dict[str, str]
RDNS_CONTEXT = "rdns"
_PSL: list[Any] = []
_PSL_LOCK = threading.Lock()


def registrable_domain(name: str) -> str | None:
    """``mail.example.co.uk`` → ``example.co.uk``; None for a public suffix itself or a name that is no domain."""
    with _PSL_LOCK:
        if not _PSL:
            from publicsuffixlist import PublicSuffixList  # (parses the list: on first use)

            _PSL.append(PublicSuffixList(only_icann=True))
    found = _PSL[0].privatesuffix(name.strip().rstrip(".").lower())
    return str(found) if found else None


class Registrations:
    """The sources of ip/summary and ip/reverse: the book, the store's rdns reports, the bundled ASN table."""

    def __init__(self, book: RegistrationBook, store: Store, asn_table: Callable[[], AsnTable]) -> None:
        self.book, self.store, self.asn_table = book, store, asn_table

    def summary(self, address: Address, restrict: str | None) -> dict[str, Part]:
        """The answer's body; empty when nothing is known (the API's 204)."""
        if restrict == "rwhois":
            return {}
        domain: Part | None = None
        entity: Part | None = None
        if restrict in (None, "rdns"):
            domain = self.rdns_domain(address)
        if restrict in (None, "bgp"):
            entity = self.bgp_entity(address)
        if restrict in (None, "whois") and (domain is None or entity is None):
            network = self.book.most_specific(address, NET)
            if network is not None:
                domain = domain or self.whois_domain(network)
                entity = entity or self.whois_entity(network)
        return {key: part for key, part in (("domain", domain), ("entity", entity)) if part is not None}

    def rdns_domain(self, address: Address) -> Part | None:
        single = ipaddress.ip_network(address)
        page = self.store.search(Filters(dataset=RDNS, ip=single, most_recent=True), 0, PAGE_SIZE)
        for report in sorted(page.reports, key=lambda report: report.date, reverse=True):
            for item in report.items:
                if item.type == "host" and item.context == "dns-ptr":
                    apex = registrable_domain(item.value)
                    if apex:
                        return {"apex_domain": apex, "cidr": str(single), "context": RDNS_CONTEXT}
        return None

    def whois_domain(self, network: Network) -> Part | None:
        organisation = self.book.organisation(network.org) if network.org else None
        mailbox = (organisation.email if organisation is not None else "") or network.email
        domain = mailbox.rpartition("@")[2] if "@" in mailbox else ""
        apex = registrable_domain(domain) if domain else None
        return {"apex_domain": apex, "cidr": network.cidr, "context": NET} if apex else None

    def whois_entity(self, network: Network) -> Part | None:
        organisation = self.book.organisation(network.org) if network.org else None
        name = organisation.name if organisation is not None and organisation.name else ""
        name = name or (network.names[0] if network.names else "") or self.as_name(network.asn)
        return {"cidr": network.cidr, "context": NET, "name": name} if name else None

    def bgp_entity(self, address: Address) -> Part | None:
        prefix = self.book.most_specific(address, BGPASN)
        if prefix is not None:
            name = self.as_name(prefix.asn) or (prefix.names[0] if prefix.names else "")
            if name:
                return {"cidr": prefix.cidr, "context": BGPASN, "name": name}
        found = self.asn_table().lookup_range(str(address))
        if found is None or not found[2] or not found[3]:  # AS 0: not routed
            return None
        first, last, _, name = found
        kind = ipaddress.IPv4Address if address.version == 4 else ipaddress.IPv6Address
        blocks = ipaddress.summarize_address_range(kind(first), kind(last))
        cidr = next(str(block) for block in blocks if address in block)
        return {"cidr": cidr, "context": BGPASN, "name": name}

    def as_name(self, asn: int | None) -> str:
        if asn is None:
            return ""
        return self.book.as_name(asn) or self.asn_table().names.get(asn, "")

    def reverse(self, phrase: str, page: int) -> dict[str, object]:
        """``ip/reverse``'s body: the page (of PAGE_SIZE) of networks whose names hold every word of ``phrase``."""
        total, matches = self.book.reverse(phrase, page * PAGE_SIZE, PAGE_SIZE)
        return {
            "page": page,
            "pages": math.ceil(total / PAGE_SIZE),
            "result_count": total,
            "results": [{"cidr": m.cidr, "contexts": m.contexts, "matches": m.matches} for m in matches],
        }
