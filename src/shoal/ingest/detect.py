"""Which reader reads an input, decided by its first bytes (never by its file name).

The head (up to 64 KiB) is classified by its first lines: an MRT ``TABLE_DUMP_V2`` header is a BGP RIB dump,
whois objects in RPSL (``inetnum:``, ``aut-num:``…, after any ``#``/``%`` comments) are a whois dump, a
``2|registry|…`` version line a delegated-extended statistics file; XML whose root is ``nmaprun`` is nmap, a
JSON array is masscan ``-oJ`` or a crt.sh export (by the keys of its first record), JSON Lines are told apart by
the keys of their first record that parses, and text lines by their shape (masscan ``-oL``, massdns ``-o S``).
Anything else is ``UnknownFormat``, one error naming the formats that are recognised.
"""

from __future__ import annotations

import enum
import re
from typing import Any, BinaryIO

import orjson

from shoal.errors import UnknownFormat

HEAD_BYTES = 64 * 1024
HEAD_LINES = 20  # lines of the head tried for a record that says what the input is
MASSCAN_LIST_LINE = re.compile(rb"(open|closed|banner)\s+[a-z]+\s+\d+\s+\S+\s+\d+")
RR_TYPES = rb"A|AAAA|CNAME|PTR|NS|MX|TXT|SOA|SRV|CAA|DNAME|SPF|HINFO|NAPTR|DS|DNSKEY"
MASSDNS_SIMPLE_LINE = re.compile(rb"\S+\.?[ \t]+(?:" + RR_TYPES + rb")[ \t]+\S")
XML_START = re.compile(  # what may come before the root element: declaration, comments, doctype, stylesheets
    rb"<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^[>]*(?:\[.*?\])?\s*>|<\?xml-stylesheet[^>]*\?>", re.DOTALL
)


class Format(enum.Enum):
    REPORTS = "reports"  # JSON Lines of reports in the API's result shape
    MASSCAN_JSON = "masscan-json"  # masscan -oJ (or -oD)
    MASSCAN_LIST = "masscan-list"  # masscan -oL
    ZGRAB2 = "zgrab2"  # zgrab2 JSON Lines
    NMAP_XML = "nmap-xml"  # nmap -oX
    DNS_JSON = "dns-json"  # zdns JSON Lines, massdns -o J
    MASSDNS_SIMPLE = "massdns-simple"  # massdns -o S
    CERTSTREAM = "certstream"  # certstream JSON messages, one a line
    CRTSH = "crt.sh"  # a crt.sh JSON export (an array of certificate records)
    RPSL = "rpsl"  # an RIR whois bulk dump (RFC 2622 objects), whole or split by class
    DELEGATED = "delegated"  # an RIR delegated-extended statistics file
    MRT = "mrt"  # a BGP RIB dump, MRT TABLE_DUMP_V2 (RFC 6396)


DESCRIPTIONS = {
    Format.REPORTS: "JSON Lines of reports (the API's result shape)",
    Format.MASSCAN_JSON: "masscan -oJ / -oD",
    Format.MASSCAN_LIST: "masscan -oL",
    Format.ZGRAB2: "zgrab2 JSON Lines",
    Format.NMAP_XML: "nmap -oX XML",
    Format.DNS_JSON: "zdns JSON Lines / massdns -o J",
    Format.MASSDNS_SIMPLE: "massdns -o S",
    Format.CERTSTREAM: "certstream JSON messages",
    Format.CRTSH: "crt.sh JSON export",
    Format.RPSL: "RIR whois dumps in RPSL",
    Format.DELEGATED: "RIR delegated-extended statistics",
    Format.MRT: "BGP RIB dumps in MRT TABLE_DUMP_V2",
}
REGISTRATION = frozenset({Format.RPSL, Format.DELEGATED, Format.MRT})  # into the registration book, not the store
RPSL_CLASSES = (  # the classes an RPSL dump's objects start with (RFC 2622, 2725, 4012 and the RIRs' own)
    b"inetnum|inet6num|aut-num|as-block|as-set|organisation|route|route6|route-set|mntner|person|role|irt|domain"
    b"|key-cert|peering-set|filter-set|rtr-set|inet-rtr|poetic-form|poem"
)
RPSL_LINE = re.compile(rb"(?:" + RPSL_CLASSES + rb"):[ \t]*\S")
DELEGATED_LINE = re.compile(rb"2(?:\.\d+)?\|[A-Za-z]+\|\d*\||[a-z]+\|(?:[A-Z]{2}|\*)?\|(?:asn|ipv4|ipv6)\|")
MRT_HEADER_BYTES = 12
MRT_TABLE_DUMP_V2 = 13
MRT_MAX_RECORD = 16 << 20


def detect(stream: BinaryIO, source: str = "input") -> Format:
    """The format of a (decompressed) stream, peeked at without consuming it; UnknownFormat if none fits. An
    empty input is reports (there is nothing to import)."""
    peek = getattr(stream, "peek", None)
    head = peek(HEAD_BYTES)[:HEAD_BYTES] if peek is not None else b""
    found = detect_head(head)
    if found is None:
        raise UnknownFormat(source, list(DESCRIPTIONS.values()))
    return found


