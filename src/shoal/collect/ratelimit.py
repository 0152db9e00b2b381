"""Token buckets: a steady rate with a burst allowance, on an injected clock (seconds)."""

from __future__ import annotations

import asyncio
import threading
import time


class TokenBucket:
    """``rate`` tokens a second, holding at most ``capacity``. Not thread-safe: wrap it where needed."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)

    def reserve(self, count: float, now: float) -> float:
        """Take ``count`` tokens, going into debt if needed; returns the seconds to wait until they are paid.

        Reservations queue fairly: each caller waits for the debt in front of it, no caller retries."""
        self._refill(now)
        self.tokens -= count
        return max(0.0, -self.tokens / self.rate)

    def try_take(self, now: float) -> float:
        """Take one token if there is one (returns 0.0), else take nothing and return the seconds until one."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class ConnectionRate:
    """New connections per second for one event loop: ``await rate.acquire()`` before each connect."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        # A tenth of a second of burst: smooth enough for the network, coarse enough for few timers.
        self._bucket = TokenBucket(per_second, max(1.0, per_second / 10), time.monotonic())

    async def acquire(self, count: int = 1) -> None:
        wait = self._bucket.reserve(count, time.monotonic())
        if wait > 0:
            await asyncio.sleep(wait)


class KeyedRateLimit:
    """One token bucket per key (e.g. per API token), thread-safe, for callers that are refused, not queued."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self._buckets: dict[object, TokenBucket] = {}
        self._lock = threading.Lock()

    def try_take(self, key: object, now: float | None = None) -> float:
        """0.0 if the call may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.rate, self.capacity, now)
            return bucket.try_take(now)
