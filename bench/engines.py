#!/usr/bin/env python3
"""Engines side by side, in one run: embedded (tantivy) vs chDB (ClickHouse in-process) [vs the local 2 shards × 2
replicas ClickHouse 18.16 cluster], at one or more corpus sizes, optionally against an older Shoal's chDB engine.

    python bench/engines.py --sizes 1000000,3000000 [--data DIR] [--runs 7] [--engines embedded,chdb,cluster]
                            [--baseline [NAME=]SRC ...] [--migrate SIZE]

Steps: (1) ``bench/generate.py`` writes each corpus (kept, as for ``bench/core.py``); the query values (the /16,
the nginx Server value) are picked from the smallest, so every size runs the same query text; (2) ``shoal
--store URL import`` loads each corpus into each engine, timed (a store already holding that corpus, made by the
same code, is reused); ``--baseline [NAME=]SRC`` adds NAME (default ``chdb-before``): the same through the Shoal
whose ``src`` folder is SRC (e.g. ``git worktree add /tmp/shoal-main main`` → ``/tmp/shoal-main/src``), and may be
given again for another older Shoal; (3) each store is opened in a
worker process of its own, running that store's code, and its MergeTree tables are merged (``OPTIMIZE … FINAL``)
so that every size has the same part layout; (4) storage: the index files (embedded), ``system.parts`` bytes
on disk per table, and per column of ``reports`` (chDB); (5) the query set of ``bench/core.py`` through the API's
own parameter parsing, **interleaved**: each round runs every query once on every store, so the machine's noise
falls on all of them alike. Per call the worker measures wall time, its process's CPU time (user + system: chDB
and tantivy run their threads in it) and ClickHouse's own counters of rows and bytes read; medians are printed,
with the ratio of each store to the embedded one of its size and the growth of each engine between sizes.
Result counts and first pages must agree between the engines of one size. ``--migrate SIZE`` also times
``shoal db migrate`` (this code) on a copy of the first baseline's store of that size, and checks it answers as
``chdb`` does. The cluster (``scripts/clickhouse-cluster.sh``, its own ports) is stopped at the end; its CPU
is spent in its servers, so only its wall time is given. Not part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import core

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_SCRIPT = ROOT / "scripts" / "clickhouse-cluster.sh"
CLUSTER_PORT_BASE = "28500"
WARMUPS = 2
MARKER = "bench-engines.json"


# -- the worker: one store, in its own process, running its own Shoal ---------------------------------------------


@dataclass
class Counters:
    rows: int = 0
    bytes: int = 0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def open_worker_store(kind: str, folder: Path, url: str | None, counters: Counters) -> Any:
    """The store, with ClickHouse's counters of every statement added to ``counters`` (chDB's own)."""
    if kind == "embedded":
        from shoal.store.embedded import EmbeddedStore

        return EmbeddedStore(folder)
    from shoal.store.clickhouse import ClickHouseStore
    from shoal.store.clickhouse.client import ChdbClient, HttpClient

    if kind == "cluster":
        assert url is not None
        host = url.split("//", 1)[1].split("/", 1)[0]
        return ClickHouseStore(HttpClient([host]), "shoal", cluster="shoal")
    store = ClickHouseStore(ChdbClient(folder / "chdb"), "shoal")
    session = store.client.session
    query = session.query

    def counted(sql: str, fmt: str = "CSV") -> Any:
        result = query(sql, fmt)
        if result is not None:
            counters.rows += result.storage_rows_read()
            counters.bytes += result.storage_bytes_read()
        return result

    session.query = counted
    return store


def merge(store: Any) -> None:
    from shoal.store.clickhouse.client import rows

    tables = rows(
        store.client,
        f"SELECT name FROM system.tables WHERE database = '{store.database}' AND engine LIKE '%MergeTree'",
    )
    for table in tables:
        store.client.execute(f"OPTIMIZE TABLE {store.database}.{table['name']} FINAL")


def clickhouse_storage(store: Any) -> dict[str, Any]:
    from shoal.store.clickhouse.client import rows

    database = store.database
    tables = rows(
        store.client,
        f"SELECT table, sum(bytes_on_disk) AS bytes, count() AS parts FROM system.parts"
        f" WHERE database = '{database}' AND active GROUP BY table",
    )
    columns = rows(
        store.client,
        "SELECT column, sum(column_data_compressed_bytes) AS bytes, sum(column_data_uncompressed_bytes) AS raw"
        f" FROM system.parts_columns WHERE database = '{database}' AND table = 'reports' AND active GROUP BY column",
    )
    indexes = rows(
        store.client,
        "SELECT table, name, data_compressed_bytes AS bytes FROM system.data_skipping_indices"
        f" WHERE database = '{database}'",
    )
    projections = rows(
        store.client,
        "SELECT table, name, sum(bytes_on_disk) AS bytes FROM system.projection_parts"
        f" WHERE database = '{database}' AND active GROUP BY table, name",
    )
    return {
        "tables": {row["table"]: int(row["bytes"]) for row in tables},
        "parts": {row["table"]: int(row["parts"]) for row in tables},
        "columns": {row["column"]: int(row["bytes"]) for row in columns},
        "indexes": {f"{row['table']}.{row['name']}": int(row["bytes"]) for row in indexes},
        "projections": {f"{row['table']}.{row['name']}": int(row["bytes"]) for row in projections},
    }


def worker(kind: str, folder: Path, url: str | None) -> None:
    """Answer the coordinator's commands, one JSON line each, on stdin/stdout."""
    from starlette.datastructures import QueryParams

    known_types, filters_of, summary_of = request_reading()
    counters = Counters()
    store = open_worker_store(kind, folder, url, counters)
    actions: list[Callable[[], str]] = []
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write on the command channel
    for line in sys.stdin:
        command = json.loads(line)
        answer: dict[str, Any] = {}
        if command["op"] == "storage":
            if kind == "chdb":
                merge(store)
                answer = clickhouse_storage(store)
            elif kind == "embedded":
                answer = {"tables": {"index": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())}}
        elif command["op"] == "prepare":
            types = known_types(store)
            for params in command["queries"]:
                query = QueryParams([tuple(pair) for pair in params])
                filters = filters_of(query, types)
                request = summary_of(query, types, True)
                actions.append(action(store, filters, request))
            answer = {"signatures": [run() for run in actions]}
        elif command["op"] == "run":
            run = actions[command["query"]]
            counters.rows = counters.bytes = 0
            cpu, started = cpu_seconds(), time.perf_counter()
            run()
            answer = {
                "wall": (time.perf_counter() - started) * 1000,
                "cpu": (cpu_seconds() - cpu) * 1000,
                "rows": counters.rows,
                "bytes": counters.bytes,
            }
        else:
            break
        out.write(json.dumps(answer) + "\n")
        out.flush()
    store.close()


