"""``shoal check``: verify the data directory's state files; ``--repair`` fixes what can be fixed safely."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shoal.cli.common import DataOption, console, errors
from shoal.config import data_dir
from shoal.errors import StoreError
from shoal.integrity import Problem, check_data, repair_data


def check_command(
    data: DataOption = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Move damaged databases aside and rebuild the open-port manifest.")
    ] = False,
) -> None:
    """Check tokens.json, the SQLite files, collector.toml and the open-port segments; exit 1 on a problem."""
    folder = data_dir(data)
    if repair and check_data(folder):
        try:
            for line in repair_data(folder):
                console.print(f"repaired: {line}", highlight=False, soft_wrap=True)
        except StoreError as exc:
            errors.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    problems = check_data(folder)
    show(problems, folder)
    if any(problem.blocking for problem in problems):
        raise typer.Exit(1)
    console.print(f"ok: the state files in {folder} are sound", highlight=False, soft_wrap=True)


def show(problems: list[Problem], folder: Path) -> None:
    for problem in problems:
        label = "[bold red]error:[/]" if problem.blocking else "[yellow]warning:[/]"
        line = problem.line().replace("--data DIR", f"--data {folder}")
        errors.print(f"{label} {escape(line)}", highlight=False, soft_wrap=True)
