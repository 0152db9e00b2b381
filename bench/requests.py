#!/usr/bin/env python3
"""CPU per API call, in-process: the request layer, the route, the store and the rendering, this tree against
another checkout's ``src`` (``--before``), interleaved.

    python bench/requests.py --before /path/to/other/src [--count 10000] [--calls 2000] [--rounds 6]

Each round runs one child process per tree (the tree's own code on ``PYTHONPATH``, its own store of ``--count``
generated reports, built once): it sends ``--calls`` requests straight to the ASGI app (no HTTP, no socket),
cycling through four kinds (an expression; a CIDR with most_recent, a date and slop; a summary of free text;
ORed filters on page 1), and prints its CPU and wall time per call. Medians of the rounds are printed as a
markdown table, with the ratio to the other tree. Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = [
    ("/v1/scan/protocols", b"expression=port-tcp%3A443"),
    ("/v1/scan/protocols", b"ip=10.0.0.0%2F8&most_recent=true&from=2020-01-01&slop=1"),
    ("/v1/scan/protocols", b"summarize=port-tcp&summary_limit=20&query=nginx"),
    ("/v1/scan/protocols", b"filter=port-tcp%3A22&filter=port-tcp%3A80&page=1"),
]


def call(app: object, path: str, query: bytes, bearer: bytes) -> int:
    """One GET to the ASGI app (the API tests' raw request); its status."""
    from tests.api.asgi import raw_get

    return raw_get(app, path, query, [(b"authorization", bearer)]).status  # type: ignore[arg-type]


def child(folder: Path, count: int, calls: int) -> None:
    """In one tree: build the store once, then time ``calls`` requests; print CPU and wall µs per call."""
    sys.path[:0] = [str(HERE), str(HERE.parent)]  # bench/generate.py, the tests' ASGI request
    from generate import generate  # bench/generate.py
    from shoal.api.app import create_app
    from shoal.model import Report
    from shoal.store.embedded import EmbeddedStore
    from shoal.tokens import TokenStore

    fresh = not (folder / "index").exists()
    store = EmbeddedStore(folder)
    if fresh:
        store.ingest(Report.from_dict(report) for report in generate(count, 5))
        (folder / "secret").write_text(TokenStore(folder).create("bench", enterprise=True))
    app = create_app(store, TokenStore(folder))
    bearer = f"Bearer {(folder / 'secret').read_text()}".encode()
    for path, query in QUERIES:  # warm up
        call(app, path, query, bearer)
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for n in range(calls):
        path, query = QUERIES[n % len(QUERIES)]
        assert call(app, path, query, bearer) in (200, 204)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"{cpu / calls * 1e6:.1f} {(time.perf_counter() - started) / calls * 1e6:.1f}")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the src/ of another checkout")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.count, args.calls)
        return 0
    trees = {"this tree": HERE.parent / "src", "before": args.before.resolve()}
    folder = Path(tempfile.mkdtemp(prefix="shoal-requests-"))
    measured: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
    loads = os.getloadavg()
    for round_number in range(args.rounds):
        order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
        for label in order:
            argv = [sys.executable, __file__, "--before", str(args.before), "--child", str(folder / label)]
            argv += ["--count", str(args.count), "--calls", str(args.calls)]
            environment = {**os.environ, "PYTHONPATH": str(trees[label])}
            done = subprocess.run(argv, env=environment, capture_output=True, text=True, check=True)
            cpu, wall = map(float, done.stdout.split())
            measured[label].append((cpu, wall))
    after = os.getloadavg()
    print(
        f"- **Date:** {dt.date.today()}. **Load average** before: {' '.join(f'{x:.2f}' for x in loads)};"
        f" after: {after[0]:.2f}. **Store:** {args.count:,} generated reports, {args.calls:,} calls a round,"
        f" medians of {args.rounds} interleaved rounds."
    )
    print()
    print("| tree | CPU µs per call | wall µs per call | CPU ratio to before |")
    print("|---|---:|---:|---:|")
    base = statistics.median(cpu for cpu, _ in measured["before"])
    for label, values in measured.items():
        cpu = statistics.median(value[0] for value in values)
        wall = statistics.median(value[1] for value in values)
        print(f"| {label} | {cpu:.0f} | {wall:.0f} | {cpu / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
