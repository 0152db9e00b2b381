"""Token buckets on a fake clock, and the connection rate on the real one."""

from __future__ import annotations

import asyncio
import time

import pytest

from shoal.collect.ratelimit import ConnectionRate, KeyedRateLimit, TokenBucket


def test_reservations_queue_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, capacity=2, now=0.0)
    waits = [bucket.reserve(1, now=0.0) for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0.1, 0.2, 0.3])
    assert bucket.reserve(1, now=10.0) == 0  # refilled, but never above capacity
    assert bucket.tokens == pytest.approx(1)


def test_try_take_refuses_without_taking() -> None:
    bucket = TokenBucket(rate=5, capacity=1, now=0.0)
    assert bucket.try_take(0.0) == 0
    assert bucket.try_take(0.0) == pytest.approx(0.2)
    assert bucket.try_take(0.1) == pytest.approx(0.1)
    assert bucket.try_take(0.2) == 0


def test_keyed_limits_are_separate() -> None:
    limit = KeyedRateLimit(rate=5, capacity=2)
    assert [limit.try_take("a", now=0.0) for _ in range(3)] == [0, 0, pytest.approx(0.2)]
    assert limit.try_take("b", now=0.0) == 0


def test_the_connection_rate_holds() -> None:
    async def take(count: int, rate: ConnectionRate) -> float:
        started = time.monotonic()
        await asyncio.gather(*(rate.acquire() for _ in range(count)))
        return time.monotonic() - started

    elapsed = asyncio.run(take(60, ConnectionRate(200)))  # 20 at once, then 40 at 200/s
    assert 0.15 <= elapsed < 2.0  # the lower bound is the rate; the upper one only catches a stall