def request_reading() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """How the API reads a request into the store's terms: the item types, the filters and the summary asked for
    (through the request room; an older Shoal given as ``--baseline`` read them in ``shoal.api``)."""
    try:
        from shoal.request.reading import known_types, summary_of
        from shoal.request.selection import Selection
    except ImportError:
        deps, params = importlib.import_module("shoal.api.deps"), importlib.import_module("shoal.api.params")
        return deps.known_types, params.filters_of, params.summary_of
    return known_types, lambda query, types: Selection.read(query).as_filters(types), summary_of


def action(store: Any, filters: Any, request: Any) -> Callable[[], str]:
    """A call of the store as the API makes it; its answer's signature (counts and a digest of the first page)."""
    if request is not None:

        def summarize() -> str:
            summary = store.summarize(filters, request)
            listed = hashlib.sha256(repr(summary.values).encode()).hexdigest()[:12]
            return f"{summary.cardinality:,} values, other {summary.other:,}, top {listed}"

        return summarize

    def search() -> str:
        page = store.search(filters, offset=0, limit=100)
        first = hashlib.sha256(" ".join(report.id for report in page.reports).encode()).hexdigest()[:12]
        return f"{page.total:,} (page {first})"

    return search


# -- the coordinator ------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One store: an engine (``kind``) holding one corpus, made and queried by one Shoal (``src``)."""

    name: str  # e.g. "chdb", "chdb-before"
    kind: str  # embedded, chdb, cluster
    size: int
    folder: Path
    src: Path
    url: str | None = None
    ingest_seconds: float = 0.0
    ingest_cpu: float = 0.0  # seconds of CPU of the import and its worker processes
    storage: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.size / 1e6:g}M"

    def environment(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.src)}

    def shoal(self, *arguments: str) -> list[str]:
        store = ["--store", self.url] if self.url else []
        return [sys.executable, "-m", "shoal", *store, *arguments]

    def start(self) -> None:
        command = [sys.executable, __file__, "--worker", self.kind, str(self.folder), self.url or ""]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=self.environment()
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"{self.label}: the worker stopped (status {self.process.wait()})")
        return json.loads(line)

    def stop(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            if self.process.poll() is None:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
            self.process.wait(timeout=120)


def source_digest(src: Path) -> str:
    """What identifies the code of a Shoal's ``src`` folder: a digest of its Python files."""
    digest = hashlib.sha256()
    for path in sorted(src.rglob("*.py")):
        digest.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ingest(target: Target, corpus: Path, reuse: bool) -> None:
    """Import ``corpus`` into the target's store, unless the store already holds it, made by the same code (or by
    any, with ``reuse``)."""
    marker = target.folder / MARKER
    wanted = {"corpus": corpus.name, "code": source_digest(target.src), "kind": target.kind}
    if marker.is_file():
        kept = json.loads(marker.read_text())
        if {key: kept.get(key) for key in wanted if key != "code" or not reuse} == {
            key: value for key, value in wanted.items() if key != "code" or not reuse
        }:
            target.ingest_seconds, target.ingest_cpu = kept["seconds"], kept.get("cpu", 0.0)
            print(f"{target.label}: reusing its store ({kept['seconds']:.0f} s to import)", file=sys.stderr)
            return
    shutil.rmtree(target.folder, ignore_errors=True)
    target.folder.mkdir(parents=True)
    if target.kind == "cluster":
        subprocess.run(target.shoal("db", "init", "--data", str(target.folder)), check=True, env=target.environment())
    command = target.shoal("import", "--data", str(target.folder), str(corpus))
    print(f"{target.label}: {' '.join(command[2:])} (load {load_average()})", file=sys.stderr)
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, timeout=14400, env=target.environment())
    target.ingest_seconds, target.ingest_cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{target.label}: shoal import failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    print(f"{target.label}: {done.stdout.strip()} in {target.ingest_seconds:.0f} s", file=sys.stderr)
    marker.write_text(json.dumps({**wanted, "seconds": target.ingest_seconds, "cpu": target.ingest_cpu}))


