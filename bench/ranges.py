#!/usr/bin/env python3
"""What a range costs on the embedded engine: each range query against the plain query that means the same (the
OR of the values the range holds that the corpus has) and, for a range of at most EVERY_VALUE_LIMIT numbers, the OR
of every number in it (the other way to compile it), interleaved, on one store.

    python bench/ranges.py [--count 200000] [--runs 15] [--data DIR]

The corpus is ``bench/generate.py``'s (ports as the model has them); each report on a TLS port also gets a
``cert-not-after`` day drawn from its id (2024-01-01 to 2028-12-31), so that day ranges have values to walk. Each
round runs every query of every row once, so the machine's noise falls on all alike; per call the process's CPU
time (user + system: tantivy's threads run in it) and the wall time are measured, and medians printed with the
ratio range / plain. The queries of a row must find the same number of reports. Not part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import zlib
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate
from shoal.model import Item, Report
from shoal.query.ast import Expr, Match, Or, Term
from shoal.query.check import check
from shoal.query.parser import parse
from shoal.store.base import Filters, Store
from shoal.store.plan import DayRange, NumberRange, lower
from shoal.store.registry import open_store

TLS_PORTS = {"443", "8443", "993", "995", "465", "636"}
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 5 * 365
RANGES = [
    "port-tcp:[1 TO 1024]",
    "port-tcp:[440 TO 450]",
    "port-tcp:>8000",
    "port-tcp:[8000 TO 9000]",
    "cert-not-after:<2025-01-01",
    "cert-not-after:[2026-06-01 TO 2026-06-30]",
]


def with_expiry(report: dict) -> Report:
    parsed = Report.from_dict(report)
    ports = [item.value for item in parsed.items if item.type == "port-tcp"]
    if not TLS_PORTS.intersection(ports):
        return parsed
    day = FIRST_DAY + dt.timedelta(days=zlib.crc32(parsed.id.encode()) % DAYS)
    return replace(parsed, items=(*parsed.items, Item("cert-not-after", day.isoformat())))


def values_of(store: Store, item_type: str) -> set[str]:
    """Every value of the type in the store (as the plain queries' terms)."""
    return {item.value for report in store.iter_matches(Filters()) for item in report.items if item.type == item_type}


def plain_equivalent(text: str, values: set[str]) -> Expr:
    """The OR of the values the range holds, as ``type=value`` terms."""
    item_type = text.partition(":")[0]
    checked = check(parse(text), ())
    plan = lower(Filters(expression=checked))
    assert isinstance(plan, NumberRange | DayRange)
    held = []
    for value in sorted(values):
        if isinstance(plan, NumberRange):
            last = plan.last if plan.last is not None else 10**19
            inside = value.isdigit() and (plan.first or 0) <= int(value) <= last
        else:
            day = dt.date.fromisoformat(value)
            inside = (plan.first is None or plan.first <= day) and (plan.last is None or day <= plan.last)
        if inside:
            held.append(Term(item_type, Match.EXACT, value))
    return held[0] if len(held) == 1 else Or(tuple(held))


EVERY_VALUE_LIMIT = 2048  # numbers: a range of at most this many also runs as the OR of every value it holds


def every_value(text: str) -> Expr | None:
    """The OR of every number the range holds (the other way to compile a small range), or None if it is wide."""
    plan = lower(Filters(expression=check(parse(text), ())))
    if not isinstance(plan, NumberRange) or plan.last is None or plan.last - (plan.first or 0) >= EVERY_VALUE_LIMIT:
        return None
    return Or(tuple(Term(plan.type, Match.EXACT, str(n)) for n in range(plan.first or 0, plan.last + 1)))


def measured(store: Store, filters: Filters) -> tuple[float, float, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    total = store.search(filters, limit=10).total
    return time.process_time() - cpu, time.perf_counter() - wall, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-ranges-"))
    store = open_store(None, data)
    if store.count() == 0:
        started = time.perf_counter()
        batch: list[Report] = []
        for report in generate(args.count, seed=1):
            batch.append(with_expiry(report))
            if len(batch) == 20_000:
                store.ingest(batch)
                batch = []
        store.ingest(batch)
        print(f"ingested {store.count():,} reports in {time.perf_counter() - started:.0f} s into {data}")
    values = {name: values_of(store, name) for name in ("port-tcp", "cert-not-after")}
    runs: list[tuple[str, dict[str, Filters], int]] = []
    for text in RANGES:
        plain = plain_equivalent(text, values[text.partition(":")[0]])
        kinds = {"range": Filters(expression=check(parse(text), ())), "plain": Filters(expression=plain)}
        if (every := every_value(text)) is not None:
            kinds["every"] = Filters(expression=every)
        runs.append((text, kinds, len(plain.children) if isinstance(plain, Or) else 1))
    samples: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    for round_number in range(args.runs + 2):  # two rounds of warm-up
        for text, kinds, _ in runs:
            for kind, filters in kinds.items():
                sample = measured(store, filters)
                if round_number >= 2:
                    samples.setdefault((text, kind), []).append(sample)
    print(f"{store.count():,} reports, {args.runs} interleaved rounds; medians of CPU ms (range's wall time too)")
    print("range: the regex; plain: the OR of the values the corpus holds; every: the OR of every value in range")
    print(f"{'query':44} {'matches':>8} {'terms':>6} {'range':>7} {'plain':>7} {'every':>7} {'r/p':>5} {'wall':>7}")
    for text, kinds, terms in runs:
        totals = {samples[(text, kind)][0][2] for kind in kinds}
        assert len(totals) == 1, f"{text}: the range and its plain twins disagree: {totals}"
        cpu = {kind: statistics.median(s[0] for s in samples[(text, kind)]) * 1000 for kind in kinds}
        wall = statistics.median(s[1] for s in samples[(text, "range")]) * 1000
        every = f"{cpu['every']:>7.2f}" if "every" in cpu else f"{'—':>7}"
        print(
            f"{text:44} {totals.pop():>8,} {terms:>6} {cpu['range']:>7.2f} {cpu['plain']:>7.2f} {every}"
            f" {cpu['range'] / cpu['plain']:>5.2f} {wall:>7.2f}"
        )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
