"""``shoal db init|migrate|status``: the schema of a ClickHouse store, the index format of the embedded one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer

from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.config import data_dir
from shoal.errors import BadParameter, ShoalError
from shoal.store.registry import store_url

if TYPE_CHECKING:  # ClickHouse (numpy, httpx) is imported only by the commands that use it
    from shoal.store.clickhouse import ClickHouseStore

app = typer.Typer(
    help="Create or migrate the schema of a ClickHouse store (--store clickhouse://… or chdb://…), or migrate"
    " the indexes of the embedded store in --data to this version's format."
)


def embedded() -> bool:
    """Is the store the embedded one (no --store, or embedded://)?"""
    url = store_url()
    return url is None or url.startswith("embedded:")


def embedded_folder(data: DataOption) -> Path:
    url = store_url()
    path = urlsplit(url).path if url else ""
    return Path(path) if path else data_dir(data)


def migrate_embedded(data: DataOption) -> None:
    """Rewrite every index of an older format in place, with progress; nothing to do is said too."""
    from shoal.store.embedded.engine import index_folder
    from shoal.store.embedded.migrate import migrate_data_dir

    folder = embedded_folder(data)

    def progress(dataset: str, done: int, total: int) -> None:
        errors.print(f"{dataset}: {done:,} of {total:,} reports rewritten", highlight=False)

    try:
        moved = migrate_data_dir(folder, index_folder, progress)
    except ShoalError as exc:
        fail(exc)
    for dataset, count in moved.items():
        if count:
            console.print(f"{dataset}: {count:,} reports now in index format 2", highlight=False)
    if not any(moved.values()):
        console.print(f"{folder}: every index is in this version's format; nothing to migrate", highlight=False)


def clickhouse_store(data: DataOption) -> ClickHouseStore:
    from shoal.store.clickhouse import ClickHouseStore

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
    """Apply the migrations this version of Shoal has and the store does not (an embedded store's indexes of an
    older format are rewritten in place)."""
    if embedded():
        migrate_embedded(data)
        return
    from shoal.store.clickhouse.schema import LATEST

    store = clickhouse_store(data)
    try:
        applied = store.migrate(lambda line: errors.print(line, highlight=False))
    except ShoalError as exc:
        fail(exc)
    for name in applied:
        console.print(f"applied migration {name}")
    console.print(f"{store.database}: schema version {LATEST} (latest)")


@app.command("status")
def status_command(data: DataOption = None) -> None:
    """Print the database's schema version (an embedded store's index formats) and whether it is the latest."""
    if embedded():
        status_embedded(data)
        return
    from shoal.store.clickhouse.schema import LATEST

    store = clickhouse_store(data)
    version = store.schema_version()
    state = "latest" if version == LATEST else f"Shoal needs {LATEST}: run 'shoal db migrate'"
    console.print(f"{store.database}: schema version {version} ({state})")
    if version != LATEST:
        raise typer.Exit(1)


def status_embedded(data: DataOption) -> None:
    from shoal.model import DATASETS
    from shoal.store.embedded.engine import index_folder
    from shoal.store.embedded.migrate import format_of, needs_migration

    folder = embedded_folder(data)
    behind = False
    for dataset in DATASETS:
        path = index_folder(folder, dataset)
        found = format_of(path)
        if needs_migration(path):
            behind = True
            state = f"index format {found}: run 'shoal db migrate'"
        else:
            state = "no index yet" if found is None else f"index format {found} (latest)"
        console.print(f"{dataset}: {state}", highlight=False)
    if behind:
        raise typer.Exit(1)
