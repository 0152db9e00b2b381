#!/usr/bin/env python3
"""Alerts: evaluating 1,000 alerts over a batch of 50,000 new reports, beside importing that batch (interleaved,
medians of CPU time); and the delivery latency from a commit to the webhook's POST on loopback.

    python bench/alerts.py [--reports 50000] [--alerts 1000] [--runs 3] [--deliveries 10]

- **import**: ``shoal import FILE`` of the batch (``bench/generate.py --seed 1``, JSON lines) into a fresh data
  directory with no alerts (a subprocess: its CPU time with its workers' and shard processes').
- **evaluate**: the same batch's reports, committed to a store by this process (not timed), handed to
  ``AlertWatcher.committed`` with the commit's number (what the ingest path does after a commit), with
  ``--alerts`` alerts drawn from the batch (product tags, a port and a banner word, title words, host names,
  header words, and one network in five: a /24 alone, as a "watch my network" alert), the store empty of earlier
  reports so every match is a ``new`` event with its report (the most events a batch can make). CPU time of this
  process.
- **catch up**: the same commit, evaluated by ``AlertWatcher.catch_up`` for a book whose watermark is before it
  (the process that committed it was killed before evaluating it): its reports read back from the store, then the
  same evaluation. CPU time of this process.
- **import with alerts**: ``shoal import`` into a fresh directory holding the alerts: the whole path (the batch
  through the shard processes, its new reports read back from the store once committed, evaluation, the events).
- **delivery**: ``shoal serve`` running with an alert whose webhook is a receiver on loopback; one new matching
  report committed at a time by this process; the time from the commit's return to the POST's arrival.

Not part of the test suite: run it by hand, from the repository root.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.alerts.receiver import Receiver  # noqa: E402
from tests.api.serving import running_server  # noqa: E402

from generate import jsonl_chunks  # noqa: E402
from shoal.alerts.book import OPERATOR, TRIGGERS, Alert, AlertBook, new_alert_id  # noqa: E402
from shoal.alerts.evaluate import AlertWatcher  # noqa: E402
from shoal.ingest.pipeline import ingest_stream  # noqa: E402
from shoal.model import Item, Report  # noqa: E402
from shoal.query.ast import quote_value  # noqa: E402
from shoal.store.base import Commit, Store  # noqa: E402
from shoal.store.registry import open_store  # noqa: E402

SHOAL = [sys.executable, "-m", "shoal"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def alert_queries(reports: Sequence[Report], count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (query, ip) pairs, each a distinct value of the batch drawn uniformly (not by popularity: a
    team watches its own networks and products, not a thousand copies of nginx): one in five a /24 of scanned
    addresses alone (Shodan Monitor's case), the rest product tags, a port with a banner word, title words,
    host names, header words."""
    pools: dict[str, set[tuple[str, str]]] = {kind: set() for kind in ("network", "tag", "banner", "title", "host")}
    pools["header"] = set()
    for report in reports:
        if report.ip is not None and "." in report.ip:
            pools["network"].add(("", ".".join(report.ip.split(".")[:3]) + ".0/24"))
        for item in report.items:
            words = [word for word in item.value.split() if word.isalnum()]
            if item.type == "product-tag":
                pools["tag"].add((f"product-tag:{quote_value(item.value)}", ""))
            elif item.type == "server-banner" and words and report.port is not None:
                pools["banner"].add((f"port-tcp:{report.port} and server-banner:{words[-1]}", ""))
            elif item.type == "title" and words:
                pools["title"].add((f'title:"{" ".join(words[:2])}"', ""))
            elif item.type == "host" and item.context == "":
                pools["host"].add((f"host:{quote_value(item.value)}", ""))
            elif item.type == "http-header" and words:
                pools["header"].add((f"http-header:{words[0]}", ""))
    rng = random.Random(seed)
    drawn = {kind: sorted(pool) for kind, pool in pools.items() if pool}
    kinds = [kind for kind in ("network", "tag", "banner", "title", "host", "header") if kind in drawn]
    weights = [4 if kind == "network" else 16 / (len(kinds) - 1) for kind in kinds]
    return [rng.choice(drawn[rng.choices(kinds, weights)[0]]) for _ in range(count)]


def write_alerts(folder: Path, queries: list[tuple[str, str]], start: Commit | None = None) -> None:
    """The alerts, made before the batch (``start``: the commit before it, as the book's watermark)."""
    folder.mkdir(parents=True)
    book = AlertBook(folder)
    for number, (query, ip) in enumerate(queries):
        alert = Alert(
            new_alert_id(), f"a{number}", query, "protocols", ip, TRIGGERS, "http://127.0.0.1:9/", "", OPERATOR, 0.0
        )
        book.add(alert, [], start)


def import_batch(source: Path, folder: Path) -> tuple[float, float]:
    """``shoal import`` of the batch into ``folder``: (CPU seconds with its children, wall seconds)."""
    before, started = children_cpu(), time.perf_counter()
    subprocess.run([*SHOAL, "import", str(source), "--data", str(folder)], check=True, capture_output=True)
    return children_cpu() - before, time.perf_counter() - started


def committed(reports: list[Report], folder: Path) -> tuple[Store, int]:
    """A store holding the batch in one commit that no watcher saw, and the commit's number."""
    store = open_store(None, folder)
    store.watcher = None
    return store, store.ingest(reports).commits["protocols"]


