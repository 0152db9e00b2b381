"""The ``shoal`` command line."""

from __future__ import annotations

import typer

from shoal.cli import tokens
from shoal.cli.check import check_command
from shoal.cli.enrich import enrich_command, enrichers_command
from shoal.cli.export import export_command
from shoal.cli.host import host_command
from shoal.cli.imports import import_command
from shoal.cli.ports import ports_command
from shoal.cli.scan import scan_command
from shoal.cli.search import search_command
from shoal.cli.serve import serve_command

app = typer.Typer(
    name="shoal",
    help="Self-hosted internet-scan search with a Driftnet-compatible API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("check")(check_command)
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