def detect_head(head: bytes) -> Format | None:
    if _mrt_header(head):
        return Format.MRT
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        return Format.REPORTS
    registration = _registration_text(text)
    if registration is not None:
        return registration
    if text.startswith(b"<"):
        return Format.NMAP_XML if _xml_root(text) == b"nmaprun" else None
    lines = [line.strip() for line in text.split(b"\n", HEAD_LINES)]
    first_line = lines[0]
    if text.startswith(b"#") or MASSCAN_LIST_LINE.match(first_line):
        return Format.MASSCAN_LIST
    if MASSDNS_SIMPLE_LINE.match(first_line):
        return Format.MASSDNS_SIMPLE
    if text.startswith(b"["):
        return _array_format(text)
    if not text.startswith(b"{"):
        return None
    for line in lines[:-1]:  # the lines that end inside the head (its last may be cut: a long record)
        try:
            record = orjson.loads(line.rstrip(b","))
        except orjson.JSONDecodeError:
            continue
        found = record_format(record)
        if found is not None:
            return found
    return sniff_record(first_line)


# Keys that tell a record apart when the head holds only part of it (a zgrab2 line with a body and a
# certificate is easily longer than the head), as the tools write them (compact JSON).
SNIFFED = (
    (Format.REPORTS, (b'"items":', b'"date":')),
    (Format.CERTSTREAM, (b'"message_type":',)),
    (Format.ZGRAB2, (b'"data":{', b'"status":"', b'"protocol":"')),
    (Format.DNS_JSON, (b'"name":', b'"results":{')),
    (Format.DNS_JSON, (b'"name":', b'"status":"', b'"answers":')),
    (Format.MASSCAN_JSON, (b'"ip":', b'"ports":')),
)


def sniff_record(line: bytes) -> Format | None:
    """The format of a JSON record from its first bytes: the whole record if it parses, else its keys."""
    try:
        return record_format(orjson.loads(line.rstrip(b",")))
    except orjson.JSONDecodeError:
        pass
    compact = line.replace(b'": ', b'":').replace(b'": {', b'":{')
    for found, keys in SNIFFED:
        if all(key in compact for key in keys):
            return found
    return None


def record_format(record: Any) -> Format | None:
    """The format one JSON record belongs to, from its keys; None if it is none of them."""
    if not isinstance(record, dict):
        return None
    if "items" in record:
        return Format.REPORTS
    if "message_type" in record or (isinstance(record.get("data"), dict) and "leaf_cert" in record["data"]):
        return Format.CERTSTREAM
    data = record.get("data")
    entries = data.values() if isinstance(data, dict) else ()
    if "name" not in record and any(isinstance(entry, dict) and "status" in entry for entry in entries):
        return Format.ZGRAB2
    if "ip" in record and ("ports" in record or "port" in record):
        return Format.MASSCAN_JSON
    if "name" in record and ("status" in record or "results" in record):
        return Format.DNS_JSON
    if "issuer_name" in record and "name_value" in record:
        return Format.CRTSH
    return None


def _array_format(text: bytes) -> Format | None:
    """masscan -oJ or a crt.sh export: the first record of the array says which."""
    body = text[1:].lstrip()
    if not body or body.startswith((b"]", b"{finished")):
        return Format.MASSCAN_JSON
    if not body.startswith(b"{"):
        return None
    head = body[: body.find(b"}") + 1] if b"}" in body else body
    if b'"issuer_name"' in head or b'"name_value"' in head or b'"issuer_ca_id"' in head:
        return Format.CRTSH
    if b'"ip"' in head:
        return Format.MASSCAN_JSON
    return None


def _mrt_header(head: bytes) -> bool:
    """An MRT TABLE_DUMP_V2 record header: type 13, a subtype it defines, a plausible length."""
    if len(head) < MRT_HEADER_BYTES:
        return False
    kind, subtype = int.from_bytes(head[4:6], "big"), int.from_bytes(head[6:8], "big")
    return kind == MRT_TABLE_DUMP_V2 and 1 <= subtype <= 12 and int.from_bytes(head[8:12], "big") <= MRT_MAX_RECORD


def _registration_text(text: bytes) -> Format | None:
    """RPSL or delegated statistics: by the first line that is not a comment (``#``, and ``%`` in RPSL)."""
    for line in text.split(b"\n", HEAD_LINES * 10)[: HEAD_LINES * 10]:
        line = line.strip()
        if not line or line.startswith((b"#", b"%")):
            continue
        if RPSL_LINE.match(line):
            return Format.RPSL
        if DELEGATED_LINE.match(line):
            return Format.DELEGATED
        return None
    return None


def _xml_root(text: bytes) -> bytes | None:
    """The name of the first element of an XML head (after the declaration, comments, doctype)."""
    position = 0
    while True:
        rest = text[position:].lstrip()
        match = XML_START.match(rest)
        if match is None:
            break
        position = len(text) - len(rest) + match.end()
    rest = text[position:].lstrip()
    element = re.match(rb"<([A-Za-z_][\w.-]*)", rest)
    return element.group(1) if element else None
