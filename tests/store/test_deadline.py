"""The query time limit the API sets for a job, as the engines see it."""

from __future__ import annotations

import contextlib
import threading
import time

from shoal.store import deadline


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
