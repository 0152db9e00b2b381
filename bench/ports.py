#!/usr/bin/env python3
"""Open-port benchmark: generate synthetic observations, ingest them, time scan/ports and scan/ipports.

    python bench/ports.py --count 50000000 [--data DIR] [--runs 10] [--no-http]

Steps: (1) a deterministic synthetic population (clustered IPv4 — Zipf-weighted /16s, skewed /24s —, 3% IPv6,
Zipf ports, a few 1,000-port honeypots, services living for weeks and seen on ~80% of their days) is
observed day by day over 90 days ending today (UTC); each day is one ``ObservationStore.add`` batch (the
bulk path: numpy keys, no Python objects), timed. (2) the ingest rate of the ``Store.ingest_observations``
path (PortObservation objects) and of a masscan ``-oL`` file read by ``shoal.ingest.masscan`` are measured on
1M observations into a separate store. (3) each query runs in-process as the API route does (parameter
parsing, ``open_ports``, summary, honeypot rule, JSON body): 2 warm-ups, then the median of ``--runs``.
(4) ``shoal serve`` answers the same requests over loopback HTTP.

The data directory is rebuilt unless it already holds this corpus (``bench-ports.json``). Not part of the test
suite: run it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import orjson
from starlette.datastructures import QueryParams

from shoal.api.render import ipports_body, ports_body
from shoal.ingest.masscan import read_masscan_list
from shoal.ingest.pipeline import ingest_stream
from shoal.model import PortObservation
from shoal.ports import summarize_ip_ports, summarize_ports
from shoal.request.reading import read_port_query
from shoal.store.base import day_number
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.ports import V6_KEY, v4_keys

SEED = 1
DAYS = 90
WARMUPS = 2
MARKER = "bench-ports.json"
BLOCKS = 4000  # IPv4 /16s holding services, Zipf-weighted
BLOCK_ZIPF = 1.0
THIRD_OCTET_P = 0.01  # a /16's hosts crowd into its first ~100 /24s (geometric over a shuffled order)
OVERSAMPLE = 1.5  # draw more hosts than needed: duplicates in busy /24s collapse, then sample down
PORTS_PER_HOST = 0.6  # geometric: 1 + Geometric(p) - 1 extra ports, mean ~1.7
PORT_ZIPF = 1.25
HONEYPOTS = 20
HONEYPOT_PORTS = 1000
LIFETIME_DAYS = 120.0  # mean service lifetime (exponential)
SEEN_SHARE = 0.8  # chance a live service is observed on a given day
IPV6_SHARE = 0.03
COMMON_PORTS = [80, 443, 22, 8080, 21, 25, 3389, 53, 8443, 3306, 110, 143, 993, 995, 23, 5432, 7547, 8000]
COMMON_PORTS += [8888, 6379, 9100, 445, 139, 1723, 5060, 2222, 8081, 10000, 9200, 27017, 5900, 1883, 502, 161]
LOOPBACK = "127.0.0.1"


def population(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Services as parallel arrays: (ip, port, first day, last day); IPv6 services have ip >= 2**32."""
    valid = np.array([a << 8 | b for a in range(1, 224) if a not in (10, 127) for b in range(256)], dtype=np.int64)
    blocks = rng.choice(valid, BLOCKS, replace=False)
    weights = 1.0 / np.arange(1, BLOCKS + 1) ** BLOCK_ZIPF
    third_order = rng.permutation(256)
    rank_to_port = np.concatenate([COMMON_PORTS, rng.permutation(np.setdiff1d(np.arange(1, 65536), COMMON_PORTS))])
    per_service = SEEN_SHARE * mean_overlap(np.random.default_rng(SEED + 2))
    services = int(count / per_service) - HONEYPOTS * HONEYPOT_PORTS
    hosts = int(OVERSAMPLE * services / (1 + (1 - PORTS_PER_HOST) / PORTS_PER_HOST))  # busy /24s fill up
    host_block = blocks[rng.choice(BLOCKS, hosts, p=weights / weights.sum())]
    third = third_order[np.minimum(rng.geometric(THIRD_OCTET_P, hosts) - 1, 255)]
    ips = host_block << 16 | third << 8 | rng.integers(1, 255, hosts)
    ips = np.unique(ips)
    extra = rng.geometric(PORTS_PER_HOST, len(ips))
    host_of = np.repeat(np.arange(len(ips)), extra)
    ranks = np.minimum(rng.zipf(PORT_ZIPF, len(host_of)), 65535) - 1
    pairs = np.unique(ips[host_of] << 16 | rank_to_port[ranks])
    if len(pairs) > services:
        pairs = np.sort(rng.choice(pairs, services, replace=False))
    six = rng.random(len(pairs)) < IPV6_SHARE  # some services become IPv6 (ip >= 2**32 marks them)
    pair_ips = np.where(six, (pairs >> 16) + (1 << 40), pairs >> 16)
    pair_ports = pairs & 0xFFFF
    pots = ips[rng.choice(len(ips), HONEYPOTS, replace=False)]
    pot_ips = np.repeat(pots, HONEYPOT_PORTS)
    pot_ports = np.concatenate([rng.choice(np.arange(1, 65536), HONEYPOT_PORTS, replace=False) for _ in pots])
    all_ips = np.concatenate([pair_ips, pot_ips])
    all_ports = np.concatenate([pair_ports, pot_ports])
    lifetime = rng.exponential(LIFETIME_DAYS, len(all_ips))
    start = rng.uniform(-LIFETIME_DAYS, DAYS, len(all_ips))
    return all_ips, all_ports, start.astype(np.int64), (start + lifetime).astype(np.int64)


