"""store/fanout.py: the summaries of one request run at once, in order, under the request's time limit."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shoal.errors import QueryTimeout
from shoal.model import DOMAINS, PROTOCOLS
from shoal.store import deadline
from shoal.store.base import Filters, Store, Summary, SummaryRequest
from shoal.store.embedded import EmbeddedStore
from shoal.store.fanout import summarize_each

TYPES = ("port-tcp", "host", "title", "product-tag", "geo-country")


def test_the_summaries_are_those_of_one_call_each_in_order(corpus_store: Store) -> None:
    jobs = [
        (Filters(dataset=dataset), SummaryRequest(item_type, limit=3))
        for item_type in TYPES
        for dataset in (DOMAINS, PROTOCOLS)
    ]
    assert summarize_each(corpus_store, jobs) == [corpus_store.summarize(*job) for job in jobs]


class Recording(EmbeddedStore):
    """A real store whose summaries note their time limit, meet at a barrier, or fail, as a test asks."""

    def __init__(self, path: Path, meeting: int = 1, failing: str = "") -> None:
        super().__init__(path)
        self.limits: list[float | None] = []
        self.barrier = threading.Barrier(meeting, timeout=30)
        self.failing = failing

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        running = deadline.current()
        self.limits.append(None if running is None else running.seconds)
        self.barrier.wait()  # with meeting=2: only passes if two summaries run at the same time
        if request.type == self.failing:
            raise QueryTimeout(1)
        return super().summarize(filters, request)


def test_they_run_at_the_same_time(tmp_path: Path) -> None:
    store = Recording(tmp_path, meeting=2)
    try:
        summaries = summarize_each(
            store, [(Filters(), SummaryRequest("port-tcp")), (Filters(), SummaryRequest("host"))]
        )
        assert [summary.cardinality for summary in summaries] == [0, 0]
    finally:
        store.close()


def test_each_runs_under_the_request_time_limit_and_a_failure_is_raised(tmp_path: Path) -> None:
    store = Recording(tmp_path, failing="host")
    jobs = [(Filters(), SummaryRequest(item_type)) for item_type in TYPES]
    try:
        with pytest.raises(QueryTimeout):
            deadline.run_within(deadline.Deadline.after(4.5), summarize_each, store, jobs)
        assert store.limits and set(store.limits) == {4.5}
    finally:
        store.close()


def test_outside_a_request_there_is_no_limit(tmp_path: Path) -> None:
    store = Recording(tmp_path)
    try:
        summarize_each(store, [(Filters(), SummaryRequest(item_type)) for item_type in TYPES])
        assert store.limits == [None] * len(TYPES)
    finally:
        store.close()
