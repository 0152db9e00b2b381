#!/usr/bin/env python3
"""CPU of the history views (issue 24) against the calls they stand for, in-process, interleaved.

    python bench/history.py [--count 100000] [--rounds 5]

One embedded store of ``--count`` generated reports (``bench/generate.py``, 90 days ending 2026-11-20). Each
round measures, in turn:

- a trend, ``summary_interval=week`` with ``summarize=port-tcp`` over the 30 days (5 periods: 5 counts and 5
  summaries), against one summary of port-tcp over the same days: what one more period costs;
- ``shoal diff`` of a /16 since the middle of the span (``shoal.diffs`` over the network's reports), against
  reading the same reports (``iter_matches``) and doing nothing with them: what the diff adds to the read.

Prints the median CPU seconds per call of each and the ratios, with the load average. Not part of the test
suite: run it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.generated import generated_reports

from shoal.diffs import diff_of
from shoal.query.check import check
from shoal.query.parser import parse
from shoal.store.base import Filters, SummaryRequest
from shoal.store.embedded import EmbeddedStore
from shoal.trends import trend

FIRST, LAST = dt.date(2026, 10, 22), dt.date(2026, 11, 20)


def cpu(call: Callable[[], object]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def busiest_network(store: EmbeddedStore) -> ipaddress.IPv4Network:
    """The /16 holding the most reports (a network a team would watch)."""
    counts: dict[str, int] = {}
    for report in store.iter_matches(Filters()):
        if report.ip and "." in report.ip:
            prefix = ".".join(report.ip.split(".")[:2])
            counts[prefix] = counts.get(prefix, 0) + 1
    prefix = max(counts, key=lambda key: counts[key])
    return ipaddress.ip_network(f"{prefix}.0.0/16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder))
        store.ingest(generated_reports(options.count, seed=1))
        span = Filters(
            expression=check(parse("port-tcp:443 or port-tcp:80"), {"port-tcp"}), date_from=FIRST, date_to=LAST
        )
        network = busiest_network(store)
        since = FIRST + (LAST - FIRST) / 2
        ports = SummaryRequest("port-tcp", limit=10)
        calls: dict[str, Callable[[], object]] = {
            "trend (5 weeks, counts and summaries)": lambda: trend(store, span, "week", ports, LAST),
            "one summary over the span": lambda: store.summarize(span, ports),
            f"diff of {network} since {since}": lambda: diff_of(store.iter_matches(Filters(ip=network)), since, None),
            f"reading {network}'s reports": lambda: sum(1 for _ in store.iter_matches(Filters(ip=network))),
        }
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(options.rounds):
            for name, call in calls.items():
                samples[name].append(cpu(call))
        store.close()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    names = list(medians)
    print(f"{options.count:,} reports, {options.rounds} rounds, load average {os.getloadavg()[0]:.2f}")
    print("| call | CPU s (median) |\n|---|---|")
    for name in names:
        print(f"| {name} | {medians[name]:.4f} |")
    print(f"trend / one summary: {medians[names[0]] / medians[names[1]]:.2f}x")
    print(f"diff / reading: {medians[names[2]] / medians[names[3]]:.2f}x")


if __name__ == "__main__":
    main()