def mean_overlap(rng: np.random.Generator, samples: int = 200_000) -> float:
    """Mean number of the DAYS days a service is alive on (same lifetime model as ``population``)."""
    start = rng.uniform(-LIFETIME_DAYS, DAYS, samples).astype(np.int64)
    end = start + rng.exponential(LIFETIME_DAYS, samples).astype(np.int64)
    return float(np.maximum(0, np.minimum(end, DAYS - 1) - np.maximum(start, 0) + 1).mean())


def v6_keys(ips: np.ndarray, ports: np.ndarray, day: int) -> np.ndarray:
    """IPv6 keys for the synthetic IPv6 services: 2001:db8::/32 + the service's number in the last bytes."""
    raw = np.zeros((len(ips), 20), dtype=np.uint8)
    raw[:, :4] = np.frombuffer(bytes.fromhex("20010db8"), dtype=np.uint8)
    raw[:, 8:16] = ips.astype(">u8").view(np.uint8).reshape(-1, 8)
    raw[:, 16:18] = ports.astype(">u2").view(np.uint8).reshape(-1, 2)
    raw[:, 18:20] = np.array([day], dtype=">u2").view(np.uint8)
    return raw.view(V6_KEY).ravel()


def build(data: Path, count: int, end: dt.date) -> dict:
    rng = np.random.default_rng(SEED)
    ips, ports, first, last = population(count, rng)
    store = EmbeddedStore(data)
    first_day = day_number(end) - DAYS + 1
    observations, seconds = 0, 0.0
    for offset in range(DAYS):
        live = (first <= offset) & (offset <= last) & (rng.random(len(ips)) < SEEN_SHARE)
        day_ips, day_ports = ips[live], ports[live]
        six = day_ips >= 1 << 32
        day = first_day + offset
        v4 = v4_keys(day_ips[~six], day_ports[~six], np.full(int((~six).sum()), day))
        v6 = v6_keys(day_ips[six], day_ports[six], day)
        started = time.perf_counter()
        imported, _ = store.ports.add(v4, v6)
        seconds += time.perf_counter() - started
        observations += imported
        if offset % 10 == 9:
            print(f"ingest: day {offset + 1}/{DAYS}, {observations:,} observations, {seconds:.1f} s", file=sys.stderr)
    store.close()
    return {"count": count, "end": end.isoformat(), "observations": observations, "seconds": seconds}


