"""Read JSON Lines of reports (the API's result shape), plain or gzip, line by line."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from shoal.model import InvalidReport, Report

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class Rejected:
    source: str
    line: int
    reason: str


def open_input(path: Path) -> BinaryIO:
    """Open a file for reading, transparently gunzipping it when it starts with the gzip magic bytes."""
    raw = path.open("rb")
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def read_reports(lines: BinaryIO, source: str) -> Iterator[Report | Rejected]:
    """One Report per valid line; one Rejected (with its 1-based line number and reason) per bad line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Rejected(source, number, f"not valid JSON: {exc}")
            continue
        try:
            yield Report.from_dict(data)
        except InvalidReport as exc:
            yield Rejected(source, number, str(exc))
