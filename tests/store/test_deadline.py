"""The query time limit the API sets for a job, as the engines see it."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from shoal.errors import QueryTimeout
from shoal.query.check import check
from shoal.query.parser import parse
from shoal.store import deadline
from shoal.store.base import Filters, SummaryRequest
from shoal.store.embedded import EmbeddedStore
from tests.generated import generated_reports


def test_a_job_sees_its_limit_and_nothing_outlives_it() -> None:
    assert deadline.current() is None
    seen = deadline.run_within(deadline.Deadline.after(2.5), deadline.current)
    assert seen is not None and seen.seconds == 2.5
    assert 0 < seen.left() <= 2.5
    assert deadline.current() is None


def test_the_limit_is_gone_after_a_job_that_fails() -> None:
    def failing() -> None:
        raise ValueError("boom")

    with contextlib.suppress(ValueError):
        deadline.run_within(deadline.Deadline.after(1), failing)
    assert deadline.current() is None


def test_the_limit_belongs_to_the_thread_running_the_job() -> None:
    other: list[deadline.Deadline | None] = []

    def job() -> float:
        thread = threading.Thread(target=lambda: other.append(deadline.current()))
        thread.start()
        thread.join()
        running = deadline.current()
        assert running is not None
        return running.seconds

    assert deadline.run_within(deadline.Deadline.after(7), job) == 7
    assert other == [None]


def test_time_left_counts_down_past_zero() -> None:
    def wait_out() -> float:
        time.sleep(0.02)
        return time_left()

    assert deadline.run_within(deadline.Deadline.after(0.01), wait_out) < 0


def test_a_limit_counts_from_when_it_was_set_not_from_when_its_job_starts() -> None:
    limit = deadline.Deadline.after(0.01)  # the request waits from here, its job may start later
    time.sleep(0.02)
    assert deadline.run_within(limit, time_left) < 0


def time_left() -> float:
    running = deadline.current()
    assert running is not None
    return running.left()


@pytest.fixture(scope="module")
def generated_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path_factory.mktemp("generated"))
    store.ingest(generated_reports(5_000, seed=12))
    yield store
    store.close()


HEAVY = [  # summaries and a most_recent page whose work grows with the matches (issue 22, item 12)
    ("ip", True, "not port-tcp:1"),
    ("http-header", False, "not port-tcp:1"),
    ("host", True, None),
    (None, True, "not port-tcp:1"),
]


@pytest.mark.parametrize(("summarized", "most_recent", "expression"), HEAVY)
def test_work_nobody_waits_for_stops_at_the_embedded_engine_s_next_step(
    generated_store: EmbeddedStore, summarized: str | None, most_recent: bool, expression: str | None
) -> None:
    """A query already past its limit (its client answered 504) stops at the next check instead of doing all of
    its work: the embedded engine cannot stop tantivy mid-call, so it checks between its steps."""
    checked = None if expression is None else check(parse(expression), generated_store.known_types())
    filters = Filters(expression=checked, most_recent=most_recent)

    def heavy() -> object:
        if summarized is None:
            return generated_store.search(filters, offset=9900, limit=100)
        return generated_store.summarize(filters, SummaryRequest(summarized, limit=1_000_000))

    heavy()  # it works without a limit
    started = time.process_time()
    with pytest.raises(QueryTimeout):
        deadline.run_within(deadline.Deadline(0.05, time.monotonic() - 1), heavy)
    assert time.process_time() - started < 0.05


def test_a_step_that_cannot_be_stopped_is_refused_when_it_cannot_end_in_time() -> None:
    def step() -> None:
        deadline.affordable(3.0)

    deadline.run_within(deadline.Deadline.after(2), step)  # 3 s of 2 s left: within twice the time left
    with pytest.raises(QueryTimeout, match="would take about 3 s, more than its time limit of 1 s leaves"):
        deadline.run_within(deadline.Deadline.after(1), step)
    step()  # no limit: nothing is refused
