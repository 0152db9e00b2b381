#!/usr/bin/env python3
"""What ``shoal count`` costs (issue 23): services (the newest matching report of each ip:port), hosts (the
distinct scanned addresses: a summary of ``ip;`` with its cardinality) and dated reports, in-process on the
embedded engine.

    python bench/counts.py [--count 20000] [--rounds 7]

The hosts are counted two ways, which give the same number (``most_recent`` keeps the newest *matching* report
of each service, so the services' addresses are the matching reports' addresses): over the services, and over
every matching report. Each round runs every kind once per query, in turn (interleaved); the medians of the
CPU time each took are printed, with the machine's load. Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate
from shoal.model import Report
from shoal.request.answers import HOSTS
from shoal.request.reading import known_types
from shoal.request.selection import Selection
from shoal.store.base import Filters, SummaryRequest
from shoal.store.embedded import EmbeddedStore

QUERIES = ("port-tcp:22", "nginx", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="generated reports (default 20,000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds over the queries (default 7)")
    args = parser.parse_args()
    store = EmbeddedStore(tempfile.mkdtemp(prefix="shoal-counts-"))
    store.ingest([Report.from_dict(raw) for raw in generate(args.count, 1)])
    types = known_types(store)
    hosts = SummaryRequest(HOSTS[0], contexts=(HOSTS[1],), limit=1)

    def services(filters: Filters) -> object:
        return store.search(filters, offset=0, limit=1)

    kinds = {
        "services (search, most_recent)": services,
        "reports (search)": lambda filters: services(replace(filters, most_recent=False)),
        "hosts over the services": lambda filters: store.summarize(filters, hosts),
        "hosts over every report": lambda filters: store.summarize(replace(filters, most_recent=False), hosts),
    }
    spent: dict[str, list[float]] = {name: [] for name in kinds}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for query in QUERIES:
            filters = Selection.of(query=query or None, most_recent=True).as_filters(types)
            for name, run in kinds.items():
                started = time.process_time()
                run(filters)
                spent[name].append(time.process_time() - started)
    store.close()
    rounds = f"{args.rounds} rounds of {len(QUERIES)} queries"
    print(f"{args.count:,} reports, {rounds}, load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    for name, times in spent.items():
        print(f"| {name} | {statistics.median(times) * 1000:.1f} ms CPU |")


if __name__ == "__main__":
    main()
