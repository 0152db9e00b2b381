"""``shoal db migrate``: a data directory of an older release (index format 1 or 2) rewritten in place, every report
kept and every answer the same, an interrupted migration finished by running it again, and an index re-cut into
another number of shards."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import tantivy

from shoal.errors import StoreError
from shoal.model import SUPERSEDES, Item, Report
from shoal.store.base import Filters, day_number
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.engine import index_folder
from shoal.store.embedded.migrate import finish_swap, format_of, migrate_data_dir, migrate_index, stage
from shoal.store.embedded.schema import INDEX_FORMAT, sort_key
from shoal.tokens import TokenStore
from tests.corpus import CORPUS
from tests.generated import generated_reports
from tests.store.embedded import released
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
    assert f"protocols: {len(REPORTS)} reports now in index format {INDEX_FORMAT}" in result.stdout
    assert format_of(tmp_path / "index") == INDEX_FORMAT
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
    (tmp_path / "work").rename(stage(path, "migrated"))
    (tmp_path / "work.latest").rename(stage(stage(path, "migrated"), "latest"))
    with pytest.raises(StoreError, match="interrupted: run 'shoal db migrate'"):
        EmbeddedStore(tmp_path)
    path.rename(stage(path, "previous"))  # killed after setting the old one aside
    finish_swap(path)
    assert format_of(path) == INDEX_FORMAT
    assert not stage(path, "previous").exists() and not stage(path, "migrated").exists()
    assert EmbeddedStore(tmp_path).count("protocols") == len(REPORTS)


@pytest.mark.parametrize("shards", [1, 2])
def test_an_index_written_by_the_last_release_answers_byte_for_byte_once_migrated(tmp_path: Path, shards: int) -> None:
    """The format-2 data directory of ``released.py`` (written by the release before), migrated in place: every
    request of its API answers with the same status and the same bytes, with one shard or two."""
    data = tmp_path / "data"
    shutil.copytree(released.FIXTURE / "store", data)
    assert format_of(data / "index") == 2
    moved = migrate_data_dir(data, index_folder, shards=shards)
    others = len(released.RELEASED_DATASETS) - 1
    assert moved["protocols"] == len(list(released.released_reports())) - others * len(CORPUS)
    assert all(format_of(index_folder(data, dataset)) == INDEX_FORMAT for dataset in released.RELEASED_DATASETS)
    store = EmbeddedStore(data, hold_writer=False)
    assert store.index("protocols").shards.count == shards
    expected = [json.loads(line) for line in (released.FIXTURE / "answers.jsonl").read_text().splitlines()]
    recorded = [(want["path"], [tuple(param) for param in want["params"]]) for want in expected]
    found = json.loads(json.dumps(released.answers(store, TokenStore(tmp_path / "tokens"), recorded)))
    store.close()
    differing = [(want["path"], want["params"]) for want, got in zip(expected, found, strict=True) if want != got]
    assert differing == []


def test_a_migration_cuts_an_index_into_another_number_of_shards(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, shards=2)
    store.ingest(REPORTS)
    pages = {str(filters): page_ids(store, filters) for filters in RESHARD_FILTERS}
    store.close()
    assert migrate_data_dir(tmp_path, index_folder, shards=3)["protocols"] == len(REPORTS)
    assert migrate_data_dir(tmp_path, index_folder, shards=3)["protocols"] == 0  # nothing left to do
    store = EmbeddedStore(tmp_path)
    assert store.index("protocols").shards.count == 3
    assert {str(filters): page_ids(store, filters) for filters in RESHARD_FILTERS} == pages
    assert store.ingest(REPORTS).duplicates == len(REPORTS)  # each report found in the shard its id names
    store.close()


RESHARD_FILTERS = [Filters(), Filters(history=True), Filters(most_recent=True), Filters(report_id=CORPUS[1].id)]


def page_ids(store: EmbeddedStore, filters: Filters) -> tuple[int, list[str]]:
    page = store.search(filters)
    return page.total, [report.id for report in page.reports]


KILLS = 7  # moments a migration is killed at, spread over the time a whole one takes


@pytest.mark.slow
def test_kill_9_anywhere_in_a_migration_loses_nothing(tmp_path: Path) -> None:
    """Issue 22, item 11: ``shoal db migrate`` killed at a moment further on each time (each killed run leaves
    its stages), then run to its end: every report, once, and no stage left behind. The moments are fractions of
    a whole migration of the same index timed first, so a fast machine kills it as often as a slow one."""
    reports = [*REPORTS, *generated_reports(15_000, seed=11)]
    timed = tmp_path / "timed"
    write_format1(timed / "index", reports)
    started = time.monotonic()
    assert shoal("db", "migrate", "--data", str(timed)).returncode == 0
    whole = time.monotonic() - started
    shutil.rmtree(timed)
    write_format1(tmp_path / "index", reports)
    command = [sys.executable, "-m", "shoal", "db", "migrate", "--data", str(tmp_path)]
    killed_at = []
    for step in range(1, KILLS + 1):
        migration = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            migration.wait(timeout=whole * step / (KILLS + 1))
            break  # it finished before this kill
        except subprocess.TimeoutExpired:
            migration.kill()
            migration.wait()
            killed_at.append(sorted(path.name for path in tmp_path.iterdir()))
    assert killed_at, "the migration finished before the first kill"
    result = shoal("db", "migrate", "--data", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("index.")) == ["index.latest"]
    store = EmbeddedStore(tmp_path)
    try:
        assert store.count("protocols") == len(reports)
        assert {report.id for report in store.iter_matches(Filters(history=True))} == {r.id for r in reports}
    finally:
        store.close()


@pytest.mark.parametrize("killed", ["between the build's two renames", "between the swap and the latest index's move"])
def test_a_migration_killed_between_two_renames_is_finished_whole(tmp_path: Path, killed: str) -> None:
    path = tmp_path / "index"
    write_format1(path, REPORTS)
    write_format1(tmp_path / "work", REPORTS)
    migrate_index(tmp_path / "work", "protocols")
    building, complete = stage(path, "migrating"), stage(path, "migrated")
    (tmp_path / "work").rename(complete)
    if killed == "between the build's two renames":
        (tmp_path / "work.latest").rename(stage(building, "latest"))
    else:
        (tmp_path / "work.latest").rename(stage(complete, "latest"))
        path.rename(stage(path, "previous"))
        complete.rename(path)
    finish_swap(path)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["index", "index.latest"]
    store = EmbeddedStore(tmp_path)
    try:
        assert store.count("protocols") == len(REPORTS)
        index = store.index("protocols")
        assert index.latest.is_current(index.view().state.batch)  # the new index's own latest index
    finally:
        store.close()
