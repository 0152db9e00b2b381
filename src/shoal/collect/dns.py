"""DNS for the collector (``dnspython``): reverse lookups into ``rdns`` reports, forward lookups for domain scans.

Every query goes to one configured resolver (``--resolver IP[:PORT]``, default the system's first
nameserver), waits for a token of the query rate, and is bounded: ``timeout`` seconds per try, ``retries``
more tries on a timeout, TCP when the UDP answer is truncated, at most ``MAX_CNAMES`` CNAMEs followed (a loop
ends there) and answers of at most 64 KiB (TCP's own limit). A query that fails answers nothing; it never
raises. Only the resolver is contacted: looking a name up never touches the addresses it resolves to.

The resolver may be hostile (issue 22): a name it gives that is not a DNS name as resolvers print them (NUL
bytes, ``\000`` escapes, spaces; ``shoal.ingest.dnsanswers.DNS_NAME``) is dropped, at most ``MAX_NAMES`` names
are kept per answer, the walk up to a zone's name servers takes at most ``MAX_ZONE_STEPS`` queries, and the
forward and NS lookups of one address stop once they have taken ``ADDRESS_TRIES`` times the time of one query's
tries (the PTR names found are kept).

For one name (``forward``): its A and AAAA addresses (following CNAMEs), NS, MX and TXT records and the TXT of
``_dmarc.NAME``, the answers ``shoal dns --names`` keeps and makes the name's ``fdns`` and ``mx`` reports of.

For one address (``reverse``): its PTR names, the A/AAAA addresses of each name (forward answers, kept for the
domain scans) and the NS names of each name's zone (the SOA owner of a negative answer, or the closest
enclosing name with NS records) → one ``rdns`` report (``ip``; ``host;dns-ptr``; ``host;dns-ns``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.reversename

from shoal.collect.ratelimit import ConnectionRate
from shoal.collect.targets import split_host_port
from shoal.ingest.dnsanswers import DNS_NAME
from shoal.model import RDNS, DnsAnswer, Item, Report, host_key

MAX_CNAMES = 8
MAX_NAMES = 16  # PTR names (or addresses) kept per answer
MAX_ZONE_STEPS = 8  # NS queries walking up from a name to its zone (real names sit 1–4 labels under theirs)
ADDRESS_TRIES = 8  # one address's lookups take at most this many times one query's timeout and retries
DEFAULT_PORT = 53
MAX_TXT_CHARS = 4096  # as the zdns and massdns readers keep a TXT answer


def parse_resolver(text: str | None) -> tuple[str, int]:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT``; None means the system's first nameserver. ValueError if bad."""
    if text is None:
        try:
            nameservers = dns.resolver.Resolver().nameservers
        except dns.resolver.NoResolverConfiguration:
            nameservers = []
        if not nameservers:
            raise ValueError("no system resolver configured: give --resolver IP[:PORT]")
        return str(nameservers[0]), DEFAULT_PORT
    host, given = split_host_port(text.strip())
    port = str(DEFAULT_PORT) if given is None else given
    try:
        address = ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ValueError(f"a resolver is IP[:PORT], e.g. 127.0.0.1:5353, not {text!r}") from None
    if not 1 <= number <= 65535:
        raise ValueError(f"the resolver's port must be 1–65535, not {port}")
    return str(address), number


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    address: str
    port: int = DEFAULT_PORT
    timeout: float = 2.0  # seconds per try
    retries: int = 2  # more tries after a timeout
    rate: float = 500.0  # queries per second
    in_flight: int = 256  # queries waiting for an answer at once (each holds a socket)


@dataclass(slots=True)
class DnsStats:
    queries: int = 0
    answered: int = 0
    failed: int = 0  # timeouts after every retry, malformed answers, server errors
    truncated: int = 0  # UDP answers retried over TCP


