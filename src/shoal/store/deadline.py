"""The time a query has left. The API runs each query on its pool with the request's time limit (``run_within``);
an engine that can stop its own work once the client has been answered 504 reads ``current()`` (ClickHouse
passes what is left on as ``max_execution_time``; the embedded engine calls ``check()`` between the steps of
its work and ``affordable()`` before a step it cannot stop). Outside ``run_within`` — the CLI, imports — there
is no limit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

from shoal.errors import QueryTimeout

T = TypeVar("T")
STEP_SLACK = 2.0  # a step estimated at up to twice the time left is started (estimates are rough)


class Deadline(NamedTuple):
    seconds: float  # the query's time limit
    at: float  # when it ends, on time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The limit of a query that may run ``seconds`` from now."""
        return cls(seconds, time.monotonic() + seconds)

    def left(self) -> float:
        """Seconds until the limit (0 or less once it is over)."""
        return self.at - time.monotonic()


_DEADLINE: ContextVar[Deadline | None] = ContextVar("query_deadline", default=None)


def run_within(limit: Deadline, job: Callable[..., T], *args: Any) -> T:
    """``job(*args)`` under ``limit``, which ``current()`` answers while it runs (in this thread)."""
    token = _DEADLINE.set(limit)
    try:
        return job(*args)
    finally:
        _DEADLINE.reset(token)


def current() -> Deadline | None:
    """The time limit of the query running in this thread, or None without one."""
    return _DEADLINE.get()


def check() -> None:
    """QueryTimeout if the query running in this thread is past its limit (its client has been answered 504):
    called between steps, so that work nobody waits for stops there."""
    limit = _DEADLINE.get()
    if limit is not None and limit.left() <= 0:
        raise QueryTimeout(limit.seconds)


def checked(items: Iterable[T], every: int) -> Iterator[T]:
    """``items``, with the time limit checked (``check``) before the first and every ``every`` of them."""
    for count, item in enumerate(items):
        if count % every == 0:
            check()
        yield item


def affordable(seconds: float) -> None:
    """QueryTimeout, before it starts, if a step that cannot be stopped midway is estimated to take more than
    ``STEP_SLACK`` times the time its query has left (it would go on long after the 504)."""
    limit = _DEADLINE.get()
    if limit is not None and seconds > STEP_SLACK * limit.left():
        raise QueryTimeout(limit.seconds, estimate=seconds)
