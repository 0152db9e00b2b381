"""``shoal db migrate`` on a database an older Shoal made (schema 1: reports kept their items as JSON; schema 3: item
arrays without codecs of their own), on chDB and on the local 2 × 2 cluster: the migrated store answers every
conformance case as a new one does, and a migration stopped anywhere is finished by running it again."""

from __future__ import annotations

import datetime as dt
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from shoal.errors import StoreError
from shoal.model import DATASETS, PROTOCOLS, Report
from shoal.store.base import EPOCH, Filters, SummaryRequest, day_number
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import ChdbClient, HttpClient, rows
from shoal.store.clickhouse.compile import literal
from shoal.store.clickhouse.migrate import NAMES, ReportsRewrite, days_of, record
from shoal.store.clickhouse.schema import (
    LATEST,
    NO_ADDRESS,
    REPORTS_ORDER,
    REPORTS_PARTITION,
    REPORTS_SHARD_KEY,
    address16,
    bootstrap,
    create_table,
    item_arrays,
    items_table,
    other_tables,
    report_rows,
    string,
)
from tests.corpus import CORPUS
from tests.engines import ROOT, _databases, drop
from tests.store.test_conformance import SEARCH_CASES, SUMMARY_CASES, filters_for

VERSION_1_REPORTS = (
    "dataset String, id String, day Int32, ip FixedString(16), has_ip UInt8, port Int32, target String, raw String"
)
# The corpus in every dataset, spread over three 32-day partitions.
REPORTS = [
    replace(report, dataset=dataset, date=report.date - dt.timedelta(days=40 * (index % 3)))
    for dataset in DATASETS
    for index, report in enumerate(CORPUS)
]


def version_1_row(report: Report) -> bytes:
    """A report row as schema 1 wrote it."""
    ip, port = report.ip, report.port
    return b"".join(
        (
            string(report.dataset),
            string(report.id),
            struct.pack("<i", day_number(report.date)),
            address16(ip) if ip is not None else NO_ADDRESS,
            b"\1" if ip is not None else b"\0",
            struct.pack("<i", port if port is not None else -1),
            string(f"{report.ip}:{report.port}"),
            string(orjson.dumps([(*item,) for item in report.items]).decode()),
        )
    )


def version_1_store(store: ClickHouseStore) -> ClickHouseStore:
    """``store``'s database as a Shoal of schema 1 left it, holding REPORTS."""
    layout = store.layout
    statements = [
        *bootstrap(layout),
        *create_table(layout, "reports", VERSION_1_REPORTS, REPORTS_ORDER, REPORTS_SHARD_KEY),
        *items_table(layout),
        *other_tables(layout),
    ]
    for statement in statements:
        store.client.execute(statement)
    settings = store.write_settings()
    store.client.execute(f"INSERT INTO {store.database}.migrations VALUES (1, {literal(NAMES[1])}, now())", settings)
    store.client.insert(store.table("items"), b"".join(report_rows(report)[1] for report in REPORTS), settings)
    store.client.insert(store.table("reports"), b"".join(version_1_row(report) for report in REPORTS), settings)
    return store


@pytest.fixture(params=["chdb", "clickhouse"])
def old_store(request: pytest.FixtureRequest) -> Iterator[ClickHouseStore]:
    database = f"shoal_test_{next(_databases)}"
    if request.param == "chdb":
        store = ClickHouseStore(ChdbClient(request.getfixturevalue("chdb_folder")), database)
    else:
        cluster = request.getfixturevalue("clickhouse_cluster")
        store = ClickHouseStore(HttpClient(cluster.hosts), database, cluster="shoal")
    yield version_1_store(store)
    drop(store)


def answers(store: ClickHouseStore) -> list[object]:
    """The store's answers to every conformance case (on protocols), and the count of every dataset."""
    found: list[object] = [store.count(dataset) for dataset in DATASETS]
    for expression, options, _ in SEARCH_CASES:
        page = store.search(filters_for(expression, options, store))
        found.append((page.total, [report.id for report in page.reports]))
    for expression, options, request, *_ in SUMMARY_CASES:
        found.append(store.summarize(filters_for(expression, options, store), request))
    return found


