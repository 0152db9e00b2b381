"""``shoal import``: reports, or the output of the scanners people run (format detected by content, plain, gzip or
bzip2; docs/importers.md) into the store, with progress and per-line rejections; registration data (whois dumps,
delegation statistics, BGP RIB dumps) into the registration book (``shoal.registration``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.markup import escape

from shoal.cli.common import DataOption, DatasetName, console, errors, open_store
from shoal.cli.dns import checked
from shoal.cli.progress import JobProgress
from shoal.config import data_dir
from shoal.enrich import configure, enrich_report
from shoal.errors import StoreError, UnknownFormat
from shoal.filesystem import disk_full, is_disk_full
from shoal.ingest.detect import DESCRIPTIONS, REGISTRATION, detect
from shoal.ingest.formats import ChunkedReader, reader_for
from shoal.ingest.inputs import LINE_BYTES_VARIABLE, Input, open_input, open_stdin, parse_size
from shoal.ingest.pipeline import IngestTotals, ingest_chunks, ingest_stream
from shoal.model import DEFAULT_MAX_REPORT_ITEMS, ITEMS_VARIABLE
from shoal.registration.book import RegistrationBook
from shoal.registration.importing import import_registration
from shoal.store.base import Store

T = TypeVar("T")
COUNT_EVERY = 1_000  # records of a stream reader (masscan, crt.sh) between two progress counts

SHOWN_REJECTIONS = 20


def import_command(
    files: Annotated[
        list[Path],
        typer.Argument(help=f"Files (.gz, .bz2 too; '-' for stdin): {'; '.join(DESCRIPTIONS.values())}."),
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
    max_items: Annotated[
        int,
        typer.Option(min=1, envvar=ITEMS_VARIABLE, help="Items a report may hold (a report with more is rejected)."),
    ] = DEFAULT_MAX_REPORT_ITEMS,
    max_line_bytes: Annotated[
        str,
        typer.Option(envvar=LINE_BYTES_VARIABLE, help="Bytes a line may hold, e.g. 64M (a longer one is rejected)."),
    ] = "16M",
) -> None:
    """Import reports, or scanners' output (zgrab2, nmap, masscan, zdns, massdns, certstream, crt.sh), or
    registration data (RPSL whois dumps, RIR delegated statistics, MRT RIB dumps: for ip/summary and ip/reverse).
    Prints imported / duplicate / rejected counts; bad lines never stop the import. Exits 1 if a file's format is
    not recognised, if a compressed file is cut short (after importing its complete lines) or if every record was
    rejected."""
    line_limit = checked(lambda: parse_size(max_line_bytes), "max-line-bytes")
    os.environ[ITEMS_VARIABLE], os.environ[LINE_BYTES_VARIABLE] = str(max_items), str(line_limit)  # for the workers
    store = open_store(data, create=True)
    totals = IngestTotals()
    unreadable: list[UnknownFormat] = []
    damaged: list[str] = []  # inputs cut short: their complete lines are imported, then this is said
    transform = None
    book: list[RegistrationBook] = []

    def registrations() -> RegistrationBook:
        if not book:
            book.append(RegistrationBook(data_dir(data)))
        return book[0]

    if enrich:
        configure(asn_mmdb=asn_mmdb, city_mmdb=city_mmdb)
        transform = enrich_report
    with full_disk_in_one_line(store, data, totals):
        for path in files:
            source = "stdin" if str(path) == "-" else str(path)
            if source != "stdin" and not path.is_file():
                errors.print(f"[red]skipped[/] {path}: no such file")
                continue
            stream = open_stdin(line_limit) if source == "stdin" else open_input(path, line_limit)
            size = None if source == "stdin" else path.stat().st_size
            try:
                kind = detect(stream, source)
            except UnknownFormat as exc:
                unreadable.append(exc)
                errors.print(f"[red]error:[/] {exc.message}", highlight=False)
                stream.close()
                continue
            with JobProgress(errors, f"import {Path(source).name}", total_bytes=size, noun="reports") as progress:
                progress.stored = 0

                def advance(records: int, progress: JobProgress = progress, stream: Input = stream) -> None:
                    progress.advance(records, stream.position())

                def stored(
                    current: IngestTotals, progress: JobProgress = progress, before: int = totals.processed
                ) -> None:
                    progress.stored = current.processed - before

                if kind in REGISTRATION:
                    try:
                        import_registration(registrations(), kind, stream, source, totals, advance)  # type: ignore[arg-type]
                    except StoreError as exc:
                        if is_disk_full(exc, data_dir(data)):
                            raise
                        damaged.append(f"{source}: nothing of it was imported: {exc.message}")
                elif isinstance(reader := reader_for(kind, dataset.value), ChunkedReader):
                    ingest_chunks(
                        store,
                        reader.chunks(stream, source),
                        reader.decode,
                        totals,
                        on_batch=stored,
                        workers=workers,
                        transform=transform,
                        on_chunk=advance,
                    )
                else:
                    records = counted(reader.read(stream, source), advance)
                    ingest_stream(store, records, totals, on_batch=stored, transform=transform)
                if size is not None:
                    progress.advance(0, size)
            stream.close()
            totals.rejected += stream.rejections()
            if stream.damage is not None:
                damaged.append(stream.damage)
    store.close()
    for opened in book:
        opened.close()
    for rejected in totals.rejected[:SHOWN_REJECTIONS]:
        errors.print(f"[yellow]rejected[/] {rejected.source}:{rejected.line}: {rejected.reason}", highlight=False)
    if len(totals.rejected) > SHOWN_REJECTIONS:
        errors.print(f"[yellow]… and {len(totals.rejected) - SHOWN_REJECTIONS} more rejected lines[/]")
    console.print(
        f"imported {totals.imported}, duplicate {totals.duplicates}, rejected {len(totals.rejected)}", highlight=False
    )
    for damage in damaged:
        errors.print(f"[bold red]error:[/] {escape(damage)}", highlight=False, soft_wrap=True)
    if unreadable or damaged or (totals.rejected and totals.imported + totals.duplicates == 0):
        raise typer.Exit(1)


@contextmanager
def full_disk_in_one_line(store: Store, data: Path | None, totals: IngestTotals) -> Iterator[None]:
    """A full disk ends the import with one line naming the file system and what was kept (exit 1)."""
    try:
        yield
    except Exception as exc:
        if not is_disk_full(exc, data_dir(data)):
            raise
        with suppress(Exception):
            store.close()
        kept = (
            f"kept: {totals.imported:,} reports imported before it (searchable); the batch being written and the"
            " rest were not imported. Free some space and run the same import again (what is already imported"
            " counts as duplicate)"
        )
        errors.print(f"[bold red]error:[/] {disk_full(data_dir(data), kept).message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def counted(records: Iterable[T], advance: Callable[[int], None]) -> Iterator[T]:
    """The records, counted for the progress line every COUNT_EVERY."""
    pending = 0
    for record in records:
        yield record
        pending += 1
        if pending == COUNT_EVERY:
            advance(pending)
            pending = 0
    advance(pending)
