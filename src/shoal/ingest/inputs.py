"""What ``shoal import`` reads from: a file or stdin, plain, gzip or bzip2 (told by its first bytes), read line by
line with two guarantees every reader gets without knowing it.

- **A line is bounded before it is read** (``max_line_bytes``, 16 MiB by default, ``$SHOAL_MAX_LINE_BYTES``):
  a longer line is never held whole; it is skipped to its end, noted (``Input.oversized``: its number and
  size) and handed to the reader as a blank line, which every reader passes over, so the lines after it keep
  their numbers. The importer then lists it as rejected, with the reason.
- **A damaged gzip (or bzip2) stream ends the input at its last complete line**: a stream cut short (a download
  or a copy interrupted) or corrupt raises in the middle of a read; here it ends the input instead, the line it was
  in is dropped (it has no end), and ``Input.damage`` says where: "truncated at byte N" of the compressed
  input. Every complete line before the cut is read and stored; the importer then says so and exits 1.
"""

from __future__ import annotations

import bz2
import io
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shoal.ingest.jsonl import Rejected

GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
PEEK_BYTES = 64 * 1024
LINE_BYTES_VARIABLE = "SHOAL_MAX_LINE_BYTES"
DEFAULT_MAX_LINE_BYTES = 16 << 20
SKIP_BYTES = 1 << 20  # read at once while skipping the rest of an over-long line
GZIP_WBITS = zlib.MAX_WBITS | 16


class CorruptBzip2(Exception):
    """A bzip2 stream whose data does not decompress (bz2 says OSError, which could be anything)."""


DAMAGED = (EOFError, zlib.error, CorruptBzip2)  # what a damaged compressed stream raises: cut short, corrupt


def max_line_bytes() -> int:
    """The cap on bytes per line: ``$SHOAL_MAX_LINE_BYTES`` (e.g. 64M, 1G, 1048576), else 16 MiB."""
    text = os.environ.get(LINE_BYTES_VARIABLE, "").strip()
    return parse_size(text) if text else DEFAULT_MAX_LINE_BYTES


def parse_size(text: str) -> int:
    """``1048576``, ``512K``, ``64M``, ``1G`` (binary units) as bytes; ValueError if it is none, or below 1 KiB."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    factor = units.get(value[-1:], 1)
    digits = value[:-1] if value[-1:] in units else value
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise ValueError(f"a size is a number of bytes, e.g. 1048576, 512K, 64M or 1G, not {text!r}")
    size = int(digits) * factor
    if size < 1024:
        raise ValueError(f"a line may hold at least 1K, not {text!r}")
    return size


@dataclass(frozen=True, slots=True)
class Oversized:
    line: int
    size: int  # bytes, at least: counting stops at the line's end or the input's


class Gunzip(io.RawIOBase):
    """A gzip stream (of one or more members) inflated, counting the compressed bytes read. Unlike ``GzipFile``,
    whose own buffering drops what it had inflated when the stream turns out cut short, it hands over every
    byte it inflated, then raises EOFError (cut short) or zlib.error (corrupt): only the unfinished line is lost."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0  # compressed bytes read
        self._inflate = zlib.decompressobj(GZIP_WBITS)
        self._pending = b""  # compressed bytes read and not inflated yet

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while True:
            if self._inflate.eof:
                self._pending = self._inflate.unused_data + self._pending or self._read()
                if not self._pending:
                    return 0  # the end, after a whole member
                self._inflate = zlib.decompressobj(GZIP_WBITS)  # another member follows
            self._pending = self._pending or self._read()
            if not self._pending:
                raise EOFError("the gzip stream ends before its end")
            data = self._inflate.decompress(self._pending, len(buffer))
            self._pending = self._inflate.unconsumed_tail
            if data:
                buffer[: len(data)] = data
                return len(data)

    def _read(self) -> bytes:
        chunk = self.inner.read(PEEK_BYTES)
        self.count += len(chunk)
        return chunk

    def close(self) -> None:
        self.inner.close()
        super().close()


