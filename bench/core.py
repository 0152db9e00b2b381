#!/usr/bin/env python3
"""Core-path benchmark: generate a corpus, import it with ``shoal import``, time searches and summaries.

    python bench/core.py --count 1000000 [--data DIR] [--keep] [--runs 10]

Steps: (1) ``bench/generate.py`` writes ``DIR/corpus-N.jsonl.gz`` (kept and reused); (2) ``shoal import``
runs as a subprocess and is timed; (3) each query runs in-process through ``EmbeddedStore`` with the API's
own parameter parsing (2 warm-ups, then ``--runs`` timed runs); (4) ``shoal serve`` answers the same
queries over loopback HTTP, then its RSS is read; (5) a markdown table for BENCHMARKS.md is printed.

Without ``--keep`` the index is rebuilt from scratch and removed at the end (the corpus stays); with
``--keep`` an index already holding this corpus is reused. Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.datastructures import QueryParams

from shoal.store.embedded import EmbeddedStore

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SEED = 1
WARMUPS = 2
SAMPLE_LINES = 200_000  # reports read from the corpus to pick the /16 and the nginx Server value
MARKER = "bench-core.json"  # written next to the index: which corpus it holds and how the import went
LOOPBACK = "127.0.0.1"
SERVER_START_SECONDS = 120.0
HTTP_TIMEOUT_SECONDS = 300.0

Params = list[tuple[str, str]]
FIRST_IP = re.compile(rb'"type":"ip","value":"(\d+)\.(\d+)\.\d+\.\d+"')
NGINX_SERVER = re.compile(
    rb'"context":"Server","is_metadata":(?:true|false),"type":"http-header","value":"(nginx[^"]*)"'
)
NGINX_BANNER = re.compile(rb'"type":"server-banner","value":"[^"]*nginx', re.IGNORECASE)


@dataclass
class Query:
    label: str
    params: Params
    summary: bool = False
    count: str = ""  # result count in-process: reports, or distinct values for a summary
    local_ms: list[float] | None = None
    http_ms: list[float] | None = None
    mismatch: str = ""


@dataclass
class Sample:
    network: str  # the most populated IPv4 /16 by reports, as a CIDR
    server: str  # the most common versioned nginx Server header value
    banner_has_nginx: bool
    lines: int


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"cannot find the {name!r} command next to {sys.executable} or on PATH")
    return found


def ensure_corpus(data: Path, count: int) -> Path:
    corpus = data / f"corpus-{count}.jsonl.gz"
    if corpus.is_file():
        print(f"corpus: reusing {corpus}", file=sys.stderr)
        return corpus
    partial = corpus.with_name(corpus.name + ".partial.gz")
    command = [sys.executable, str(HERE / "generate.py"), "--count", str(count), "--seed", str(SEED)]
    print(f"corpus: {' '.join([*command, '--out', str(corpus)])}", file=sys.stderr)
    subprocess.run([*command, "--out", str(partial)], check=True, timeout=max(600, count // 1000))
    partial.replace(corpus)
    return corpus


def inspect(corpus: Path) -> Sample:
    """Pick concrete query values from the first SAMPLE_LINES reports (the corpus is stationary over days)."""
    networks: Counter[str] = Counter()
    servers: Counter[str] = Counter()
    banner_has_nginx = False
    lines = 0
    with gzip.open(corpus, "rb") as stream:
        for line in stream:
            lines += 1
            first = FIRST_IP.search(line)  # the report's target comes first
            if first is not None:
                networks[f"{int(first[1])}.{int(first[2])}.0.0/16"] += 1
            for value in NGINX_SERVER.findall(line):
                servers[value.decode()] += 1
            banner_has_nginx = banner_has_nginx or NGINX_BANNER.search(line) is not None
            if lines >= SAMPLE_LINES:
                break
    if not networks or not servers:
        sys.exit(f"{corpus}: no IPv4 target or no nginx Server header in the first {lines} reports")
    versioned = [value for value, _ in servers.most_common() if "/" in value]
    server = versioned[0] if versioned else servers.most_common(1)[0][0]
    return Sample(networks.most_common(1)[0][0], server, banner_has_nginx, lines)


def queries(sample: Sample) -> list[Query]:
    net = sample.network
    banner = "server-banner:nginx" if sample.banner_has_nginx else "http-header;Server:nginx"
    exact = sample.server.replace("\\", "\\\\").replace('"', '\\"')
    return [
        Query(f"ip={net}", [("ip", net)]),
        Query(banner, [("expression", banner)]),
        Query('title:"university london" slop=1', [("expression", 'title:"university london"'), ("slop", "1")]),
        Query("title:univ*", [("expression", "title:univ*")]),
        Query(f'http-header;Server="{exact}"', [("expression", f'http-header;Server="{exact}"')]),
        Query("product-tag:nginx and not port-tcp:443", [("expression", "product-tag:nginx and not port-tcp:443")]),
        Query("summarize=port-tcp (everything)", [("summarize", "port-tcp")], summary=True),
        Query(
            "summarize=geo-country, product-tag:nginx",
            [("summarize", "geo-country"), ("expression", "product-tag:nginx")],
            summary=True,
        ),
        Query(f"ip={net} most_recent=true", [("ip", net), ("most_recent", "true")]),
    ]


def timed(action: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARMUPS):
        action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p90(times: Sequence[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def run_in_process(data: Path, plan: list[Query], runs: int) -> dict[str, str]:
    """Time each query against the store; return a signature per query to compare with the HTTP answers."""
    # Imported here: bench/engines.py's workers import this module under an older Shoal too (--baseline), which
    # may have no request room.
    from shoal.request.reading import known_types, summary_of
    from shoal.request.selection import Selection

    store = EmbeddedStore(data)
    signatures: dict[str, str] = {}
    try:
        types = known_types(store)
        for query in plan:
            params = QueryParams(query.params)
            filters = Selection.read(params).as_filters(types)
            request = summary_of(params, types, True)
            if request is not None:
                summary = store.summarize(filters, request)
                query.count = f"{summary.cardinality:,} values"
                signatures[query.label] = f"{len(summary.values)} values, other {summary.other}"
                query.local_ms = timed(lambda f=filters, r=request: store.summarize(f, r), runs)
            else:
                page = store.search(filters, offset=0, limit=100)
                query.count = f"{page.total:,}"
                signatures[query.label] = f"{page.total} reports"
                query.local_ms = timed(lambda f=filters: store.search(f, offset=0, limit=100), runs)
            print(
                f"in-process {query.label}: {query.count}, median {statistics.median(query.local_ms):.1f} ms",
                file=sys.stderr,
            )
    finally:
        store.close()
    return signatures


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def http_signature(body: dict) -> str:
    if "summary" in body:
        summary = body["summary"]
        return f"{len(summary['values'])} values, other {summary['other']}"
    return f"{body['result_count']} reports"


def wait_for_server(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"shoal serve exited with status {server.returncode}")
        try:
            client.get("/v1/scan/protocols", params={"summarize": "port-tcp"})
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"shoal serve did not answer within {SERVER_START_SECONDS:.0f} s")


def run_http(data: Path, plan: list[Query], runs: int, signatures: dict[str, str]) -> tuple[int, int]:
    """Time each query over loopback HTTP; return the server's (VmRSS, VmHWM) in bytes."""
    token = subprocess.run(
        [tool("shoal"), "token", "create", "bench", "--enterprise", "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    port = free_port()
    log_path = data / "serve.log"
    command = [tool("shoal"), "serve", "--data", str(data), "--host", LOOPBACK, "--port", str(port)]
    print(f"server: {' '.join(command)}", file=sys.stderr)
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://{LOOPBACK}:{port}"
        with httpx.Client(base_url=base, headers=headers, timeout=HTTP_TIMEOUT_SECONDS, trust_env=False) as client:
            wait_for_server(client, server)
            for query in plan:

                def fetch(params: Params = query.params) -> httpx.Response:
                    response = client.get("/v1/scan/protocols", params=params)
                    if response.status_code != 200:
                        raise RuntimeError(f"{params}: HTTP {response.status_code}: {response.text[:300]}")
                    return response

                seen = http_signature(fetch().json())
                if seen != signatures.get(query.label):
                    query.mismatch = f"HTTP {seen} vs in-process {signatures.get(query.label)}"
                    print(f"MISMATCH {query.label}: {query.mismatch}", file=sys.stderr)
                query.http_ms = timed(fetch, runs)
                print(f"http {query.label}: median {statistics.median(query.http_ms):.1f} ms", file=sys.stderr)
        return memory(server.pid)
    except BaseException:
        print(f"server log ({log_path}):\n{log_path.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def memory(pid: int) -> tuple[int, int]:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def index_bytes(data: Path) -> int:
    return sum(path.stat().st_size for path in (data / "index").rglob("*") if path.is_file())


def ingest(data: Path, corpus: Path, count: int, keep: bool) -> dict:
    """Import through ``shoal import`` (or reuse a kept index holding this corpus); returns the marker."""
    marker_path, index = data / MARKER, data / "index"
    marker = json.loads(marker_path.read_text()) if marker_path.is_file() else None
    if keep and marker is not None and marker.get("corpus") == corpus.name and index.is_dir():
        print(f"ingest: skipped, {index} already holds {corpus.name} (--keep)", file=sys.stderr)
        return {**marker, "output": marker["output"] + "; index kept from an earlier run"}
    if index.exists() and marker is None:
        sys.exit(f"{index} exists but was not built by bench/core.py: use another --data directory")
    clean(data)
    command = [tool("shoal"), "import", "--data", str(data), str(corpus)]
    print(f"ingest: {' '.join(command)}", file=sys.stderr)
    marker_path.write_text(json.dumps({"corpus": None}))  # claims the index before it exists
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=max(3600, count // 100))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"shoal import failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    marker = {"corpus": corpus.name, "seconds": seconds, "rate": count / seconds, "output": done.stdout.strip()}
    marker_path.write_text(json.dumps(marker))
    print(f"ingest: {marker['output']} in {seconds:.1f} s", file=sys.stderr)
    return marker


def clean(data: Path) -> None:
    """Remove what this script created in DATA, except the corpus."""
    shutil.rmtree(data / "index", ignore_errors=True)
    for name in (MARKER, "tokens.json", "serve.log"):
        (data / name).unlink(missing_ok=True)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text()
    total = next((int(line.split()[1]) * 1024 for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, {total / 2**30:.1f} GiB RAM"


def ms(times: list[float] | None, pick: Callable[[Sequence[float]], float]) -> str:
    return "–" if not times else f"{pick(times):.1f}"


def report(
    args: argparse.Namespace, sample: Sample, marker: dict, size: int, rss: tuple[int, int], plan: list[Query]
) -> str:
    lines = [
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- corpus: {args.count:,} reports (bench/generate.py --seed {SEED}); "
        f"/16 and nginx Server value picked from the first {sample.lines:,} reports",
        f"- machine: {machine()}",
        f"- ingest: {marker['rate']:,.0f} reports/s ({marker['seconds']:.1f} s for `shoal import`: {marker['output']})",
        f"- index size: {size:,} bytes ({size / 2**20:,.1f} MiB)",
        f"- server RSS after the queries: VmRSS {rss[0] / 2**20:,.0f} MiB, VmHWM {rss[1] / 2**20:,.0f} MiB",
        f"- timings: {WARMUPS} warm-ups then {args.runs} runs; search = count + first page of 100 full reports",
        "",
        "| query | result count | in-process median ms | p90 | HTTP median ms | p90 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for query in plan:
        label = "`" + query.label.replace("|", "\\|") + "`"
        cells = [label, query.count, ms(query.local_ms, statistics.median), ms(query.local_ms, p90)]
        cells += [ms(query.http_ms, statistics.median), ms(query.http_ms, p90)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"- mismatch {query.label}: {query.mismatch}" for query in plan if query.mismatch]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark ingest, search and summaries (in-process and HTTP).")
    parser.add_argument("--count", type=int, default=1_000_000, help="reports in the corpus (default 1,000,000)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "shoal-bench",
                        help="data directory for the corpus and the index (default $TMPDIR/shoal-bench)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the index, and reuse one holding this corpus")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per query after 2 warm-ups (default 10)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.runs < 1:
        parser.error("--count and --runs must be at least 1")
    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    corpus = ensure_corpus(data, args.count)
    sample = inspect(corpus)
    plan = queries(sample)
    marker = ingest(data, corpus, args.count, args.keep)
    try:
        size = index_bytes(data)
        signatures = run_in_process(data, plan, args.runs)
        rss = run_http(data, plan, args.runs, signatures)
    finally:
        if not args.keep:
            clean(data)
    print()
    print(report(args, sample, marker, size, rss, plan))
    return 1 if any(query.mismatch for query in plan) else 0


if __name__ == "__main__":
    sys.exit(main())
