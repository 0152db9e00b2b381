"""The ``shoal`` command line."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from shoal.cli import database, tokens
from shoal.cli.enrich import enrich_command, enrichers_command
from shoal.cli.export import export_command
from shoal.cli.host import host_command
from shoal.cli.imports import import_command
from shoal.cli.ports import ports_command
from shoal.cli.scan import scan_command
from shoal.cli.search import search_command
from shoal.cli.serve import serve_command
from shoal.store.registry import STORE_VARIABLE

app = typer.Typer(
    name="shoal",
    help="Self-hosted internet-scan search with a Driftnet-compatible API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("enrich")(enrich_command)
app.command("enrichers")(enrichers_command)
app.command("export")(export_command)
app.command("host")(host_command)
app.command("import")(import_command)
app.command("ports")(ports_command)
app.command("scan")(scan_command)
app.command("search")(search_command)
app.command("serve")(serve_command)
app.add_typer(tokens.app, name="token")
app.add_typer(database.app, name="db")


@app.callback()
def main(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Where reports live: embedded:///DIR, chdb:///DIR or clickhouse://HOST:8123/DB?cluster=NAME"
            " (default: $SHOAL_STORE, else embedded in the data directory).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Self-hosted internet-scan search with a Driftnet-compatible API."""
    if store:
        os.environ[STORE_VARIABLE] = store  # every command, and the processes it starts, open this store
