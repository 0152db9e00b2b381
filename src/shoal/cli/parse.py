"""``shoal parse``: chosen fields of exported reports (``shoal export`` NDJSON, plain or gzip), one line per
report, as Shodan's ``parse`` does for its downloads. Reads files or stdin; needs no store and no server."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from shoal.cli.common import errors, fail
from shoal.cli.fields import DEFAULT_FIELDS, parse_fields
from shoal.cli.output import DEFAULT_SEPARATOR, SeparatorOption, layout_of, plain_cell
from shoal.cli.search import FieldsOption
from shoal.errors import ShoalError
from shoal.ingest.inputs import open_input, open_stdin
from shoal.model import InvalidReport, Report

SHOWN_REJECTIONS = 20


def parse_command(
    files: Annotated[list[Path], typer.Argument(help="NDJSON exports (.gz too); '-' for stdin.")],
    fields: FieldsOption = DEFAULT_FIELDS,
    separator: SeparatorOption = DEFAULT_SEPARATOR,
) -> None:
    """Print the chosen fields of every report in FILES, one line each (bad lines are counted on stderr)."""
    from shoal.query.check import BUILTIN_TYPES

    try:
        columns = parse_fields(fields, BUILTIN_TYPES)
    except ShoalError as exc:
        fail(exc)
    join = layout_of(False, separator).separator
    rejected = 0
    damaged: list[str] = []
    try:
        for path in files:
            if str(path) != "-" and not path.is_file():
                fail(ShoalError(f"{path}: no such file"))
            stream = open_stdin() if str(path) == "-" else open_input(path)
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    report = Report.from_dict(orjson.loads(line))
                except (orjson.JSONDecodeError, InvalidReport) as exc:
                    rejected += 1
                    if rejected <= SHOWN_REJECTIONS:
                        errors.print(f"skipped {path}:{number}: {exc}", highlight=False, markup=False)
                    continue
                sys.stdout.write(join.join(plain_cell(column(report)) for column in columns) + "\n")
            stream.close()
            rejected += len(stream.oversized)
            if stream.damage is not None:
                damaged.append(stream.damage)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    for damage in damaged:
        errors.print(f"error: {damage}", highlight=False, markup=False)
    if rejected:
        errors.print(f"{rejected} lines were not reports", highlight=False)
    if rejected or damaged:
        raise typer.Exit(1)
