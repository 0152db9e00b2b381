"""Index formats, and rewriting an index in place (``shoal db migrate``): to this version's format, or to another
number of shards.

Format 1 (the release before datasets) stored each report as ``[date, id, [[type, value, context,
is_metadata], …]]``; format 2 its API JSON, in one tantivy index with a latest index beside it; format 3 its API
JSON in N shards with lean documents (docs/storage.md, Index format). A migration reads every report of the old
index in its stored form and writes it through the ordinary ingest into a new index beside it (so successors flag
their predecessors, and the latest index is built), checks that the counts agree, then swaps the folders:

    index.migrating/   being written; an interrupted migration deletes it and starts again
    index.migrated/    complete, with its latest index beside it (index.migrated.latest/)
    index.previous/    the old index, set aside just before the new one takes its place, then deleted

Each step is a rename, so a migration killed at any point either left the old index in place or finishes from
the renamed folders when run again (``index.format2`` and ``index.format1`` are the same stages as the release
before named them). Observations and bodies are not in the index: they stay as they are.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

import orjson
import tantivy
from tantivy import Query

from shoal.errors import StoreError
from shoal.model import DATASETS, Item, Report
from shoal.store.embedded.index import COMPLETE, SET_ASIDE, ReportIndex, check_format, format_of, stage
from shoal.store.embedded.ingest import DatasetWriter, Outcome
from shoal.store.embedded.latest import newest_first
from shoal.store.embedded.processes import Layout, LocalShards, ShardProcesses
from shoal.store.embedded.schema import INDEX_FORMAT
from shoal.store.embedded.shards import default_shards, read_count, shard_folder

BATCH = 50_000  # reports per commit of the new index, as an import
CHUNK = 2_000  # reports read from the old index at a time


def needs_migration(path: Path, shards: int | None = None) -> bool:
    found = format_of(path)
    if any(stage(path, name).exists() for name in COMPLETE):
        return True
    if found is None:
        return False
    return found != INDEX_FORMAT or (shards is not None and read_count(path) != shards)


def migrate_index(
    path: Path, dataset: str, progress: Callable[[int, int], None] | None = None, shards: int | None = None
) -> int:
    """Rewrite the index of ``dataset`` at ``path`` in this version's format, with ``shards`` shards (default:
    as many as it has, or one per core for an older format); the number of reports moved (0 when there was
    nothing to do). ``progress(done, total)`` is called after each batch."""
    finish_swap(path)
    found = format_of(path)
    if found is None or not needs_migration(path, shards):
        return 0
    if found > INDEX_FORMAT:
        raise StoreError(f"the {dataset} index at {path} is in format {found}, newer than this version of Shoal")
    count = shards or (read_count(path) if found == INDEX_FORMAT else default_shards())
    readers = old_shards(path, found)
    total = sum(reader.searcher().num_docs for reader in readers)
    building = stage(path, "migrating")
    for leftover in (building, stage(building, "latest")):
        shutil.rmtree(leftover, ignore_errors=True)
    index = ReportIndex(building, dataset, count)
    layouts = {dataset: Layout(building, count, None)}
    backend = ShardProcesses(layouts, count, True) if count > 1 else LocalShards(layouts, count, True)
    writer = DatasetWriter(index, backend, None, hold_writer=True)
    done, rejected = 0, []

    def stored(outcome: Outcome) -> None:
        nonlocal done
        done += outcome.imported + outcome.duplicates + len(outcome.rejected)
        rejected.extend(outcome.rejected)
        if progress is not None:
            progress(done, total)

    try:
        writer.ingest_lines(report_lines(readers, found), stored, None, BATCH)
    finally:
        writer.release()
        backend.close()
        index.close()
    moved = index.count()
    if moved != total:
        reasons = "; ".join(f"{reason}" for _, reason in rejected[:3])
        raise StoreError(
            f"the {dataset} index: {moved:,} reports rewritten of {total:,}"
            + (f" ({len(rejected):,} refused: {reasons})" if rejected else "")
            + "; the old index is kept"
        )
    building.rename(stage(path, "migrated"))
    stage(building, "latest").rename(stage(stage(path, "migrated"), "latest"))
    finish_swap(path)
    check_format(path, dataset)
    return total


def finish_swap(path: Path) -> None:
    """Complete a migration whose new index is written (``.migrated``, or ``.format2`` as the release before named
    it): set the old one aside, put the new one in its place with its latest index, delete the old one. Each of
    these renames may be the last a killed run made: every state between two of them is taken up where it
    stopped."""
    built_latest = stage(stage(path, "migrating"), "latest")
    for name in COMPLETE:
        complete = stage(path, name)
        latest = stage(complete, "latest")
        if complete.exists() and built_latest.exists():  # killed between the build's two renames
            built_latest.rename(latest)
        if complete.exists():
            if path.exists():
                path.rename(stage(path, "previous"))
            complete.rename(path)
        if latest.exists():  # the new index is in place (just now, or by a killed run): its latest index joins it
            shutil.rmtree(stage(path, "latest"), ignore_errors=True)
            latest.rename(stage(path, "latest"))
    for name in SET_ASIDE:
        shutil.rmtree(stage(path, name), ignore_errors=True)


def old_shards(path: Path, found: int) -> list[tantivy.Index]:
    """The tantivy indexes holding an index's reports: one for formats 1 and 2, the shards of format 3."""
    if found < INDEX_FORMAT:
        return [tantivy.Index.open(str(path))]
    return [tantivy.Index.open(str(shard_folder(path, shard))) for shard in range(read_count(path))]


def report_lines(readers: list[tantivy.Index], found: int) -> Iterator[tuple[int, list[bytes]]]:
    """Every report of the old index as the JSON line of its API form, in chunks, newest first per shard."""
    number = 1
    for reader in readers:
        searcher = reader.searcher()
        addresses = (address for _, address in newest_first(searcher, reader.schema, Query.all_query(), CHUNK))
        while chunk := list(islice(addresses, CHUNK)):
            lines = [stored_line(searcher.doc(address)["doc"][0], found) for address in chunk]
            yield number, lines
            number += len(lines)


def stored_line(data: bytes, found: int) -> bytes:
    """A stored report as its API JSON (format 1 kept a compact list)."""
    if found != 1:
        return data
    date, report_id, items = orjson.loads(data)
    fields = [dict(zip(Item._fields, item, strict=True)) for item in items]
    return orjson.dumps(Report.from_dict({"date": date, "id": report_id, "items": fields}).as_dict())


def migrate_data_dir(
    data_dir: Path,
    folder_of: Callable[[Path, str], Path],
    progress: Callable[[str, int, int], None] | None = None,
    shards: int | None = None,
) -> dict[str, int]:
    """Every dataset's index of ``data_dir`` in this version's format (with ``shards`` shards, if given); the
    reports moved per dataset."""
    moved = {}
    for dataset in DATASETS:
        path = folder_of(data_dir, dataset)
        report = None if progress is None else (lambda done, total, name=dataset: progress(name, done, total))
        moved[dataset] = migrate_index(path, dataset, report, shards)
    return moved
