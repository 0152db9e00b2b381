"""Parsed AST → checked AST: every type is known, every term is one its type accepts, values are canonical.

What each type accepts is data: ``BUILTIN_TYPES`` names and describes the Driftnet types, and
``TYPE_RULES`` holds the few that restrict the operator, the context, prefixes or the value. A type
without a rule takes either operator, any context and prefixes. Errors carry the offending term's
span, narrowed to its type, context or value when ``check`` is given the source text.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from shoal.errors import QueryError
from shoal.model import port_number
from shoal.query.ast import Expr, Match, Not, Range, Span, Term, quote_value
from shoal.query.foreign import foreign_hint
from shoal.query.lexer import FREE_TEXT_TYPE, tokenize
from shoal.query.words import split_words

BUILTIN_TYPES: dict[str, str] = {
    "ip": "an IP address (v4 or v6) scanned or referenced; takes an address or a CIDR range",
    "port-tcp": "the TCP port scanned, 0-65535",
    "port-udp": "the UDP port scanned (a UDP service's report has it instead of port-tcp), 0-65535",
    "server-banner": "the banner or first response of a service; its context is the protocol",
    "protocol": "the protocol identified (the context of server-banner); search it as protocol=name",
    "http-header": "an HTTP response header value; its context is the header name",
    "http-header-name": "an HTTP response header name (the context of http-header); search it as http-header-name=Name",
    "title": "the title of an HTML page",
    "url": "a URL seen anywhere; url:example.com also matches its subdomains",
    "host": "a hostname seen anywhere; matches whole labels from the right, so subdomains match",
    "subject": "the subject of a TLS certificate",
    "issuer": "the issuer of a TLS certificate",
    "cert-dns-name": "a DNS name listed in a TLS certificate",
    "cert-sha256": "the SHA-256 fingerprint of a TLS certificate",
    "cert-serial": "a TLS certificate's serial number, lower-case hex without leading zeros",
    "cert-not-before": "the day a TLS certificate becomes valid, YYYY-MM-DD (UTC)",
    "cert-not-after": "the day a TLS certificate expires, YYYY-MM-DD (UTC)",
    "cert-key-type": "a TLS certificate's key type: rsa, ec, dsa, ed25519 or ed448",
    "cert-key-bits": "the size of a TLS certificate's key in bits",
    "cert-signature-algorithm": "a TLS certificate's signature algorithm, as OpenSSL names it",
    "cert-self-signed": "true if a TLS certificate is signed by its own key, else false",
    "cert-expired": "true if a TLS certificate had expired when it was seen, else false",
    "ja4x-hash": "the JA4X fingerprint of a TLS certificate (how it was built)",
    "ja4s-hash": "the JA4S fingerprint of a TLS server's answer to the collector's ClientHello",
    "jarm": "the JARM fingerprint of a TLS server",
    "ssh-kex": "an SSH server's algorithm list; its context names the list, e.g. kex_algorithms",
    "hassh-server": "the HASSH fingerprint of an SSH server (MD5 of its kex, cipher, MAC and compression lists)",
    "ssh-hostkey-sha256": "an SSH host key's SHA-256 fingerprint (base64, as ssh-keygen -l); context: the key type",
    "ssh-hostkey-bits": "the size of an SSH host key in bits; its context is the key type",
    "obj-md5": "the MD5 of an object fetched from a service; context favicon: its favicon",
    "obj-sha1": "the SHA-1 of an object fetched from a service; context favicon: its favicon",
    "obj-sha256": "the SHA-256 of an object fetched from a service; context favicon: its favicon",
    "obj-murmur3": "Shodan's favicon hash (signed 32-bit MurmurHash3 of the base64); context favicon",
    "dns-mx": "an MX record of a name, preference and exchange (10 mx.example.com); host;dns-mx is the exchange",
    "dns-txt": "a TXT string of a name; context spf (v=spf1…), dmarc (its _dmarc TXT) or empty",
    "entity": "the organisation holding the IP address",
    "asn": "the autonomous system number of the IP address (15169; AS15169 is read as 15169)",
    "geo-country": "the two-letter country code of the IP address; search it as geo-country=GB",
    "product-tag": "a product identified from the response",
    "product-info": "details (such as the version) of an identified product",
    "search-term": "a value of any type (slower than naming the type)",
    # What services announce, from the collector's probes (docs/collector.md); the context is the protocol.
    "version": "the software version a service announces (context: the protocol)",
    "product": "the product a service names itself, such as RabbitMQ (context: the protocol)",
    "protocol-version": "a protocol version or dialect a service speaks, such as SMB 3.1.1 (context: the protocol)",
    "capability": "a capability, extension or feature a service lists (context: the protocol)",
    "auth-method": "an authentication method a service offers; None for VNC means no password (context: the protocol)",
    "starttls": "the service offers an upgrade to TLS: offered, or required (context: the protocol)",
    "signing": "whether an SMB server signs: required, enabled or disabled",
    "guid": "the GUID a service announces, such as an SMB server's",
    "naming-context": "a naming context of an LDAP directory's root DSE",
    "server-name": "the name a service gives itself: host, domain, node or cluster (context: the protocol)",
    "share": "a share a service lists to anyone: rsync modules, NUT's UPS names",
    # what only the UDP probes record
    "mdns-service": "a service type an mDNS responder announces, e.g. _http._tcp.local",
    "mdns-instance": "a service instance an mDNS responder announces; its context is the service type",
    "mdns-srv": "where an mDNS service instance is, host:port (its SRV record); its context is the instance",
    "snmp-enterprise": "the IANA enterprise number in an SNMPv3 engine id: 8072 net-snmp, 9 Cisco, 2636 Juniper…",
    "snmp-engine-boots": "how many times an SNMPv3 engine has booted",
    "snmp-engine-time": "seconds since an SNMPv3 engine last booted",
    "ntp-stratum": "an NTP server's stratum: 1 has a clock, 16 is unsynchronized",
    "ntp-refid": "an NTP server's reference: a clock (GPS, PPS) at stratum 1, its server's address above",
    "ntp-leap": "an NTP server's leap indicator: none, or unsynchronized",
    "netbios-name": "a NetBIOS name of a node; its context is its role (workstation, file-server, workgroup…)",
    "mac-address": "a MAC address a service gives away; its context says which (netbios, snmp-engine-id)",
    "ike-transform": "an IKE transform (algorithm) an IPsec responder chose from the ones offered",
    "ike-vendor-id": "a vendor id (hex) an IPsec responder sent; product;ike names the known ones",
    "ike-notify": "an IKE notification an IPsec responder sent, e.g. NO_PROPOSAL_CHOSEN",
    "coap-resource": "a resource a CoAP device lists at /.well-known/core",
}

# The spec's two context keywords: ``protocol=X`` is an item of the named type with context X (and
# ``summarize=protocol`` counts those contexts). The one table every engine, the API and the CLI read.
CONTEXT_KEYWORDS: dict[str, str] = {"protocol": "server-banner", "http-header-name": "http-header"}


def _canonical_ip(value: str) -> str | None:
    """``value`` as ipaddress prints it (host bits of a CIDR cleared), or None if it is not an address or CIDR."""
    try:
        address = ipaddress.ip_network(value, strict=False) if "/" in value else ipaddress.ip_address(value)
    except ValueError:
        return None
    text = str(address)
    return None if "%" in text else text  # scoped IPv6 addresses never appear in reports


def _canonical_port(value: str) -> str | None:
    """``value`` without leading zeros, or None if it is not a whole number from 0 to 65535."""
    number = port_number(value)
    return None if number is None else str(number)


MAX_NUMBER = (1 << 63) - 1  # the largest bound of a number range
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _canonical_number(value: str) -> str | None:
    """``value`` without leading zeros, or None if it is not a whole number from 0 to MAX_NUMBER."""
    if not (value.isascii() and value.isdigit()):
        return None
    digits = value.lstrip("0") or "0"
    return digits if len(digits) <= 19 and int(digits) <= MAX_NUMBER else None


def _without_as(value: str) -> str:
    """An AS number as Shodan and whois write it (``AS15169``, any case) as ``asn`` items hold it: ``15169``."""
    digits = value[2:]
    return digits if value[:2].lower() == "as" and digits.isascii() and digits.isdigit() else value


def _canonical_asn(value: str) -> str | None:
    """A range's bound of ``asn``: a whole number, with or without the AS prefix."""
    return _canonical_number(_without_as(value))


