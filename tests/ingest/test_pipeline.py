"""The ingest path: JSON Lines decoding, rejections with line numbers, batching, duplicates, worker processes."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest

from shoal.ingest.inputs import open_input
from shoal.ingest.jsonl import LineChunk, decode_chunk, read_chunks, read_reports
from shoal.ingest.pipeline import ingest_chunks, ingest_stream
from shoal.model import Item, Report
from shoal.store.base import Filters, Store, SummaryRequest
from tests.corpus import CORPUS

LINES = [orjson.dumps(report.as_dict()) + b"\n" for report in CORPUS]


def test_chunks_keep_line_numbers() -> None:
    chunks = list(read_chunks(io.BytesIO(b"".join(LINES)), "x", lines_per_chunk=5))
    assert [(c.first_line, len(c.lines)) for c in chunks] == [(1, 5), (6, 5), (11, 5), (16, 1)]


def test_rejections_name_line_and_reason() -> None:
    chunk = LineChunk("f.jsonl", 41, [LINES[0], b"\n", b"[1, 2]\n", b'{"date": "2026-01-01"}\n', b"\xff\xfe\n"])
    records = decode_chunk(chunk)
    assert records[0] == CORPUS[0]
    rejected = [(r.line, r.reason.split(":")[0]) for r in records[1:]]
    assert rejected == [
        (43, "a report must be a JSON object"),
        (44, "'items' must be a non-empty list"),
        (45, "not valid JSON"),
    ]


def test_gzip_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(b"".join(LINES)))
    with open_input(path) as stream:
        assert [r.id for r in read_reports(stream, "no-suffix")] == [r.id for r in CORPUS]


@pytest.mark.parametrize("workers", [0, 1])
def test_ingest_chunks_in_worker_processes(empty_store: Store, workers: int) -> None:
    body = b"".join(LINES) + b"garbage\n" + LINES[0]
    chunks = read_chunks(io.BytesIO(body), "in", lines_per_chunk=3)
    totals = ingest_chunks(empty_store, chunks, decode_chunk, workers=workers, batch_size=7)
    assert (totals.imported, totals.duplicates, [r.line for r in totals.rejected]) == (16, 1, [17])
    assert empty_store.count() == 16
    again = ingest_chunks(empty_store, read_chunks(io.BytesIO(body), "in"), decode_chunk, workers=workers)
    assert (again.imported, again.duplicates) == (0, 17)
    assert empty_store.search(Filters()).total == 16


def test_ingest_stream_reports_each_batch(empty_store: Store) -> None:
    seen: list[int] = []
    ingest_stream(empty_store, CORPUS + CORPUS[:3], on_batch=lambda t: seen.append(t.processed), batch_size=10)
    assert seen == [10, 19]
    assert empty_store.count() == 16


def tag_everything(report: Report) -> Report:
    return Report(date=report.date, id=report.id, items=(*report.items, Item("product-tag", "tagged", "", True)))


@pytest.mark.parametrize("workers", [0, 1])
def test_transform_runs_before_storing(empty_store: Store, workers: int) -> None:
    chunks = read_chunks(io.BytesIO(b"".join(LINES)), "in", lines_per_chunk=4)
    ingest_chunks(empty_store, chunks, decode_chunk, workers=workers, transform=tag_everything)
    assert empty_store.summarize(Filters(), SummaryRequest("product-tag")).values[0] == ("tagged", 16)
