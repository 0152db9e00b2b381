"""The ``shoal`` command line."""

from __future__ import annotations

import typer

from shoal.cli import tokens
from shoal.cli.imports import import_command
from shoal.cli.search import search_command
from shoal.cli.serve import serve_command

app = typer.Typer(
    name="shoal",
    help="Self-hosted internet-scan search with a Driftnet-compatible API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("import")(import_command)
app.command("search")(search_command)
app.command("serve")(serve_command)
app.add_typer(tokens.app, name="token")
