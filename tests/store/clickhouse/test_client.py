"""The ClickHouse clients under the API's time limit: the server stops a query whose client was answered 504.

Without the limit the slow query below runs for 4 s and answers; under a 1 s limit it must fail as a
QueryTimeout instead — ClickHouse stopped it (max_execution_time) rather than letting it run on unseen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.errors import QueryTimeout
from shoal.store import deadline
from shoal.store.clickhouse.client import ChdbClient, Client, HttpClient, rows
from tests.engines import Cluster

SLOW = "SELECT sleepEachRow(0.2) AS slept FROM numbers(20)"
ROW_BY_ROW = {"max_block_size": 1}  # the server checks its time limit between blocks
QUICK = "SELECT 1 AS one"


@pytest.fixture(params=["chdb", "clickhouse"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    if request.param == "chdb":
        folder: Path = request.getfixturevalue("chdb_folder")
        yield ChdbClient(folder)
        return
    cluster: Cluster = request.getfixturevalue("clickhouse_cluster")
    http = HttpClient(cluster.hosts)
    yield http
    http.close()


def test_a_query_under_a_time_limit_is_stopped_by_the_server(client: Client) -> None:
    with pytest.raises(QueryTimeout) as raised:
        deadline.run_within(deadline.Deadline.after(1), rows, client, SLOW, ROW_BY_ROW)
    assert raised.value.status == 504
    assert "1 s" in str(raised.value)
    assert rows(client, QUICK) == [{"one": 1}]  # and nothing of it is left for the next query


def test_a_quick_query_under_a_limit_answers(client: Client) -> None:
    assert deadline.run_within(deadline.Deadline.after(5), rows, client, QUICK) == [{"one": 1}]


def test_a_query_whose_time_is_over_is_not_sent(client: Client) -> None:
    def after_the_limit() -> object:
        running = deadline.current()
        assert running is not None
        while running.left() > 0:
            pass
        return rows(client, QUICK)

    with pytest.raises(QueryTimeout):
        deadline.run_within(deadline.Deadline.after(0.01), after_the_limit)


def test_without_a_limit_a_query_runs_to_its_end(client: Client) -> None:
    assert rows(client, "SELECT sleepEachRow(0.2) AS slept FROM numbers(3)", ROW_BY_ROW) == [{"slept": 0}] * 3
