"""``shoal db init|migrate|status``: the schema of a ClickHouse store (the embedded engine needs none)."""

from __future__ import annotations

import typer

from shoal.cli.common import DataOption, console, fail, open_store
from shoal.errors import BadParameter, ShoalError
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.schema import LATEST
from shoal.store.registry import store_url

app = typer.Typer(help="Create or migrate the schema of a ClickHouse store (--store clickhouse://… or chdb://…).")


def clickhouse_store(data: DataOption) -> ClickHouseStore:
    url = store_url()
    if url is None or url.startswith("embedded:"):
        fail(
            BadParameter("store", "the embedded store has no schema to manage: give --store clickhouse://… or chdb://…")
        )
    store = open_store(data)
    if not isinstance(store, ClickHouseStore):
        fail(
            BadParameter("store", "the embedded store has no schema to manage: give --store clickhouse://… or chdb://…")
        )
    return store


@app.command("init")
def init_command(data: DataOption = None) -> None:
    """Create the database and its tables (ON CLUSTER when the URL names a cluster); safe to run again."""
    migrate_command(data)


@app.command("migrate")
def migrate_command(data: DataOption = None) -> None:
    """Apply the migrations this version of Shoal has and the database does not."""
    store = clickhouse_store(data)
    try:
        applied = store.migrate()
    except ShoalError as exc:
        fail(exc)
    for name in applied:
        console.print(f"applied migration {name}")
    console.print(f"{store.database}: schema version {LATEST} (latest)")


@app.command("status")
def status_command(data: DataOption = None) -> None:
    """Print the database's schema version and whether it is the latest."""
    store = clickhouse_store(data)
    version = store.schema_version()
    state = "latest" if version == LATEST else f"Shoal needs {LATEST}: run 'shoal db migrate'"
    console.print(f"{store.database}: schema version {version} ({state})")
    if version != LATEST:
        raise typer.Exit(1)
