"""RIR whois bulk dumps in RPSL (RFC 2622), whole or split by class (``ripe.db.inetnum.gz``…), read as a stream.

An object is a run of ``attribute: value`` lines ended by a blank line; a line starting with a space, a tab or
``+`` continues the attribute before it; ``#`` starts a comment to the end of the line, and lines starting with
``%`` are the server's remarks. The first attribute names the object's class. Read: ``inetnum`` (an IPv4 range
``A - B`` or a CIDR, cut into the CIDRs covering it), ``inet6num`` (a CIDR), ``aut-num``, ``organisation``,
``route`` and ``route6`` (a prefix and its ``origin:`` AS); other classes (person, role, mntner…) are passed
over. Each object is checked whole; one that fails is rejected with the line it starts on, and nothing of it is
stored. An object holds at most MAX_OBJECT_LINES lines (the rest of a longer one is skipped, and it is rejected).

Each object class of each ``source:`` is a feed of its own (``rpsl:RIPE:inetnum``), dated by the newest
``last-modified:`` (or ``changed:``) of its objects: a newer dump of the same class replaces the older's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from shoal.ingest.jsonl import Rejected
from shoal.model import IPNetwork, ipv4_of_mapped
from shoal.registration.book import BGPASN, NET
from shoal.registration.records import AutnumRecord, NetRecord, OrgRecord, RegistrationRecord, day_of

MAX_OBJECT_LINES = 10_000
READ_CLASSES = frozenset({"inetnum", "inet6num", "aut-num", "organisation", "route", "route6"})
MAX_RANGE_CIDRS = 256  # an inetnum range is cut into at most this many CIDRs (a real range needs at most 62)


class Malformed(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RpslObject:
    line: int  # where it starts, 1-based
    attributes: list[tuple[str, str]]

    @property
    def kind(self) -> str:
        return self.attributes[0][0]

    def first(self, name: str) -> str:
        return next((value for key, value in self.attributes if key == name), "")

    def every(self, name: str) -> list[str]:
        return [value for key, value in self.attributes if key == name and value]

    def required(self, name: str) -> str:
        value = self.first(name)
        if not value:
            raise Malformed(f"the object needs a '{name}:' attribute")
        return value


def decoded(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")  # older dumps are Latin-1


def objects(lines: Iterable[bytes], source: str) -> Iterator[RpslObject | Rejected]:
    """The objects of an RPSL stream, each with its first line's number; broken ones as Rejected."""
    attributes: list[tuple[str, str]] = []
    start, problem, count = 0, "", 0

    def finished() -> RpslObject | Rejected | None:
        if problem:
            return Rejected(source, start, problem)
        return RpslObject(start, attributes) if attributes else None

    for number, raw in enumerate(lines, start=1):
        text = decoded(raw).rstrip("\r\n")
        if not text.strip():
            done = finished()
            if done is not None:
                yield done
            attributes, start, problem, count = [], 0, "", 0
            continue
        if text.startswith(("%", "#")):
            continue
        if not start:
            start = number
        count += 1
        if problem:
            continue
        if count > MAX_OBJECT_LINES:
            problem = f"an object of more than {MAX_OBJECT_LINES:,} lines"
            continue
        value_text = text.split("#", 1)[0]
        if text[0] in " \t+":
            if not attributes:
                problem = f"line {number}: a continuation line with no attribute before it"
                continue
            name, value = attributes[-1]
            attributes[-1] = (name, f"{value} {value_text[1:].strip()}".strip())
            continue
        name, colon, value = value_text.partition(":")
        name = name.strip().lower()
        if not colon or not name or " " in name:
            problem = f"line {number}: not an 'attribute: value' line: {text[:80]!r}"
            continue
        attributes.append((name, value.strip()))
    done = finished()
    if done is not None:
        yield done


def read_rpsl(lines: Iterable[bytes], source: str) -> Iterator[RegistrationRecord | Rejected]:
    for found in objects(lines, source):
        if isinstance(found, Rejected) or found.kind not in READ_CLASSES:
            if isinstance(found, Rejected):
                yield found
            continue
        try:
            yield record_of(found)
        except Malformed as exc:
            yield Rejected(source, found.line, f"{found.kind} {found.first(found.kind)!r}: {exc}")


def record_of(found: RpslObject) -> RegistrationRecord:
    registry = (found.first("source").split() or ["RPSL"])[0].upper()
    feed = f"rpsl:{registry}:{found.kind}"
    date = max((day_of(value.split()[-1]) for value in found.every("changed") if value.split()), default="")
    date = max(date, day_of(found.first("last-modified")))
    if found.kind == "organisation":
        handle = found.required("organisation")
        email = (found.every("e-mail") or found.every("abuse-mailbox") or [""])[0]
        return OrgRecord(feed, handle, found.required("org-name"), email, date)
    if found.kind == "aut-num":
        asn = as_number(found.required("aut-num"))
        name = found.first("as-name") or (found.every("descr") or [""])[0]
        return AutnumRecord(feed, asn, name, found.first("org"), date)
    if found.kind in ("route", "route6"):
        prefix = single_network(found.required(found.kind), 4 if found.kind == "route" else 6)
        asn = as_number(found.required("origin"))
        names = found.every("descr")
        return NetRecord(feed, BGPASN, (prefix,), names, org=found.first("org"), asn=asn, date=date)
    networks = range_networks(found.required("inetnum")) if found.kind == "inetnum" else None
    if networks is None:
        networks = (single_network(found.required("inet6num"), 6),)
    names = [*found.every("descr"), *found.every("netname")]  # the first names the holder best
    email = (found.every("abuse-mailbox") or found.every("e-mail") or [""])[0]
    country = found.first("country").upper()[:2]
    return NetRecord(feed, NET, networks, names, org=found.first("org"), email=email, country=country, date=date)


def as_number(text: str) -> int:
    word = text.split()[0] if text.split() else ""
    digits = word.upper().removeprefix("AS")
    if not digits.isascii() or not digits.isdigit() or int(digits) > 0xFFFFFFFF:
        raise Malformed(f"not an AS number: {text[:40]!r}")
    return int(digits)


def single_network(text: str, version: int) -> IPNetwork:
    try:
        network = ipv4_of_mapped(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise Malformed(f"not an IPv{version} prefix: {text[:60]!r}") from None
    if network.version != version:
        raise Malformed(f"not an IPv{version} prefix: {text[:60]!r}")
    return network


def range_networks(text: str) -> tuple[IPNetwork, ...]:
    """``192.0.2.0 - 192.0.2.255`` (or a CIDR) as the CIDRs covering exactly that range."""
    if "-" not in text:
        return (single_network(text, 4),)
    first_text, _, last_text = text.partition("-")
    try:
        first, last = ipaddress.IPv4Address(first_text.strip()), ipaddress.IPv4Address(last_text.strip())
    except ValueError:
        raise Malformed(f"not an IPv4 range 'A - B': {text[:60]!r}") from None
    if first > last:
        raise Malformed(f"a range whose first address is after its last: {text[:60]!r}")
    networks = tuple(ipaddress.summarize_address_range(first, last))
    if len(networks) > MAX_RANGE_CIDRS:
        raise Malformed(f"a range of more than {MAX_RANGE_CIDRS} CIDRs: {text[:60]!r}")
    return networks
