"""Index formats, and rewriting an older one in place (``shoal db migrate``).

Format 1 (the release before datasets) stored each report as ``[date, id, [[type, value, context,
is_metadata], …]]``; format 2 stores its API JSON and keeps a latest index beside it (docs/storage.md, Index
format). A migration reads every report of a format-1 index in its stored order, writes them through the
ordinary ingest of a new index beside it (so successors flag their predecessors, and the latest index is
built), checks that the counts agree, then swaps the folders:

    index.migrating/   being written; an interrupted migration deletes it and starts again
    index.format2/     complete, with its latest index beside it (index.format2.latest/)
    index.format1/     the old index, set aside just before the new one takes its place, then deleted

Each step is a rename, so a migration killed at any point either left the old index in place or finishes
from the renamed folders when run again. Observations and bodies are not in the index: they stay as they are.
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
from shoal.store.embedded.index import INDEX_FORMAT, SCAN_CHUNK, ReportIndex, format_of, stage
from shoal.store.embedded.latest import newest_first
from shoal.store.embedded.schema import prepare_report

BATCH = 50_000  # reports per commit of the new index, as an import
STAGES = ("migrating", "format2", "format1")


def needs_migration(path: Path) -> bool:
    return format_of(path) not in (None, INDEX_FORMAT) or stage(path, "format2").exists()


def migrate_index(path: Path, dataset: str, progress: Callable[[int, int], None] | None = None) -> int:
    """Rewrite the index of ``dataset`` at ``path`` in this version's format; the number of reports moved
    (0 when it already was). ``progress(done, total)`` is called after each batch."""
    finish_swap(path)
    found = format_of(path)
    if found is None or found == INDEX_FORMAT:
        return 0
    if found != 1:
        raise StoreError(f"the {dataset} index at {path} is in format {found}, newer than this version of Shoal")
    old = tantivy.Index.open(str(path))
    total = old.searcher().num_docs
    building = stage(path, "migrating")
    for leftover in (building, stage(building, "latest")):
        shutil.rmtree(leftover, ignore_errors=True)
    new = ReportIndex(building, dataset)
    done = 0
    reports = format1_reports(old, dataset)
    while batch := list(islice(reports, BATCH)):
        new.ingest_prepared([prepare_report(report) for report in batch], lambda fresh: None)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    new.close()
    moved = new.count()
    if moved != total:
        raise StoreError(f"the {dataset} index: {moved:,} reports rewritten of {total:,}; the old index is kept")
    building.rename(stage(path, "format2"))
    stage(building, "latest").rename(stage(stage(path, "format2"), "latest"))
    finish_swap(path)
    return total


def finish_swap(path: Path) -> None:
    """Complete a migration whose new index is written (``.format2``): set the old one aside, put the new one
    in its place with its latest index, delete the old one. Each of these renames may be the last a killed run
    made: every state between two of them is taken up where it stopped."""
    complete = stage(path, "format2")
    latest, built_latest = stage(complete, "latest"), stage(stage(path, "migrating"), "latest")
    if complete.exists() and built_latest.exists():  # killed between the build's two renames
        built_latest.rename(latest)
    if complete.exists():
        if path.exists():
            path.rename(stage(path, "format1"))
        complete.rename(path)
    if latest.exists():  # the new index is in place (just now, or by a killed run): its latest index joins it
        shutil.rmtree(stage(path, "latest"), ignore_errors=True)
        latest.rename(stage(path, "latest"))
    shutil.rmtree(stage(path, "format1"), ignore_errors=True)


def format1_reports(index: tantivy.Index, dataset: str) -> Iterator[Report]:
    """Every report of a format-1 index, newest first (its schema has the same ``sort`` fast field)."""
    searcher = index.searcher()
    for _, address in newest_first(searcher, index.schema, Query.all_query(), SCAN_CHUNK):
        date, report_id, items = orjson.loads(searcher.doc(address)["doc"][0])
        fields = [dict(zip(Item._fields, item, strict=True)) for item in items]
        yield Report.from_dict({"date": date, "id": report_id, "items": fields}, dataset)


def migrate_data_dir(
    data_dir: Path, folder_of: Callable[[Path, str], Path], progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """Every dataset's index of ``data_dir`` in this version's format; the reports moved per dataset."""
    moved = {}
    for dataset in DATASETS:
        path = folder_of(data_dir, dataset)
        report = None if progress is None else (lambda done, total, name=dataset: progress(name, done, total))
        moved[dataset] = migrate_index(path, dataset, report)
    return moved