def _canonical_day(value: str) -> str | None:
    """``value`` if it is a day written YYYY-MM-DD, else None."""
    if not _DAY.fullmatch(value):
        return None
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return None
    return value


NUMBERS, DAYS = "numbers", "days"  # what a range of a type's values compares (TypeRule.ranges)


@dataclass(frozen=True, slots=True)
class TypeRule:
    """Restrictions a type puts on its terms; the defaults restrict nothing."""

    match: Match | None = None  # the only operator allowed
    context: bool = True  # may a term name a context?
    prefix_hint: str = ""  # non-empty: prefixes are not allowed, and this says what to do instead
    canonical: Callable[[str], str | None] | None = None  # canonical text of a value; None when invalid
    expects: str = ""  # what canonical accepts, e.g. "an IP address or CIDR range"
    example: str = ""  # a valid term of this type
    ranges: str = ""  # NUMBERS or DAYS: the type's values are whole numbers or days, so it takes ranges
    bound: Callable[[str], str | None] | None = None  # canonical text of a range's bound; None when invalid
    bound_expects: str = ""  # what bound accepts
    stored_form: Callable[[str], str] | None = None  # a value as the type's are stored: one case, AS15169 → 15169
    largest: int = MAX_NUMBER  # the largest value of a NUMBERS type