def evaluate(folder: Path, store: Store, batch: int, reports: list[Report] | None) -> tuple[float, float, int, int]:
    """The watcher of ``folder``'s alerts over commit ``batch``, handed its ``reports`` (the ingest path) or, with
    None, catching up on it: (CPU seconds, wall seconds, events queued, services in them)."""
    watcher = AlertWatcher(folder)
    watcher.index()  # the alerts are read once per process (and again when they change): not per batch
    cpu, started = time.process_time(), time.perf_counter()
    events = watcher.catch_up(store) if reports is None else watcher.committed(store, {"protocols": batch}, reports)
    elapsed = time.process_time() - cpu, time.perf_counter() - started
    book = AlertBook(folder)
    services = book.db.execute("SELECT sum(services) FROM events").fetchone()[0] or 0
    return *elapsed, events, services


def delivery_latencies(folder: Path, count: int) -> list[float]:
    receiver = Receiver().start()
    folder.mkdir(parents=True)
    store = open_store(None, folder)
    ingest_stream(store, [one_report("198.51.100.1")])
    store.close()
    made = subprocess.run(
        [*SHOAL, "alert", "create", "bench", "port-tcp:80", "--webhook", receiver.url, "--data", str(folder)],
        check=True,
        capture_output=True,
    )
    assert made.stdout.strip()
    latencies = []
    with running_server(folder):
        store = open_store(None, folder)
        for number in range(count):
            ip = f"198.51.100.{number + 10}"
            ingest_stream(store, [one_report(ip)])
            committed = time.time()
            deadline = time.monotonic() + 60
            while not (arrived := [post.arrived for post in receiver.posts if ip.encode() in post.body]):
                assert time.monotonic() < deadline, "no POST within a minute"
                time.sleep(0.005)
            latencies.append(arrived[0] - committed)
            time.sleep(random.random())  # commits at any moment of the server's polling second
        store.close()
    receiver.stop()
    return latencies


def one_report(ip: str) -> Report:
    items = (Item("ip", ip, "", True), Item("port-tcp", "80", "", True), Item("server-banner", "nginx", "http"))
    return Report(date=dt.datetime.now(dt.UTC).date(), items=items)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--alerts", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deliveries", type=int, default=10)
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="shoal-bench-alerts-"))
    try:
        source = work / "batch.jsonl"
        source.write_bytes(b"".join(jsonl_chunks(options.reports, seed=1)))
        reports = [Report.from_dict(orjson.loads(line)) for line in source.read_bytes().splitlines()]
        queries = alert_queries(reports, options.alerts, seed=1)
        print(f"{len(reports):,} reports, {len(queries):,} alerts; load {os.getloadavg()}", flush=True)
        plain, evaluated, caught, watched = [], [], [], []
        for run in range(options.runs):
            plain.append(import_batch(source, work / f"plain{run}"))
            store, batch = committed(reports, work / f"store{run}")
            write_alerts(work / f"alerts{run}", queries)
            evaluated.append(evaluate(work / f"alerts{run}", store, batch, reports))
            write_alerts(work / f"caught{run}", queries, replace(store.last_commit("protocols"), batch=batch - 1))
            caught.append(evaluate(work / f"caught{run}", store, batch, None))
            store.close()
            write_alerts(work / f"watched{run}", queries)
            watched.append(import_batch(source, work / f"watched{run}"))
            print(
                f"run {run}: import {plain[-1]}, evaluate {evaluated[-1]}, catch up {caught[-1]},"
                f" import with alerts {watched[-1]}"
            )
        import_cpu = statistics.median(cpu for cpu, _ in plain)
        evaluate_cpu = statistics.median(cpu for cpu, _, _, _ in evaluated)
        caught_cpu = statistics.median(cpu for cpu, _, _, _ in caught)
        watched_cpu = statistics.median(cpu for cpu, _ in watched)
        print(f"import: {import_cpu:.2f} s CPU (wall {statistics.median(wall for _, wall in plain):.2f} s)")
        print(
            f"evaluate {len(queries):,} alerts: {evaluate_cpu:.2f} s CPU"
            f" (wall {statistics.median(wall for _, wall, _, _ in evaluated):.2f} s, {evaluated[0][2]:,} events,"
            f" {evaluated[0][3]:,} services in them)"
            f" = {evaluate_cpu / import_cpu:.2f}x the import"
        )
        print(
            f"catch up on the commit: {caught_cpu:.2f} s CPU"
            f" (wall {statistics.median(wall for _, wall, _, _ in caught):.2f} s, {caught[0][2]:,} events)"
            f" = {caught_cpu / evaluate_cpu:.2f}x its evaluation"
        )
        print(
            f"import with the alerts: {watched_cpu:.2f} s CPU"
            f" (wall {statistics.median(wall for _, wall in watched):.2f} s) = {watched_cpu / import_cpu:.2f}x"
        )
        latencies = delivery_latencies(work / "delivery", options.deliveries)
        print(
            f"delivery, commit → POST: median {statistics.median(latencies):.3f} s,"
            f" max {max(latencies):.3f} s over {len(latencies)}"
        )
        print(f"load {os.getloadavg()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