@pytest.fixture(scope="module")
def expected(chdb_folder: object) -> list[object]:
    """What a new store holding REPORTS answers."""
    store = ClickHouseStore(ChdbClient(chdb_folder), f"shoal_test_{next(_databases)}")  # type: ignore[arg-type]
    store.migrate()
    store.ingest(REPORTS)
    try:
        return answers(store)
    finally:
        drop(store)


@pytest.mark.slow
def test_a_migrated_store_answers_as_a_new_one(old_store: ClickHouseStore, expected: list[object]) -> None:
    with pytest.raises(StoreError, match="shoal db migrate"):
        old_store.search(Filters())
    lines: list[str] = []
    assert old_store.migrate(lines.append) == [f"2: {NAMES[2]}", f"3: {NAMES[3]}", f"4: {NAMES[4]}"]
    assert old_store.schema_version() == LATEST
    assert len(lines) == 3 * versions_rewriting(old_store)  # one line a partition, each version that rewrites
    assert answers(old_store) == expected
    assert {report.id: report for report in old_store.iter_matches(Filters())} == {
        report.id: report for report in REPORTS if report.dataset == PROTOCOLS
    }
    assert old_store.migrate() == []
    assert not [row for row in tables(old_store) if row.startswith(("reports_next", "reports_old", "migration_parts"))]


class Stopped(Exception):
    pass


@pytest.mark.slow
def test_a_migration_stopped_after_a_partition_is_finished_by_running_it_again(
    old_store: ClickHouseStore, expected: list[object]
) -> None:
    lines: list[str] = []

    def stop_in(version: int) -> Callable[[str], None]:
        def stop(line: str) -> None:
            lines.append(line)
            if version == 2 or line.startswith("addresses"):
                raise Stopped(line)

        return stop

    with pytest.raises(Stopped):
        old_store.migrate(stop_in(2))  # the first partition is copied and recorded, then the migration stops
    assert old_store.schema_version() == 1
    with pytest.raises(Stopped):
        old_store.migrate(stop_in(3))  # version 2 finished, version 3's first partition counted, then stopped
    assert old_store.schema_version() == 2 and len(lines) == 4
    old_store.migrate(lines.append)
    assert len(lines) == 3 * versions_rewriting(old_store) and old_store.schema_version() == LATEST
    assert old_store.count() == len(REPORTS)
    assert answers(old_store) == expected


@pytest.mark.slow
def test_a_migration_stopped_between_its_last_moves_is_finished_by_running_it_again(
    old_store: ClickHouseStore, expected: list[object]
) -> None:
    rewrite = ReportsRewrite(old_store, lambda line: None)
    rewrite.create()
    for part in rewrite.parts():
        rewrite.copy(part)
    layout = old_store.layout
    old_store.client.execute(  # stopped right after the tables were swapped
        f"RENAME TABLE {layout.local('reports')} TO {layout.local('reports_old')},"
        f" {layout.local('reports_next')} TO {layout.local('reports')}{layout.on_cluster()}"
    )
    assert old_store.migrate() == [f"2: {NAMES[2]}", f"3: {NAMES[3]}", f"4: {NAMES[4]}"]
    assert answers(old_store) == expected
    summary = old_store.summarize(Filters(), SummaryRequest("port-tcp"))
    assert summary.cardinality > 0


def versions_rewriting(store: ClickHouseStore) -> int:
    """The versions whose migration goes a partition at a time: 2 and 3, and 4 where it gives codecs."""
    return 3 if store.layout.modern else 2


def version_3(store: ClickHouseStore) -> ClickHouseStore:
    """``store``'s database (chDB) as a Shoal of schema 3 left it (item arrays without codecs of their own),
    holding REPORTS."""
    store.migrate()
    store.ingest(REPORTS)
    removed = ", ".join(f"MODIFY COLUMN {name} REMOVE CODEC" for name in item_array_names(store))
    store.client.execute(f"ALTER TABLE {store.table('reports')} {removed}")
    store.client.execute(f"TRUNCATE TABLE {store.database}.migrations")
    record(store, range(1, 4))
    return store


@pytest.fixture
def version_3_store(chdb_folder: object) -> Iterator[ClickHouseStore]:
    store = version_3(ClickHouseStore(ChdbClient(chdb_folder), f"shoal_test_{next(_databases)}"))  # type: ignore[arg-type]
    yield store
    drop(store)


