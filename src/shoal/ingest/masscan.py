"""Read masscan output as open-port observations (DESIGN.md §1), line by line, plain or gzip.

Formats (``shoal.ingest.detect`` tells them apart by content):

- ``-oJ`` JSON: ``[`` then one record per line, ``{"ip", "timestamp", "ports": [{"port", "proto", "status",
  "reason", "ttl"}]}``, separated by ``,`` lines (masscan ≥ 1.3) or with trailing commas and a
  ``{finished: 1}`` trailer (older masscan), then ``]``. A record spread over several lines (pretty-printed
  JSON) and a whole array on one line are read too.
- ``-oD`` NDJSON: one ``{"ip", "timestamp", "port", "proto", "rec_type", "data": {"status"}}`` per line.
- ``-oL`` list: ``open tcp 80 1.2.3.4 1700000000`` lines, ``#`` comments.

``tcp`` entries with status ``open`` are observations, ``udp`` ones UDP observations (``port-udp``,
docs/ports.md); the day is the UTC date of ``timestamp`` (Unix seconds). Banner records (``--banners``: a
``service`` with ``name`` and ``banner`` in ``-oJ``, ``rec_type: banner`` in ``-oD``, ``banner`` lines in
``-oL``) become ``protocols`` reports: ``ip``, ``port-tcp``, and ``server-banner`` with masscan's service name as
its context (``title`` records give a ``title`` item, ``X509`` ones the certificate's items). Closed ports and
other protocols are valid input with nothing to store: skipped, never rejected. A malformed line is rejected
as a whole, with its number and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from shoal.certificates import base64_certificate_items
from shoal.ingest.jsonl import Rejected
from shoal.ingest.records import BadRecord, record_id, target_items, unix_day
from shoal.model import Item, PortObservation, Report, UdpObservation, pack_ip

MAX_RECORD_LINES = 1_000  # a record spread over more lines than this is rejected
MAX_RECORD_BYTES = 1 << 20
SEPARATORS = b" \t\r\n,"
NEVER_CLOSES = "not valid JSON: the record never closes"


FORMAT = "masscan"
MAX_BANNER_CHARS = 4096
Found = PortObservation | UdpObservation | Report


def observation(ip: str, port: Any, proto: Any, status: Any, day: dt.date) -> PortObservation | UdpObservation | None:
    """The observation one masscan port entry holds, None if it holds none (not open, not tcp or udp)."""
    if type(port) is not int or not 0 <= port <= 0xFFFF:
        raise BadRecord(f"'port' must be a number from 0 to 65535, not {port!r:.40}")
    if status != "open":
        return None
    if proto == "tcp":
        return PortObservation(ip, port, day)
    if proto == "udp":
        return UdpObservation(ip, port, day)
    return None


def banner_report(ip: str, port: Any, proto: Any, service: Any, banner: Any, day: dt.date) -> Report | None:
    """The report of one banner record (tcp only: a report names its ``port-tcp``)."""
    if type(port) is not int or not 0 <= port <= 0xFFFF:
        raise BadRecord(f"'port' must be a number from 0 to 65535, not {port!r:.40}")
    if type(service) is not str or type(banner) is not str:
        raise BadRecord("a banner needs a service name and a banner text")
    if proto != "tcp":
        return None
    text = banner[:MAX_BANNER_CHARS]
    items = target_items(ip, port)
    if service == "title":
        items.append(Item("title", text.strip()))
    elif service == "X509":
        items.append(Item("server-banner", "", "tls"))
        items += base64_certificate_items(banner) or []
    else:
        items.append(Item("server-banner", text, service[:64]))
    identity = record_id(FORMAT, ip, str(port), service, banner, day.isoformat())
    return Report(date=day, items=tuple(items), id=identity)


def checked_ip(ip: Any) -> str:
    if type(ip) is not str:
        raise BadRecord(f"'ip' must be a string, not {ip!r:.40}")
    try:
        pack_ip(ip)
    except ValueError:
        raise BadRecord(f"'ip' is not an IP address: {ip!r:.60}") from None
    return ip


def utc_day(timestamp: Any) -> dt.date:
    if type(timestamp) is str and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12:
        seconds = int(timestamp)
    elif type(timestamp) is int:
        seconds = timestamp
    else:
        raise BadRecord(f"'timestamp' must be Unix seconds, not {timestamp!r:.40}")
    return unix_day(seconds)


def record_observations(record: Any) -> list[Found]:
    """The observations and banner reports of one JSON record (``-oJ`` with ``ports``, or ``-oD`` with
    ``port``)."""
    if type(record) is not dict:
        raise BadRecord("a masscan record must be a JSON object")
    ip, day = checked_ip(record.get("ip")), utc_day(record.get("timestamp"))
    found: list[Found | None] = []
    if "ports" in record:
        entries = record["ports"]
        if type(entries) is not list:
            raise BadRecord("'ports' must be a list")
        for entry in entries:
            if type(entry) is not dict:
                raise BadRecord("each of 'ports' must be a JSON object")
            port, proto, service = entry.get("port"), entry.get("proto"), entry.get("service")
            if type(service) is dict:
                found.append(banner_report(ip, port, proto, service.get("name"), service.get("banner"), day))
            else:
                found.append(observation(ip, port, proto, entry.get("status"), day))
    elif "port" in record:
        data = record.get("data")
        if record.get("rec_type") == "banner" and type(data) is dict:
            name, text = data.get("service_name"), data.get("banner")
            found.append(banner_report(ip, record["port"], record.get("proto"), name, text, day))
        else:
            status = data.get("status") if type(data) is dict and record.get("rec_type") == "status" else None
            found.append(observation(ip, record["port"], record.get("proto"), status, day))
    else:
        raise BadRecord("a masscan record needs 'ports' (or 'port')")
    return [seen for seen in found if seen is not None]


def read_masscan_json(stream: BinaryIO, source: str) -> Iterator[Found | Rejected]:
    """Observations and banner reports of masscan ``-oJ`` / ``-oD`` output; a Rejected per malformed record."""
    pending: list[bytes] = []  # the lines of a record spread over several lines
    first = 0
    for number, raw in enumerate(stream, start=1):
        line = raw.strip(SEPARATORS)
        if pending:
            if raw[:1] in (b"{", b"]"):  # a record or the array's end at column 0: the pending one never closed
                yield Rejected(source, first, NEVER_CLOSES)
                pending = []
            else:
                pending.append(raw)
                text = b"".join(pending).strip(SEPARATORS)
                if line[:1] in (b"}", b"]"):
                    try:
                        parsed = orjson.loads(text)
                    except orjson.JSONDecodeError:
                        parsed = None
                    if parsed is not None:
                        pending = []
                        yield from _observations_or_rejection(parsed, source, first)
                        continue
                if len(pending) > MAX_RECORD_LINES or len(text) > MAX_RECORD_BYTES:
                    yield Rejected(source, first, f"{NEVER_CLOSES} within {MAX_RECORD_LINES} lines or 1 MiB")
                    pending = []
                continue
        if not line or line in (b"[", b"]") or line.startswith(b"{finished"):
            continue
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if line[:1] in (b"{", b"[") and not line.endswith((b"}", b"]")):
                pending, first = [raw], number  # perhaps the start of a pretty-printed record
                continue
            yield Rejected(source, number, f"not valid JSON: {exc}")
            continue
        if type(parsed) is list:  # a whole array on one line
            for record in parsed:
                yield from _observations_or_rejection(record, source, number)
        else:
            yield from _observations_or_rejection(parsed, source, number)
    if pending:
        yield Rejected(source, first, NEVER_CLOSES)


def _observations_or_rejection(record: Any, source: str, number: int) -> Iterator[Found | Rejected]:
    try:
        found = record_observations(record)
    except BadRecord as exc:
        yield Rejected(source, number, str(exc))
        return
    yield from found


def read_masscan_list(stream: BinaryIO, source: str) -> Iterator[Found | Rejected]:
    """Observations of masscan ``-oL`` output: ``STATUS PROTO PORT IP TIMESTAMP`` lines, and banner reports of
    ``banner PROTO PORT IP TIMESTAMP SERVICE BANNER`` lines."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode()
        except UnicodeDecodeError:
            yield Rejected(source, number, "not UTF-8 text")
            continue
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "banner":
            yield from _banner_line(line, source, number)
            continue
        if fields[0] not in ("open", "closed") or len(fields) != 5:
            yield Rejected(source, number, "not a masscan list line: expected 'open tcp PORT IP TIMESTAMP'")
            continue
        status, proto, port, ip, timestamp = fields
        try:
            if not (port.isascii() and port.isdigit() and len(port) <= 5):
                raise BadRecord(f"the port must be a number from 0 to 65535, not {port!r:.40}")
            seen = observation(checked_ip(ip), int(port), proto, status, utc_day(timestamp))
        except BadRecord as exc:
            yield Rejected(source, number, str(exc))
            continue
        if seen is not None:
            yield seen


def _banner_line(line: str, source: str, number: int) -> Iterator[Report | Rejected]:
    fields = line.rstrip("\r\n").split(" ", 6)
    if len(fields) != 7:
        yield Rejected(source, number, "not a masscan banner line: expected 'banner tcp PORT IP TIMESTAMP NAME TEXT'")
        return
    _, proto, port, ip, timestamp, service, text = fields
    try:
        if not (port.isascii() and port.isdigit() and len(port) <= 5):
            raise BadRecord(f"the port must be a number from 0 to 65535, not {port!r:.40}")
        report = banner_report(checked_ip(ip), int(port), proto, service, text, utc_day(timestamp))
    except BadRecord as exc:
        yield Rejected(source, number, str(exc))
        return
    if report is not None:
        yield report
