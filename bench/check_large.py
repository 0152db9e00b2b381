#!/usr/bin/env python3
"""Re-check at scale what the tests check on small corpora: export cursor, paging, exact summaries, most_recent.

    python bench/check_large.py --data DIR [--network 43.135.0.0/16]

On an index built by ``shoal import`` (e.g. by bench/peers.py or bench/core.py), for the busiest /16 (or
``--network``): (1) ``iter_matches`` yields every match once, newest first, as many as ``search`` counts;
(2) the 100 result pages concatenated are the first 10,000 of that walk; (3) ``summarize`` (port-tcp,
geo-country, http-header;Server) equals counting the walked reports in Python; (4) ``most_recent`` from the
latest index equals the filter-then-newest path (forced), in total, first pages and every report; (5) the same
for a summary over everything against the term walk without the cache. Prints what it checked; exit 1 on any
difference. Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from tantivy import Query

from shoal.store.base import Filters, SummaryRequest
from shoal.store.embedded import EmbeddedStore, latest


def busiest_network(store: EmbeddedStore) -> ipaddress.IPv4Network:
    counts: Counter[str] = Counter()
    for number, report in enumerate(store.iter_matches(Filters())):
        if number >= 100_000:
            break
        if report.ip and ":" not in report.ip:
            counts[".".join(report.ip.split(".")[:2]) + ".0.0/16"] += 1
    return ipaddress.IPv4Network(counts.most_common(1)[0][0])


def check(label: str, ok: bool, problems: list[str]) -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {label}", flush=True)
    if not ok:
        problems.append(label)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--network", type=ipaddress.IPv4Network)
    args = parser.parse_args(argv)
    store = EmbeddedStore(args.data, hold_writer=False)
    network = args.network or busiest_network(store)
    filters = Filters(ip=network)
    problems: list[str] = []
    started = time.perf_counter()
    print(f"{store.count():,} reports; network {network}")

    walked = list(store.iter_matches(filters))
    total = store.search(filters).total
    ids = [report.id for report in walked]
    keys = [(report.date, report.id.encode()[:6]) for report in walked]
    check(f"export cursor: {len(walked):,} reports, search counts {total:,}", len(walked) == total, problems)
    check("export cursor: every report once", len(set(ids)) == len(ids), problems)
    check("export cursor: newest first", all(a >= b for a, b in pairwise(keys)), problems)

    paged = [r.id for page in range(100) for r in store.search(filters, offset=page * 100, limit=100).reports]
    check(f"paging: 100 pages = the walk's first {len(paged):,}", paged == ids[:10_000], problems)

    for request in (
        SummaryRequest("port-tcp"),
        SummaryRequest("geo-country"),
        SummaryRequest("http-header", ("Server",)),
    ):
        summary = store.summarize(filters, SummaryRequest(request.type, request.contexts, limit=1_000_000))
        counted: Counter[str] = Counter()
        for report in walked:
            counted.update(
                {
                    item.value
                    for item in report.items
                    if item.type == request.type and (not request.contexts or item.context in request.contexts)
                }
            )
        if request.type == "port-tcp":
            counted = Counter({str(int(value)) if value.isdigit() else value: n for value, n in counted.items()})
        check(
            f"summary {request.type} {request.contexts or ''}: {len(counted):,} values exact",
            dict(summary.values) == dict(counted),
            problems,
        )

    newest = Filters(ip=network, most_recent=True)
    fast_page = store.search(newest)
    fast_all = [report.id for report in store.iter_matches(newest)]
    original = latest.selects_identities
    latest.selects_identities = lambda filters: False  # force the filter-then-newest path
    try:
        slow_page = store.search(newest)
        slow_all = [report.id for report in store.iter_matches(newest)]
    finally:
        latest.selects_identities = original
    check(
        f"most_recent: latest index {fast_page.total:,} = every match walked {slow_page.total:,}",
        fast_page.total == slow_page.total and fast_all == slow_all,
        problems,
    )
    check("most_recent: first page", [r.id for r in fast_page.reports] == [r.id for r in slow_page.reports], problems)

    index = store.index("protocols")
    view = index.view()
    for request in (SummaryRequest("port-tcp"), SummaryRequest("geo-country")):
        cached = store.summarize(Filters(), request)
        walked_terms = index.summarize_terms(view, view.restrict(Query.all_query()), request)
        check(f"summary over everything {request.type}: kept = walked", cached == walked_terms, problems)

    print(f"{len(problems)} problems in {time.perf_counter() - started:.0f} s")
    store.close()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
