"""``shoal db init|migrate|status``: the schema of the store (a ClickHouse database's tables, the embedded
engine's index format and shards), whichever engine ``--store`` names: each engine says what it has and does."""

from __future__ import annotations

from typing import Annotated

import typer

from shoal.cli.common import DataOption, console, fail
from shoal.config import data_dir
from shoal.errors import BadParameter, ShoalError
from shoal.store.registry import DEFAULT_URL, engine_of, store_url

app = typer.Typer(
    help="Create or migrate the schema of a ClickHouse store (--store clickhouse://… or chdb://…), or migrate"
    " the indexes of the embedded store in --data to this version's format."
)

ShardsOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=256,
        help="Embedded store: the number of index shards (each written by its own process; default: one per core"
        " for a new index, as many as it has for an existing one). Another number rewrites the indexes.",
    ),
]


def say(line: str) -> None:
    console.print(line, highlight=False)


@app.command("init")
def init_command(data: DataOption = None, shards: ShardsOption = None) -> None:
    """Create the database and its tables (ON CLUSTER when the URL names a cluster); safe to run again."""
    migrate_command(data, shards)


@app.command("migrate")
def migrate_command(data: DataOption = None, shards: ShardsOption = None) -> None:
    """Apply the migrations this version of Shoal has and the store does not (an embedded store's indexes of an
    older format, or of another number of shards than --shards, are rewritten in place)."""
    url = store_url()
    try:
        engine = engine_of(url)
        if shards is None:
            engine.migrate_schema(url or DEFAULT_URL, data_dir(data), say)
            return
        from shoal.store.embedded.engine import EmbeddedStore

        if engine is not EmbeddedStore:
            raise BadParameter("shards", f"--shards is for the embedded store: the {engine.name} engine has none")
        EmbeddedStore.migrate_schema(url or DEFAULT_URL, data_dir(data), say, shards)
    except ShoalError as exc:
        fail(exc)


@app.command("status")
def status_command(data: DataOption = None) -> None:
    """Print the database's schema version (an embedded store's index formats and shards) and whether it is the
    latest."""
    url = store_url()
    try:
        current = engine_of(url).schema_status(url or DEFAULT_URL, data_dir(data), say)
    except ShoalError as exc:
        fail(exc)
    if not current:
        raise typer.Exit(1)
