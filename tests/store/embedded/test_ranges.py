"""The regexes the embedded engine compiles ranges to (``compile.number_pattern``, ``compile.day_pattern``) match
exactly the numbers and days in the range, checked against Python's comparison."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.store.embedded.compile import day_pattern, number_pattern

NUMBERS = st.integers(0, 10**7) | st.integers(0, 10**19 - 1)


@settings(max_examples=150, deadline=None)
@given(NUMBERS, NUMBERS, st.lists(NUMBERS, max_size=20))
def test_number_pattern_matches_the_numbers_in_the_range(a: int, b: int, probes: list[int]) -> None:
    first, last = min(a, b), max(a, b)
    pattern = re.compile(number_pattern(first, last))
    for n in [*probes, first, last, first - 1, last + 1, (first + last) // 2]:
        if n >= 0:
            assert bool(pattern.fullmatch(str(n))) == (first <= n <= last), n
    assert not pattern.fullmatch("0" + str(first))  # a leading zero is not a number's canonical text
    assert not pattern.fullmatch("")


@settings(max_examples=100, deadline=None)
@given(st.dates(), st.dates(), st.lists(st.dates(), max_size=20))
def test_day_patterns_match_the_days_in_the_range(a: dt.date, b: dt.date, probes: list[dt.date]) -> None:
    first, last = min(a, b), max(a, b)
    pattern = re.compile(day_pattern(first, last))
    for day in [*probes, first, last]:
        assert bool(pattern.fullmatch(day.isoformat())) == (first <= day <= last), day
    open_ended = re.compile(day_pattern(None, last))
    assert all(bool(open_ended.fullmatch(day.isoformat())) == (day <= last) for day in probes)
