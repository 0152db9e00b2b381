"""Read JSON Lines of reports (the API's result shape), plain or gzip, line by line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

from shoal.model import PROTOCOLS, InvalidReport, Report


@dataclass(frozen=True, slots=True)
class Rejected:
    source: str
    line: int
    reason: str


CHUNK_LINES = 2_000


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Consecutive raw lines of one input, with the 1-based number of the first, and the dataset their reports
    go to."""

    source: str
    first_line: int
    lines: list[bytes]
    dataset: str = PROTOCOLS


def read_chunks(
    stream: Iterable[bytes], source: str, lines_per_chunk: int = CHUNK_LINES, dataset: str = PROTOCOLS
) -> Iterator[LineChunk]:
    first, lines = 1, []
    for number, line in enumerate(stream, start=1):
        if not lines:
            first = number
        lines.append(line)
        if len(lines) >= lines_per_chunk:
            yield LineChunk(source, first, lines, dataset)
            lines = []
    if lines:
        yield LineChunk(source, first, lines, dataset)


def decode_chunk(chunk: LineChunk) -> list[Report | Rejected]:
    """One Report per valid line; one Rejected (with its line number and reason) per bad line; blanks skipped."""
    records: list[Report | Rejected] = []
    for number, line in enumerate(chunk.lines, start=chunk.first_line):
        if not line.strip():
            continue
        try:
            records.append(Report.from_dict(orjson.loads(line), chunk.dataset))
        except orjson.JSONDecodeError as exc:
            records.append(Rejected(chunk.source, number, f"not valid JSON: {exc}"))
        except InvalidReport as exc:
            records.append(Rejected(chunk.source, number, str(exc)))
    return records


def read_reports(stream: Iterable[bytes], source: str, dataset: str = PROTOCOLS) -> Iterator[Report | Rejected]:
    for chunk in read_chunks(stream, source, dataset=dataset):
        yield from decode_chunk(chunk)
