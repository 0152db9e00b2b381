"""masscan output as open-port observations: -oJ (both comma styles, pretty-printed), -oD, -oL, bad lines."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pytest

from shoal.ingest.detect import Format, detect, detect_head
from shoal.ingest.inputs import open_input
from shoal.ingest.jsonl import Rejected
from shoal.ingest.masscan import read_masscan_json, read_masscan_list
from shoal.ingest.pipeline import ingest_stream
from shoal.model import PortObservation, Report, UdpObservation
from shoal.store.base import Store

T = 1_764_115_200  # 2025-11-26 00:00:00 UTC
DAY = dt.date(2025, 11, 26)


def status(ip: str, stamp: int, port: int, proto: str = "tcp", state: str = "open", ttl: int = 64) -> str:
    """One -oJ status record, exactly as masscan prints it."""
    entry = f'{{"port": {port}, "proto": "{proto}", "status": "{state}", "reason": "syn-ack", "ttl": {ttl}}}'
    return f'{{   "ip": "{ip}",   "timestamp": "{stamp}", "ports": [ {entry} ] }}'


def banner(ip: str, stamp: int, port: int) -> str:
    """One -oJ banner record (--banners): no status, so no observation."""
    entry = f'{{"port": {port}, "proto": "tcp", "service": {{"name": "http", "banner": "HTTP/1.0 200 OK\\u000d"}} }}'
    return f'{{   "ip": "{ip}",   "timestamp": "{stamp}", "ports": [ {entry} ] }}'


def entry(ip: str, stamp: object, port: object) -> bytes:
    """A compact record with one open tcp port."""
    ports = f'[{{"port": {port}, "proto": "tcp", "status": "open"}}]'
    return f'{{"ip": "{ip}", "timestamp": "{stamp}", "ports": {ports}}}'.encode()


# What masscan >= 1.3 writes with -oJ: a comma line before every record but the first.
MODERN_RECORDS = [
    status("192.0.2.1", T, 80),
    status("192.0.2.1", T + 86399, 443),
    status("192.0.2.2", T, 53, proto="udp"),
    banner("192.0.2.3", T, 80),
    status("2001:db8::1", T + 86400, 22, ttl=57),
]
MODERN_JSON = ("[\n" + "\n,\n".join(MODERN_RECORDS) + "\n]\n").encode()

# Older masscan: trailing commas and a "{finished: 1}" trailer (not JSON).
OLD_RECORDS = [status("198.51.100.1", T, 8080), status("198.51.100.2", T, 21, state="closed")]
OLD_JSON = ("[\n" + "".join(f"{record},\n" for record in OLD_RECORDS) + "{finished: 1}\n]\n").encode()


def observations(records: list) -> list[PortObservation]:
    return [record for record in records if isinstance(record, PortObservation)]


def udp_observations(records: list) -> list[UdpObservation]:
    return [record for record in records if isinstance(record, UdpObservation)]


def reports(records: list) -> list[Report]:
    return [record for record in records if isinstance(record, Report)]


def banners(records: list) -> list[tuple[str, str | None, list[tuple[str, str, str]]]]:
    """(ip, port, [(type, context, value) after the target]) of each banner report."""
    return [
        (report.ip, report.port, [(item.type, item.context, item.value) for item in report.items[2:]])
        for report in reports(records)
    ]


def rejections(records: list) -> list[tuple[int, str]]:
    return [(record.line, record.reason) for record in records if isinstance(record, Rejected)]


def test_modern_json() -> None:
    records = list(read_masscan_json(io.BytesIO(MODERN_JSON), "scan.json"))
    assert observations(records) == [
        PortObservation("192.0.2.1", 80, DAY),
        PortObservation("192.0.2.1", 443, DAY),  # the last second of the UTC day
        PortObservation("2001:db8::1", 22, DAY + dt.timedelta(days=1)),
    ]
    assert udp_observations(records) == [UdpObservation("192.0.2.2", 53, DAY)]
    assert [type(record) for record in records].count(UdpObservation) == 1  # never a TCP observation
    assert banners(records) == [("192.0.2.3", 80, [("server-banner", "http", "HTTP/1.0 200 OK\r")])]
    assert reports(records)[0].date == DAY


def test_old_json_with_trailing_commas_and_the_finished_line() -> None:
    records = list(read_masscan_json(io.BytesIO(OLD_JSON), "old.json"))
    assert records == [PortObservation("198.51.100.1", 8080, DAY)]


def test_pretty_printed_json_and_one_line_arrays() -> None:
    pretty = f"""[
  {{
    "ip": "192.0.2.9",
    "timestamp": {T},
    "ports": [
      {{
        "port": 25,
        "proto": "tcp",
        "status": "open"
      }}
    ]
  }},
  {{
    "ip": "192.0.2.10",
    "timestamp": "{T}",
    "ports": [{{"port": 587, "proto": "tcp", "status": "open"}}]
  }}
]
""".encode()
    assert observations(list(read_masscan_json(io.BytesIO(pretty), "p"))) == [
        PortObservation("192.0.2.9", 25, DAY),
        PortObservation("192.0.2.10", 587, DAY),
    ]
    one_line = (
        f'[{{"ip": "192.0.2.11", "timestamp": "{T}", "ports": [{{"port": 1, "proto": "tcp", "status": "open"}}]}}]'
    )
    assert list(read_masscan_json(io.BytesIO(one_line.encode()), "o")) == [PortObservation("192.0.2.11", 1, DAY)]


def test_ndjson() -> None:
    lines = (
        f'{{"ip":"192.0.2.4","timestamp":"{T}","port":3389,"proto":"tcp","rec_type":"status",'
        '"data":{"status":"open","reason":"syn-ack","ttl":118}}\n'
        f'{{"ip":"192.0.2.4","timestamp":"{T}","port":3389,"proto":"tcp","rec_type":"banner",'
        '"data":{"service_name":"rdp","banner":"x"}}\n'
    ).encode()
    assert detect_head(lines) is Format.MASSCAN_JSON
    records = list(read_masscan_json(io.BytesIO(lines), "d"))
    assert observations(records) == [PortObservation("192.0.2.4", 3389, DAY)]
    assert banners(records) == [("192.0.2.4", 3389, [("server-banner", "rdp", "x")])]


def test_bad_json_records_are_rejected_with_their_line() -> None:
    body = b"\n".join(
        [
            b"[",
            entry("192.0.2.1", T, 80) + b",",
            b'{"ip": "192.0.2.300", "timestamp": "1", "ports": []},',
            entry("192.0.2.1", T, 70000) + b",",
            entry("192.0.2.1", "yesterday", 1) + b",",
            entry("192.0.2.1", 99999999999, 1) + b",",
            b'{"ip": "192.0.2.1", "timestamp": "1"},',
            b'{"ip": "192.0.2.1", "timestamp": "1", "ports": "80"},',
            b"[1, 2]",
            b"just words",
            b'{"ip": "192.0.2.1", "timestamp": "16',  # cut off: the scan was killed
            entry("192.0.2.2", T, 22),
            b"]",
        ]
    )
    records = list(read_masscan_json(io.BytesIO(body), "bad.json"))
    assert observations(records) == [PortObservation("192.0.2.1", 80, DAY), PortObservation("192.0.2.2", 22, DAY)]
    assert [(line, reason.split(":")[0]) for line, reason in rejections(records)] == [
        (3, "'ip' is not an IP address"),
        (4, "'port' must be a number from 0 to 65535, not 70000"),
        (5, "'timestamp' must be Unix seconds, not 'yesterday'"),
        (6, "'timestamp' out of range"),
        (7, "a masscan record needs 'ports' (or 'port')"),
        (8, "'ports' must be a list"),
        (9, "a masscan record must be a JSON object"),
        (9, "a masscan record must be a JSON object"),
        (10, "not valid JSON"),
        (11, "not valid JSON"),
    ]


def test_a_record_that_never_closes() -> None:
    records = list(read_masscan_json(io.BytesIO(b'[\n  {\n    "ip": "192.0.2.1",\n'), "cut.json"))
    assert rejections(records) == [(2, "not valid JSON: the record never closes")]


def test_list_format() -> None:
    body = (
        f"""#masscan
