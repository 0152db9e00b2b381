#!/usr/bin/env python3
"""The dataset endpoints at scale (issue 10): scan/domains, ct/log, domain/rdns and multi/summary over HTTP.

    python bench/datasets.py --data DIR --corpus corpus-1000000.jsonl.gz [--runs 10] [--domain example.com]

DIR holds the corpus in ``protocols`` already (``bench/core.py --keep`` leaves one). The same corpus is
imported into ``domains``; ``rdns`` and ``ct`` reports are derived from it in one pass (one rdns report per
address that has a PTR name, one ct report per distinct certificate, with its names, subject and issuer) and
imported. Then ``shoal serve`` answers, 2 warm-ups and ``--runs`` timed runs each, medians printed:

- the four calls subfinder (and Subdominator, samoscout) make for a domain, uncover's first page on
  scan/protocols and scan/domains, domain/rdns forward and reverse;
- ``multi/summary`` for the domain (xsubfind3r's call) and for everything, each beside its peer in the same
  run: the separate ``summarize`` calls (one per type and dataset, sequential) that give the same numbers.

Loopback only. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from api.serving import running_server  # noqa: E402
from core import timed  # noqa: E402
from derive import derive_file  # noqa: E402

SHOAL = [sys.executable, "-m", "shoal"]


def derived(corpus: Path, out: Path, dataset: str) -> Path:
    """rdns or ct reports made from the corpus (written once, then reused)."""
    target = out / f"derived-{dataset}.jsonl.gz"
    if not target.exists():
        derive_file(corpus, dataset, target)
    return target


def shoal(*args: str) -> str:
    return subprocess.run([*SHOAL, *args], check=True, capture_output=True, text=True, timeout=3600).stdout.strip()


def imported(data: Path, dataset: str, source: Path) -> str:
    started = time.perf_counter()
    line = shoal("import", "--data", str(data), "--dataset", dataset, str(source)).splitlines()[-1]
    seconds = time.perf_counter() - started
    count = int(line.split()[1].rstrip(","))
    return f"{dataset}: {line} in {seconds:.1f} s ({count / seconds:,.0f} reports/s)"


def median_ms(call: Callable[[], object], runs: int) -> float:
    return statistics.median(timed(call, runs))


def calls(domain: str) -> Iterator[tuple[str, str]]:
    for endpoint, selector, context in (
        ("ct/log", "field=host:", "cert-dns-name"),
        ("scan/protocols", "field=host:", "cert-dns-name"),
        ("scan/domains", "field=host:", "cert-dns-name"),
        ("domain/rdns", "host=", "dns-ptr"),
    ):
        label = f"subfinder: {endpoint}?{selector}{domain}&summarize=host&summary_context={context}"
        yield label, f"/v1/{endpoint}?{selector}{domain}&summarize=host&summary_context={context}&summary_limit=10000"
    for endpoint in ("scan/protocols", "scan/domains"):
        yield (
            f"uncover: {endpoint}?most_recent=true&field=host:{domain}",
            f"/v1/{endpoint}?from=2000-01-01&most_recent=true&field=host:{domain}",
        )


def rdns_calls(rdns: Path) -> Iterator[tuple[str, str]]:
    """domain/rdns forward and reverse for the busiest /16 and PTR zone of the rdns reports."""
    networks: collections.Counter[str] = collections.Counter()
    zones: collections.Counter[str] = collections.Counter()
    with gzip.open(rdns, "rb") as lines:
        for line in lines:
            ip, ptr = (i["value"] for i in orjson.loads(line)["items"][:2])
            networks[".".join(ip.split(".")[:2])] += 1
            zones[".".join(ptr.split(".")[-2:])] += 1
    network, zone = networks.most_common(1)[0][0], zones.most_common(1)[0][0]
    yield f"domain/rdns?ip={network}.0.0/16", f"/v1/domain/rdns?ip={network}.0.0/16"
    yield f"domain/rdns?host={zone}", f"/v1/domain/rdns?host={zone}"
    yield f"domain/rdns?nameserver=ns1.{zone}", f"/v1/domain/rdns?nameserver=ns1.{zone}"


def separate_summaries(client: httpx.Client, body: dict, selection: dict[str, str]) -> None:
    """The peer of one multi/summary: each of its types, per dataset, as a summarize call of its own."""
    for section in body.values():
        for key in section:
            if ";" in key:
                continue  # Driftnet's second names for subject and title
            for path in ("/v1/scan/protocols", "/v1/scan/domains"):
                answer = client.get(path, params={**selection, "summarize": key, "summary_limit": "10"})
                assert answer.status_code in (200, 204), answer.text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--domain", default="example.com")
    parser.add_argument("--reuse", action="store_true", help="the datasets are imported already: skip the imports")
    args = parser.parse_args()
    print(f"# bench/datasets.py — load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    for dataset, source in (("domains", args.corpus), ("rdns", None), ("ct", None)):
        source = source or derived(args.corpus, args.data, dataset)
        if not args.reuse:
            print(f"- {imported(args.data, dataset, source)}")
    token = shoal("token", "create", "bench-datasets", "--enterprise", "--data", str(args.data))
    with (
        running_server(args.data) as server,
        httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client,
    ):
        print("\n| call | status | answer | median ms |\n|---|---|---:|---:|")
        for label, path in (*calls(args.domain), *rdns_calls(derived(args.corpus, args.data, "rdns"))):
            response = client.get(path)
            size = f"{len(response.content):,} B"
            took = median_ms(lambda p=path: client.get(p), args.runs)
            print(f"| `{label}` | {response.status_code} | {size} | {took:.1f} |")
        print("\n| multi/summary | types | one call ms | separate summaries ms (same run) | ratio (one ÷ separate) |")
        print("|---|---:|---:|---:|---:|")
        for label, selection in ((f"field=host:{args.domain}", {"field": f"host:{args.domain}"}), ("everything", {})):
            body = client.get("/v1/multi/summary", params=selection).json()
            types = sum(len(section) for section in body.values())
            one = median_ms(lambda s=selection: client.get("/v1/multi/summary", params=s), args.runs)
            many = median_ms(lambda b=body, s=selection: separate_summaries(client, b, s), args.runs)
            print(f"| {label} | {types} | {one:.0f} | {many:.0f} | {one / many:.2f} |")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
