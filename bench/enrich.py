#!/usr/bin/env python3
"""Enrichment benchmark: what ``enrich_report`` costs per report, and what it does to a whole import.

    python bench/enrich.py --count 200000 [--import-count 100000] [--runs 5]

Steps: (1) ``bench/generate.py`` reports, with the generator's own enrichment stripped (geo-country,
entity, asn, product-tag, product-info), so every enricher has work to do; (2) the cold start of one
process (ASN table load + rule compilation, on its first report); (3) ``enrich_report`` over the
corpus in this process, ``--runs`` times, results discarded and the corpus frozen for the garbage
collector (a worker holds one chunk, not the corpus): wall and CPU time per report, median and best (CPU
time is what counts when other jobs share the cores); (4) unless ``--import-count 0``, the real ingest path —
``ingest_chunks`` with worker processes into a fresh embedded store: (A) the generator's corpus as is
(its own enrichment items, no transform: the core path), (B) the same reports stripped and enriched by
``transform=enrich_report`` (as many items stored as in A, so the difference is enrichment itself),
(C) the corpus as is with the transform (enrichers skip); wall rate and CPU per report over all processes;
(5) how often our product tags agree with the generator's.
Not part of the test suite: run it by hand and copy the printed table into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate, jsonl_chunks  # noqa: E402
from shoal.enrich import active_enrichers, enrich_report  # noqa: E402
from shoal.ingest.jsonl import LineChunk, decode_chunk  # noqa: E402
from shoal.ingest.pipeline import ingest_chunks  # noqa: E402
from shoal.model import Report  # noqa: E402
from shoal.store.embedded import EmbeddedStore  # noqa: E402

GENERATED_ENRICHMENT = frozenset({"geo-country", "entity", "asn", "product-tag", "product-info"})


def corpus(count: int, seed: int) -> tuple[list[Report], list[set[str]]]:
    """Reports without the generator's enrichment, and the generator's product tags for each."""
    reports, expected = [], []
    for data in generate(count, seed):
        report = Report.from_dict(data)
        expected.append({item.value for item in report.items if item.type == "product-tag"})
        kept = tuple(item for item in report.items if item.type not in GENERATED_ENRICHMENT)
        reports.append(Report(date=report.date, items=kept, id=report.id))
    return reports, expected


def timed(action: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return walls, cpus


def corpus_chunks(count: int, seed: int, strip: bool, lines_per_chunk: int = 2000) -> list[LineChunk]:
    """The corpus as JSON Lines chunks (in memory), as ``shoal import`` reads it; optionally without the
    generator's enrichment."""
    chunks, lines, number = [], [], 1
    for chunk in jsonl_chunks(count, seed):
        for line in chunk.splitlines():
            if strip:
                data = orjson.loads(line)
                data["items"] = [item for item in data["items"] if item["type"] not in GENERATED_ENRICHMENT]
                line = orjson.dumps(data)
            lines.append(line + b"\n")
            if len(lines) == lines_per_chunk:
                chunks.append(LineChunk("bench", number, lines))
                number += len(lines)
                lines = []
    if lines:
        chunks.append(LineChunk("bench", number, lines))
    return chunks


def cpu_seconds() -> float:
    """User + system CPU of this process and of its reaped children (the ingest worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def import_once(
    chunks: list[LineChunk], count: int, transform: Callable[[Report], Report] | None
) -> tuple[float, float]:
    """(reports/s wall, CPU µs/report over all processes) of one import into a fresh store."""
    folder = Path(tempfile.mkdtemp(prefix="shoal-bench-enrich-"))
    try:
        store = EmbeddedStore(folder)
        started, cpu = time.perf_counter(), cpu_seconds()
        totals = ingest_chunks(store, chunks, decode_chunk, transform=transform)
        store.close()
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        assert totals.imported == count, totals
        return count / seconds, cpu / count * 1e6
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="reports for the in-process measurement")
    parser.add_argument("--import-count", type=int, default=100_000, help="reports for the import comparison (0: skip)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--import-runs", type=int, default=2, help="imports of each kind (alternating)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    reports, expected = corpus(args.count, args.seed)
    items = sum(len(report.items) for report in reports) / len(reports)
    print(
        f"corpus: {len(reports):,} reports from bench/generate.py --seed {args.seed},"
        f" {items:.1f} items/report after stripping"
    )

    cold = time.perf_counter()
    enrich_report(reports[0])
    print(f"cold start (first report in a process: ASN table + rules): {(time.perf_counter() - cold) * 1000:.0f} ms")
    for enricher in active_enrichers():
        print(f"  {enricher.name:12} {enricher.version}")

    # An ingest worker holds one chunk of reports at a time; here the whole corpus is alive. Freezing it
    # keeps the garbage collector from re-scanning 200,000 reports, which a worker never has to do.
    gc.collect()
    gc.freeze()
    added_items = [0]

    def run() -> None:
        added = 0
        for report in reports:
            added += len(enrich_report(report).items) - len(report.items)
        added_items[0] = added

    walls, cpus = timed(run, args.runs)
    per = [seconds / len(reports) * 1e6 for seconds in walls]
    cpu_per = [seconds / len(reports) * 1e6 for seconds in cpus]
    print("\n| measure | median | best |")
    print("|---|---:|---:|")
    print(f"| enrich_report wall µs/report | {statistics.median(per):.1f} | {min(per):.1f} |")
    print(f"| enrich_report CPU µs/report | {statistics.median(cpu_per):.1f} | {min(cpu_per):.1f} |")
    print(f"| reports/s (wall) | {len(reports) / statistics.median(walls):,.0f} | {len(reports) / min(walls):,.0f} |")
    print(f"| items added per report | {added_items[0] / len(reports):.2f} | |")

    if args.import_count:
        original = corpus_chunks(args.import_count, args.seed, strip=False)
        stripped = corpus_chunks(args.import_count, args.seed, strip=True)
        plans: dict[str, tuple[list[LineChunk], Callable[[Report], Report] | None]] = {
            "A. generator's corpus as is (its own enrichment), no transform: the core path": (original, None),
            "B. same reports without enrichment, transform=enrich_report": (stripped, enrich_report),
            "C. generator's corpus as is, transform=enrich_report (enrichers skip; honeypot runs)": (
                original,
                enrich_report,
            ),
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in plans}
        for _ in range(args.import_runs):  # interleaved, so that load from other jobs hits every path alike
            for name, (chunks, transform) in plans.items():
                runs[name].append(import_once(chunks, args.import_count, transform))
        print(f"\nimport of {args.import_count:,} reports (ingest_chunks, default workers, fresh embedded store),")
        print(f"{args.import_runs} runs each, interleaved; CPU = this process + worker processes:")
        print("| path | reports/s (median) | CPU µs/report (median) |")
        print("|---|---:|---:|")
        for name, results in runs.items():
            rate = statistics.median(rate for rate, _ in results)
            cpu = statistics.median(cpu for _, cpu in results)
            print(f"| {name} | {rate:,.0f} | {cpu:.1f} |")

    agree = Counter()
    for want, report in zip(expected, reports, strict=True):
        got = {item.value for item in enrich_report(report).items if item.type == "product-tag"}
        agree["reports with generator tags"] += bool(want)
        agree["all generator tags found"] += bool(want) and want <= got
        agree["some generator tag found"] += bool(want & got)
        agree["reports with our tags"] += bool(got)
    print("\nagreement with the generator's own product tags (its vocabulary, not ground truth):")
    for key, value in agree.items():
        print(f"  {key}: {value:,} ({value / len(reports):.1%})")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
