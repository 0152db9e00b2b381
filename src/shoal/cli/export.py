"""``shoal export``: every report matching a search, streamed as NDJSON (or CSV) to stdout or a file.

The same bytes as ``GET /v1/scan/protocols/export`` (locally, or from the server after ``shoal login``):
NDJSON lines are Driftnet's report JSON (what ``shoal import`` reads back), CSV rows are the columns
documented in docs/api.md. No 10,000 cap, constant memory; every dated report unless ``--most-recent``;
``--limit N`` stops after N reports; ``-o FILE.gz`` writes gzip. Progress (reports of how many, MB, rate,
time left) goes to stderr.
"""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from shoal.cli.common import DataOption, DatasetName, errors
from shoal.cli.options import DatasetOption, QueryArgument, asked, failed, open_backend, selecting
from shoal.cli.progress import JobProgress
from shoal.errors import ShoalError
from shoal.request.answers import plural
from shoal.request.params import MOST_RECENT
from shoal.request.selection import Selection


@selecting(defaults={MOST_RECENT.attribute: False})
def export_command(
    query: QueryArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    *,
    selection: Selection,
    csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per report, instead of NDJSON.")] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout (gzip if it ends in .gz).", dir_okay=False
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Stop after this many reports.", show_default=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Stream every matching report, newest first: NDJSON (one report per line) or --csv."""
    export_format = "csv" if csv else "ndjson"
    backend = open_backend(data)
    try:
        export = asked(selection, lambda: backend.export(selection, export_format, dataset.value))
        total = export.result_count if limit is None or export.result_count is None else min(limit, export.result_count)
        with JobProgress(errors, "export", total_records=total, noun="reports") as progress:
            chunks = export.chunks() if limit is None else first_lines(export.chunks(), limit, csv)
            if output is None:
                written = write(chunks, sys.stdout.buffer, progress, csv)
            elif output.name.endswith(".gz"):
                with gzip.open(output, "wb") as out:
                    written = write(chunks, out, progress, csv)
            else:
                with open(output, "wb") as out:
                    written = write(chunks, out, progress, csv)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except ShoalError as exc:
        failed(exc, selection)
    finally:
        backend.close()
    count = total if total is not None else written
    errors.print(f"exported {plural(count, 'report')}" + (f" to {output}" if output else ""), highlight=False)


def first_lines(chunks: Iterator[bytes], reports: int, csv: bool) -> Iterator[bytes]:
    """The chunks up to the end of the ``reports``-th report (a CSV's header line is not a report); the
    rest of the stream is not read."""
    end = b"\r\n" if csv else b"\n"
    left = reports + (1 if csv else 0)
    try:
        for chunk in chunks:
            lines = chunk.count(end)
            if lines < left:
                left -= lines
                yield chunk
                continue
            cut = -1
            for _ in range(left):
                cut = chunk.index(end, cut + 1)
            yield chunk[: cut + len(end)]
            return
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def write(chunks: Iterable[bytes], out: BinaryIO, progress: JobProgress, csv: bool) -> int:
    """Copy the chunks, counting reports as lines (CSV: rows end in CRLF; the header is not a report)."""
    end = b"\r\n" if csv else b"\n"
    header = 1 if csv else 0
    for chunk in chunks:
        out.write(chunk)
        lines = chunk.count(end)
        skipped = min(header, lines)
        header -= skipped
        progress.advance(lines - skipped, new_bytes=len(chunk))
    out.flush()
    return progress.records