def item_array_names(store: ClickHouseStore) -> list[str]:
    return [column.split()[0] for column in item_arrays(store.layout)]


def codecs(store: ClickHouseStore) -> dict[str, str]:
    found = rows(
        store.client,
        f"SELECT name, compression_codec FROM system.columns WHERE database = {literal(store.database)}"
        " AND table = 'reports'",
    )
    return {row["name"]: row["compression_codec"] for row in found if row["name"] in item_array_names(store)}


def part_names(store: ClickHouseStore) -> set[str]:
    found = rows(
        store.client,
        f"SELECT name FROM system.parts WHERE database = {literal(store.database)} AND table = 'reports' AND active",
    )
    return {row["name"] for row in found}


@pytest.mark.slow
def test_version_4_gives_the_item_arrays_lz4_a_partition_at_a_time(
    version_3_store: ClickHouseStore, expected: list[object]
) -> None:
    store = version_3_store
    assert set(codecs(store).values()) == {""}
    before = part_names(store)
    lines: list[str] = []

    def stop(line: str) -> None:
        lines.append(line)
        raise Stopped(line)

    with pytest.raises(Stopped):
        store.migrate(stop)  # the first partition rewritten and recorded, then stopped
    assert store.schema_version() == 3
    assert store.migrate(lines.append) == [f"4: {NAMES[4]}"]
    assert len(lines) == 3 and len(set(lines)) == 3  # each partition rewritten once
    assert store.schema_version() == LATEST
    assert set(codecs(store).values()) == {"CODEC(LZ4)"}
    assert len(part_names(store)) == 3 and not part_names(store) & before  # every part written again
    assert answers(store) == expected
    assert "migration_parts" not in tables(store)


@pytest.mark.slow
def test_shoal_db_status_and_migrate_of_a_chdb_store_say_the_version_and_each_partition(tmp_path: Path) -> None:
    """A chdb:// store migrates itself when opened; ``shoal db status`` and ``shoal db migrate`` see it as it is."""
    folder = tmp_path / "chdb"
    make = (
        "from pathlib import Path; from shoal.store.clickhouse import ClickHouseStore;"
        " from shoal.store.clickhouse.client import ChdbClient;"
        " from tests.store.clickhouse.test_migrate import version_3;"
        f" version_3(ClickHouseStore(ChdbClient(Path({str(folder)!r})), 'shoal'))"
    )
    subprocess.run([sys.executable, "-c", make], cwd=ROOT, check=True, timeout=120)

    def shoal(*args: str) -> tuple[int, str]:
        environment = {**os.environ, "SHOAL_STORE": f"chdb://{folder}"}
        command = [sys.executable, "-m", "shoal", "db", *args, "--data", str(tmp_path)]
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
        return done.returncode, " ".join(done.stdout.split())

    assert shoal("status") == (1, "shoal: schema version 3 (Shoal needs 4: run 'shoal db migrate')")
    code, said = shoal("migrate")
    assert code == 0 and said.count(": rewritten") == 3
    assert said.endswith(f"applied migration 4: {NAMES[4]} shoal: schema version 4 (latest)")
    assert shoal("status") == (0, "shoal: schema version 4 (latest)")


def tables(store: ClickHouseStore) -> list[str]:
    found = rows(store.client, f"SELECT name FROM system.tables WHERE database = {literal(store.database)}")
    return sorted(row["name"] for row in found)


def test_progress_lines_name_the_days_clickhouse_puts_in_each_partition(chdb_folder: Path) -> None:
    """intDiv rounds towards zero: partition 0 holds 63 days, and one before 1970 ends on its first day."""
    found = rows(
        ChdbClient(chdb_folder),
        f"SELECT toInt32({REPORTS_PARTITION}) AS part, min(day) AS first, max(day) AS last"
        " FROM (SELECT toInt32(number) - 200 AS day FROM numbers(400)) GROUP BY part HAVING part BETWEEN -5 AND 5",
    )
    assert len(found) == 11
    for row in found:
        first, last = (EPOCH + dt.timedelta(days=row[end]) for end in ("first", "last"))
        assert days_of(row["part"]) == f"{first} to {last}"
    assert days_of(0) == "1969-12-01 to 1970-02-01"
