"""``shoal import``: JSON Lines of reports, or masscan output (format detected by content; plain or gzip) into
the store, with progress and per-line rejections."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shoal.cli.common import DataOption, DatasetName, console, errors, open_store
from shoal.config import data_dir
from shoal.enrich import configure, enrich_report
from shoal.filesystem import disk_full, is_disk_full
from shoal.ingest.detect import Format, detect
from shoal.ingest.jsonl import decode_chunk, open_input, read_chunks
from shoal.ingest.masscan import read_masscan_json, read_masscan_list
from shoal.ingest.pipeline import IngestTotals, ingest_chunks, ingest_stream
from shoal.store.base import Store

SHOWN_REJECTIONS = 20


def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(help="JSON Lines of reports, or masscan -oJ/-oD/-oL output (.gz too); '-' for stdin."),
    ],
    data: DataOption = None,
    dataset: Annotated[DatasetName, typer.Option(help="The dataset JSON Lines reports go to.")] = DatasetName.protocols,
    workers: Annotated[
        int | None, typer.Option(help="Parser processes (default: cores - 1; 0 parses in this process).")
    ] = None,
    enrich: Annotated[
        bool, typer.Option(help="Add geo-country, entity/asn, product and honeypot items (see 'shoal enrichers').")
    ] = False,
    asn_mmdb: Annotated[Path | None, typer.Option(help="With --enrich: an ASN database in MaxMind format.")] = None,
    city_mmdb: Annotated[Path | None, typer.Option(help="With --enrich: a City/Country database (MMDB).")] = None,
) -> None:
    """Import reports or masscan open ports. Prints imported / duplicate / rejected counts (of observations for
    masscan output); bad lines never stop the import."""
    store = open_store(data)
    totals = IngestTotals()
    try:
        import_files(store, files, totals, dataset.value, workers, enrich, asn_mmdb, city_mmdb)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        with contextlib.suppress(Exception):
            store.close()
        kept = (
            f"kept: {totals.imported:,} reports imported before it (searchable); the batch being written and the"
            " rest were not imported. Free some space and run the same import again (what is already imported"
            " counts as duplicate)"
        )
        errors.print(f"[bold red]error:[/] {disk_full(data_dir(data), kept).message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    store.close()
    for rejected in totals.rejected[:SHOWN_REJECTIONS]:
        errors.print(f"[yellow]rejected[/] {rejected.source}:{rejected.line}: {rejected.reason}", highlight=False)
    if len(totals.rejected) > SHOWN_REJECTIONS:
        errors.print(f"[yellow]… and {len(totals.rejected) - SHOWN_REJECTIONS} more rejected lines[/]")
    console.print(
        f"imported {totals.imported}, duplicate {totals.duplicates}, rejected {len(totals.rejected)}", highlight=False
    )


def import_files(
    store: Store,
    files: list[Path],
    totals: IngestTotals,
    dataset: str,
    workers: int | None,
    enrich: bool,
    asn_mmdb: Path | None,
    city_mmdb: Path | None,
) -> None:
    transform = None
    if enrich:
        configure(asn_mmdb=asn_mmdb, city_mmdb=city_mmdb)
        transform = enrich_report
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("reports {task.fields[reports]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=not errors.is_terminal,
    ) as progress:
        for path in files:
            source = "stdin" if str(path) == "-" else str(path)
            if source != "stdin" and not path.is_file():
                errors.print(f"[red]skipped[/] {path}: no such file")
                continue
            stream: BinaryIO = sys.stdin.buffer if source == "stdin" else open_input(path)
            size = None if source == "stdin" else path.stat().st_size
            task = progress.add_task(Path(source).name, total=size, reports=0)

            def advance(current: IngestTotals, task: int = task, stream: BinaryIO = stream) -> None:
                progress.update(task, completed=_position(stream), reports=current.processed)

            kind = detect(stream)
            if kind is Format.REPORTS:
                chunks = read_chunks(stream, source, dataset=dataset)
                ingest_chunks(
                    store, chunks, decode_chunk, totals, on_batch=advance, workers=workers, transform=transform
                )
            else:
                read = read_masscan_json if kind is Format.MASSCAN_JSON else read_masscan_list
                ingest_stream(store, read(stream, source), totals, on_batch=advance)
            progress.update(task, completed=size, reports=totals.processed)
            stream.close()


def _position(stream: BinaryIO) -> int | None:
    """Bytes consumed from the underlying file (compressed position for gzip)."""
    raw = getattr(stream, "fileobj", None) or stream
    try:
        return raw.tell()
    except (OSError, ValueError):
        return None
