"""One registration input (whois dump, delegation statistics, RIB dump) into the book, as ``shoal import`` does.

Records stream from the reader to one write transaction: memory stays bounded whatever the size of the dump
(what is written waits on disk, in SQLite's write-ahead log, until the commit). A rejected record is counted
with its position and never written; an input that fails midway (a full disk, an interrupt) stores nothing.
A damaged compressed input ends at its last whole record, which is kept: the importer says so, as for reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from shoal.ingest.detect import Format
from shoal.ingest.jsonl import Rejected
from shoal.ingest.pipeline import IngestTotals
from shoal.registration.book import DumpWriter, RegistrationBook
from shoal.registration.delegated import read_delegated
from shoal.registration.records import AutnumRecord, NetRecord, OrgRecord, RegistrationRecord
from shoal.registration.rpsl import read_rpsl

COUNT_EVERY = 10_000  # records between two progress calls

Records = Iterator[RegistrationRecord | Rejected]


def read_mrt_named(stream: BinaryIO, source: str) -> Records:
    """A RIB dump, its prefixes named after their origin AS from the bundled ASN table."""
    from shoal.enrich.network import bundled_table  # (decompresses the table: only for MRT)
    from shoal.registration.mrt import read_mrt  # (mrtparse: only for MRT)

    return read_mrt(stream, source, bundled_table())


READERS: dict[Format, Callable[[BinaryIO, str], Records]] = {
    Format.RPSL: read_rpsl,  # type: ignore[dict-item]  (reads the lines of the stream)
    Format.DELEGATED: read_delegated,  # type: ignore[dict-item]
    Format.MRT: read_mrt_named,
}


def import_registration(
    book: RegistrationBook,
    kind: Format,
    stream: BinaryIO,
    source: str,
    totals: IngestTotals,
    on_records: Callable[[int], None] | None = None,
) -> IngestTotals:
    """Read ``stream`` (of format ``kind``) into the book in one transaction; rejections go to ``totals``."""
    return store_records(book, READERS[kind](stream, source), totals, on_records)


def store_records(
    book: RegistrationBook,
    records: Iterable[RegistrationRecord | Rejected],
    totals: IngestTotals,
    on_records: Callable[[int], None] | None = None,
) -> IngestTotals:
    pending = 0
    with book.writing() as writer:
        for record in records:
            if isinstance(record, Rejected):
                totals.rejected.append(record)
            else:
                write(writer, record)
                totals.imported += 1
            pending += 1
            if on_records is not None and pending == COUNT_EVERY:
                on_records(pending)
                pending = 0
    if on_records is not None:
        on_records(pending)
    return totals


def write(writer: DumpWriter, record: RegistrationRecord) -> None:
    if record.date:
        writer.dated(record.feed, record.date)
    if isinstance(record, NetRecord):
        for network in record.networks:
            writer.network(
                record.feed,
                record.context,
                network,
                record.names,
                org=record.org,
                email=record.email,
                asn=record.asn,
                country=record.country,
            )
    elif isinstance(record, OrgRecord):
        writer.organisation(record.feed, record.handle, record.name, record.email)
    elif isinstance(record, AutnumRecord):
        writer.autnum(record.feed, record.asn, record.name, record.org)
