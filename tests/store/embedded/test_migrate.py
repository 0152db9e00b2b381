"""``shoal db migrate``: a data directory of the last release (index format 1) rewritten in place, every report
kept, and an interrupted migration finished by running it again."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import tantivy

from shoal.errors import StoreError
from shoal.model import SUPERSEDES, Item, Report
from shoal.store.base import Filters, day_number
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.migrate import finish_swap, format_of, migrate_index, stage
from shoal.store.embedded.schema import sort_key
from tests.corpus import CORPUS
from tests.store.test_compatibility import released_schema

SUCCESSOR = Report(
    date=CORPUS[1].date,
    items=(*CORPUS[1].items, Item("entity", "Example Inc.", "", True), Item(SUPERSEDES, CORPUS[1].id, "", True)),
    id="r02-successor",
)
REPORTS = [*CORPUS, SUCCESSOR]


def write_format1(folder: Path, reports: list[Report]) -> None:
    """An index as the last release wrote it: its schema, its stored form (only what a migration reads)."""
    folder.mkdir(parents=True)
    index = tantivy.Index(released_schema(), path=str(folder), reuse=False)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    for report in reports:
        stored = orjson.dumps((report.date.isoformat(), report.id, [(*item,) for item in report.items]))
        day = day_number(report.date)
        document = {
            "id": report.id,
            "day": day,
            "sort": sort_key(day, report.id),
            "doc": base64.b64encode(stored).decode(),
        }
        writer.add_json(orjson.dumps(document).decode())
    writer.commit()
    writer.wait_merging_threads()


def shoal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shoal", *args], capture_output=True, text=True, timeout=120)


def test_shoal_db_migrate_rewrites_the_last_release_in_place(tmp_path: Path) -> None:
    write_format1(tmp_path / "index", REPORTS)
    with pytest.raises(StoreError, match="run 'shoal db migrate'"):
        EmbeddedStore(tmp_path)
    status = shoal("db", "status", "--data", str(tmp_path))
    assert status.returncode == 1 and "protocols: index format 1: run 'shoal db migrate'" in status.stdout

    result = shoal("db", "migrate", "--data", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"protocols: {len(REPORTS)} reports now in index format 2" in result.stdout
    assert format_of(tmp_path / "index") == 2
    assert not any(path.name.startswith("index.") and path.name != "index.latest" for path in tmp_path.iterdir())

    store = EmbeddedStore(tmp_path)
    assert store.count("protocols") == len(REPORTS)
    stored = {report.id: report for report in store.iter_matches(Filters(history=True))}
    assert stored == {report.id: report for report in REPORTS}  # every report, exactly as it was
    visible = [report.id for report in store.iter_matches(Filters())]
    assert CORPUS[1].id not in visible and SUCCESSOR.id in visible  # the successor flags its predecessor
    newest = store.search(Filters(most_recent=True)).reports  # the latest index was built
    assert len({(report.ip, report.port) for report in newest}) == len(newest)
    store.close()

    again = shoal("db", "migrate", "--data", str(tmp_path))
    assert again.returncode == 0 and "nothing to migrate" in again.stdout
    assert shoal("db", "status", "--data", str(tmp_path)).returncode == 0


def test_a_migration_cut_short_is_finished_by_the_next(tmp_path: Path) -> None:
    path = tmp_path / "index"
    write_format1(path, REPORTS)
    migrate_index(path.with_name("copy"), "protocols")  # nothing there: nothing to do
    write_format1(tmp_path / "work", REPORTS)
    assert migrate_index(tmp_path / "work", "protocols") == len(REPORTS)
    # The state a kill leaves between the two renames: the new index complete beside the old one.
    (tmp_path / "work").rename(stage(path, "format2"))
    (tmp_path / "work.latest").rename(stage(stage(path, "format2"), "latest"))
    with pytest.raises(StoreError, match="interrupted: run 'shoal db migrate'"):
        EmbeddedStore(tmp_path)
    path.rename(stage(path, "format1"))  # killed after setting the old one aside
    finish_swap(path)
    assert format_of(path) == 2 and not stage(path, "format1").exists() and not stage(path, "format2").exists()
    assert EmbeddedStore(tmp_path).count("protocols") == len(REPORTS)
