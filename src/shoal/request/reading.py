"""The rest of a request, read and checked: a summary, an open-port query, the types an expression may name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from shoal.errors import BadParameter
from shoal.model import IPNetwork
from shoal.ports import WIDEST_PREFIX, window
from shoal.query.check import BUILTIN_TYPES, CONTEXT_KEYWORDS
from shoal.request.params import (
    PORTS_FROM,
    PORTS_IP,
    PORTS_TO,
    PORTS_TRANSPORT,
    SUMMARIZE,
    SUMMARY_CONTEXT,
    SUMMARY_LIMIT,
    SUMMARY_LIMIT_MAX,
    SUMMARY_LIMIT_MAX_ENTERPRISE,
    SUMMARY_NOCONTEXT,
    Values,
)
from shoal.store.base import PortQuery, Store, SummaryRequest


def known_types(store: Store) -> frozenset[str]:
    """The types an expression may name over ``store``: the built-in ones and those it holds."""
    return frozenset(BUILTIN_TYPES) | store.known_types()


def summary_of(values: Values, known: Collection[str], enterprise: bool) -> SummaryRequest | None:
    """A request's summary (``summarize`` and its options), or None when it asks for reports."""
    summary_type = SUMMARIZE.read(values)
    if summary_type is None:
        return None
    return summary_request(
        summary_type,
        known,
        enterprise,
        SUMMARY_LIMIT.read(values),
        SUMMARY_CONTEXT.read(values),
        SUMMARY_NOCONTEXT.read(values),
    )


def summary_request(
    summary_type: str,
    known: Collection[str],
    enterprise: bool,
    limit: int | None = None,
    contexts: Sequence[str] = (),
    excluded_contexts: Sequence[str] = (),
) -> SummaryRequest:
    """A summary of ``summary_type`` (an item type, or a context keyword such as ``protocol``)."""
    if summary_type not in known and summary_type not in CONTEXT_KEYWORDS:
        raise BadParameter("summarize", f"unknown type {summary_type!r} for 'summarize'")
    chosen = summary_limit_of(SUMMARY_LIMIT.default if limit is None else limit, enterprise)
    return SummaryRequest(summary_type, tuple(contexts), tuple(excluded_contexts), chosen)


def summary_limit_of(limit: int, enterprise: bool) -> int:
    """``summary_limit``: 1 to 10,000 values, or to 1,000,000 for enterprise tokens."""
    ceiling = SUMMARY_LIMIT_MAX_ENTERPRISE if enterprise else SUMMARY_LIMIT_MAX
    if not 1 <= limit <= ceiling:
        why = "" if enterprise else " (up to 1,000,000 for enterprise tokens)"
        raise BadParameter(SUMMARY_LIMIT.name, f"'summary_limit' must be between 1 and {ceiling}{why}, not {limit}")
    return limit


def port_query_of(
    ip: IPNetwork | None, date_from: dt.date | None, date_to: dt.date | None, today: dt.date, transport: str = "tcp"
) -> PortQuery:
    """scan/ports and scan/ipports: ``ip`` (required, at most WIDEST_PREFIX wide), ``from``, ``to`` (by default the
    last 30 days to ``today``), ``transport`` (Shoal's: the UDP observations instead of the TCP ones)."""
    if ip is None:
        raise BadParameter("ip", "'ip' is required: an IP address or CIDR, e.g. 8.8.8.8 or 8.8.8.0/24")
    widest = WIDEST_PREFIX[ip.version]
    if ip.prefixlen < widest:
        raise BadParameter(
            "ip",
            f"'ip' {ip} is wider than /{widest}, the widest CIDR searched for open ports: "
            f"split it into /{widest} ranges (or smaller) and make one request for each",
        )
    if date_from and date_to and date_from > date_to:
        raise BadParameter("from", f"'from' ({date_from}) is after 'to' ({date_to})")
    first, last = window(date_from, date_to, today)
    return PortQuery(ip, first, last, transport)


def read_port_query(values: Values, today: dt.date) -> PortQuery:
    dates = PORTS_FROM.read(values), PORTS_TO.read(values)
    return port_query_of(PORTS_IP.read(values), *dates, today, PORTS_TRANSPORT.read(values))
