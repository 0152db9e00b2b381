"""Tables for people, plain lines for pipes.

On a terminal a command prints rich tables; when its output goes to a pipe or a file it prints one line per
row, the cells joined by a separator (a tab unless ``--separator`` says otherwise), with no borders, no
colour and no title on stdout (the title goes to stderr), so that ``grep``, ``cut`` and ``sort`` work on
it. ``--table`` / ``--plain`` choose explicitly. Shodan's CLI behaves the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.table import Table

from shoal.cli.common import console, errors

LayoutOption = Annotated[
    bool | None,
    typer.Option(
        "--table/--plain",
        help="Tables, or one plain line per row (default: tables on a terminal, plain lines in a pipe).",
        show_default=False,
    ),
]
SeparatorOption = Annotated[
    str, typer.Option("--separator", "-s", help="Between the cells of plain lines ('\\t' is a tab).")
]
DEFAULT_SEPARATOR = "\\t"
UNPRINTABLE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


@dataclass(frozen=True, slots=True)
class Layout:
    table: bool
    separator: str = "\t"


def layout_of(table: bool | None, separator: str = DEFAULT_SEPARATOR) -> Layout:
    """The layout asked for (``table`` None: a table exactly when stdout is a terminal)."""
    chosen = console.is_terminal if table is None else table
    return Layout(chosen, separator.replace("\\t", "\t"))


def plain_cell(value: object) -> str:
    """A cell of a plain line: tabs and line breaks inside a value become spaces (one row, one line)."""
    return str(value).translate(UNPRINTABLE)


def emit(
    layout: Layout,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    right: Sequence[str] = (),
    prefix: str | None = None,
) -> None:
    """One table (``right``: its right-aligned columns). Plain: its rows, each starting with ``prefix`` if
    given (so the rows of several tables can be told apart with grep), else with its title on stderr."""
    if layout.table:
        table = Table(title=title or None, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold", justify="right" if column in right else "left")
        for row in rows:
            table.add_row(*(str(cell) for cell in row))
        console.print(table)
        return
    if title and not prefix:
        errors.print(title, highlight=False, markup=False)
    lead = [prefix] if prefix else []
    for row in rows:
        print(layout.separator.join(plain_cell(cell) for cell in [*lead, *row]))
