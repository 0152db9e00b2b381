"""The input every reader reads (``shoal.ingest.inputs``): lines bounded before they are read, a damaged gzip
stream ended at its last complete line and said where, gzip told by content on stdin too (issue 22, items 5, 6)."""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from pathlib import Path

import pytest

from shoal.ingest.inputs import Input, open_input, parse_size

LINES = [b'{"n": %d, "pad": "%s"}\n' % (n, b"x" * (n % 50)) for n in range(5000)]


def cut_gzip(path: Path, keep: float) -> tuple[int, int]:
    """Write LINES gzip-compressed to ``path``, cut at ``keep`` of its length: (its size, complete lines in it)."""
    whole = gzip.compress(b"".join(LINES))
    cut = whole[: int(len(whole) * keep)]
    path.write_bytes(cut)
    inflated = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(cut)
    return len(cut), inflated.count(b"\n")


def test_a_truncated_gzip_stream_ends_at_its_last_complete_line(tmp_path: Path) -> None:
    size, complete = cut_gzip(tmp_path / "cut.jsonl.gz", 0.6)
    with open_input(tmp_path / "cut.jsonl.gz") as stream:
        lines = list(stream)
    assert lines == LINES[:complete] and 0 < complete < len(LINES)
    assert stream.damage is not None and f"cut.jsonl.gz: truncated at byte {size:,}" in stream.damage


def test_a_corrupt_gzip_stream_is_damage_too(tmp_path: Path) -> None:
    whole = bytearray(gzip.compress(b"".join(LINES)))
    whole[len(whole) // 2 : len(whole) // 2 + 64] = b"\xff" * 64
    (tmp_path / "bad.gz").write_bytes(bytes(whole))
    with open_input(tmp_path / "bad.gz") as stream:
        lines = list(stream)
    assert lines[:1000] == LINES[:1000]  # what inflates before the corruption is seen (it may be garbage just before)
    assert stream.damage is not None and "bad.gz: damaged at byte" in stream.damage


def test_an_over_long_line_is_skipped_whole_and_keeps_the_numbers_after_it() -> None:
    data = b"first\n" + b"y" * 5000 + b"\nthird\n" + b"z" * 9000
    stream = Input(io.BufferedReader(io.BytesIO(data)), "input", line_limit=1024)  # type: ignore[arg-type]
    assert list(stream) == [b"first\n", b"\n", b"third\n", b"\n"]
    assert [(found.line, found.size) for found in stream.oversized] == [(2, 5001), (4, 9000)]
    [first, _] = stream.rejections()
    assert first.line == 2 and "a line of 5,001 bytes, more than the 1,024 a line may hold" in first.reason


def test_a_line_at_the_limit_is_read() -> None:
    data = b"a" * 1023 + b"\n" + b"b" * 1024
    stream = Input(io.BufferedReader(io.BytesIO(data)), "input", line_limit=1024)  # type: ignore[arg-type]
    assert list(stream) == [b"a" * 1023 + b"\n", b"b" * 1024] and stream.oversized == []


def test_bzip2_is_told_by_content_and_a_cut_one_ends_at_its_last_complete_line(tmp_path: Path) -> None:
    whole = bz2.compress(b"".join(LINES)) + bz2.compress(b"after\n")  # two streams, as pbzip2 writes
    assert list(Input(io.BufferedReader(io.BytesIO(whole)), "stdin")) == [*LINES, b"after\n"]  # type: ignore[arg-type]
    (tmp_path / "cut.bz2").write_bytes(whole[: len(whole) // 2])
    with open_input(tmp_path / "cut.bz2") as stream:
        lines = list(stream)
    assert lines == LINES[: len(lines)] and len(lines) < len(LINES)
    assert stream.damage is not None and "cut.bz2: truncated at byte" in stream.damage and "bzip2" in stream.damage
    corrupt = bytearray(whole)
    corrupt[100:164] = b"\xff" * 64
    (tmp_path / "bad.bz2").write_bytes(bytes(corrupt))
    with open_input(tmp_path / "bad.bz2") as stream:
        list(stream)
    assert stream.damage is not None and "bad.bz2: damaged at byte" in stream.damage


def test_gzip_is_told_by_content() -> None:
    zipped = io.BufferedReader(io.BytesIO(gzip.compress(b"one\ntwo\n")))
    assert list(Input(zipped, "stdin")) == [b"one\n", b"two\n"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1 << 20), ("512K", 512 << 10), ("64M", 64 << 20), ("1GiB", 1 << 30)]
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "12", "lots", "-5M", "1T"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match=r"a size is|at least 1K"):
        parse_size(text)
