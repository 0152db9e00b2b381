"""Schema migrations of the ClickHouse store (``shoal db init|migrate|status``).

    1  reports (items as JSON), items, observations, superseded marks, DNS answers, bodies
    2  reports rewritten: the items as parallel arrays with their words and hosts; on servers with text
       indexes, its tokens (tokens.py) and their index, and a projection ordered by address; the item types of
       each dataset in ``types``
    3  ``ip_counts``: reports per scanned-address /24 and partition, kept by a materialized view on ``reports``
    4  the item arrays of ``reports`` (read whole by pages and summaries) compressed with LZ4 on modern servers

A new database is made at the latest schema at once. An older one is brought forward a version at a time, each
recorded in ``migrations`` (replicated to every node). Version 2 rewrites ``reports`` beside the old table
(``reports_next``, created ``ON CLUSTER`` on a cluster): a partition of 32 days at a time, every report read
back, rebuilt as the ingest builds it (in worker processes, one a core) and written, each partition recorded in
``migration_parts`` once whole.
Stopped anywhere, it is finished by running it again: a partition not recorded is emptied and copied again,
and the last step (the tables swapped, the old one dropped) checks where it stands before each move.
Writers must be stopped meanwhile: what they add to a partition already copied would not be carried over.
Version 3 counts ``reports`` into ``ip_counts_fill`` a partition at a time (``IpCountsFill``: the partition
emptied, counted by one INSERT … SELECT, recorded in ``migration_parts``), then makes ``ip_counts`` (one
partition) from it and the view that keeps it, and drops what the fill used; stopped anywhere, running it again
counts the partitions not recorded and makes ``ip_counts`` again.
Version 4 gives the item arrays of ``reports`` their codec (``schema.item_arrays``: LZ4, on modern servers;
nothing to do on others) and rewrites each partition (``OPTIMIZE … FINAL``: a part is replaced whole, so a
partition is either rewritten or not), recorded in ``migration_parts``; stopped anywhere, running it again
rewrites the partitions not recorded.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from shoal.model import Report
from shoal.store.base import EPOCH
from shoal.store.clickhouse.client import rows
from shoal.store.clickhouse.compile import literal
from shoal.store.clickhouse.schema import (
    LATEST,
    PARTITION_DAYS,
    REPORTS_PARTITION,
    REPORTS_SHARD_KEY,
    Layout,
    bootstrap,
    distributed_table,
    ip_counts_select,
    ip_counts_table,
    ip_counts_view,
    item_arrays,
    items_from_stored,
    latest,
    report_columns,
    report_rows,
    reports_table,
    types_table,
)

if TYPE_CHECKING:
    from shoal.store.clickhouse.engine import ClickHouseStore

NAMES = {1: "reports, items, open-port observations, superseded reports, bodies and DNS answers",
         2: "report rows hold their items and tokens (terms answered on the row)",
         3: "reports counted per scanned-address /24 and partition (ip_counts)",
         4: "report rows' item arrays compressed with LZ4 (read whole by pages and summaries)"}  # fmt: skip
CHUNK = 10_000  # reports read and rebuilt at a time
BATCH = 50_000  # reports written at a time
Progress = Callable[[str], None]


def migrate(store: ClickHouseStore, progress: Progress | None = None, workers: int | None = None) -> list[str]:
    """Bring the store's database to the latest schema; the migrations applied, as "version: name". ``workers``:
    processes rebuilding rows (default: one a core; 0: this process)."""
    layout = store.layout
    for statement in bootstrap(layout):
        store.client.execute(statement)
    current = store.schema_version()
    if current == 0:
        for statement in latest(layout):
            store.client.execute(statement)
        record(store, range(1, LATEST + 1))
        return [f"{version}: {NAMES[version]}" for version in range(1, LATEST + 1)]
    applied = []
    if current < 2:
        chosen = (os.cpu_count() or 1) if workers is None else workers
        ReportsRewrite(store, progress or (lambda line: None), chosen).run()
        record(store, [2])
        applied.append(f"2: {NAMES[2]}")
    if current < 3:
        IpCountsFill(store, progress or (lambda line: None)).run()
        record(store, [3])
        applied.append(f"3: {NAMES[3]}")
    if current < 4:
        if layout.modern:
            CodecRewrite(store, progress or (lambda line: None)).run()
        record(store, [4])
        applied.append(f"4: {NAMES[4]}")
    return applied


def rebuild(dataset: str, day: int, found: list[tuple[str, str]]) -> bytes:
    """Schema 2 rows of schema 1 reports (id and items as JSON) of one dataset and day (in a worker process)."""
    date = EPOCH + dt.timedelta(days=day)
    reports = (Report(date, items_from_stored(raw), report_id, dataset) for report_id, raw in found)
    return b"".join(report_rows(report, with_items=False)[0] for report in reports)


def record(store: ClickHouseStore, versions: range | list[int]) -> None:
    values = ", ".join(f"({version}, {literal(NAMES[version])}, now())" for version in versions)
    store.client.execute(f"INSERT INTO {store.database}.migrations VALUES {values}", store.write_settings())


def create_parts_table(store: ClickHouseStore) -> None:
    """``migration_parts``: the partitions of ``reports`` a migration has done (replicated to every node)."""
    layout = store.layout
    engine = (
        "MergeTree()"
        if layout.cluster is None
        else f"ReplicatedMergeTree('/clickhouse/tables/all/{store.database}/migration_parts', '{{shard}}-{{replica}}')"
    )
    store.client.execute(
        f"CREATE TABLE IF NOT EXISTS {store.database}.migration_parts{layout.on_cluster()}"
        f" (version UInt32, part Int64, done DateTime) ENGINE = {engine} ORDER BY (version, part)"
    )


def reports_parts(store: ClickHouseStore) -> list[int]:
    found = rows(store.client, f"SELECT DISTINCT {REPORTS_PARTITION} AS part FROM {store.layout.table('reports')}")
    return sorted(int(row["part"]) for row in found)


def parts_done(store: ClickHouseStore, version: int) -> set[int]:
    found = rows(store.client, f"SELECT part FROM {store.database}.migration_parts WHERE version = {version}")
    return {int(row["part"]) for row in found}


def part_done(store: ClickHouseStore, version: int, part: int) -> None:
    store.client.execute(
        f"INSERT INTO {store.database}.migration_parts VALUES ({version}, {part}, now())", store.write_settings()
    )


def days_of(part: int) -> str:
    """The days of partition ``part`` of ``reports``, as progress lines name them. ``REPORTS_PARTITION``'s intDiv
    rounds towards zero: partition 0 holds the 31 days before 1970 too, and a partition before it ends on its
    first day (partition -1: days -63 to -32)."""
    first = part * PARTITION_DAYS - (PARTITION_DAYS - 1 if part <= 0 else 0)
    last = part * PARTITION_DAYS + (PARTITION_DAYS - 1 if part >= 0 else 0)
    return f"{EPOCH + dt.timedelta(days=first)} to {EPOCH + dt.timedelta(days=last)}"


def drop_tables(store: ClickHouseStore, *tables: str) -> None:
    """``tables`` dropped on every node (a name twice: once)."""
    for table in dict.fromkeys(tables):
        store.client.execute(f"DROP TABLE IF EXISTS {table}{store.layout.on_cluster()}")


class IpCountsFill:
    """Version 3: ``reports`` counted into ``ip_counts_fill`` a partition at a time, then ``ip_counts`` made from it
    with its view (module docstring)."""

    def __init__(self, store: ClickHouseStore, progress: Progress) -> None:
        self.store = store
        self.layout: Layout = store.layout
        self.progress = progress

    def run(self) -> None:
        for statement in ip_counts_table(self.layout, "ip_counts_fill", "PARTITION BY part "):
            self.store.client.execute(statement)
        create_parts_table(self.store)
        done = parts_done(self.store, 3)
        for part in reports_parts(self.store):
            if part not in done:
                self.fill(part)
        self.finish()

    def fill(self, part: int) -> None:
        """Count one partition: emptied first (a fill stopped halfway left some of it)."""
        self.store.client.execute(
            f"ALTER TABLE {self.layout.local('ip_counts_fill')}{self.layout.on_cluster()} DROP PARTITION {part}"
        )
        counted = ip_counts_select(self.layout.table("reports"), f" AND {REPORTS_PARTITION} = {part}")
        self.store.client.execute(
            f"INSERT INTO {self.layout.table('ip_counts_fill')} {counted}", self.store.write_settings()
        )
        part_done(self.store, 3, part)
        self.progress(f"addresses of {days_of(part)}: counted")

    def finish(self) -> None:
        """``ip_counts`` made (again, if a run stopped here) from the counts, its view, and the fill's tables
        dropped, the record of partitions first: the version is recorded after, so each step is redone by running
        it again."""
        layout, database = self.layout, self.store.database
        drop_tables(self.store, f"{database}.ip_counts_view", layout.table("ip_counts"), layout.local("ip_counts"))
        for statement in ip_counts_table(self.layout):
            self.store.client.execute(statement)
        filled = f"SELECT dataset, prefix, part, n FROM {self.layout.table('ip_counts_fill')}"
        self.store.client.execute(f"INSERT INTO {self.layout.table('ip_counts')} {filled}", self.store.write_settings())
        self.store.client.execute(ip_counts_view(self.layout))
        fill = (layout.table("ip_counts_fill"), layout.local("ip_counts_fill"))
        drop_tables(self.store, f"{database}.migration_parts", *fill)


class CodecRewrite:
    """Version 4: the item arrays' codec, then ``reports`` rewritten a partition at a time (module docstring)."""

    def __init__(self, store: ClickHouseStore, progress: Progress) -> None:
        self.store = store
        self.layout: Layout = store.layout
        self.progress = progress

    def run(self) -> None:
        reports, cluster = self.layout.local("reports"), self.layout.on_cluster()
        columns = ", ".join(f"MODIFY COLUMN {column}" for column in item_arrays(self.layout))
        self.store.client.execute(f"ALTER TABLE {reports}{cluster} {columns}")
        create_parts_table(self.store)
        done = parts_done(self.store, 4)
        for part in reports_parts(self.store):
            if part not in done:
                self.store.client.execute(f"OPTIMIZE TABLE {reports}{cluster} PARTITION {part} FINAL")
                part_done(self.store, 4, part)
                self.progress(f"item arrays of {days_of(part)}: rewritten")
        drop_tables(self.store, f"{self.store.database}.migration_parts")


