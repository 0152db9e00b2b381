"""Trends: a selection counted per day, week or month of its reports' dates, with a summary per period if asked.

The span is the selection's ``from``/``to`` (default: the last ``DEFAULT_PERIODS`` periods up to ``to``, else
today), cut into calendar periods (a week starts on Monday, as ISO's); the first and last are clipped to the
span. Each period is one count (a search's exact ``result_count``) and, with a summary type, one summary, asked
of the store with the selection narrowed to the period's days: the counts are the engines' own exact counts,
on every engine, with no engine code of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from shoal.errors import BadParameter
from shoal.store.base import Filters, Store, Summary, SummaryRequest

INTERVALS = ("day", "week", "month")
MAX_PERIODS = 400  # queries one trend may ask (a year and a month of days)
DEFAULT_PERIODS = 12


@dataclass(frozen=True, slots=True)
class Period:
    first: dt.date  # inclusive
    last: dt.date  # inclusive
    count: int = 0  # matching reports dated in it
    summary: Summary | None = None


def period_start(day: dt.date, interval: str) -> dt.date:
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_start(start: dt.date, interval: str) -> dt.date:
    if interval == "week":
        return start + dt.timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def default_first(last: dt.date, interval: str) -> dt.date:
    """The first day of the ``DEFAULT_PERIODS``th period back from ``last``'s."""
    start = period_start(last, interval)
    for _ in range(DEFAULT_PERIODS - 1):
        start = period_start(start - dt.timedelta(days=1), interval)
    return start


def periods_of(interval: str, first: dt.date | None, last: dt.date | None, today: dt.date) -> list[Period]:
    """The periods of ``[first, last]`` (clipped to it); a 400 past ``MAX_PERIODS`` or for an unknown interval."""
    if interval not in INTERVALS:
        raise BadParameter("summary_interval", f"'summary_interval' must be one of {', '.join(INTERVALS)}")
    end = last or today
    start = first or default_first(end, interval)
    if start > end:
        raise BadParameter("from", f"'from' ({start}) is after the end of the span ({end})")
    periods: list[Period] = []
    cursor = start
    while cursor <= end:
        following = next_start(period_start(cursor, interval), interval)
        if len(periods) == MAX_PERIODS:
            raise BadParameter(
                "summary_interval",
                f"{start} to {end} holds more than {MAX_PERIODS} periods of a {interval}: narrow from/to,"
                " or count by a longer interval",
            )
        periods.append(Period(cursor, min(following - dt.timedelta(days=1), end)))
        cursor = following
    return periods


def trend(
    store: Store, filters: Filters, interval: str, summary: SummaryRequest | None, today: dt.date
) -> list[Period]:
    """Each period of the selection's span with its count (and summary)."""
    counted = []
    for period in periods_of(interval, filters.date_from, filters.date_to, today):
        narrowed = replace(filters, date_from=period.first, date_to=period.last)
        count = store.search(narrowed, offset=0, limit=1).total
        values = store.summarize(narrowed, summary) if summary is not None and count else None
        counted.append(replace(period, count=count, summary=values))
    return counted