class Bunzip2(Gunzip):
    """A bzip2 stream (of one or more streams) decompressed, counting the compressed bytes read, with the same
    promise as ``Gunzip``: every byte decompressed is handed over before EOFError (cut short) or CorruptBzip2."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__(inner)
        self._decompress = bz2.BZ2Decompressor()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while True:
            if self._decompress.eof:
                self._pending = self._decompress.unused_data + self._pending or self._read()
                if not self._pending:
                    return 0
                self._decompress = bz2.BZ2Decompressor()
            if not self._pending and self._decompress.needs_input:
                self._pending = self._read()
                if not self._pending:
                    raise EOFError("the bzip2 stream ends before its end")
            try:
                data = self._decompress.decompress(self._pending, len(buffer))
            except OSError as exc:
                raise CorruptBzip2(str(exc)) from None
            self._pending = b""
            if data:
                buffer[: len(data)] = data
                return len(data)


class Input:
    """One input, decompressed if it is gzip or bzip2, read through bounded lines (see the module docstring)."""

    def __init__(self, raw: BinaryIO, source: str, line_limit: int | None = None) -> None:
        self.source = source
        self.line_limit = max_line_bytes() if line_limit is None else line_limit
        self.oversized: list[Oversized] = []
        self.damage: str | None = None
        self.compressed: Gunzip | None = None
        self.raw = raw
        head = raw.peek(3)[:3] if hasattr(raw, "peek") else b""
        if head[:2] == GZIP_MAGIC:
            self.compressed = Gunzip(raw)
        elif head == BZIP2_MAGIC:
            self.compressed = Bunzip2(raw)
        if self.compressed is not None:
            self.stream: BinaryIO = io.BufferedReader(self.compressed, buffer_size=PEEK_BYTES)  # type: ignore[assignment]
        else:
            self.stream = raw

    def peek(self, size: int = 0) -> bytes:
        """The next bytes without consuming them (format detection); b"" if the stream is damaged there."""
        try:
            return self.stream.peek(size)  # type: ignore[attr-defined, no-any-return]
        except DAMAGED as exc:
            self._damaged(exc)
            return b""

    def __iter__(self) -> Iterator[bytes]:
        number = 0
        while True:
            try:
                line = self.stream.readline(self.line_limit + 1)
                if len(line) > self.line_limit and not line.endswith(b"\n"):
                    self.oversized.append(Oversized(number + 1, len(line) + self._skip_line()))
                    line = b"\n"
            except DAMAGED as exc:
                self._damaged(exc)
                return
            if not line:
                return
            number += 1
            yield line

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all with -1); what came before damage, if the stream is damaged."""
        parts: list[bytes] = []
        wanted = size if size >= 0 else None
        try:
            while wanted is None or wanted > 0:
                part = self.stream.read1(min(wanted or SKIP_BYTES, SKIP_BYTES))  # type: ignore[attr-defined]
                if not part:
                    break
                parts.append(part)
                if wanted is not None:
                    wanted -= len(part)
        except DAMAGED as exc:
            self._damaged(exc)
        return b"".join(parts)

    def _skip_line(self) -> int:
        skipped = 0
        while chunk := self.stream.readline(SKIP_BYTES):
            skipped += len(chunk)
            if chunk.endswith(b"\n"):
                break
        return skipped

    def _damaged(self, error: BaseException) -> None:
        at = self.compressed.count if self.compressed is not None else 0
        kind = "bzip2" if isinstance(self.compressed, Bunzip2) else "gzip"
        what = "truncated" if isinstance(error, EOFError) else "damaged"
        why = (
            f"the {kind} stream ends before its end" if isinstance(error, EOFError) else f"corrupt {kind} data: {error}"
        )
        self.damage = (
            f"{self.source}: {what} at byte {at:,} ({why}); every complete line before it was read,"
            " the rest of the input is missing"
        )

    def rejections(self) -> list[Rejected]:
        """The lines over the cap, as rejections."""
        return [
            Rejected(
                self.source,
                found.line,
                f"a line of {found.size:,} bytes, more than the {self.line_limit:,} a line may hold"
                f" (${LINE_BYTES_VARIABLE})",
            )
            for found in self.oversized
        ]

    def position(self) -> int | None:
        """Bytes consumed from the underlying input (compressed bytes for gzip), for progress; None if unknown."""
        if self.compressed is not None:
            return self.compressed.count
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        self.stream.close()
        self.raw.close()

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_input(path: Path, line_limit: int | None = None) -> Input:
    """A file, gunzipped if it starts with the gzip magic bytes. Its buffer is large so that format detection can
    peek at a whole head (``shoal.ingest.detect``)."""
    return Input(path.open("rb", buffering=PEEK_BYTES), str(path), line_limit)  # type: ignore[arg-type]


def open_stdin(line_limit: int | None = None) -> Input:
    """Standard input, gunzipped if it is gzip (``zcat`` need not come first)."""
    raw = getattr(sys.stdin.buffer, "raw", None)  # unread at start: buffered anew, to peek at a whole head
    stream = sys.stdin.buffer if raw is None else io.BufferedReader(raw, buffer_size=PEEK_BYTES)
    return Input(stream, "stdin", line_limit)
