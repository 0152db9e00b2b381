"""UsageBook: monthly counting that is exact under concurrency (threads and processes) and survives reopening."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shoal.errors import QuotaExceeded
from shoal.usage import UsageBook, month_of, next_reset, summary_cost

NOVEMBER = dt.datetime(2026, 11, 30, 23, 59, 30, tzinfo=dt.UTC)
DECEMBER = dt.datetime(2026, 12, 1, 0, 0, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("summary_limit", "units"), [(1, 1), (100, 1), (10_000, 1), (10_001, 2), (25_000, 3), (1_000_000, 100)]
)
def test_summary_cost(summary_limit: int, units: int) -> None:
    assert summary_cost(summary_limit) == units


def test_months_and_resets_are_utc_calendar_months() -> None:
    assert month_of(NOVEMBER) == "2026-11" and month_of(DECEMBER) == "2026-12"
    assert next_reset(NOVEMBER) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert next_reset(DECEMBER) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    local = dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # still November in UTC
    assert month_of(local) == "2026-11"


def test_charge_until_the_limit_then_refuse_taking_nothing(tmp_path: Path) -> None:
    book = UsageBook(tmp_path)
    book.charge("t1", "api", 3, limit=5, now=NOVEMBER)
    book.charge("t1", "api", 2, limit=5, now=NOVEMBER)
    with pytest.raises(QuotaExceeded) as refused:
        book.charge("t1", "api", 1, limit=5, now=NOVEMBER)
    error = refused.value
    assert (error.status, error.quota, error.limit, error.usage, error.cost) == (429, "api", 5, 5, 1)
    assert error.next_reset == "2026-12-01T00:00:00Z"
    assert error.retry_after == 31  # seconds to the reset, rounded up
    assert error.headers() == {"Retry-After": "31"}
    assert book.used("t1", NOVEMBER) == {"api": 5, "priority": 0}
    assert book.used("t2", NOVEMBER) == {"api": 0, "priority": 0}


def test_a_new_month_starts_from_zero(tmp_path: Path) -> None:
    book = UsageBook(tmp_path)
    book.charge("t1", "priority", 4, limit=4, now=NOVEMBER)
    book.charge("t1", "priority", 4, limit=4, now=DECEMBER)
    assert book.used("t1", NOVEMBER)["priority"] == 4
    assert book.used("t1", DECEMBER)["priority"] == 4


def test_refunds_go_back_to_the_month_charged_and_never_below_zero(tmp_path: Path) -> None:
    book = UsageBook(tmp_path)
    charge = book.charge("t1", "api", 2, limit=10, now=NOVEMBER)
    book.charge("t1", "api", 1, limit=10, now=DECEMBER)
    book.refund(charge)
    book.refund(charge)
    assert book.used("t1", NOVEMBER)["api"] == 0
    assert book.used("t1", DECEMBER)["api"] == 1


def test_usage_survives_closing_and_reopening(tmp_path: Path) -> None:
    book = UsageBook(tmp_path)
    book.charge("t1", "api", 9, limit=10, now=NOVEMBER)
    book.close()
    assert UsageBook(tmp_path).used("t1", NOVEMBER)["api"] == 9


def charges_accepted(folder: str, attempts: int, limit: int) -> int:
    book = UsageBook(folder)
    accepted = 0
    for _ in range(attempts):
        try:
            book.charge("shared", "api", 1, limit=limit, now=NOVEMBER)
            accepted += 1
        except QuotaExceeded:
            pass
    book.close()
    return accepted


def test_concurrent_threads_never_overdraw(tmp_path: Path) -> None:
    book = UsageBook(tmp_path)

    def attempt(_: int) -> bool:
        try:
            book.charge("shared", "api", 1, limit=150, now=NOVEMBER)
            return True
        except QuotaExceeded:
            return False

    with ThreadPoolExecutor(8) as pool:
        accepted = sum(pool.map(attempt, range(400)))
    assert accepted == 150
    assert book.used("shared", NOVEMBER)["api"] == 150


def test_concurrent_processes_never_overdraw(tmp_path: Path) -> None:
    UsageBook(tmp_path).close()  # create the database before the race
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        accepted = sum(pool.starmap(charges_accepted, [(str(tmp_path), 80, 250)] * 4))
    assert accepted == 250
    assert UsageBook(tmp_path).used("shared", NOVEMBER)["api"] == 250
