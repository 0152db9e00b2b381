"""The ClickHouse engine's own tests: ``store`` is a fresh store on chDB and on the 2×2 cluster, in turn (a module
that needs one of them only defines its own); ``statements`` records the SQL of every statement ``store`` runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shoal.store.clickhouse import ClickHouseStore
from tests.engines import chdb_store, cluster_store, drop


@pytest.fixture(params=["chdb", "clickhouse"])
def store(request: pytest.FixtureRequest) -> Iterator[ClickHouseStore]:
    if request.param == "chdb":
        made = chdb_store(request.getfixturevalue("chdb_folder"))
    else:
        made = cluster_store(request.getfixturevalue("clickhouse_cluster"))
    yield made
    drop(made)


@pytest.fixture
def statements(store: ClickHouseStore) -> list[str]:
    recorded: list[str] = []
    execute = store.client.execute

    def recording(sql: str, *arguments: Any) -> bytes:
        recorded.append(sql)
        return execute(sql, *arguments)

    store.client.execute = recording  # type: ignore[method-assign]
    return recorded
