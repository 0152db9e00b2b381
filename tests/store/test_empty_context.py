"""``type;:words``: a words match on items of the empty context, on every engine (whether or not the report
also holds items of that type under other contexts)."""

from __future__ import annotations

import datetime as dt

import pytest

from shoal.model import Item, Report
from shoal.query.check import BUILTIN_TYPES, check
from shoal.query.parser import parse
from shoal.store.base import Filters, Store

REPORTS = [
    Report(dt.date(2026, 11, 3), (Item("title", "London calling"),), "a"),
    Report(dt.date(2026, 11, 2), (Item("title", "London", "html"), Item("title", "Paris")), "b"),
    Report(dt.date(2026, 11, 1), (Item("title", "London", "html"), Item("title", "Rome", "og")), "c"),
]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("title;:london", ["a"]),  # b and c hold London under a named context only
        ("title;:paris", ["b"]),  # b holds both kinds: its empty context's own words
        ('title;:"london calling"', ["a"]),
        ("title;:lond*", ["a"]),
        ("title;:rome", []),
        ("title;html:london", ["b", "c"]),
        ("title:london", ["a", "b", "c"]),
        ("not title;:london", ["b", "c"]),
        ("title;=Paris", ["b"]),
    ],
)
def test_words_of_the_empty_context(any_store: Store, expression: str, expected: list[str]) -> None:
    any_store.ingest(REPORTS)
    filters = Filters(expression=check(parse(expression), BUILTIN_TYPES))
    assert [report.id for report in any_store.search(filters).reports] == expected
