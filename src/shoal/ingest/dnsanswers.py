"""DNS answers from zdns and massdns: PTR answers become ``rdns`` reports, forward answers DnsAnswers and the
``fdns`` and ``mx`` reports of the name asked (``shoal.ingest.forward``).

Formats (``shoal.ingest.detect`` tells them apart by content):

- zdns JSON Lines, 1.x ``{"name", "status", "timestamp", "data": {"answers": [{"name", "type", "answer"}]}}``
  and 2.x ``{"name", "results": {"A": {"status", "timestamp", "data": {"answers": […]}}}}``; the lookup modules'
  ``data.servers`` (NSLOOKUP) and ``data.exchanges`` (MXLOOKUP) give NS/MX answers and their addresses.
- massdns ``-o J``: ``{"name", "type", "status", "rx_ts", "data": {"answers": [{"name", "type", "data"}]}}``.
- massdns ``-o S``: ``name. TYPE value`` lines, one answer each (no time: the import's UTC day).

Only ``NOERROR`` responses have answers; others (NXDOMAIN, SERVFAIL, timeouts) are valid and skipped. Each
response's PTR answers become one ``rdns`` report for the address (``ip``; ``host;dns-ptr`` per name), dated
by the response's timestamp (UTC day). A, AAAA, CNAME, NS, MX and TXT answers go to the forward-answer table
(``DATA/names.sqlite3``) that ``shoal scan --names known`` visits, and each response's are also its name's
``fdns`` report (A, AAAA, CNAME, NS) and ``mx`` report (MX, TXT). In massdns ``-o S`` a response is the run of
consecutive lines that starts with the name asked and follows its CNAMEs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import dns.exception
import dns.name
import dns.reversename

from shoal.ingest.forward import forward_reports
from shoal.ingest.jsonl import LineChunk, Rejected
from shoal.ingest.records import BadRecord, Record, checked_ip, day_of, decode_json_lines, record_id, target_items
from shoal.model import RDNS, DnsAnswer, Item, Report, check_item_count, host_key

FORMAT = "dns"
FORWARD_TYPES = frozenset({"A", "AAAA", "CNAME", "NS", "MX", "TXT"})
MAX_VALUE_CHARS = 4096
# A name as resolvers print it: labels of letters, digits, '-' and '_' (and '*' for a wildcard, '/' for RFC 2317
# delegations), 1–63 characters each, 253 in all.
DNS_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9_*/-]{1,63}(?:\.[a-z0-9_*/-]{1,63})*")


def decode_dns_json_chunk(chunk: LineChunk) -> list[Record]:
    return decode_json_lines(chunk, decode_line)


def decode_line(line: Any, raw: bytes, source: str, number: int) -> Iterator[Report | DnsAnswer]:
    if type(line) is not dict or type(line.get("name")) is not str:
        raise BadRecord("a zdns/massdns line must be a JSON object with a 'name'")
    results = line.get("results")
    if type(results) is dict:  # zdns 2.x: one result per module
        responses = [(result, str(module)) for module, result in results.items() if type(result) is dict]
    else:
        responses = [(line, "")]
    forward: dict[dt.date, list[DnsAnswer]] = {}  # a line's answers of every module: one report per kind and day
    for response, module in responses:
        for record in _response(line["name"], response, raw, module):
            if isinstance(record, DnsAnswer):
                forward.setdefault(record.date, []).append(record)
            yield record
    for day, answers in forward.items():
        yield from forward_reports(
            host_name(line["name"]), answers, day, lambda dataset: record_id(FORMAT, raw, dataset)
        )


def _response(query: str, response: dict[str, Any], raw: bytes, module: str) -> Iterator[Report | DnsAnswer]:
    if response.get("status") != "NOERROR":
        return
    day = _day(response)
    data = response.get("data")
    if type(data) is not dict:
        raise BadRecord("a NOERROR response needs a 'data' object")
    answers = [(a.get("name"), a.get("type"), _answer_text(a)) for a in _objects(data, "answers")]
    for key, kind in (("servers", "NS"), ("exchanges", "MX")):  # zdns lookup modules
        for entry in _objects(data, key):
            answers.append((query, kind, entry.get("name")))
            addresses = [*_strings(entry.get("ipv4_addresses")), *_strings(entry.get("ipv6_addresses"))]
            answers += [(entry.get("name"), "AAAA" if ":" in a else "A", a) for a in addresses]
    pointers: list[str] = []
    forward: list[DnsAnswer] = []
    for owner, kind, value in answers:
        if type(kind) is not str or type(value) is not str:
            raise BadRecord("an answer needs a 'type' and a value ('answer' or 'data')")
        if kind == "PTR":
            pointers.append(host_name(value))
        elif kind in FORWARD_TYPES:
            owner_name = owner if type(owner) is str else query
            forward.append(DnsAnswer(host_name(owner_name), kind, _value(kind, value), day))
    yield from forward
    if pointers:
        ip = reversed_address(query)
        if ip is None:
            ip = next((reversed_address(a[0]) for a in answers if a[1] == "PTR" and type(a[0]) is str), None)
        if ip is None:
            raise BadRecord(f"PTR answers for {query!r:.80}, which is neither an address nor a reverse name")
        yield ptr_report(ip, pointers, day, record_id(FORMAT, raw, module))


def ptr_report(ip: str, names: list[str], day: dt.date, report_id: str) -> Report:
    items = [*target_items(ip), *(Item("host", name, "dns-ptr") for name in dict.fromkeys(names) if name)]
    check_item_count(len(items))
    return Report(date=day, items=tuple(items), id=report_id, dataset=RDNS)


def _day(response: dict[str, Any]) -> dt.date:
    if "timestamp" in response:
        return day_of(response["timestamp"])
    stamp = response.get("rx_ts")
    if type(stamp) is int:  # massdns: nanoseconds since 1970 (micro-, milliseconds or seconds read too)
        divisor = next((d for limit, d in ((10**17, 10**9), (10**14, 10**6), (10**11, 10**3)) if stamp >= limit), 1)
        return day_of(stamp // divisor, "rx_ts")
    raise BadRecord("a response needs a 'timestamp' (zdns) or 'rx_ts' (massdns)")


def _answer_text(answer: dict[str, Any]) -> Any:
    """An answer's value as resolvers print it: zdns gives an MX's preference as a field of its own."""
    value = answer.get("answer", answer.get("data"))
    preference = answer.get("preference")
    if answer.get("type") == "MX" and type(value) is str and type(preference) is int:
        return f"{preference} {value}"
    return value


def _objects(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    values = data.get(key)
    if values is None:
        return []
    if type(values) is not list:
        raise BadRecord(f"'{key}' must be a list")
    return [value for value in values if type(value) is dict]


def _strings(value: Any) -> list[str]:
    return [text for text in value if type(text) is str] if type(value) is list else []


def host_name(text: str) -> str:
    """A DNS name as an item value: lower case, no trailing dot; "" for the root. BadRecord if it is not a DNS
    name as resolvers write them (NUL bytes, spaces, escapes, labels over 63 or names over 253 characters)."""
    name = host_key(text)
    if name and DNS_NAME.fullmatch(name) is None:
        raise BadRecord(f"{text[:80]!r} is not a DNS name (labels of 1–63 letters, digits, '-', '_', 253 in all)")
    return name


def _value(kind: str, value: str) -> str:
    if kind in ("CNAME", "NS"):
        return host_name(value)
    if kind == "MX":
        preference, _, exchange = value.strip().rpartition(" ")
        return f"{preference} {host_name(exchange)}".strip()
    if kind in ("A", "AAAA"):
        return checked_ip(value, "answer")
    return value[:MAX_VALUE_CHARS]


def reversed_address(name: str) -> str | None:
    """The address a query names: itself (zdns's PTR module takes addresses) or a reverse name
    (``4.3.2.1.in-addr.arpa``, ``…ip6.arpa``); None if it is neither."""
    try:
        return checked_ip(name)
    except BadRecord:
        pass
    try:
        return checked_ip(dns.reversename.to_address(dns.name.from_text(name)))
    except (dns.exception.DNSException, ValueError):
        return None


def decode_massdns_simple_chunk(chunk: LineChunk) -> list[Record]:
    """massdns ``-o S``: ``name. TYPE value`` lines; consecutive PTR lines of one name are one report, and
    consecutive forward lines of one response (its name and the names its CNAMEs lead to) its fdns and mx reports."""
    records: list[Record] = []
    day = dt.datetime.now(dt.UTC).date()
    pending: tuple[str, int, list[str], list[bytes]] | None = None  # (owner, first line, names, raw lines)
    response: tuple[int, list[DnsAnswer], list[bytes]] | None = None  # (first line, answers, raw lines)

    def flush() -> None:
        nonlocal pending, response
        if response is not None:
            first, answers, lines = response
            response = None
            try:
                records.extend(
                    forward_reports(answers[0].name, answers, day, lambda dataset: record_id(FORMAT, *lines, dataset))
                )
            except ValueError as exc:  # InvalidReport: over the item cap
                records.append(Rejected(chunk.source, first, str(exc)))
        if pending is None:
            return
        owner, first, names, raws = pending
        ip = reversed_address(owner)
        if ip is None:
            records.append(Rejected(chunk.source, first, f"a PTR answer for {owner!r:.80}, not a reverse name"))
        else:
            try:
                records.append(ptr_report(ip, names, day, record_id(FORMAT, *raws)))
            except ValueError as exc:  # InvalidReport: over the item cap
                records.append(Rejected(chunk.source, first, str(exc)))
        pending = None

    for number, raw in enumerate(chunk.lines, start=chunk.first_line):
        try:
            line = raw.decode().strip()
        except UnicodeDecodeError:
            flush()
            records.append(Rejected(chunk.source, number, "not UTF-8 text"))
            continue
        if not line:
            continue
        fields = line.split(None, 2)
        if len(fields) != 3 or not fields[1].isupper():
            flush()
            records.append(Rejected(chunk.source, number, "not a massdns -o S line: expected 'name. TYPE value'"))
            continue
        owner, kind, value = fields
        try:
            if kind == "PTR":
                name = host_name(value)
                if pending is not None and pending[0] == owner:
                    pending[2].append(name)
                    pending[3].append(raw)
                else:
                    flush()
                    pending = (owner, number, [name], [raw])
                continue
            if kind not in FORWARD_TYPES:
                flush()
                continue
            answer = DnsAnswer(host_name(owner), kind, _value(kind, value), day)
            if pending is not None or response is None or not _continues(response[1], answer.name):
                flush()
                response = (number, [], [])
            response[1].append(answer)
            response[2].append(raw)
            records.append(answer)
        except BadRecord as exc:
            records.append(Rejected(chunk.source, number, str(exc)))
    flush()
    return records


def _continues(answers: list[DnsAnswer], owner: str) -> bool:
    """Is ``owner`` the name a response's answers began with, or one its CNAMEs lead to?"""
    return owner == answers[0].name or any(a.type == "CNAME" and a.value == owner for a in answers)