@dataclass(slots=True)
class Lookup:
    """What reverse() found for one address."""

    ip: str
    names: list[str] = field(default_factory=list)
    name_servers: list[str] = field(default_factory=list)
    answers: list[DnsAnswer] = field(default_factory=list)

    def report(self, day: dt.date) -> Report | None:
        if not self.names:
            return None
        items = [Item("ip", self.ip, "", True)]
        items += [Item("host", name, "dns-ptr") for name in self.names]
        items += [Item("host", server, "dns-ns") for server in self.name_servers]
        return Report(date=day, items=tuple(items), dataset=RDNS)


def host_text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower()


def sane_host(text: str) -> str | None:
    """A name from an answer as it is kept (lower case, no final dot), or None if it is not a DNS name."""
    name = host_key(text)
    return name if name and DNS_NAME.fullmatch(name) else None


class DnsClient:
    def __init__(self, settings: ResolverSettings) -> None:
        self.settings = settings
        self.rate = ConnectionRate(settings.rate)
        self.stats = DnsStats()
        self._slots = asyncio.Semaphore(settings.in_flight)

    async def query(self, name: str | dns.name.Name, rdtype: str) -> dns.message.Message | None:
        """The resolver's answer (any rcode), or None when it never came (every try timed out) or was bad."""
        try:
            request = dns.message.make_query(name, rdtype)
        except (dns.exception.DNSException, ValueError):
            return None
        for _ in range(1 + self.settings.retries):
            await self.rate.acquire()
            self.stats.queries += 1
            try:
                async with self._slots:
                    response = await self._exchange(request)
            except dns.exception.Timeout:
                continue
            except (dns.exception.DNSException, OSError, EOFError, ValueError):
                break
            self.stats.answered += 1
            return response
        self.stats.failed += 1
        return None

    async def _exchange(self, request: dns.message.Message) -> dns.message.Message:
        address, port, timeout = self.settings.address, self.settings.port, self.settings.timeout
        response = await dns.asyncquery.udp(request, address, timeout, port, ignore_unexpected=True)
        if response.flags & dns.flags.TC:
            self.stats.truncated += 1
            response = await dns.asyncquery.tcp(request, address, timeout, port)
        return response

    async def records(self, name: str | dns.name.Name, rdtype: str) -> tuple[list[str], list[str]]:
        """(values of ``rdtype`` for ``name``, the CNAME chain followed to reach them)."""
        current = dns.name.from_text(name) if isinstance(name, str) else name
        chain: list[str] = []
        wanted = dns.rdatatype.from_text(rdtype)
        for _ in range(MAX_CNAMES + 1):
            response = await self.query(current, rdtype)
            if response is None or response.rcode() != dns.rcode.NOERROR:
                return [], chain
            values = [
                record.to_text()
                for rrset in response.answer
                if rrset.name == current and rrset.rdtype == wanted
                for record in rrset
            ]
            if values:
                return values[:MAX_NAMES], chain
            target = _cname_target(response, current)
            if target is None or host_text(target) in chain or sane_host(target.to_text()) is None:
                return [], chain
            chain.append(host_text(target))
            current = target
        return [], chain

    async def addresses(self, name: str, day: dt.date) -> tuple[list[str], list[DnsAnswer]]:
        """The A and AAAA addresses of ``name`` (after CNAMEs), and the forward answers that say so."""
        addresses: list[str] = []
        answers: list[DnsAnswer] = []
        owner = name.rstrip(".").lower()
        for rdtype in ("A", "AAAA"):
            values, chain = await self.records(name, rdtype)
            previous = cname_answers(owner, chain, day, answers)
            for value in values:
                addresses.append(value)
                answers.append(DnsAnswer(previous, rdtype, value, day))
        return list(dict.fromkeys(addresses)), list(dict.fromkeys(answers))

    async def forward(self, name: str, day: dt.date) -> list[DnsAnswer]:
        """Every forward answer about ``name`` (after CNAMEs): A, AAAA, NS, MX and TXT, and the TXT of
        ``_dmarc.NAME`` (``shoal.ingest.forward`` makes its fdns and mx reports of them)."""
        _, answers = await self.addresses(name, day)
        owner = host_key(name)
        for asked, rdtype in ((owner, "NS"), (owner, "MX"), (owner, "TXT"), (f"_dmarc.{owner}", "TXT")):
            values, chain = await self.records(asked, rdtype)
            previous = cname_answers(asked, chain, day, answers)
            for value in values:
                kept = forward_value(rdtype, value)
                if kept is not None:
                    answers.append(DnsAnswer(previous, rdtype, kept, day))
        return list(dict.fromkeys(answers))

    async def zone_servers(self, name: str) -> list[str]:
        """The NS names of the zone ``name`` is in."""
        current = dns.name.from_text(name)
        for _ in range(min(len(current.labels), MAX_ZONE_STEPS)):
            response = await self.query(current, "NS")
            if response is None:
                return []
            ns_sets = [rrset for rrset in response.answer if rrset.rdtype == dns.rdatatype.NS]
            servers = [sane_host(record.target.to_text()) for rrset in ns_sets for record in rrset]
            if any(servers):
                return sorted({server for server in servers if server})[:MAX_NAMES]
            apex = next((rrset.name for rrset in response.authority if rrset.rdtype == dns.rdatatype.SOA), None)
            if apex is not None and apex != current and current.is_subdomain(apex):
                current = apex
            elif current.parent() == dns.name.root:
                return []
            else:
                current = current.parent()
        return []

    async def reverse(self, ip: str, day: dt.date) -> Lookup:
        """PTR names of ``ip``, their zones' name servers, and their forward answers (as many as its time allows)."""
        lookup = Lookup(ip)
        values, _ = await self.records(dns.reversename.from_address(ip), "PTR")
        lookup.names = list(dict.fromkeys(name for value in values if (name := sane_host(value))))
        servers: dict[str, None] = {}
        settings = self.settings
        ends = time.monotonic() + ADDRESS_TRIES * settings.timeout * (1 + settings.retries)
        for name in lookup.names:
            if time.monotonic() >= ends:
                break
            _, answers = await self.addresses(name, day)
            lookup.answers += answers
            servers.update(dict.fromkeys(await self.zone_servers(name)))
        lookup.name_servers = list(servers)[:MAX_NAMES]
        return lookup


