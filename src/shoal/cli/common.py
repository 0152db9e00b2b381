"""What every command shares: the --data option, opening the store (``--store``/``$SHOAL_STORE``), printing
errors.

Only light modules are imported here: the engine is imported when a store is opened.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from shoal.config import data_dir
from shoal.errors import BadParameter, QueryError, ShoalError
from shoal.model import DATASETS
from shoal.query.check import closest
from shoal.store.registry import store_url

if TYPE_CHECKING:
    from shoal.store.base import Store

console = Console()
errors = Console(stderr=True, soft_wrap=True)

DatasetName = enum.Enum("DatasetName", {name: name for name in DATASETS}, type=str)  # a typer choice

DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Data directory (default: $SHOAL_DATA or ./shoal-data).", show_default=False),
]


class NoStore(ShoalError):
    """``--data`` (or ``$SHOAL_DATA``, or ./shoal-data) names no directory: say so rather than search nothing."""

    status = 400
    code = "no_store"

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"there is no Shoal data in {folder} (no such directory): give --data DIR or set SHOAL_DATA,"
            " or create a store with 'shoal import --data DIR FILE' ('shoal login URL' to use a server)"
        )


class UnknownName(BadParameter):
    """A name (a facet, a field, a type to summarise) that is not known, with a "did you mean" hint."""

    def __init__(self, parameter: str, message: str, hint: str) -> None:
        super().__init__(parameter, message)
        self.hint = hint


def did_you_mean(name: str, candidates: Collection[str]) -> str:
    """The hint the expression checker gives for an unknown type ("" when nothing is close)."""
    close = closest(name, sorted(candidates))
    return f"did you mean '{close}'?" if close else ""


def existing_data_dir(data: Path | str | None) -> Path:
    """The data directory, which must exist (commands that create one call ``open_store(create=True)``). With a
    store URL (``--store``, ``$SHOAL_STORE``) the reports live elsewhere and the directory holds only local state
    (tokens, usage, slots): it is made when missing, by any command that needs it (docs/clickhouse.md)."""
    folder = data_dir(data)
    if not folder.is_dir():
        if store_url() is None:
            fail(NoStore(folder))
        make_data_dir(folder)
    return folder


def make_data_dir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(ShoalError(f"cannot create the data directory {folder}: {exc.strerror or exc}"))
    errors.print(f"created the data directory {folder} (tokens, usage; the reports are in the store)", highlight=False)


def open_store(data: Path | str | None, server: bool = False, create: bool = False) -> Store:
    """The store of ``--store``/``$SHOAL_STORE``, by default the embedded one in the data directory. Without
    ``create``, a data directory that does not exist is an error (for the embedded store); with it, the
    directory is made and the command says so. ``server``: opened by a long-running process (``shoal serve``,
    ``shoal ct follow``) that must let other processes write meanwhile."""
    from shoal.store.registry import open_store as open_store_at

    if create or server:  # a process that writes: few malloc arenas, before it starts its threads (``children``)
        from shoal.children import few_malloc_arenas

        few_malloc_arenas()
    folder = data_dir(data)
    url = store_url()
    new = url is None and not folder.exists()
    if url is None and not create:
        existing_data_dir(folder)
    if url is not None and (create or server) and not folder.is_dir():
        make_data_dir(folder)  # its local state: tokens, usage, slots, positions
    try:
        store = open_store_at(url, folder, server=server)
    except ShoalError as exc:
        fail(exc)
    if new:
        errors.print(f"created a new store in {folder}", highlight=False)
    return store


def caret_line(text: str, start: int, end: int) -> str:
    """The expression with a caret line under [start, end) (at least one caret, even at the end of text)."""
    width = max(1, end - start)
    return f"{text}\n{' ' * start}{'^' * width}"


def fail(error: ShoalError, expression: str | None = None) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False, soft_wrap=True)
    if isinstance(error, QueryError) and expression is not None:
        errors.print(caret_line(expression, error.start, error.end), markup=False, highlight=False)
    hint = getattr(error, "hint", "")
    if hint:
        errors.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False)
    raise typer.Exit(2)