def object_paths(rate_rows: int) -> tuple[float, float]:
    """Ingest rates (observations/s) of Store.ingest_observations and of a masscan -oL file, ``rate_rows`` each."""
    rng = np.random.default_rng(SEED + 1)
    ips = rng.integers(1 << 24, 224 << 24, rate_rows)
    ports = rng.choice(COMMON_PORTS, rate_rows)
    stamps = 1_760_000_000 + rng.integers(0, DAYS * 86_400, rate_rows)
    texts = [f"{ip >> 24}.{ip >> 16 & 255}.{ip >> 8 & 255}.{ip & 255}" for ip in ips.tolist()]
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(folder)
        observations = [
            PortObservation(text, port, dt.datetime.fromtimestamp(stamp, dt.UTC).date())
            for text, port, stamp in zip(texts, ports.tolist(), stamps.tolist(), strict=True)
        ]
        started = time.perf_counter()
        for begin in range(0, rate_rows, 50_000):
            store.ingest_observations(observations[begin : begin + 50_000])
        objects = rate_rows / (time.perf_counter() - started)
    lines = "".join(
        f"open tcp {port} {text} {stamp}\n"
        for text, port, stamp in zip(texts, ports.tolist(), stamps.tolist(), strict=True)
    )
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(folder)
        started = time.perf_counter()
        ingest_stream(store, read_masscan_list(io.BytesIO(("#masscan\n" + lines).encode()), "bench"))
        masscan = rate_rows / (time.perf_counter() - started)
    return objects, masscan


def dotted(number: int) -> str:
    return ".".join(str(number >> shift & 255) for shift in (24, 16, 8, 0))


