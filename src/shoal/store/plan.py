"""Lowering: a checked AST plus the request's filters → a small engine-neutral plan.

Every rule of the query language that is not about one engine lives here, once: what ``host:``, ``url:``,
``search-term:``, ``protocol=``, ``http-header-name=``, ``port-tcp``/``port-udp`` and ``ip`` mean, and how a value
is split into words (``shoal.query.words``). An engine compiles the plan through a table from node type to
its own output (``store/embedded/compile.py`` → tantivy queries, ``store/clickhouse/compile.py`` → SQL).

    Plan := Words | Exact | HasContext | HostName | IpRange | NumberRange | DayRange | DateRange | ReportId
            | AllOf | AnyOf | NoneOf | Everything | Nothing

Item-level nodes (``Words``, ``Exact``, ``HasContext``, ``HostName``, ``IpRange``, ``NumberRange``, ``DayRange``)
select the reports that hold at least one item meeting them; ``type=None`` means an item of any type.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from shoal.model import PORT_TYPES, decimal_text, host_key
from shoal.query.ast import And, Expr, Match, Not, Or, Range, Term
from shoal.query.check import CONTEXT_KEYWORDS, DAYS, TYPE_RULES, inclusive_bounds
from shoal.query.words import split_words
from shoal.store.base import Filters, IPNetwork


@dataclass(frozen=True, slots=True)
class Words:
    """The words appear in this order in one item, with at most ``slop`` extra positions between them (Lucene's
    sloppy phrase: reversed order costs slop too); with ``prefix``, the last word is a prefix of an item word
    and the others are adjacent (slop does not apply)."""

    type: str | None
    context: str | None  # None: any context
    words: tuple[str, ...]  # never empty
    slop: int = 0
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Exact:
    """An item's whole value equals ``value`` (with ``prefix``: starts with it), case-sensitive."""

    type: str | None
    context: str | None
    value: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class HasContext:
    """An item of ``type`` whose context equals ``context`` (with ``prefix``: starts with it)."""

    type: str
    context: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class HostName:
    """An item of ``type`` naming a host (a ``host`` value, or the host part of a ``url`` value) equal to
    ``name`` or, unless ``whole``, under it by whole labels (``example.com`` holds ``a.example.com``).
    ``name`` is lowercased and has no trailing dot, as hosts are compared (``host_key``)."""

    type: str
    context: str | None
    name: str
    whole: bool = False


@dataclass(frozen=True, slots=True)
class IpRange:
    """An ``ip`` item with an address in ``network``: any ``ip`` item when ``context`` is None, the scanned
    address (the report's first ``ip`` item with an empty context) when it is "", else an item with that
    context."""

    network: IPNetwork
    context: str | None


@dataclass(frozen=True, slots=True)
class NumberRange:
    """An item of ``type`` whose value is a whole number written canonically (decimal digits, no leading zero, at
    most NUMBER_DIGITS of them) from ``first`` to ``last`` (inclusive; None: unbounded)."""

    type: str
    context: str | None
    first: int | None
    last: int | None


NUMBER_DIGITS = 19  # a value with more digits is not a number to a range (every engine alike)


@dataclass(frozen=True, slots=True)
class DayRange:
    """An item of ``type`` whose value is a day written YYYY-MM-DD (digits and dashes) from ``first`` to ``last``
    (inclusive; None: unbounded): days compare as their text does."""

    type: str
    context: str | None
    first: dt.date | None
    last: dt.date | None


@dataclass(frozen=True, slots=True)
class DateRange:
    """The report's date from ``first`` to ``last``."""

    first: dt.date | None  # inclusive
    last: dt.date | None  # inclusive


@dataclass(frozen=True, slots=True)
class ReportId:
    """The report with this id."""

    id: str


@dataclass(frozen=True, slots=True)
class AllOf:
    children: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    children: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class NoneOf:
    """Not ``child``."""

    child: Plan


@dataclass(frozen=True, slots=True)
class Everything:
    pass


@dataclass(frozen=True, slots=True)
class Nothing:
    pass


Plan = (
    Words
    | Exact
    | HasContext
    | HostName
    | IpRange
    | NumberRange
    | DayRange
    | DateRange
    | ReportId
    | AllOf
    | AnyOf
    | NoneOf
    | Everything
    | Nothing
)
ItemNode = Words | Exact | HasContext | HostName | IpRange | NumberRange | DayRange


def lower(filters: Filters) -> Plan:
    """The whole selection: report id AND expression AND the ip parameter AND the date range (the dataset,
    superseded reports and most_recent are the engine's)."""
    parts: list[Plan] = []
    if filters.report_id is not None:
        parts.append(ReportId(filters.report_id))
    if filters.expression is not None:
        parts.append(Lowering(filters.slop, filters.host_in_url).lower(filters.expression))
    if filters.ip is not None:
        parts.append(ip_range(filters.ip, None if filters.indirect else ""))
    if filters.date_from is not None or filters.date_to is not None:
        parts.append(DateRange(filters.date_from, filters.date_to))
    if not parts:
        return Everything()
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


