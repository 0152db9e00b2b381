"""``shoal export``: every report matching a search, streamed as NDJSON (or CSV) to stdout or a file.

The same bytes as ``GET /v1/scan/protocols/export``: NDJSON lines are Driftnet's report JSON (what ``shoal
import`` reads back), CSV rows are the columns documented in docs/api.md. No 10,000 cap, constant memory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from starlette.datastructures import QueryParams

from shoal.api.routes.export import encode
from shoal.cli.common import DataOption, errors, fail, open_store
from shoal.cli.search import (
    ExpressionArgument,
    FromOption,
    HostInUrlOption,
    IndirectOption,
    IpOption,
    MostRecentOption,
    SlopOption,
    ToOption,
    selected,
    selection_pairs,
)
from shoal.errors import ShoalError
from shoal.model import Report


def export_command(
    expression: ExpressionArgument = "",
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
    params = QueryParams(selection_pairs(expression, ip, indirect, date_from, date_to, slop, most_recent, host_in_url))
    store = open_store(data)
    filters = selected(store, params)
    counted = Counted(store.iter_matches(filters))
    try:
        if output is None:
            write(encode(counted, "csv" if csv else "ndjson"), sys.stdout.buffer)
        else:
            with open(output, "wb") as out:
                write(encode(counted, "csv" if csv else "ndjson"), out)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except ShoalError as exc:
        fail(exc)
    finally:
        store.close()
    errors.print(f"exported {counted.count} reports" + (f" to {output}" if output else ""), highlight=False)


class Counted:
    """The reports, counted as they pass."""

    def __init__(self, reports: Iterable[Report]) -> None:
        self.reports = reports
        self.count = 0

    def __iter__(self) -> Iterator[Report]:
        for report in self.reports:
            self.count += 1
            yield report


def write(chunks: Iterable[bytes], out: BinaryIO) -> None:
    for chunk in chunks:
        out.write(chunk)
    out.flush()
