#!/usr/bin/env python3
"""Start-up time of the ``shoal`` command: ``--help`` and local commands, against the interpreter's floor.

    python bench/startup.py [--runs 10] [--count 10000] [--data DIR] [--before SRC]

Each round runs every command once, in a rotating order (interleaved, so a noisy neighbour slows all of
them alike); the medians of ``--runs`` rounds (wall clock, and the CPU time the command used, which a busy
machine disturbs less) are printed as a markdown table for BENCHMARKS.md. The
peers: ``python -c pass`` (the floor: an interpreter starting), ``python -c 'import fastapi, uvicorn,
tantivy'`` (what every command used to import), and, with ``--before SRC`` (a checkout's ``src``
directory, e.g. a checkout from before this change), the same commands from that code. A store of ``--count``
generated reports is built in ``--data`` (default: a temporary directory) unless it already holds one.
Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}"


def build_store(data: Path, count: int, environment: dict[str, str] | None = None) -> None:
    """A store of ``count`` generated reports in ``data`` (imported by the code ``environment`` selects)."""
    if (data / "index").is_dir():
        return
    corpus = data / f"corpus-{count}.jsonl.gz"
    data.mkdir(parents=True, exist_ok=True)
    generate = [PYTHON, str(HERE / "generate.py"), "--count", str(count), "--seed", "1", "--out", str(corpus)]
    subprocess.run(generate, check=True, capture_output=True)
    env = {**os.environ, **(environment or {})}
    importing = [PYTHON, "-m", "shoal", "import", "--data", str(data), str(corpus)]
    subprocess.run(importing, check=True, capture_output=True, env=env)


def commands(data: Path, before: Path | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    """label → (argv, extra environment). The 'before' commands read a store of their own (``data/before``:
    the store format may have changed since)."""
    shoal = [PYTHON, "-m", "shoal"]
    local = ["--data", str(data / "now")]
    plan: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass (floor)": ([PYTHON, "-c", "pass"], {}),
        "python -c 'import fastapi, uvicorn, tantivy'": ([PYTHON, "-c", "import fastapi, uvicorn, tantivy"], {}),
        "shoal --help": ([*shoal, "--help"], {}),
        "shoal search --help": ([*shoal, "search", "--help"], {}),
        "shoal count product-tag:nginx (local)": ([*shoal, "count", "product-tag:nginx", *local], {}),
        "shoal search product-tag:nginx (local, a page of 100)": ([*shoal, "search", "product-tag:nginx", *local], {}),
    }
    if before is not None:
        old = {"PYTHONPATH": str(before)}
        old_store = ["--data", str(data / "before")]
        plan["before: shoal --help"] = ([*shoal, "--help"], old)
        plan["before: shoal search product-tag:nginx (local)"] = (
            [*shoal, "search", "product-tag:nginx", *old_store],
            old,
        )
    return plan


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_rounds(
    plan: dict[str, tuple[list[str], dict[str, str]]], runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU seconds (user + system) of every command, per round."""
    times: dict[str, list[float]] = {label: [] for label in plan}
    cpu: dict[str, list[float]] = {label: [] for label in plan}
    labels = list(plan)
    environment = {**os.environ, "COLUMNS": "120"}
    environment.pop("SHOAL_URL", None)
    for round_number in range(runs + 1):  # round 0 warms the page cache and is not counted
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            argv, extra = plan[label]
            started, used = time.perf_counter(), children_cpu()
            subprocess.run(
                argv, env={**environment, **extra}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
            )
            if round_number:
                times[label].append(time.perf_counter() - started)
                cpu[label].append(children_cpu() - used)
    return times, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--count", type=int, default=10_000, help="reports in the generated store")
    parser.add_argument("--data", type=Path, help="a store to use or build (default: a temporary one)")
    parser.add_argument("--before", type=Path, help="the src/ of another checkout, run as the 'before' peer")
    args = parser.parse_args(argv)
    data = args.data or Path(tempfile.mkdtemp(prefix="shoal-startup-"))
    try:
        build_store(data / "now", args.count)
        if args.before is not None:
            build_store(data / "before", args.count, {"PYTHONPATH": str(args.before)})
        loads = os.getloadavg()
        times, cpu = run_rounds(commands(data, args.before), args.runs)
        after = os.getloadavg()
    finally:
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)
    floor = statistics.median(times["python -c pass (floor)"])
    print(f"- **Date:** {dt.date.today()}. **Machine:** {machine()}.")
    print(
        f"- **Load average** (1/5/15 min) before: {loads[0]:.2f} {loads[1]:.2f} {loads[2]:.2f}; after: {after[0]:.2f}."
    )
    print(f"- **Store:** {args.count:,} generated reports. **Method:** median of {args.runs} interleaved rounds.")
    print()
    print("| command | median s | min s | max s | × floor | median CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, measured in times.items():
        median = statistics.median(measured)
        used = statistics.median(cpu[label])
        spread = f"{min(measured):.3f} | {max(measured):.3f}"
        print(f"| `{label}` | {median:.3f} | {spread} | {median / floor:.1f} | {used:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
