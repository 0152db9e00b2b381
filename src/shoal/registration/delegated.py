"""RIR delegated-extended statistics files (``delegated-ripencc-extended-latest``…), read as a stream.

The first line that is no ``#`` comment is the version line ``2|registry|serial|records|startdate|enddate|
UTCoffset``; summary lines (``registry|*|type|*|count|summary``) follow, then one record a line:
``registry|cc|type|start|value|date|status[|opaque-id[|…]]`` where ``type`` is ``asn`` (``value`` ASNs from
``start``), ``ipv4`` (``value`` addresses from ``start``, not always a CIDR) or ``ipv6`` (``value`` is the
prefix length). Records ``allocated`` or ``assigned`` are networks (context ``net``) with their country; the
``opaque-id`` ties a holder's resources together, so a network carries the first ASN its holder also holds,
whose name names it. The file is sorted by type (ASNs first), so that map is complete when networks come; it
holds one number per holder. A malformed record is rejected with its line.

The feed is ``delegated:<registry>``, dated by the version line's end date.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator

from shoal.ingest.jsonl import Rejected
from shoal.registration.book import NET
from shoal.registration.records import NetRecord, RegistrationRecord, day_of
from shoal.registration.rpsl import MAX_RANGE_CIDRS

VERSION_LINE = re.compile(r"2(\.\d+)?\|[A-Za-z]+\|")
HOLDING = frozenset({"allocated", "assigned"})


def read_delegated(lines: Iterable[bytes], source: str) -> Iterator[RegistrationRecord | Rejected]:
    registry, date = "", ""
    asn_of: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", "replace").strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split("|")
        if not registry:
            if not VERSION_LINE.match(text) or len(fields) < 6:
                yield Rejected(source, number, "the first line must be the version line '2|registry|serial|…'")
                registry = "unknown"
                continue
            registry = fields[1].lower()
            date = day_of(fields[5]) or day_of(fields[2])
            continue
        if len(fields) >= 6 and fields[-1] == "summary":
            continue
        try:
            found = record(fields, registry, date, asn_of)
        except ValueError as exc:
            yield Rejected(source, number, str(exc))
            continue
        if found is not None:
            yield found


def record(fields: list[str], registry: str, date: str, asn_of: dict[str, int]) -> NetRecord | None:
    if len(fields) < 7:
        raise ValueError(f"a record has at least 7 fields separated by '|', not {len(fields)}")
    _, country, kind, start, value, _, status = fields[:7]
    holder = fields[7] if len(fields) > 7 else ""
    if kind not in ("asn", "ipv4", "ipv6"):
        raise ValueError(f"a record's type is asn, ipv4 or ipv6, not {kind[:20]!r}")
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"a record's count is a whole number, not {value[:20]!r}")
    if status.lower() not in HOLDING:
        return None
    if kind == "asn":
        if not start.isascii() or not start.isdigit():
            raise ValueError(f"not an AS number: {start[:20]!r}")
        if holder:
            asn_of.setdefault(holder, int(start))
        return None
    try:
        if kind == "ipv6":
            networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
                ipaddress.IPv6Network(f"{start}/{value}"),
            )
        else:
            first = ipaddress.IPv4Address(start)
            if not 1 <= int(value) <= 2**32 - int(first):
                raise ValueError(f"an ipv4 record of {value} addresses from {start}")
            networks = tuple(ipaddress.summarize_address_range(first, first + int(value) - 1))
    except ValueError as exc:
        raise ValueError(f"not an {kind} delegation: {start[:45]!r} {value[:10]!r} ({exc})") from None
    if len(networks) > MAX_RANGE_CIDRS:
        raise ValueError(f"a delegation of more than {MAX_RANGE_CIDRS} CIDRs")
    country = country.upper() if len(country) == 2 else ""
    return NetRecord(f"delegated:{registry}", NET, networks, [], asn=asn_of.get(holder), country=country, date=date)
