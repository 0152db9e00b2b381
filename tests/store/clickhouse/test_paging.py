"""A page is read from the partitions of ``reports`` that hold it, found by counting the matches per partition:
across partitions (before 1970 too), with a superseded report left out, and past the last match (read from
nothing) it is the page that ordering every match gives."""

from __future__ import annotations

import datetime as dt

from shoal.model import PROTOCOLS, Item, Report
from shoal.store.base import EPOCH, Filters
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.engine import page_span
from tests.store.test_datasets import successor_of

DAYS = (-40, -1, 0, 31, 32, 700, 20_400, 20_401)  # partitions -1, 0 (days -31 to 31), 1, 21, 637


def dated(report_id: str, day: int) -> Report:
    return Report(EPOCH + dt.timedelta(days=day), (Item("ip", "192.0.2.1", "", True),), report_id, PROTOCOLS)


def test_every_page_is_the_one_of_every_match_in_order(store: ClickHouseStore, statements: list[str]) -> None:
    reports = [dated(f"{name}{day}", day) for day in DAYS for name in "ab"]
    old = reports[6]
    store.ingest([*reports, successor_of(old, "c31")])
    expected = sorted(((r.date, r.id) for r in reports if r is not old), reverse=True)
    expected.insert(expected.index((old.date, "b31")), (old.date, "c31"))
    for limit in (1, 5):
        for offset in range(len(expected) + 2):
            page = store.search(Filters(), offset=offset, limit=limit)
            assert page.total == len(expected)
            assert [(r.date, r.id) for r in page.reports] == expected[offset : offset + limit]
    statements.clear()
    assert store.search(Filters(), offset=len(expected), limit=5).reports == []
    assert len(statements) == 1  # the counts only: no partition holds the page


def test_the_span_is_the_partitions_holding_the_page() -> None:
    counts = [(637, 4), (21, 0), (1, 2), (0, 3)]
    assert page_span(counts, 0, 3) == (637, 637, 0)
    assert page_span(counts, 3, 2) == (637, 1, 0)
    assert page_span(counts, 4, 1) == (1, 1, 4)
    assert page_span(counts, 5, 100) == (1, 0, 4)
    assert page_span(counts, 9, 1) is None
    assert page_span(counts, 0, 0) is None
    assert page_span([], 0, 10) is None
