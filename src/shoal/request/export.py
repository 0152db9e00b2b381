"""Every match of a search as bytes: NDJSON (lossless, one report a line: what ``shoal import`` reads) or CSV (one
row per report, for spreadsheets and grep), in chunks of about ``CHUNK_BYTES``. The API's export streams them;
``shoal export`` writes them from a local store.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from typing import Literal

import orjson

from shoal.model import Report

ExportFormat = Literal["ndjson", "csv"]
CHUNK_BYTES = 64 * 1024
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
# One CSV row per report: (column, item type, item context or None for any context). Several values of
# one column are joined with " | ". NDJSON is the lossless format; CSV is for spreadsheets and grep.
CSV_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("title", "title", None),
    ("server_banner", "server-banner", None),
    ("http_server", "http-header", "Server"),
    ("host", "host", ""),
    ("product_tag", "product-tag", None),
    ("geo_country", "geo-country", None),
    ("entity", "entity", None),
    ("asn", "asn", None),
    ("subject", "subject", None),
    ("issuer", "issuer", None),
    ("cert_sha256", "cert-sha256", None),
)
CSV_HEADER = ("date", "id", "ip", "port", "protocol", *(column for column, _, _ in CSV_COLUMNS))
JOIN = " | "
NAME_WORDS = 40  # the most characters of the search an export's file name keeps
NOT_A_NAME_CHARACTER = re.compile(r"[^a-z0-9.]+")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def ndjson_lines(reports: Iterable[Report]) -> Iterator[bytes]:
    """Each report as one line of Driftnet JSON (sorted keys): the input ``shoal import`` reads."""
    option = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
    for report in reports:
        yield orjson.dumps(report.as_dict(), option=option)


def csv_row(report: Report) -> list[str]:
    port = report.port
    protocols = [item.context for item in report.items if item.type == "server-banner"]
    row = [report.date.isoformat(), report.id, report.ip or "", "" if port is None else str(port), joined(protocols)]
    for _, item_type, context in CSV_COLUMNS:
        values = [i.value for i in report.items if i.type == item_type and (context is None or i.context == context)]
        row.append(joined(values))
    return [safe_cell(cell) for cell in row]


def joined(values: list[str]) -> str:
    return JOIN.join(dict.fromkeys(value for value in values if value))


def safe_cell(cell: str) -> str:
    """Scan data is written by strangers: a cell a spreadsheet would run as a formula gets a leading '."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(reports: Iterable[Report]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for report in reports:
        writer.writerow(csv_row(report))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def encode(reports: Iterable[Report], export: ExportFormat) -> Iterator[bytes]:
    """The reports as ``export`` (ndjson or csv), in chunks of about CHUNK_BYTES."""
    lines = csv_lines(reports) if export == "csv" else ndjson_lines(reports)
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def export_filename(dataset: str, search: str, export: ExportFormat, day: dt.date) -> str:
    """What a download of an export is called: ``shoal-<dataset>-<the search>-<day>.<format>``, the search as
    lower-case letters, digits, dots and dashes (at most ``NAME_WORDS`` of them; ``all`` for no search), e.g.
    ``shoal-protocols-product-tag-nginx-2026-12-06.ndjson``."""
    words = NOT_A_NAME_CHARACTER.sub("-", search.lower()).strip("-.")[:NAME_WORDS].rstrip("-.") or "all"
    return f"shoal-{dataset}-{words}-{day.isoformat()}.{export}"
