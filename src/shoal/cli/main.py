"""The ``shoal`` command line."""

from __future__ import annotations

from pathlib import Path

import typer

from shoal.cli import tokens
from shoal.cli.check import check_command
from shoal.cli.common import errors
from shoal.cli.enrich import enrich_command, enrichers_command
from shoal.cli.export import export_command
from shoal.cli.host import host_command
from shoal.cli.imports import import_command
from shoal.cli.ports import ports_command
from shoal.cli.scan import scan_command
from shoal.cli.search import search_command
from shoal.cli.serve import serve_command
from shoal.config import data_dir
from shoal.errors import DiskFull
from shoal.filesystem import disk_full, is_disk_full

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


def main() -> None:
    """The ``shoal`` entry point: the commands, with a full disk reported in one line wherever it happens."""
    try:
        app()
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        where = getattr(exc, "path", None) or getattr(exc, "filename", None) or data_dir()
        done = exc.message if isinstance(exc, DiskFull) else "what was being written was not kept"
        errors.print(f"[bold red]error:[/] {disk_full(Path(where), done).message}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
