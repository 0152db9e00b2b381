#!/usr/bin/env python3
"""Engines side by side, in one run: embedded (tantivy) vs chDB (ClickHouse in-process) vs the local 2 shards ×
2 replicas ClickHouse 18.16 cluster, on one generated corpus.

    python bench/engines.py --count 1000000 [--data DIR] [--runs 7] [--engines embedded,chdb,cluster]

Steps: (1) ``bench/generate.py`` writes the corpus (kept, as for ``bench/core.py``); (2) ``shoal --store URL
import`` loads it into each engine, timed; (3) storage: the index files (embedded), ``system.parts`` bytes on
disk (chDB; the cluster per replica copy); (4) the query set of ``bench/core.py`` through the API's own
parameter parsing, **interleaved**: each round runs every query once on every engine, so the machine's noise
falls on all of them alike; medians and the ratio to embedded; result counts must agree. The cluster is
started by ``scripts/clickhouse-cluster.sh`` on its own ports and stopped at the end. Not part of the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from starlette.datastructures import QueryParams

sys.path.insert(0, str(Path(__file__).resolve().parent))

import core
from shoal.request.reading import known_types, summary_of
from shoal.request.selection import Selection
from shoal.store.base import Store
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import ChdbClient, HttpClient, rows
from shoal.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_SCRIPT = ROOT / "scripts" / "clickhouse-cluster.sh"
CLUSTER_PORT_BASE = "28500"
WARMUPS = 2


def cluster_environment(data: Path) -> dict[str, str]:
    folder = str(data / "clickhouse-cluster")
    return {**os.environ, "SHOAL_CLUSTER_DIR": folder, "SHOAL_CLUSTER_PORT": CLUSTER_PORT_BASE}


def start_cluster(data: Path) -> str:
    done = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "start"], capture_output=True, text=True, env=cluster_environment(data)
    )
    if done.returncode != 0:
        sys.exit(f"the cluster did not start: {done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def stop_cluster(data: Path) -> None:
    subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop"], check=True, env=cluster_environment(data))


def store_urls(data: Path, cluster_url: str | None) -> dict[str, str | None]:
    urls: dict[str, str | None] = {"embedded": None, "chdb": f"chdb://{data / 'chdb'}"}
    if cluster_url is not None:
        urls["cluster"] = cluster_url
    return urls


def ingest(name: str, url: str | None, folder: Path, corpus: Path) -> tuple[float, str]:
    command = [core.tool("shoal")] + (["--store", url] if url else []) + ["import", "--data", str(folder), str(corpus)]
    if url is not None and url.startswith("clickhouse://"):
        subprocess.run([core.tool("shoal"), "--store", url, "db", "init", "--data", str(folder)], check=True)
    print(f"ingest {name}: {' '.join(command)}", file=sys.stderr)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=7200)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{name}: shoal import failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    print(f"ingest {name}: {done.stdout.strip()} in {seconds:.1f} s", file=sys.stderr)
    return seconds, done.stdout.strip()


def open_engine(name: str, folder: Path, cluster_url: str | None) -> Store:
    if name == "embedded":
        return EmbeddedStore(folder)
    if name == "chdb":
        return ClickHouseStore(ChdbClient(folder / "chdb"), "shoal")
    assert cluster_url is not None
    host = cluster_url.split("//", 1)[1].split("/", 1)[0]
    return ClickHouseStore(HttpClient([host]), "shoal", cluster="shoal")


def clickhouse_bytes(store: ClickHouseStore, hosts: list[str] | None = None) -> int:
    """Bytes on disk of the store's active parts (summed over ``hosts``, each a node of the cluster)."""
    sql = f"SELECT sum(bytes_on_disk) AS n FROM system.parts WHERE database = '{store.database}' AND active"
    if hosts is None:
        return int(rows(store.client, sql)[0]["n"])
    total = 0
    for host in hosts:
        client = HttpClient([host])
        total += int(rows(client, sql)[0]["n"])
        client.close()
    return total


def storage(name: str, store: Store, folder: Path) -> tuple[int, str]:
    if name == "embedded":
        size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and "index" in str(path))
        return size, "tantivy index files"
    assert isinstance(store, ClickHouseStore)
    if name == "chdb":
        return clickhouse_bytes(store), "system.parts, one copy"
    hosts = [f"127.0.0.1:{int(CLUSTER_PORT_BASE) + 23 + node}" for node in range(4)]
    return clickhouse_bytes(store, hosts) // 2, "system.parts of the 4 nodes / 2 (each report is on 2 replicas)"