def cname_answers(asked: str, chain: Iterable[str], day: dt.date, answers: list[DnsAnswer]) -> str:
    """Append a CNAME answer for each step of ``chain`` from ``asked`` to ``answers``; the name at its end (the
    owner of the records found)."""
    owner = asked
    for target in chain:
        answers.append(DnsAnswer(owner, "CNAME", target, day))
        owner = target
    return owner


def forward_value(rdtype: str, text: str) -> str | None:
    """An NS, MX or TXT record's text as a DnsAnswer keeps it (names lower case without a final dot; an MX as
    ``preference exchange``; TXT as the resolver printed it), or None when it names no DNS name."""
    if rdtype == "NS":
        return sane_host(text)
    if rdtype == "MX":
        preference, _, exchange = text.strip().partition(" ")
        host = sane_host(exchange)
        return f"{preference} {host}" if host and preference.isdigit() else None
    return text[:MAX_TXT_CHARS]


def _cname_target(response: dns.message.Message, name: dns.name.Name) -> dns.name.Name | None:
    for rrset in response.answer:
        if rrset.name == name and rrset.rdtype == dns.rdatatype.CNAME:
            return rrset[0].target
    return None


async def reverse_all(client: DnsClient, ips: Iterable[str], day: dt.date, concurrency: int = 256) -> list[Lookup]:
    """``reverse`` of every address, ``concurrency`` at a time, in the order given."""
    slots = asyncio.Semaphore(concurrency)

    async def one(ip: str) -> Lookup:
        async with slots:
            return await client.reverse(ip, day)

    return list(await asyncio.gather(*(one(ip) for ip in ips)))
