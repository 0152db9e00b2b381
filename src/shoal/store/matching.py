"""Does a report meet a plan? The engine-neutral plan (``shoal.store.plan``) evaluated on one report in Python.

What alerts use to test the reports of a committed batch against every saved search without asking the engine
(``shoal.alerts.evaluate``), and what the toy engine of the tests searches with; the conformance cases hold it
to the engines' semantics (``tests/store/test_toy_engine.py``).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator, Sequence

from shoal.model import IPNetwork, Item, Report
from shoal.query.words import split_words
from shoal.store.plan import (
    IPV4_MAPPED,
    NUMBER_DIGITS,
    AllOf,
    AnyOf,
    DateRange,
    DayRange,
    Everything,
    Exact,
    HasContext,
    HostName,
    IpRange,
    NoneOf,
    NumberRange,
    Plan,
    ReportId,
    Words,
    item_host,
)


@functools.lru_cache(maxsize=1 << 16)
def words_of(value: str) -> tuple[str, ...]:
    """``split_words``, remembered: banners, titles and headers repeat across reports, and each value is split
    both to find the alerts a report could match and to test them."""
    return tuple(split_words(value))


def holds(plan: Plan, report: Report) -> bool:
    """Does ``report`` meet ``plan``?"""
    match plan:
        case AllOf(children):
            return all(holds(child, report) for child in children)
        case AnyOf(children):
            return any(holds(child, report) for child in children)
        case NoneOf(child):
            return not holds(child, report)
        case Everything():
            return True
        case ReportId(report_id):
            return report.id == report_id
        case DateRange(first, last):
            return (first is None or report.date >= first) and (last is None or report.date <= last)
        case IpRange(network, ""):
            return report.ip is not None and in_network(report.ip, network)
        case IpRange():
            return any(item_holds(plan, item) for item in report.items if item.type == "ip")
        case _:
            wanted = plan.type  # type: ignore[union-attr]  # an item-level node: items of other types never hold
            return any(item_holds(plan, item) for item in report.items if wanted is None or item.type == wanted)


def item_holds(plan: Plan, item: Item) -> bool:
    match plan:
        case IpRange(network, context):
            return item.type == "ip" and context in (None, item.context) and in_network(item.value, network)
        case Exact(item_type, context, value, prefix):
            typed = item_type in (None, item.type) and context in (None, item.context)
            return typed and (item.value.startswith(value) if prefix else item.value == value)
        case HasContext(item_type, context, prefix):
            return item.type == item_type and (item.context.startswith(context) if prefix else item.context == context)
        case HostName(item_type, context, name, whole):
            host = (
                item_host(item.type, item.value) if item.type == item_type and context in (None, item.context) else None
            )
            return host is not None and (host == name or (not whole and host.endswith("." + name)))
        case Words(item_type, context, words, slop, prefix):
            typed = item_type in (None, item.type) and context in (None, item.context)
            return typed and phrase(words_of(item.value), words, slop, prefix)
        case NumberRange(item_type, context, first, last):
            typed = item.type == item_type and context in (None, item.context) and NUMBER.fullmatch(item.value)
            return bool(typed) and (first or 0) <= int(item.value) and (last is None or int(item.value) <= last)
        case DayRange(item_type, context, first, last):
            typed = item.type == item_type and context in (None, item.context) and DAY.fullmatch(item.value)
            after_first = first is None or item.value >= first.isoformat()
            return bool(typed) and after_first and (last is None or item.value <= last.isoformat())
    return False


NUMBER = re.compile(f"0|[1-9][0-9]{{0,{NUMBER_DIGITS - 1}}}")  # plan.NumberRange: the numbers a range compares
DAY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")


def in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Addresses are compared as engines keep them: an IPv4 one among the IPv6 ones, mapped (``::ffff:a.b.c.d``).
    A value that is no address (or a network wider than one) is in none."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return in_mapped(ipaddress.ip_network(value), network)
    number = int(address) + (MAPPED_BASE if address.version == 4 else 0)
    base, length = mapped(network)
    return number >> (128 - length) == base >> (128 - length)


def in_mapped(inner: ipaddress.IPv4Network | ipaddress.IPv6Network, network: IPNetwork) -> bool:
    base, length = mapped(network)
    inner_base, inner_length = mapped(inner)
    return inner_length >= length and inner_base >> (128 - length) == base >> (128 - length)


MAPPED_BASE = int(IPV4_MAPPED.network_address)


def mapped(network: IPNetwork) -> tuple[int, int]:
    """A network among the IPv6 ones (an IPv4 one mapped): its first address as a number, and its prefix length."""
    if network.version == 6:
        return int(network.network_address), network.prefixlen
    return MAPPED_BASE + int(network.network_address), network.prefixlen + 96


def phrase(tokens: Sequence[str], words: tuple[str, ...], slop: int, prefix: bool) -> bool:
    """The words in this order, adjacent; with ``prefix`` the last a prefix of a token; with ``slop``, at most
    that many extra positions between them, reversed order costing too (Lucene's sloppy phrase, as pinned for
    two words)."""
    if prefix or slop == 0:
        size, head = len(words), words[:-1]
        if size == 1 and not prefix:
            return words[0] in tokens
        for start in range(len(tokens) - size + 1):
            last = tokens[start + size - 1]
            if tuple(tokens[start : start + size - 1]) == head and (
                last.startswith(words[-1]) if prefix else last == words[-1]
            ):
                return True
        return False
    places = [[at for at, token in enumerate(tokens) if token == word] for word in words]

    def spread(chosen: tuple[int, ...]) -> int:
        offsets = [at - index for index, at in enumerate(chosen)]
        return max(offsets) - min(offsets)

    return any(len(set(chosen)) == len(chosen) and spread(chosen) <= slop for chosen in combinations(places))


def combinations(places: list[list[int]]) -> Iterator[tuple[int, ...]]:
    if not places:
        yield ()
        return
    for first in places[0]:
        for rest in combinations(places[1:]):
            yield (first, *rest)