def action(store: Store, params: QueryParams) -> tuple[Callable[[], object], Callable[[], str]]:
    types = known_types(store)
    filters = Selection.read(params).as_filters(types)
    request = summary_of(params, types, True)
    if request is not None:

        def summarize() -> object:
            return store.summarize(filters, request)

        def summary_count() -> str:
            summary = store.summarize(filters, request)
            return f"{summary.cardinality:,} values, other {summary.other:,}"

        return summarize, summary_count

    def search() -> object:
        return store.search(filters, offset=0, limit=100)

    return search, lambda: f"{store.search(filters, offset=0, limit=100).total:,}"


def interleaved(stores: dict[str, Store], plan: list[core.Query], runs: int) -> tuple[dict, dict[str, str]]:
    """Median ms per (query, engine), each round timing every query on every engine once."""
    times: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, str] = {}
    actions = {}
    for query in plan:
        params = QueryParams(query.params)
        seen = {}
        for name, store in stores.items():
            run, count = action(store, params)
            actions[query.label, name] = run
            seen[name] = count()
        if len(set(seen.values())) != 1:
            counts[query.label] = "MISMATCH " + ", ".join(f"{name} {value}" for name, value in seen.items())
        else:
            counts[query.label] = next(iter(seen.values()))
        print(f"{query.label}: {counts[query.label]}", file=sys.stderr)
    for _ in range(WARMUPS):
        for run in actions.values():
            run()
    for round_number in range(runs):
        for (label, name), run in actions.items():
            started = time.perf_counter()
            run()
            times.setdefault((label, name), []).append((time.perf_counter() - started) * 1000)
        print(f"round {round_number + 1}/{runs} done", file=sys.stderr)
    medians = {key: statistics.median(values) for key, values in times.items()}
    return medians, counts


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(
    args: argparse.Namespace,
    names: list[str],
    ingested: dict[str, tuple[float, str]],
    sizes: dict[str, tuple[int, str]],
    medians: dict,
    counts: dict[str, str],
    plan: list[core.Query],
    loads: tuple[str, str],
) -> str:
    lines = [
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; machine: {core.machine()}",
        f"- corpus: {args.count:,} reports (bench/generate.py --seed {core.SEED}); load average before/after: "
        f"{loads[0]} / {loads[1]}",
        f"- timings: {WARMUPS} warm-up rounds, then {args.runs} rounds, each timing every query on every engine"
        " once (interleaved); search = count + first page of 100 full reports; median ms (ratio to embedded)",
        "",
        "| engine | ingest reports/s (`shoal import`) | bytes/report | storage |",
        "|---|---:|---:|---|",
    ]
    for name in names:
        seconds, _ = ingested[name]
        size, what = sizes[name]
        lines.append(f"| {name} | {args.count / seconds:,.0f} ({seconds:.0f} s) | {size / args.count:,.0f} | {what} |")
    lines += ["", "| query | result count | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for query in plan:
        base = medians[query.label, names[0]]
        cells = []
        for name in names:
            value = medians[query.label, name]
            cells.append(f"{value:.1f}" if name == names[0] else f"{value:.1f} ({value / base:.1f}×)")
        label = "`" + query.label.replace("|", "\\|") + "`"
        lines.append(f"| {label} | {counts[query.label]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Embedded vs chDB vs the local ClickHouse cluster, in one run.")
    parser.add_argument("--count", type=int, default=1_000_000, help="reports in the corpus (default 1,000,000)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "shoal-bench-engines",
                        help="corpus and engine data folder (default $TMPDIR/shoal-bench-engines)")  # fmt: skip
    parser.add_argument("--runs", type=int, default=7, help="timed rounds after 2 warm-ups (default 7)")
    parser.add_argument("--engines", default="embedded,chdb,cluster", help="which engines, comma-separated")
    args = parser.parse_args(argv)
    names = [name for name in args.engines.split(",") if name]
    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    corpus = core.ensure_corpus(data, args.count)
    plan = core.queries(core.inspect(corpus))
    loads = [load_average()]
    cluster_url = start_cluster(data) if "cluster" in names else None
    try:
        urls = store_urls(data, cluster_url)
        ingested, stores, sizes = {}, {}, {}
        for name in names:
            folder = data / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            if name == "chdb":
                urls[name] = f"chdb://{folder / 'chdb'}"
            ingested[name] = ingest(name, urls[name], folder, corpus)
        for name in names:
            stores[name] = open_engine(name, data / name, cluster_url)
            sizes[name] = storage(name, stores[name], data / name)
        medians, counts = interleaved(stores, plan, args.runs)
        loads.append(load_average())
    finally:
        if cluster_url is not None:
            stop_cluster(data)
    print()
    print(report(args, names, ingested, sizes, medians, counts, plan, (loads[0], loads[-1])))
    return 1 if any(value.startswith("MISMATCH") for value in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
