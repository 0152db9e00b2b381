"""Summaries over every report are kept between calls, never past a commit."""

from __future__ import annotations

from shoal.store.base import Filters, Store, SummaryRequest
from tests.store.test_most_recent import target


def test_a_summary_over_everything_follows_each_import(empty_store: Store) -> None:
    """Summaries over every report are kept between calls: never past a commit."""
    request = SummaryRequest("title")
    empty_store.ingest([target("a", 1, "one")])
    assert empty_store.summarize(Filters(), request).values == [("one", 1)]
    empty_store.ingest([target("b", 2, "two"), target("c", 2, "two")])
    assert empty_store.summarize(Filters(), request).values == [("two", 2), ("one", 1)]
    assert empty_store.summarize(Filters(), SummaryRequest("title", limit=1)).values == [("two", 2)]