_NUMBER_RULE = TypeRule(ranges=NUMBERS, bound=_canonical_number, bound_expects="a whole number", example="2048")
_DAY_RULE = TypeRule(ranges=DAYS, bound=_canonical_day, bound_expects="a day, YYYY-MM-DD", example="2027-01-01")
_ASN_RULE = replace(_NUMBER_RULE, stored_form=_without_as, bound=_canonical_asn, example="15169")
# Types whose values are whole numbers (without leading zeros) or days: they take ranges (``port-tcp:[1 TO 1024]``).
NUMBER_TYPES = (
    "asn",
    "cert-key-bits",
    "ssh-hostkey-bits",
    "ntp-stratum",
    "snmp-enterprise",
    "snmp-engine-boots",
    "snmp-engine-time",
)
DAY_TYPES = ("cert-not-before", "cert-not-after")
# Types whose values are stored in one case, by whoever writes them (the enrichment's rules, the certificate
# parser, the probes' hex digests): a term's value is put in that case, so ``geo-country=us`` finds US.
ONE_CASE: dict[str, Callable[[str], str]] = {
    "geo-country": str.upper,
    **dict.fromkeys(
        (
            "product-tag",
            "cert-serial",
            "cert-sha256",
            "cert-key-type",
            "cert-self-signed",
            "cert-expired",
            "hassh-server",
            "jarm",
            "ja4x-hash",
            "ja4s-hash",
            "obj-md5",
            "obj-sha1",
            "obj-sha256",
        ),
        str.lower,
    ),
}


TYPE_RULES: dict[str, TypeRule] = {
    **{keyword: TypeRule(match=Match.EXACT, context=False) for keyword in CONTEXT_KEYWORDS},
    "search-term": TypeRule(context=False),
    "ip": TypeRule(
        prefix_hint="use a CIDR range for a block of addresses, e.g. ip:10.0.0.0/8",
        canonical=_canonical_ip,
        expects="an IP address or CIDR range",
        example="ip:8.8.8.8 or ip:2001:db8::/32",
    ),
    **{
        port_type: TypeRule(
            prefix_hint=f"write the whole port number, e.g. {port_type}:{example}",
            canonical=_canonical_port,
            expects="a port number from 0 to 65535",
            example=f"{port_type}:{example}",
            ranges=NUMBERS,
            bound=_canonical_port,
            bound_expects="a port number from 0 to 65535",
            largest=65535,
        )
        for port_type, example in (("port-tcp", 443), ("port-udp", 53))
    },
    "host": TypeRule(prefix_hint="host: already matches subdomains: host:example.com matches www.example.com"),
    **dict.fromkeys(NUMBER_TYPES, _NUMBER_RULE),
    "asn": _ASN_RULE,  # asn:AS15169 (Shodan's way) is asn:15169
    **dict.fromkeys(DAY_TYPES, _DAY_RULE),
    **{one_case: TypeRule(stored_form=case) for one_case, case in ONE_CASE.items()},
}
_NO_RULE = TypeRule()
RANGE_TYPES = tuple(sorted(name for name, rule in TYPE_RULES.items() if rule.ranges))


def inclusive_bounds(node: Range) -> tuple[int | dt.date | None, int | dt.date | None] | None:
    """The first and last value a checked range holds (None: unbounded), as numbers or days by its type's rule,
    or None when it holds none (``port-tcp:{5 TO 6}``, ``port-tcp:>65535``)."""
    rule = TYPE_RULES[node.type]
    days = rule.ranges == DAYS
    step: int | dt.timedelta = dt.timedelta(days=1) if days else 1
    read: Callable[[str], int | dt.date] = dt.date.fromisoformat if days else int  # type: ignore[assignment]
    first = None if node.low is None else read(node.low)
    last = None if node.high is None else read(node.high)
    try:
        if first is not None and not node.include_low:
            first = first + step  # type: ignore[operator]
        if last is not None and not node.include_high:
            last = last - step  # type: ignore[operator]
    except OverflowError:  # past the last day or before the first
        return None
    if first is not None and last is not None and first > last:  # type: ignore[operator]
        return None
    if days:
        return first, last
    if (first is not None and first > rule.largest) or (last is not None and last < 0):  # type: ignore[operator]
        return None
    return first, last