class ReportsRewrite:
    """Version 2: ``reports`` rebuilt from its rows, a partition at a time (module docstring)."""

    def __init__(self, store: ClickHouseStore, progress: Progress, workers: int = 0) -> None:
        self.store = store
        self.layout: Layout = store.layout
        self.progress = progress
        self.workers = workers

    def run(self) -> None:
        if self.exists("reports_next") or not self.exists("reports_old"):
            self.create()
            done = self.parts_done()
            todo = [part for part in self.parts() if part not in done]
            if todo and self.workers:
                context = multiprocessing.get_context("spawn")  # never fork a process that runs engine threads
                with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
                    for part in todo:
                        self.copy(part, pool)
            else:
                for part in todo:
                    self.copy(part)
        self.swap()

    def exists(self, name: str) -> bool:
        table = f"{name}_local" if self.layout.cluster else name
        found = rows(
            self.store.client,
            f"SELECT count() AS n FROM system.tables WHERE database = {literal(self.store.database)}"
            f" AND name = {literal(table)}",
        )
        return bool(int(found[0]["n"]))

    def execute(self, statement: str) -> None:
        self.store.client.execute(statement)

    def create(self) -> None:
        """The new table, the record of partitions done, and ``types`` (from ``items``: again, if run again)."""
        for statement in [*reports_table(self.layout, "reports_next"), *types_table(self.layout)]:
            self.execute(statement)
        types = f"SELECT DISTINCT dataset, type FROM {self.layout.table('items')}"
        self.store.client.execute(f"INSERT INTO {self.layout.table('types')} {types}", self.store.write_settings())
        create_parts_table(self.store)

    def parts(self) -> list[int]:
        return reports_parts(self.store)

    def parts_done(self) -> set[int]:
        return parts_done(self.store, 2)

    def copy(self, part: int, pool: ProcessPoolExecutor | None = None) -> None:
        """Copy one partition: emptied first (a copy stopped halfway left some of it), recorded once whole."""
        self.execute(f"ALTER TABLE {self.layout.local('reports_next')}{self.layout.on_cluster()} DROP PARTITION {part}")
        copied = waiting = 0
        batch: list[bytes] = []
        for size, data in self.rebuilt(part, pool):
            batch.append(data)
            copied += size
            waiting += size
            if waiting >= BATCH:
                self.write(batch)
                waiting = 0
        self.write(batch)
        part_done(self.store, 2, part)
        self.progress(f"reports of {days_of(part)}: {copied:,} rewritten")

    def write(self, batch: list[bytes]) -> None:
        if batch:
            self.store.client.insert(self.layout.table("reports_next"), b"".join(batch), self.store.write_settings())
            batch.clear()

    def rebuilt(self, part: int, pool: ProcessPoolExecutor | None) -> Iterator[tuple[int, bytes]]:
        """The partition's rows rebuilt (how many, and their RowBinary), in order; with ``pool``, by its workers,
        a few chunks ahead of the writes."""
        if pool is None:
            for dataset, day, found in self.old_rows(part):
                yield len(found), rebuild(dataset, day, found)
            return
        pending: deque[tuple[int, Future[bytes]]] = deque()
        for dataset, day, found in self.old_rows(part):
            pending.append((len(found), pool.submit(rebuild, dataset, day, found)))
            if len(pending) > 2 * self.workers:
                size, future = pending.popleft()
                yield size, future.result()
        while pending:
            size, future = pending.popleft()
            yield size, future.result()

    def old_rows(self, part: int) -> Iterator[tuple[str, int, list[tuple[str, str]]]]:
        """The partition's schema 1 rows (id, raw), CHUNK at a time, by (dataset, day) and a cursor on id (the
        primary key)."""
        table = self.layout.table("reports")
        days = rows(
            self.store.client,
            f"SELECT DISTINCT dataset, day FROM {table} WHERE {REPORTS_PARTITION} = {part} ORDER BY dataset, day",
        )
        for key in days:
            dataset, day = key["dataset"], int(key["day"])
            after = ""
            while True:
                found = rows(
                    self.store.client,
                    f"SELECT id, raw FROM {table} WHERE dataset = {literal(dataset)} AND day = {day}{after}"
                    f" ORDER BY id LIMIT {CHUNK}",
                )
                if found:
                    yield dataset, day, [(row["id"], row["raw"]) for row in found]
                if len(found) < CHUNK:
                    break
                after = f" AND id > {literal(found[-1]['id'])}"

    def swap(self) -> None:
        """``reports_next`` becomes ``reports``; the old table is dropped. Each move checks it is still due."""
        database, on_cluster = self.store.database, self.layout.on_cluster()
        if self.exists("reports_next"):
            self.execute(
                f"RENAME TABLE {self.layout.local('reports')} TO {self.layout.local('reports_old')},"
                f" {self.layout.local('reports_next')} TO {self.layout.local('reports')}{on_cluster}"
            )
        if self.layout.cluster is not None:  # the Distributed tables name their columns: made again
            drop_tables(self.store, f"{database}.reports_next")
            if not self.distributed_is_current():
                drop_tables(self.store, f"{database}.reports")
                self.execute(distributed_table(self.layout, "reports", report_columns(self.layout), REPORTS_SHARD_KEY))
        drop_tables(self.store, self.layout.local("reports_old"), f"{database}.migration_parts")

    def distributed_is_current(self) -> bool:
        found = rows(
            self.store.client,
            f"SELECT count() AS n FROM system.columns WHERE database = {literal(self.store.database)}"
            " AND table = 'reports' AND name = 'tokens'",
        )
        return bool(int(found[0]["n"]))
