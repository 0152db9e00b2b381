"""What every command shares: the --data option, opening the store, printing errors."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from shoal.config import data_dir
from shoal.errors import QueryError, ShoalError
from shoal.model import DATASETS
from shoal.store.embedded import EmbeddedStore

console = Console()
errors = Console(stderr=True)

DatasetName = enum.Enum("DatasetName", {name: name for name in DATASETS}, type=str)  # a typer choice

DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Data directory (default: $SHOAL_DATA or ./shoal-data).", show_default=False),
]


def open_store(data: Path | None, hold_writer: bool = True) -> EmbeddedStore:
    try:
        return EmbeddedStore(data_dir(data), hold_writer=hold_writer)
    except ShoalError as exc:
        fail(exc)


def caret_line(text: str, start: int, end: int) -> str:
    """The expression with a caret line under [start, end) (at least one caret, even at the end of text)."""
    width = max(1, end - start)
    return f"{text}\n{' ' * start}{'^' * width}"


def fail(error: ShoalError, expression: str | None = None) -> NoReturn:
    errors.print(f"[bold red]error:[/] {error.message}", highlight=False, soft_wrap=True)
    if isinstance(error, QueryError) and expression is not None:
        errors.print(caret_line(expression, error.start, error.end), markup=False, highlight=False)
        if error.hint:
            errors.print(f"[yellow]hint:[/] {error.hint}", highlight=False)
    raise typer.Exit(2)
