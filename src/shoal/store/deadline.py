"""The time a query has left. The API runs each query on its pool with the request's time limit (``run_within``);
an engine that can stop its own work once the client has been answered 504 reads ``current()`` (ClickHouse
passes what is left on as ``max_execution_time``). Outside ``run_within`` — the CLI, imports — there is no limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


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
