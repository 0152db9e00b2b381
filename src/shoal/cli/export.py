"""``shoal export``: every report matching a search, streamed as NDJSON (or CSV) to stdout or a file.

The same bytes as ``GET /v1/scan/protocols/export`` (locally, or from the server after ``shoal login``):
NDJSON lines are Driftnet's report JSON (what ``shoal import`` reads back), CSV rows are the columns
documented in docs/api.md. No 10,000 cap, constant memory. Progress (reports of how many, MB, rate, time
left) goes to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from shoal.cli.common import DataOption, DatasetName, errors
from shoal.cli.options import (
    DatasetOption,
    ExpressionArgument,
    FromOption,
    HostInUrlOption,
    IndirectOption,
    IpOption,
    MostRecentOption,
    SlopOption,
    ToOption,
    asked,
    failed,
    open_backend,
    selection_of,
)
from shoal.cli.progress import JobProgress
from shoal.errors import ShoalError


def export_command(
    expression: ExpressionArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    ip: IpOption = None,
    indirect: IndirectOption = False,
    date_from: FromOption = None,
    date_to: ToOption = None,
    slop: SlopOption = 0,
    most_recent: MostRecentOption = False,
    host_in_url: HostInUrlOption = False,
    csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per report, instead of NDJSON.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.", dir_okay=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Stream every matching report, newest first: NDJSON (one report per line) or --csv."""
    selection = selection_of(ip, indirect, date_from, date_to, slop, most_recent, host_in_url)
    export_format = "csv" if csv else "ndjson"
    backend = open_backend(data)
    try:
        export = asked(expression, lambda: backend.export(expression, selection, export_format, dataset.value))
        total = export.result_count
        with JobProgress(errors, "export", total_records=total, noun="reports") as progress:
            if output is None:
                written = write(export.chunks(), sys.stdout.buffer, progress, csv)
            else:
                with open(output, "wb") as out:
                    written = write(export.chunks(), out, progress, csv)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except ShoalError as exc:
        failed(exc, expression)
    finally:
        backend.close()
    count = total if total is not None else written
    errors.print(f"exported {count} reports" + (f" to {output}" if output else ""), highlight=False)


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