def migrate_copy(before: Target, data: Path) -> Target:
    """A copy of ``before``'s store migrated by this code (``shoal db migrate``), timed."""
    folder = data / f"chdb-migrated-{before.size}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(before.folder, folder, symlinks=True)  # chDB links its tables to its store, relatively
    migrated = Target("chdb-migrated", "chdb", before.size, folder, ROOT / "src", f"chdb://{folder / 'chdb'}")
    command = migrated.shoal("db", "migrate", "--data", str(folder))
    print(f"{migrated.label}: {' '.join(command[2:])} (load {load_average()})", file=sys.stderr)
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env=migrated.environment())
    migrated.ingest_seconds, migrated.ingest_cpu = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{migrated.label}: shoal db migrate failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    print(f"{migrated.label}: migrated in {migrated.ingest_seconds:.0f} s", file=sys.stderr)
    return migrated


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_cluster(data: Path) -> str:
    environment = {
        **os.environ,
        "SHOAL_CLUSTER_DIR": str(data / "clickhouse-cluster"),
        "SHOAL_CLUSTER_PORT": CLUSTER_PORT_BASE,
    }
    done = subprocess.run(["bash", str(CLUSTER_SCRIPT), "start"], capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        sys.exit(f"the cluster did not start: {done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def stop_cluster(data: Path) -> None:
    environment = {
        **os.environ,
        "SHOAL_CLUSTER_DIR": str(data / "clickhouse-cluster"),
        "SHOAL_CLUSTER_PORT": CLUSTER_PORT_BASE,
    }
    subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop"], check=True, env=environment)


@dataclass
class Timings:
    wall: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    cpu: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    bytes: dict[tuple[str, str], int] = field(default_factory=dict)
    signatures: dict[tuple[str, str], str] = field(default_factory=dict)

    def median(self, what: str, label: str, target: Target) -> float:
        return statistics.median(getattr(self, what)[label, target.label])


def interleaved(targets: list[Target], plan: list[core.Query], runs: int) -> Timings:
    timings = Timings()
    for target in targets:
        answer = target.ask(op="prepare", queries=[query.params for query in plan])
        for query, signature in zip(plan, answer["signatures"], strict=True):
            timings.signatures[query.label, target.label] = signature
    for round_number in range(-WARMUPS, runs):
        for index, query in enumerate(plan):
            for target in targets:
                answer = target.ask(op="run", query=index)
                if round_number < 0:
                    continue
                key = (query.label, target.label)
                timings.wall.setdefault(key, []).append(answer["wall"])
                timings.cpu.setdefault(key, []).append(answer["cpu"])
                timings.rows[key] = answer["rows"]
                timings.bytes[key] = answer["bytes"]
        if round_number >= 0:
            print(f"round {round_number + 1}/{runs} done (load {load_average()})", file=sys.stderr)
    return timings


def mismatches(targets: list[Target], plan: list[core.Query], timings: Timings) -> list[str]:
    """Queries whose answers differ between the stores of one size."""
    found = []
    for size in sorted({target.size for target in targets}):
        same_size = [target for target in targets if target.size == size and target.kind != "cluster"]
        for query in plan:
            seen = {timings.signatures[query.label, target.label] for target in same_size}
            if len(seen) > 1:
                answers = (f"{target.label} {timings.signatures[query.label, target.label]}" for target in same_size)
                found.append(f"{query.label} at {size:,}: " + "; ".join(answers))
    return found


def cell(timings: Timings, label: str, target: Target, base: Target | None) -> str:
    if target.kind == "cluster":
        return f"{timings.median('wall', label, target):,.0f} wall"
    cpu = timings.median("cpu", label, target)
    text = f"{cpu:,.1f} ({timings.median('wall', label, target):,.0f})"
    if base is not None and base is not target:
        text += f" {cpu / max(timings.median('cpu', label, base), 0.01):,.1f}×"
    return text


def read(timings: Timings, label: str, target: Target) -> str:
    return f"{timings.rows[label, target.label] / 1e6:.2f}M / {timings.bytes[label, target.label] / 2**20:.0f} MiB"


CORES, EFFICIENCY = 16, 0.6  # the sizing model's node: cores, and the share of them a query's scan keeps busy
CLUSTERS = ((100_000_000, 4), (1_000_000_000, 8), (1_000_000_000, 32))  # (reports, nodes) the sizing table shows


def fitted(small: tuple[int, float], large: tuple[int, float]) -> tuple[float, float]:
    """(a, b) of a + b·N through two measured points, a ≥ 0 (a cost growing faster than N is all b)."""
    slope = (large[1] - small[1]) / (large[0] - small[0])
    fixed = small[1] - slope * small[0]
    return (fixed, slope) if fixed >= 0 else (0.0, large[1] / large[0])


def sizing(targets: list[Target], plan: list[core.Query], timings: Timings) -> str:
    """Latency of each query at 100M and 1B reports on N nodes of CORES cores, from the CPU and rows read measured at
    the two sizes of each chDB store (``chdb``, each baseline): CPU(N) = a + b·N per query; a node holds N / nodes
    reports (one shard a node, its replica elsewhere) and runs the b part on CORES × EFFICIENCY cores, all nodes at
    once."""
    lines = []
    for name in dict.fromkeys(target.name for target in targets if target.kind == "chdb"):
        measured = sorted((t for t in targets if t.name == name), key=lambda t: t.size)
        if len(measured) < 2:
            continue
        small, large = measured[0], measured[-1]
        header = " | ".join(f"{reports / 1e9:g}B on {nodes}" if reports >= 1e9 else f"{reports / 1e6:g}M on {nodes}"
                            for reports, nodes in CLUSTERS)  # fmt: skip
        lines += ["", f"Sizing from {name} ({small.size:,} and {large.size:,} reports; {CORES} cores a node, "
                  f"{EFFICIENCY:.0%} of them busy):", "",
                  f"| query | fixed a (ms) | b (CPU ms per million reports) | rows read per million | {header} |",
                  "|---|---:|---:|---:|" + "---:|" * len(CLUSTERS)]  # fmt: skip
        for query in plan:
            points = [(t.size, timings.median("cpu", query.label, t)) for t in (small, large)]
            fixed, slope = fitted(points[0], points[1])
            rows_per_million = timings.rows[query.label, large.label] / (large.size / 1e6)
            cells = []
            for reports, nodes in CLUSTERS:
                latency = fixed + slope * reports / nodes / (CORES * EFFICIENCY)
                cells.append(f"{latency / 1000:,.2f} s" if latency >= 1000 else f"{latency:,.0f} ms")
            label = query.label.replace("|", chr(92) + "|")
            lines.append(f"| `{label}` | {fixed:,.1f} | {slope * 1e6:,.1f} | {rows_per_million / 1e6:.2f}M | "
                         + " | ".join(cells) + " |")  # fmt: skip
    return "\n".join(lines)


def report(targets: list[Target], plan: list[core.Query], timings: Timings, loads: list[str], runs: int) -> str:
    lines = [
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; machine: {core.machine()}",
        f"- load average (1, 5, 15 min) before / after the timed rounds: {loads[0]} / {loads[-1]}",
        f"- {WARMUPS} warm-up rounds, then {runs} rounds, each running every query once on every store (interleaved);"
        " a search is count + first page of 100 full reports. Cells: median CPU ms of the store's process (median"
        " wall ms), × its ratio to the embedded store of the same size",
        "",
        "| store | import (or migration) reports/s | CPU µs/report | bytes/report on disk | parts (reports, items) |",
        "|---|---:|---:|---:|---|",
    ]
    for target in targets:
        total = sum(target.storage.get("tables", {}).values())
        parts = target.storage.get("parts", {})
        layout = f"{parts.get('reports', '–')}, {parts.get('items', '–')}" if parts else "–"
        speed = (
            f"{target.size / target.ingest_seconds:,.0f} ({target.ingest_seconds:,.0f} s)"
            if target.ingest_seconds
            else "–"
        )
        cpu = f"{target.ingest_cpu * 1e6 / target.size:,.0f}" if target.ingest_cpu else "–"
        lines.append(f"| {target.label} | {speed} | {cpu} | {total / target.size:,.0f} | {layout} |")
    lines += [
        "",
        "| query | " + " | ".join(target.label for target in targets) + " |",
        "|---|" + "---:|" * len(targets),
    ]
    for query in plan:
        cells = []
        for target in targets:
            base = next((t for t in targets if t.kind == "embedded" and t.size == target.size), None)
            cells.append(cell(timings, query.label, target, base))
        lines.append(f"| `{query.label.replace('|', chr(92) + '|')}` | " + " | ".join(cells) + " |")
    lines += ["", "Rows read per call (ClickHouse's counters), and the result:", ""]
    clickhouse = [target for target in targets if target.kind == "chdb"]
    lines += ["| query | " + " | ".join(target.label for target in clickhouse) + " | result |",
              "|---|" + "---:|" * len(clickhouse) + "---|"]  # fmt: skip
    for query in plan:
        cells = [read(timings, query.label, t) for t in clickhouse]
        results = " · ".join(sorted({timings.signatures[query.label, t.label].split(" (page")[0].split(", top")[0]
                                     for t in targets}))  # fmt: skip
        lines.append(f"| `{query.label.replace('|', chr(92) + '|')}` | " + " | ".join(cells) + f" | {results} |")
    sizes = sorted({target.size for target in targets})
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        names = sorted({target.name for target in targets if target.kind != "cluster"})
        lines += ["", f"Growth of median CPU from {small:,} to {large:,} reports ({large / small:g}× the data):", "",
                  "| query | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]  # fmt: skip
        for query in plan:
            cells = []
            for name in names:
                pair = [t for t in targets if t.name == name and t.size in (small, large)]
                if len(pair) == 2:
                    first, last = sorted(pair, key=lambda t: t.size)
                    growth = timings.median("cpu", query.label, last) / max(
                        timings.median("cpu", query.label, first), 0.01
                    )
                    cells.append(f"{growth:.2f}×")
                else:
                    cells.append("–")
            lines.append(f"| `{query.label.replace('|', chr(92) + '|')}` | " + " | ".join(cells) + " |")
    for target in targets:
        if target.storage.get("columns"):
            columns = ", ".join(f"{name} {size / target.size:.1f}" for name, size in
                                sorted(target.storage["columns"].items(), key=lambda pair: -pair[1]))  # fmt: skip
            extra = {**target.storage.get("indexes", {}), **target.storage.get("projections", {})}
            others = ", ".join(f"{name} {size / target.size:.1f}" for name, size in extra.items() if size)
            tables = ", ".join(
                f"{name} {size / target.size:.1f}" for name, size in sorted(target.storage["tables"].items())
            )
            lines.append(f"\n{target.label} bytes/report — tables: {tables}; reports' columns: {columns}"
                         + (f"; indexes and projections: {others}" if others else ""))  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--worker"]:
        worker(arguments[1], Path(arguments[2]), arguments[3] or None)
        return 0
    parser = argparse.ArgumentParser(
        description="Embedded vs chDB [vs the local cluster], at several sizes, in one run."
    )
    parser.add_argument("--sizes", default="1000000", help="corpus sizes, comma-separated (default 1000000)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "shoal-bench-engines",
                        help="corpora and stores (default $TMPDIR/shoal-bench-engines)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=7, help="timed rounds after 2 warm-ups (default 7)")
    parser.add_argument("--engines", default="embedded,chdb", help="embedded, chdb, cluster; comma-separated")
    parser.add_argument("--baseline", action="append", default=[], metavar="[NAME=]SRC",
                        help="the src folder of an older Shoal: adds its chDB engine as NAME (default chdb-before);"
                        " repeatable")  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="reuse stores holding the corpus, whatever code made them")
    parser.add_argument("--migrate", type=int, help="time `shoal db migrate` on a copy of the first baseline's store")
    args = parser.parse_args(arguments)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    engines = [name for name in args.engines.split(",") if name]
    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    corpora = {size: core.ensure_corpus(data, size) for size in sizes}
    plan = core.queries(core.inspect(corpora[sizes[0]]))
    cluster_url = start_cluster(data) if "cluster" in engines else None
    targets: list[Target] = []
    try:
        for size in sizes:
            for name in engines:
                if name == "cluster" and size != sizes[0]:
                    continue  # one database on the cluster: the smallest size only
                url = {"embedded": None, "chdb": f"chdb://{data / f'chdb-{size}' / 'chdb'}", "cluster": cluster_url}[
                    name
                ]
                targets.append(Target(name, name, size, data / f"{name}-{size}", ROOT / "src", url))
            for baseline in args.baseline:
                name, _, src = baseline.rpartition("=")
                folder = data / f"{name or 'chdb-before'}-{size}"
                targets.append(
                    Target(
                        name or "chdb-before", "chdb", size, folder, Path(src).resolve(), f"chdb://{folder / 'chdb'}"
                    )
                )
        for target in targets:
            ingest(target, corpora[target.size], args.reuse)
        if args.migrate is not None:
            before = next(t for t in targets if t.src != ROOT / "src" and t.size == args.migrate)
            targets.append(migrate_copy(before, data))
        for target in targets:
            target.start()
            target.storage = target.ask(op="storage")
        loads = [load_average()]
        timings = interleaved(targets, plan, args.runs)
        loads.append(load_average())
    finally:
        for target in targets:
            target.stop()
        if cluster_url is not None:
            stop_cluster(data)
    saved = {what: {" | ".join(key): value for key, value in getattr(timings, what).items()}
             for what in ("wall", "cpu", "rows", "bytes", "signatures")}  # fmt: skip
    stores = {t.label: {"seconds": t.ingest_seconds, "cpu": t.ingest_cpu, "storage": t.storage} for t in targets}
    (data / "engines-results.json").write_text(json.dumps({"timings": saved, "stores": stores, "loads": loads}))
    print()
    print(report(targets, plan, timings, loads, args.runs))
    print(sizing(targets, plan, timings))
    different = mismatches(targets, plan, timings)
    for line in different:
        print(f"MISMATCH {line}")
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
