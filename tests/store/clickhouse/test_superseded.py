"""Whether a dataset has superseded marks (without any, a search leaves out their ``NOT IN``): chDB, the only writer
of its files, asks once between its own writes; a server store asks each time, since another process may have
written marks meanwhile; a dataset found marked is never asked about again (marks are never removed)."""

from __future__ import annotations

from shoal.store.base import Filters
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import HttpClient
from tests.store.test_datasets import NEW, OLD


def asked(statements: list[str]) -> int:
    """How many of ``statements`` are questions about marks."""
    return sum(sql.startswith("SELECT 1 AS marked") for sql in statements)


def ids(store: ClickHouseStore) -> list[str]:
    return [report.id for report in store.search(Filters()).reports]


def test_marks_are_asked_about_once_between_writes_on_chdb_and_each_time_on_a_server(
    store: ClickHouseStore, statements: list[str]
) -> None:
    store.ingest([OLD])
    assert ids(store) == ids(store) == ["old"]
    sole_writer = store.client.writes() is not None
    assert asked(statements) == (1 if sole_writer else 2)
    if sole_writer:
        store.ingest([NEW])  # a write: the answer is asked again
    else:  # another process writes through a client of its own
        other = ClickHouseStore(HttpClient(store.client.hosts), store.database, cluster=store.cluster)  # type: ignore[attr-defined]
        other.ingest([NEW])
    assert ids(store) == ["new"]
    before = asked(statements)
    assert ids(store) == ["new"] and asked(statements) == before  # marked: never asked again
