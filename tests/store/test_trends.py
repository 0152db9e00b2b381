"""Trends (``summary_interval``) on every engine: the cases of ``cases/trends.jsonl`` on the corpus (counted by
hand there), and a year of generated history counted per month here, by hand, against ``shoal.trends``."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shoal.errors import BadParameter
from shoal.model import Item, Report
from shoal.store.base import Filters, Store, SummaryRequest
from shoal.trends import MAX_PERIODS, periods_of, trend
from tests.store.test_conformance import filters_for

CASES = [json.loads(line) for line in (Path(__file__).parent / "cases" / "trends.jsonl").read_text().splitlines()]
TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['interval']}-{n}" for n, c in enumerate(CASES)])
def test_trend_case(corpus_store: Store, case: dict[str, Any]) -> None:
    filters = filters_for(case["expression"], case["options"], corpus_store)
    summary = SummaryRequest(case["summarize"], limit=case.get("limit", 100)) if "summarize" in case else None
    periods = trend(corpus_store, filters, case["interval"], summary, TODAY)
    got = []
    for period in periods:
        row: list[Any] = [period.first.isoformat(), period.last.isoformat(), period.count]
        if period.summary is not None:
            row += [[list(pair) for pair in period.summary.values], period.summary.other]
        got.append(row)
    assert got == case["periods"]


def generated_year() -> list[Report]:
    chance = random.Random(4)
    reports = []
    for n in range(240):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=chance.randrange(365))
        port = chance.choice((22, 80, 443))
        items = (Item("ip", f"203.0.113.{n % 250}", "", True), Item("port-tcp", str(port), "", True))
        reports.append(Report(day, items, id=f"y{n:04d}"))
    return reports


def test_months_of_a_year_are_counted_by_hand(any_store: Store) -> None:
    reports = generated_year()
    any_store.ingest(reports)
    by_hand = Counter((r.date.month, r.port) for r in reports)
    expression = filters_for("port-tcp:443", {}, any_store).expression
    filters = Filters(expression=expression, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
    periods = trend(any_store, filters, "month", SummaryRequest("port-tcp"), TODAY)
    assert [(p.first.month, p.count) for p in periods] == [(month, by_hand[month, 443]) for month in range(1, 13)]
    every = trend(
        any_store, Filters(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31)), "month", None, TODAY
    )
    assert [p.count for p in every] == [sum(by_hand[m, port] for port in (22, 80, 443)) for m in range(1, 13)]
    assert sum(p.count for p in every) == len(reports)


def test_default_span_is_twelve_periods_up_to_today() -> None:
    months = periods_of("month", None, None, TODAY)
    assert (months[0].first, months[-1].first, months[-1].last, len(months)) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 1),
        TODAY,
        12,
    )
    weeks = periods_of("week", None, dt.date(2026, 11, 4), TODAY)
    assert (weeks[0].first.weekday(), weeks[-1].first, weeks[-1].last) == (
        0,
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 4),
    )


def test_too_many_periods_is_a_bad_parameter() -> None:
    with pytest.raises(BadParameter, match=f"more than {MAX_PERIODS} periods of a day"):
        periods_of("day", dt.date(2020, 1, 1), dt.date(2026, 1, 1), TODAY)
