"""Many summaries of one request at once. Tantivy's term walks and ClickHouse's queries run without the GIL,
so a request made of many summaries (``multi/summary``: every type × two datasets) takes about 1/n of the time
on n cores. The summaries run on a pool of their own — never the API's query pool, whose threads wait here —
each in a copy of the caller's context, so the request's time limit (``store.deadline``) goes with it."""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from shoal.store.base import Filters, Store, Summary, SummaryRequest

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max(2, os.cpu_count() or 2), thread_name_prefix="shoal-summaries")
        return _POOL


def summarize_each(store: Store, jobs: Sequence[tuple[Filters, SummaryRequest]]) -> list[Summary]:
    """``store.summarize(filters, request)`` for every job, in their order. The first failure is raised, and the
    jobs not started yet are dropped."""
    context = contextvars.copy_context()
    futures = [pool().submit(context.copy().run, store.summarize, filters, request) for filters, request in jobs]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        raise