def busiest(store: EmbeddedStore) -> dict[str, str]:
    """Query targets: the /16 with most observations, its busiest /22, a typical host, a honeypot host."""
    keys = np.concatenate(list(store.ports.arrays(4)))
    hosts = (keys >> np.uint64(32)).astype(np.int64)
    block16 = int(np.bincount(hosts >> 16, minlength=1 << 16).argmax())
    in_block = hosts[(hosts >> 16) == block16]
    block22 = int(np.bincount((in_block >> 10) & 63, minlength=64).argmax())
    per_host = np.unique(in_block, return_counts=True)
    typical = int(per_host[0][np.argsort(per_host[1], kind="stable")[len(per_host[1]) // 2]])
    distinct = np.unique(keys >> np.uint64(16)) >> np.uint64(16)
    many = np.unique(distinct, return_counts=True)
    honeypot = int(many[0][many[1].argmax()])
    return {
        "ip": dotted(typical),
        "honeypot": dotted(honeypot),
        "/16": f"{dotted(block16 << 16)}/16",
        "/22": f"{dotted(block16 << 16 | block22 << 10)}/22",
        "/8": f"{dotted(block16 >> 8 << 24)}/8",
    }


def plan(targets: dict[str, str], end: dt.date) -> list[tuple[str, str, list[tuple[str, str]]]]:
    full = [("from", (end - dt.timedelta(days=DAYS - 1)).isoformat())]
    return [
        ("scan/ports one IP", "ports", [("ip", targets["ip"])]),
        ("scan/ports one IP (1,000-port honeypot)", "ports", [("ip", targets["honeypot"])]),
        (f"scan/ports {targets['/16']}", "ports", [("ip", targets["/16"])]),
        (f"scan/ports {targets['/16']}, all 90 days", "ports", [("ip", targets["/16"]), *full]),
        (f"scan/ipports {targets['/22']}", "ipports", [("ip", targets["/22"])]),
        (f"scan/ipports {targets['/22']}, all 90 days", "ipports", [("ip", targets["/22"]), *full]),
        (f"scan/ports {targets['/8']}", "ports", [("ip", targets["/8"])]),
    ]


def answer(store: EmbeddedStore, endpoint: str, params: list[tuple[str, str]], today: dt.date) -> bytes:
    """What the route does, minus HTTP."""
    found = store.open_ports(read_port_query(QueryParams(params), today))
    body = ports_body(summarize_ports(found)) if endpoint == "ports" else ipports_body(summarize_ip_ports(found))
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def timed(action: Callable[[], object], runs: int) -> list[float]:
    for _ in range(WARMUPS):
        action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def describe(body: bytes) -> str:
    parsed = orjson.loads(body)
    flag = ", honeypot" if parsed.get("honeypot") else ""
    return f"{len(parsed['values'])} values, other {parsed['other']:,}{flag}"


def run_http(data: Path, queries: list, runs: int) -> list[tuple[float, float] | None]:
    bin_dir = Path(sys.executable).parent
    shoal = str(bin_dir / "shoal") if (bin_dir / "shoal").exists() else shutil.which("shoal") or "shoal"
    token = subprocess.run(
        [shoal, "token", "create", "bench", "--enterprise", "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [shoal, "serve", "--data", str(data), "--host", LOOPBACK, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    medians: list[tuple[float, float] | None] = []
    try:
        base = f"http://{LOOPBACK}:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=300, trust_env=False) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/v1/scan/ports", params={"ip": "127.0.0.1"})
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            for _, endpoint, params in queries:

                def fetch(endpoint: str = endpoint, params: list = params) -> None:
                    response = client.get(f"/v1/scan/{endpoint}", params=params)
                    if response.status_code != 200:
                        raise RuntimeError(f"{endpoint} {params}: HTTP {response.status_code} {response.text[:200]}")

                times = timed(fetch, runs)
                medians.append((statistics.median(times), max(times)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return medians


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50_000_000, help="observations to generate (approximately)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "shoal-bench-ports")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rate-rows", type=int, default=1_000_000, help="observations for the object-path rates")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    end = dt.datetime.now(dt.UTC).date()
    marker_path = args.data / MARKER
    marker = json.loads(marker_path.read_text()) if marker_path.is_file() else None
    if marker is None or marker["count"] != args.count or marker["end"] != end.isoformat():
        if args.data.exists() and marker is None and any(args.data.iterdir()):
            sys.exit(f"{args.data} exists but was not built by bench/ports.py: use another --data")
        shutil.rmtree(args.data, ignore_errors=True)
        args.data.mkdir(parents=True)
        marker = build(args.data, args.count, end)
        marker_path.write_text(json.dumps(marker))
    store = EmbeddedStore(args.data)
    segments = store.ports.segments()
    size = sum(path.stat().st_size for path in (args.data / "ports").glob("*.npy"))
    targets = busiest(store)
    queries = plan(targets, end)
    local = []
    for label, endpoint, params in queries:
        body = answer(store, endpoint, params, end)
        times = timed(lambda e=endpoint, p=params: answer(store, e, p, end), args.runs)
        local.append((label, describe(body), statistics.median(times), max(times)))
        print(f"in-process {label}: {describe(body)}, median {statistics.median(times):.1f} ms", file=sys.stderr)
    store.close()
    http = [None] * len(queries) if args.no_http else run_http(args.data, queries, args.runs)
    objects, masscan = object_paths(args.rate_rows)
    print(f"\n- corpus: {marker['observations']:,} observations ({args.count:,} asked), {DAYS} days to {end},")
    print(f"  {len(segments)} segments, {size / 2**20:,.0f} MiB ({size / marker['observations']:.1f} bytes/obs)")
    bulk = marker["observations"] / marker["seconds"]
    print(f"- ingest, bulk (one add per day): {bulk:,.0f} obs/s ({marker['seconds']:.1f} s)")
    print(f"- ingest, Store.ingest_observations (PortObservation objects, 50k batches): {objects:,.0f} obs/s")
    print(f"- ingest, masscan -oL parse + store (in-process): {masscan:,.0f} obs/s\n")
    print("| query | result | in-process median ms | max | HTTP median ms | max |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, result, median, worst), over_http in zip(local, http, strict=True):
        web = "– | –" if over_http is None else f"{over_http[0]:.1f} | {over_http[1]:.1f}"
        print(f"| {label} | {result} | {median:.1f} | {worst:.1f} | {web} |")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load} (other jobs share the cores)")


if __name__ == "__main__":
    main()
