"""The ClickHouse engine's own tests: ``store`` is a fresh store on chDB and on the 2×2 cluster, in turn (a module
that needs one of them only defines its own)."""

from __future__ import annotations

from collections.abc import Iterator

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
