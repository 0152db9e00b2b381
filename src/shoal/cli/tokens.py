"""``shoal token``: create API tokens (shown once, stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer

from shoal.cli.common import DataOption
from shoal.config import data_dir
from shoal.tokens import TokenStore

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who or what the token is for.")],
    enterprise: Annotated[
        bool, typer.Option("--enterprise", help="Enterprise limits (summaries up to 1M values).")
    ] = False,
    data: DataOption = None,
) -> None:
    """Create a token and print it alone on stdout (it cannot be shown again)."""
    print(TokenStore(data_dir(data)).create(name, enterprise=enterprise))
