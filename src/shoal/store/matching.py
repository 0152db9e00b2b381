"""Does a report meet a plan? The engine-neutral plan (``shoal.store.plan``) evaluated on one report in Python.

What alerts use to test the reports of a committed batch against every saved search without asking the engine
(``shoal.alerts.evaluate``), and what the toy engine of the tests searches with; the conformance cases hold it
to the engines' semantics (``tests/store/test_toy_engine.py``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from shoal.model import Item, Report
from shoal.query.words import split_words
from shoal.store.plan import (
    IPV4_MAPPED,
    AllOf,
    AnyOf,
    DateRange,
    Everything,
    Exact,
    HasContext,
    HostName,
    IpRange,
    NoneOf,
    Plan,
    ReportId,
    Words,
    item_host,
)


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
        case _:
            return any(item_holds(plan, item) for item in report.items)


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
            return typed and phrase(split_words(item.value), words, slop, prefix)
    return False


def in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Addresses are compared as engines keep them: an IPv4 one among the IPv6 ones, mapped (``::ffff:a.b.c.d``)."""
    return mapped(ipaddress.ip_network(value)).subnet_of(mapped(network))  # type: ignore[arg-type]


def mapped(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv6Network:
    if network.version == 6:
        return network  # type: ignore[return-value]
    return ipaddress.IPv6Network((IPV4_MAPPED.network_address + int(network.network_address), network.prefixlen + 96))


def phrase(tokens: list[str], words: tuple[str, ...], slop: int, prefix: bool) -> bool:
    """The words in this order, adjacent; with ``prefix`` the last a prefix of a token; with ``slop``, at most
    that many extra positions between them, reversed order costing too (Lucene's sloppy phrase, as pinned for
    two words)."""
    if prefix or slop == 0:
        size = len(words)
        for start in range(len(tokens) - size + 1):
            head, last = tokens[start : start + size - 1], tokens[start + size - 1]
            if head == list(words[:-1]) and (last.startswith(words[-1]) if prefix else last == words[-1]):
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
