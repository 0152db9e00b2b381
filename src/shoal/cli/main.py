"""The ``shoal`` command line.

Each command's module is imported only when that command runs (or its own ``--help`` is shown): ``shoal
--help`` and a command that needs neither the server nor the index never pay for FastAPI, uvicorn or tantivy.
The table below is the list of commands; its short help lines are what ``shoal --help`` prints.
"""

from __future__ import annotations

import difflib
import importlib
import os
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperGroup

from shoal.store.registry import STORE_VARIABLE


class Entry(NamedTuple):
    module: str  # in shoal.cli, or a whole module path (``shoal.serve``, which stands above the API)
    attribute: str  # a command function, or a typer.Typer of subcommands
    summary: str  # the line ``shoal --help`` shows


COMMANDS: dict[str, Entry] = {
    "search": Entry("search", "search_command", "Search reports (a page of 100, or a summary of one type)."),
    "count": Entry("stats", "count_command", "The number of reports matching an expression."),
    "stats": Entry("stats", "stats_command", "The top values of several types (facets) over the matching reports."),
    "host": Entry("host", "host_command", "An IP's services, open ports, certificates and reports over time."),
    "diff": Entry("diff", "diff_command", "Services opened, closed and changed on a network since a day."),
    "export": Entry("export", "export_command", "Stream every matching report as NDJSON or CSV."),
    "parse": Entry("parse", "parse_command", "Print chosen fields of exported reports (NDJSON files)."),
    "ports": Entry("ports", "ports_command", "Open TCP ports seen on an address or CIDR."),
    "import": Entry("imports", "import_command", "Import reports, or zgrab2/nmap/masscan/zdns/massdns/CT output."),
    "serve": Entry("shoal.serve", "serve_command", "Serve the Driftnet-compatible API and the web UI."),
    "check": Entry("check", "check_command", "Check the data directory's state files (--repair: what is safe)."),
    "scan": Entry("scan", "scan_command", "Discover open ports and identify their services (allow-listed only)."),
    "schedule": Entry("schedule", "app", "Scans that 'shoal serve' repeats (add, list, remove)."),
    "dns": Entry("dns", "dns_command", "PTR names and their name servers (rdns), and forward lookups of names."),
    "ct": Entry("ct", "app", "Follow a Certificate Transparency log into the ct dataset."),
    "enrich": Entry("enrich", "enrich_command", "Re-enrich stored reports (country, network, product tags)."),
    "enrichers": Entry("enrich", "enrichers_command", "What enrichment runs, from which data, under which licence."),
    "alert": Entry("alerts", "app", "Alerts: saved searches whose new, changed, gone services go to a webhook."),
    "token": Entry("tokens", "app", "Manage API tokens."),
    "db": Entry("database", "app", "Create or migrate the schema of a ClickHouse store (--store clickhouse://…)."),
    "info": Entry(
        "info", "info_command", "The server's token: its class, quotas and this month's usage (as shodan info)."
    ),
    "login": Entry("remote", "login_command", "Use a Shoal server for search, count, stats, host, export, ports."),
    "logout": Entry("remote", "logout_command", "Forget the server and token saved by 'shoal login'."),
    "config": Entry("remote", "app", "Show or change the saved server and token."),
}


class LazyGroup(TyperGroup):
    """A group whose commands are imported when used. While ``shoal --help`` (or completion of a command
    name) lists them, each is a stand-in carrying only its summary."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if self.listing:
            return typer.core.TyperCommand(name=cmd_name, help=entry.summary)
        return load(cmd_name, entry)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As typer's, with "did you mean" drawn from every command (typer's looks at the loaded ones only)."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.commands and name not in COMMANDS:
            matches = difflib.get_close_matches(name, self.list_commands(ctx))
            hint = f" Did you mean {', '.join(repr(match) for match in matches)}?" if matches else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self.listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self.listing = False


HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}  # every command, and every group's subcommands


def load(name: str, entry: Entry) -> Any:
    """The click command of one entry, built the way typer builds a registered one."""
    module = entry.module if "." in entry.module else f"shoal.cli.{entry.module}"
    target = getattr(importlib.import_module(module), entry.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False, context_settings=HELP_OPTIONS)
    single.command(name)(target)
    return typer.main.get_command(single)


app = typer.Typer(
    name="shoal",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
)


def print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        print(f"shoal {version('shoal')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Print Shoal's version and exit.", callback=print_version, is_eager=True),
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Where reports live: embedded:///DIR, chdb:///DIR or clickhouse://HOST:8123/DB?cluster=NAME"
            " (default: $SHOAL_STORE, else embedded in the data directory; see docs/clickhouse.md).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Self-hosted internet-scan search with a Driftnet-compatible API.

    Local commands read the store in --data (default: $SHOAL_DATA, else ./shoal-data), or the one --store
    names. After 'shoal login URL' (or with $SHOAL_URL and $SHOAL_TOKEN), search, count, stats, host, export
    and ports ask that server instead, with the same output; --data still means a local store.
    """
    if store:
        os.environ[STORE_VARIABLE] = store  # every command, and the processes it starts, open this store


def run() -> None:
    """The ``shoal`` entry point: ``app``, with a full disk reported in one line wherever it happens (the
    modules that say so are imported only then)."""
    try:
        app()
    except Exception as exc:
        from pathlib import Path

        from shoal.config import data_dir
        from shoal.filesystem import is_disk_full

        if not is_disk_full(exc, data_dir()):
            raise
        from shoal.cli.common import errors
        from shoal.errors import DiskFull
        from shoal.filesystem import disk_full

        where = getattr(exc, "path", None) or getattr(exc, "filename", None) or data_dir()
        done = exc.message if isinstance(exc, DiskFull) else "what was being written was not kept"
        errors.print(f"[bold red]error:[/] {disk_full(Path(where), done).message}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