open tcp 80 192.0.2.1 {T}
open tcp 443 2001:db8::1 {T}
open udp 53 192.0.2.1 {T}
closed tcp 22 192.0.2.1 {T}
banner tcp 80 192.0.2.1 {T} http HTTP/1.1 200 OK
open tcp 99999 192.0.2.1 {T}
open tcp 80 192.0.2.999 {T}
open tcp 80 192.0.2.1 soon
open tcp 80
hello world
# end
""".encode()
        + b"open tcp 80 \xff\xfe 1\n"
    )
    records = list(read_masscan_list(io.BytesIO(body), "scan.txt"))
    assert observations(records) == [PortObservation("192.0.2.1", 80, DAY), PortObservation("2001:db8::1", 443, DAY)]
    assert udp_observations(records) == [UdpObservation("192.0.2.1", 53, DAY)]
    assert banners(records) == [("192.0.2.1", 80, [("server-banner", "http", "HTTP/1.1 200 OK")])]
    assert [(line, reason.split(":")[0]) for line, reason in rejections(records)] == [
        (7, "'port' must be a number from 0 to 65535, not 99999"),
        (8, "'ip' is not an IP address"),
        (9, "'timestamp' must be Unix seconds, not 'soon'"),
        (10, "not a masscan list line"),
        (11, "not a masscan list line"),
        (13, "not UTF-8 text"),
    ]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (MODERN_JSON, Format.MASSCAN_JSON),
        (OLD_JSON, Format.MASSCAN_JSON),
        (b"\xef\xbb\xbf  [\n", Format.MASSCAN_JSON),
        (b"#masscan\nopen tcp 80 1.2.3.4 1\n", Format.MASSCAN_LIST),
        (b"open tcp 80 1.2.3.4 1700000000\n", Format.MASSCAN_LIST),
        (b'{"date": "2026-11-01", "id": "a", "items": [{"type": "ip", "value": "1.2.3.4"}]}\n', Format.REPORTS),
        (b'{"ip": "1.2.3.4", "timestamp": "1", "ports": []},\n', Format.MASSCAN_JSON),
        (b'{"ip": "1.2.3.4", "items": [], "ports": []}\n', Format.REPORTS),
        (b"{not json\n", None),
        (b"", Format.REPORTS),
        (b"garbage\n", None),
    ],
)
def test_detection(head: bytes, expected: Format | None) -> None:
    assert detect_head(head) is expected


def test_detection_peeks_without_consuming(tmp_path: Path) -> None:
    path = tmp_path / "scan"
    path.write_bytes(gzip.compress(OLD_JSON))
    with open_input(path) as stream:
        assert detect(stream) is Format.MASSCAN_JSON
        assert observations(list(read_masscan_json(stream, "scan"))) == [PortObservation("198.51.100.1", 8080, DAY)]


def test_import_is_idempotent(empty_store: Store) -> None:
    first = ingest_stream(empty_store, read_masscan_json(io.BytesIO(MODERN_JSON + OLD_JSON), "x"))
    assert (first.imported, first.duplicates, len(first.rejected)) == (6, 0, 0)  # 4 tcp, 1 udp, 1 banner report
    again = ingest_stream(empty_store, read_masscan_json(io.BytesIO(MODERN_JSON), "x"))
    assert (again.imported, again.duplicates) == (0, 5)
