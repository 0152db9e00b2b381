#!/usr/bin/env python3
"""An import with alerts, this checkout against another (its peer: e.g. main), interleaved, CPU time.

    git worktree add /tmp/shoal-main main
    python bench/alerts_peer.py --before /tmp/shoal-main [--reports 50000] [--alerts 1000] [--runs 5]

Each round, for the other checkout then this one: a fresh data directory holding the same ``--alerts`` alerts,
written by that checkout's own ``bench/alerts.py`` (its book's format), then ``shoal import`` of the batch
(``bench/generate.py --seed 1``, JSON lines) with that checkout's code (``PYTHONPATH``); CPU of the import with
its children, and the events it queued (the same number, or the comparison is void). Medians.

Not part of the test suite: run it by hand, from the repository root.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITE = (
    "import sys; from pathlib import Path; root, source, folder, count = sys.argv[1:];"
    " sys.path[:0] = [root, root + '/bench']; import orjson, alerts; from shoal.model import Report;"
    " reports = [Report.from_dict(orjson.loads(line)) for line in Path(source).read_bytes().splitlines()];"
    " alerts.write_alerts(Path(folder), alerts.alert_queries(reports, int(count), seed=1))"
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def code_of(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root / "src")}


def import_with_alerts(root: Path, source: Path, folder: Path, alerts: int) -> tuple[float, float, int]:
    """(CPU seconds of the import with its children, wall seconds, events queued) with ``root``'s code."""
    subprocess.run([sys.executable, "-c", WRITE, str(root), str(source), str(folder), str(alerts)], check=True,
                   env=code_of(root), cwd=root)  # fmt: skip
    before, started = children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "shoal", "import", str(source), "--data", str(folder)],
                          env=code_of(root), cwd=folder, capture_output=True)  # fmt: skip
    cpu, wall = children_cpu() - before, time.perf_counter() - started
    assert done.returncode == 0, done.stderr.decode()
    with sqlite3.connect(folder / "alerts.sqlite3") as book:
        events = book.execute("SELECT count(*) FROM events").fetchone()[0]
    return cpu, wall, events


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (its src/ and bench/)")
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--alerts", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args(argv)
    checkouts = {"before": options.before.resolve(), "this": ROOT}
    work = Path(tempfile.mkdtemp(prefix="shoal-bench-alerts-peer-"))
    try:
        source = work / "batch.jsonl"
        sys.path.insert(0, str(ROOT / "bench"))
        from generate import jsonl_chunks

        source.write_bytes(b"".join(jsonl_chunks(options.reports, seed=1)))
        print(f"{options.reports:,} reports, {options.alerts:,} alerts; load {os.getloadavg()}", flush=True)
        cpus: dict[str, list[float]] = {name: [] for name in checkouts}
        for run in range(options.runs):
            for name, root in checkouts.items():
                folder = work / f"{name}{run}"
                cpu, wall, events = import_with_alerts(root, source, folder, options.alerts)
                cpus[name].append(cpu)
                print(f"run {run} {name}: {cpu:.2f} s CPU, {wall:.1f} s wall, {events:,} events, load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
                shutil.rmtree(folder)
        for name, values in cpus.items():
            print(f"{name}: median {statistics.median(values):.2f} s CPU ({min(values):.2f}–{max(values):.2f})")
        print(f"this / before: {statistics.median(cpus['this']) / statistics.median(cpus['before']):.3f}")
        print(f"load {os.getloadavg()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