@dataclass(frozen=True, slots=True)
class Lowering:
    slop: int = 0
    host_in_url: bool = False

    def lower(self, expr: Expr) -> Plan:
        if isinstance(expr, Term):
            return self.term(expr)
        if isinstance(expr, Range):
            return value_range(expr)
        if isinstance(expr, Not):
            return NoneOf(self.lower(expr.child))
        if isinstance(expr, And):
            return AllOf(tuple(self.lower(child) for child in expr.children))
        assert isinstance(expr, Or)
        return AnyOf(tuple(self.lower(child) for child in expr.children))

    def term(self, term: Term) -> Plan:
        if term.type in CONTEXT_KEYWORDS:
            return HasContext(CONTEXT_KEYWORDS[term.type], term.value, term.prefix)
        if term.type == "search-term":
            return self.text(None, term)
        if term.type in PORT_TYPES:
            return Exact(term.type, term.context, port_value(term.value))
        if term.type == "ip":
            return ip_range(ipaddress.ip_network(term.value, strict=False), term.context)
        if term.type == "host":
            types = ("host", "url") if self.host_in_url else ("host",)
            name, whole = host_key(term.value), term.match is Match.EXACT
            return any_of([HostName(item_type, term.context, name, whole) for item_type in types])
        if term.type == "url" and term.match is Match.WORDS and not term.prefix and looks_like_host(term.value):
            return any_of([self.text("url", term), HostName("url", term.context, host_key(term.value))])
        return self.text(term.type, term)

    def text(self, item_type: str | None, term: Term) -> Plan:
        if term.match is Match.EXACT:
            return Exact(item_type, term.context, term.value, term.prefix)
        words = tuple(split_words(term.value))
        if not words:
            return Nothing()  # the checker refuses such a term; an engine never sees an empty phrase
        return Words(item_type, term.context, words, 0 if term.prefix or len(words) == 1 else self.slop, term.prefix)


def value_range(node: Range) -> Plan:
    """A checked range as the numbers or days it holds."""
    bounds = inclusive_bounds(node)
    if bounds is None:
        return Nothing()  # the checker refuses an empty range; an engine never sees one
    first, last = bounds
    rule = TYPE_RULES[node.type]
    if rule.ranges == DAYS:
        return DayRange(node.type, node.context, first, last)  # type: ignore[arg-type]
    return NumberRange(node.type, node.context, first, rule.largest if last is None else last)  # type: ignore[arg-type]


IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # where engines index IPv4 addresses among IPv6 ones


def ip_range(network: IPNetwork, context: str | None) -> Plan:
    """An IPv6 network holding the IPv4-mapped range (``::/0``) means its IPv6 addresses only: the range less
    the mapped one, as at most 96 CIDRs (docs/api.md)."""
    if network.version == 6 and IPV4_MAPPED.subnet_of(network):  # type: ignore[arg-type]
        parts = sorted(network.address_exclude(IPV4_MAPPED))  # type: ignore[arg-type]
        return any_of([IpRange(part, context) for part in parts])
    return IpRange(network, context)


def any_of(plans: list[Plan]) -> Plan:
    return plans[0] if len(plans) == 1 else AnyOf(tuple(plans))


def port_value(value: str) -> str:
    """A port as items store it: without leading zeros (``0443`` is 443)."""
    return decimal_text(value) if value.isdecimal() else value


def url_host(url: str) -> str | None:
    """The host part of a URL value (``https://a.example.com/x`` → ``a.example.com``), if it has one: what
    ``urlsplit`` reads (a plain ``scheme://name[:port]/…`` is read directly, 10× faster: every import reads it)."""
    text = url.strip()
    start = text.find("://")
    if start > 0 and text[0].isascii() and text[0].isalpha() and _SCHEME.issuperset(text[:start]):
        end = start + 3
        while end < len(text) and text[end] not in "/?#":
            end += 1
        name = text[start + 3 : end].partition(":")[0]
        if name and _HOST_NAME.issuperset(text[start + 3 : end]) and _PLAIN.isdisjoint(text):
            return name.lower()
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname
    except ValueError:
        return None
    return host or None


_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
_HOST_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:")  # a name or v4, a port
_PLAIN = frozenset("\t\r\n")  # urlsplit removes these anywhere in a URL


def item_host(item_type: str, value: str) -> str | None:
    """The host an item names, as ``HostName`` compares it: a ``host`` value, or a ``url`` value's host."""
    if item_type == "host":
        return host_key(value) or None
    if item_type == "url":
        host = url_host(value)
        return host_key(host) if host else None
    return None


def looks_like_host(value: str) -> bool:
    return "." in value and all(part and all(ch.isalnum() or ch == "-" for ch in part) for part in value.split("."))