def check(expr: Expr, known_types: Collection[str], *, source: str | None = None, free_text: bool = False) -> Expr:
    """Return ``expr`` with canonical values, or raise QueryError for the first term that is not valid.

    ``known_types`` are the types the store has seen; they are valid alongside BUILTIN_TYPES. Pass the
    text ``expr`` was parsed from as ``source`` to have errors point at the faulty part of a term. In free
    text, a term of an unknown type is free text itself (``http://example.com`` searches those words).
    """
    return _Checker(frozenset(known_types) | BUILTIN_TYPES.keys(), source, free_text).visit(expr)


def closest(name: str, candidates: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``name`` (difflib's ratio, at least ``cutoff``); on a tie the first in ``candidates``,
    so that ``port`` suggests ``port-tcp`` rather than ``port-udp``."""
    matcher = difflib.SequenceMatcher(b=name.lower())
    best, best_ratio = None, cutoff
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio:
            ratio = matcher.ratio()
            if ratio > best_ratio or (best is None and ratio >= best_ratio):
                best, best_ratio = candidate, ratio
    return best


@dataclass(frozen=True, slots=True)
class _TermLocation:
    """Where the parts of a term sit in the source; each is the whole term's span when unknown."""

    type: Span
    context: Span  # the ``;`` and the context
    value: Span
    low: Span  # a range's bounds: the value's span when unknown or open
    high: Span


def _range_example(item_type: str, rule: TypeRule) -> str:
    if rule.ranges == DAYS:
        return f"{item_type}:[2026-01-01 TO 2026-12-31]"
    return f"{item_type}:[1 TO 1024]" if item_type.startswith("port-") else f"{item_type}:[1 TO {rule.example}]"


class _Checker:
    def __init__(self, known_types: frozenset[str], source: str | None, free_text: bool = False) -> None:
        self.known_types = known_types
        self.sorted_types = sorted(known_types)
        self.source = source
        self.free_text = free_text

    def visit(self, expr: Expr) -> Expr:
        if isinstance(expr, Term):
            return self.visit_term(expr)
        if isinstance(expr, Range):
            return self.visit_range(expr)
        if isinstance(expr, Not):
            return replace(expr, child=self.visit(expr.child))
        return replace(expr, children=tuple(self.visit(child) for child in expr.children))

    def as_free_text(self, term: Term | Range) -> Term | Range:
        """In free text, a term of an unknown type (but another engine's filter name) is free text itself."""
        if not self.free_text or term.type in self.known_types or foreign_hint(term.type) is not None:
            return term
        text = self.source[term.span.start : term.span.end] if self.source is not None else str(term)
        return Term(FREE_TEXT_TYPE, Match.WORDS, text, span=term.span)

    def known(self, term: Term | Range, where: _TermLocation) -> None:
        if term.type in self.known_types:
            return
        value = term.value if isinstance(term, Term) else None
        foreign = foreign_hint(term.type, value)
        if foreign is not None:
            raise QueryError(foreign[0], where.type.start, where.type.end, foreign[1])
        raise QueryError(f"unknown type '{term.type}'", where.type.start, where.type.end, self._suggest(term.type))

    @staticmethod
    def context_allowed(term: Term | Range, rule: TypeRule, where: _TermLocation) -> None:
        """A QueryError at the context when ``term`` has one and its type takes none."""
        if not rule.context and term.context is not None:
            raise QueryError(
                f"{term.type} takes no context",
                where.context.start,
                where.context.end,
                f"write {replace(term, context=None)}",
            )

    def visit_range(self, node: Range) -> Term | Range:
        free = self.as_free_text(node)
        if isinstance(free, Term):
            return self.visit_term(free)
        where = self._locate(node)
        self.known(node, where)
        rule = TYPE_RULES.get(node.type, _NO_RULE)
        if not rule.ranges:
            raise QueryError(
                f"{node.type} takes no range: its values are not numbers or days",
                where.value.start,
                where.value.end,
                f"ranges work on {', '.join(RANGE_TYPES)}; to search the text, quote it: "
                f"{node.type}:{quote_value(self._text(where.value, node))}",
            )
        self.context_allowed(node, rule, where)
        assert rule.bound is not None
        bounds = []
        for bound, span in ((node.low, where.low), (node.high, where.high)):
            canonical = None if bound is None else rule.bound(bound)
            if bound is not None and canonical is None:
                raise QueryError(
                    f"{node.type} ranges need {rule.bound_expects}",
                    span.start,
                    span.end,
                    f"e.g. {_range_example(node.type, rule)}",
                )
            bounds.append(canonical)
        node = replace(node, low=bounds[0], high=bounds[1])
        if inclusive_bounds(node) is None:
            raise QueryError(
                f"the range {self._text(where.value, node)} holds no value",
                where.value.start,
                where.value.end,
                f"put the lower bound first, e.g. {_range_example(node.type, rule)}",
            )
        return node

    def _text(self, span: Span, node: Range) -> str:
        return self.source[span.start : span.end] if self.source is not None else str(node).partition(":")[2]

    def visit_term(self, term: Term) -> Term:
        term = self.as_free_text(term)  # type: ignore[assignment]
        where = self._locate(term)
        self.known(term, where)
        rule = TYPE_RULES.get(term.type, _NO_RULE)
        if rule.match is not None and term.match is not rule.match:
            fixed = replace(term, match=rule.match, context=term.context if rule.context else None)
            raise QueryError(
                f"{term.type} must be searched with '{rule.match.value}'",
                term.span.start,
                term.span.end,
                f"write {fixed}",
            )
        self.context_allowed(term, rule, where)
        if term.prefix and rule.prefix_hint:
            raise QueryError(
                f"{term.type} values cannot be prefixes", where.value.start, where.value.end, rule.prefix_hint
            )
        if rule.canonical is not None:
            value = rule.canonical(term.value)
            if value is None:
                ranges = f"; for a range, {_range_example(term.type, rule)}" if rule.ranges else ""
                raise QueryError(
                    f"{term.type} needs {rule.expects}",
                    where.value.start,
                    where.value.end,
                    f"e.g. {rule.example}{ranges}",
                )
            term = replace(term, value=value)
        if rule.stored_form is not None:
            term = replace(term, value=rule.stored_form(term.value))
        _check_value(term, where.value)
        return term

    def _suggest(self, type_name: str) -> str:
        close = closest(type_name, self.sorted_types)
        if close:
            return f"did you mean '{close}'?"
        return "search-term:value searches every type"

    def _locate(self, term: Term | Range) -> _TermLocation:
        """Find the parts of ``term`` by lexing its source text again."""
        whole = term.span
        unknown = _TermLocation(whole, whole, whole, whole, whole)
        if self.source is None:
            return unknown
        try:
            tokens = tokenize(self.source[whole.start : whole.end])
        except QueryError:
            return unknown
        parts = tokens[0].term
        if parts is None or len(tokens) != 2 or parts.type != term.type:
            return unknown  # the source is not the text this term was parsed from
        if (parts.range is not None) != isinstance(term, Range) or (
            isinstance(term, Term) and parts.value != term.value
        ):
            return unknown
        context = whole
        if parts.context_span is not None:  # with the ';' before it
            context = Span(whole.start + parts.context_span.start - 1, whole.start + parts.context_span.end)
        value = _shift(parts.value_span, whole.start)
        low = high = value
        if parts.range is not None:
            low = _shift(parts.range.low_span, whole.start) if parts.range.low_span else value
            high = _shift(parts.range.high_span, whole.start) if parts.range.high_span else value
        return _TermLocation(_shift(parts.type_span, whole.start), context, value, low, high)


def _shift(span: Span, offset: int) -> Span:
    return Span(span.start + offset, span.end + offset)


def _check_value(term: Term, value_span: Span) -> None:
    """A prefix needs something to complete; a words match needs a word."""
    if term.match is Match.EXACT:
        if term.prefix and not term.value:
            raise QueryError(
                "'*' needs at least one character before it",
                value_span.start,
                value_span.end,
                f"write the start of the value before the *, e.g. {term.type}=abc*",
            )
        return
    if split_words(term.value):
        return
    exact = replace(term, match=Match.EXACT)
    if term.prefix:
        hint = f"use = for a prefix of the whole value: {exact}" if term.value else f"e.g. {term.type}:abc*"
        raise QueryError("'*' needs a word before it", value_span.start, value_span.end, hint)
    raise QueryError(
        "the value has no words to search for",
        value_span.start,
        value_span.end,
        f"use = for an exact match: {exact}",
    )
