"""``shoal enrichers`` (what enrichment runs, from which data, under which licence) and ``shoal enrich``
(re-enrich stored reports: successors with the same date, see shoal.enrich.rerun)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.cli.options import MostRecentOption
from shoal.enrich.base import Settings
from shoal.enrich.engine import NAMES, build_enrichers
from shoal.enrich.rerun import RerunTotals, rerun
from shoal.errors import QueryError, ShoalError
from shoal.request.reading import known_types
from shoal.request.selection import Selection
from shoal.store.base import Store

AsnMmdbOption = Annotated[
    Path | None,
    typer.Option("--asn-mmdb", help="ASN database in MaxMind format (default: $SHOAL_ASN_MMDB, else bundled)."),
]
CityMmdbOption = Annotated[
    Path | None,
    typer.Option(
        "--city-mmdb", help="City or Country database in MaxMind format (default: $SHOAL_CITY_MMDB, else iptocc)."
    ),
]


def settings_of(asn_mmdb: Path | None, city_mmdb: Path | None, only: list[str] | None = None) -> Settings:
    settings = Settings.from_environment()
    if asn_mmdb is not None:
        settings = dataclasses.replace(settings, asn_mmdb=asn_mmdb)
    if city_mmdb is not None:
        settings = dataclasses.replace(settings, city_mmdb=city_mmdb)
    if only:
        settings = dataclasses.replace(settings, disabled=frozenset(NAMES) - set(only))
    return settings


def enrichers_command(
    asn_mmdb: AsnMmdbOption = None,
    city_mmdb: CityMmdbOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Also say how many items of each enricher's types the reports of this data directory (or"
            " --store) hold.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the enrichers every ingested report goes through: name, version, data source, licence (and, with
    --data, what the store's reports hold of them)."""
    try:
        enrichers = build_enrichers(settings_of(asn_mmdb, city_mmdb))
        rows: list[dict[str, object]] = [
            {
                "name": enricher.name,
                "outputs": sorted(enricher.outputs),
                "version": enricher.version,
                "source": enricher.source,
                "licence": enricher.licence,
            }
            for enricher in enrichers
        ]
    except ShoalError as exc:
        fail(exc)
    if data is not None:
        store = open_store(data)
        try:
            for row in rows:
                row["stored"] = {name: items_held(store, name) for name in row["outputs"]}  # type: ignore[attr-defined]
        finally:
            store.close()
    if json_output:
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title="enrichers (in the order their items are added)", title_justify="left")
    columns = ("name", "adds", "version", "source", "licence", *(("items stored",) if data is not None else ()))
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = [str(row["name"]), ", ".join(row["outputs"]), str(row["version"]), str(row["source"])]  # type: ignore[arg-type]
        stored = row.get("stored")
        held = [", ".join(f"{name} {count:,}" for name, count in stored.items())] if isinstance(stored, dict) else []
        table.add_row(*cells, str(row["licence"]), *held)
    console.print(table)


def items_held(store: Store, item_type: str) -> int:
    """How many items of ``item_type`` the store's current reports hold (a summary's counts and other)."""
    from shoal.store.base import Filters, SummaryRequest

    if item_type not in known_types(store):
        return 0
    summary = store.summarize(Filters(), SummaryRequest(item_type, limit=1))
    return sum(count for _, count in summary.values) + summary.other


def enrich_command(
    expression: Annotated[
        str, typer.Option("--expression", "-e", help="Only reports matching this expression (default: all).")
    ] = "",
    most_recent: MostRecentOption = False,
    enricher: Annotated[
        list[str] | None,
        typer.Option("--enricher", help=f"Re-run only this enricher (repeatable): {', '.join(NAMES)}."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Count what would change; store nothing.")] = False,
    asn_mmdb: AsnMmdbOption = None,
    city_mmdb: CityMmdbOption = None,
    data: DataOption = None,
) -> None:
    """Re-enrich stored reports. Reports are never changed: a report whose enrichment differs gets a
    successor with the same date, the same observed items, the current enrichment and a `supersedes` item
    naming it. Running it again adds nothing."""
    unknown = sorted(set(enricher or ()) - set(NAMES))
    if unknown:
        errors.print(f"[bold red]error:[/] unknown enrichers {unknown} (known: {', '.join(NAMES)})")
        raise typer.Exit(2)
    store = open_store(data)
    try:
        enrichers = build_enrichers(settings_of(asn_mmdb, city_mmdb, enricher))
        filters = Selection.of(expression=expression, most_recent=most_recent).as_filters(known_types(store))

        def progress(totals: RerunTotals) -> None:
            errors.print(f"examined {totals.examined:,}, successors {totals.successors:,}", highlight=False)

        totals = rerun(store, filters, enrichers, dry_run=dry_run, on_batch=progress)
    except QueryError as exc:
        fail(exc, expression if exc.parameter == "expression" else None)
    except ShoalError as exc:
        fail(exc)
    finally:
        store.close()
    changes = ", ".join(f"{name} {count:,}" for name, count in sorted(totals.changes.items())) or "none"
    verb = "would store" if dry_run else "stored"
    console.print(
        f"examined {totals.examined:,}, unchanged {totals.unchanged:,}, {verb} {totals.written:,} successors"
        f" (already stored {totals.duplicates:,}); changed types: {changes}",
        highlight=False,
        soft_wrap=True,
    )
