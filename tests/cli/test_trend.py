"""``shoal stats EXPR --over month [--facets F]``: equal to counting the history per month by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import orjson
import pytest

from tests.cli.local import no_saved_server, run, stored  # noqa: F401 (an autouse fixture)
from tests.store.test_trends import generated_year

YEAR = generated_year()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored(tmp_path_factory.mktemp("trend"), YEAR)


SPAN = ("--from", "2026-01-01", "--to", "2026-12-31")


def test_stats_over_month_is_the_count_per_month(data: Path) -> None:
    code, out, err = run("stats", "port-tcp:80 or port-tcp:443", "--over", "month", *SPAN, "--data", str(data))
    assert code == 0, err
    by_hand = Counter(r.date.month for r in YEAR if r.port in (80, 443))
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines == [
        ["period", dt.date(2026, month, 1).isoformat(), last_day(month).isoformat(), str(by_hand[month])]
        for month in range(1, 13)
    ]


def test_stats_over_month_with_a_facet_as_json(data: Path) -> None:
    code, out, err = run("stats", "--over", "month", "--facets", "port-tcp", *SPAN, "--json", "--data", str(data))
    assert code == 0, err
    intervals = orjson.loads(out)["intervals"]
    by_hand = Counter((r.date.month, str(r.port)) for r in YEAR)
    assert [entry["result_count"] for entry in intervals] == [
        sum(n for (month, _), n in by_hand.items() if month == m) for m in range(1, 13)
    ]
    for month, entry in enumerate(intervals, start=1):
        values = entry["facets"]["port-tcp"]["values"]
        assert values == {port: n for (m, port), n in by_hand.items() if m == month}


def test_stats_over_a_bad_interval_exits_2(data: Path) -> None:
    code, _, err = run("stats", "--over", "fortnight", "--data", str(data))
    assert code == 2 and "'summary_interval' must be one of day, week, month" in err


def last_day(month: int) -> dt.date:
    following = dt.date(2026 + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)
