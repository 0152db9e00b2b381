#!/usr/bin/env python3
"""Load benchmark: ``shoal serve`` on loopback under many concurrent clients; throughput and latency.

    python bench/load.py --data /tmp/shoal-load-1m [--corpus corpus.jsonl.gz] [--clients 32] [--seconds 20]

Steps: (1) if DIR holds no index, ``shoal import`` the ``--corpus`` file into it; (2) query values are
picked from the corpus (or from the index, by sampling reports); (3) tokens are created (one per 4
clients, so the limit of 5 concurrent queries per token is never what is measured); (4) ``shoal serve``
starts on 127.0.0.1; (5) each phase runs ``--clients`` concurrent keep-alive connections for
``--seconds`` (or ``--max-requests``): phase ``core`` sends ``bench/core.py``'s six searches (first
page), phase ``search`` a varied mix of searches (CIDRs, expressions, pages 0–5), phase ``mixed`` those
searches with summaries and (if the server has them) open-port queries; (6) a markdown table is printed:
requests/s, p50/p90/p99 per kind, statuses, and the CPU used by the server, by this client and by
everything else on the machine in the meantime (other jobs sharing the cores skew the figures).

The client speaks HTTP/1.1 over raw asyncio streams: an ``httpx`` client costs more CPU than the server
on 2 cores and would measure itself. Loopback only, bounded in time and count. Not run by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
SAMPLE_LINES = 100_000
MAX_SECONDS = 600
CLIENTS_PER_TOKEN = 4
TARGET_24 = re.compile(rb'"type":"ip","value":"(\d+\.\d+\.\d+)\.(\d+)"')
TICKS = os.sysconf("SC_CLK_TCK")

Params = list[tuple[str, str]]


@dataclass
class Plan:
    search: list[str]
    summary: list[str]
    ports: list[str] = field(default_factory=list)
    core: list[str] = field(default_factory=list)  # bench/core.py's six searches, first page


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    sent: int = 0


def tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"cannot find {name!r} next to {sys.executable} or on PATH")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


# -- the query plan ---------------------------------------------------------------------------------------


def sample_targets(corpus: Path | None, data: Path) -> list[str]:
    """IPv4 addresses of report targets, from the corpus file or else from the index itself."""
    addresses: list[str] = []
    if corpus is not None and corpus.is_file():
        opener = gzip.open if corpus.suffix == ".gz" else open
        with opener(corpus, "rb") as stream:
            for number, line in enumerate(stream):
                if number >= SAMPLE_LINES:
                    break
                match = TARGET_24.search(line)
                if match:
                    addresses.append(f"{match[1].decode()}.{match[2].decode()}")
        return addresses
    from shoal.store.base import Filters
    from shoal.store.embedded import EmbeddedStore

    store = EmbeddedStore(data)
    for number, report in enumerate(store.iter_matches(Filters())):
        if number >= SAMPLE_LINES // 10:
            break
        if report.ip and ":" not in report.ip:
            addresses.append(report.ip)
    store.close()
    return addresses


def make_plan(addresses: list[str], rng: random.Random) -> Plan:
    if not addresses:
        sys.exit("no IPv4 targets found to build queries from")
    nets24 = Counter(address.rsplit(".", 1)[0] + ".0/24" for address in addresses)
    nets16 = Counter(".".join(address.split(".")[:2]) + ".0.0/16" for address in addresses)
    big16 = [net for net, _ in nets16.most_common(8)]
    some24 = [net for net, _ in nets24.most_common(200)]
    expressions: list[Params] = [
        [("expression", "server-banner:nginx")],
        [("expression", "http-header;Server:nginx")],
        [("expression", 'title:"university london"'), ("slop", "1")],
        [("expression", "title:univ*")],
        [("expression", "product-tag:nginx and not port-tcp:443")],
        [("expression", "port-tcp:22 and protocol=ssh")],
        [("expression", "geo-country=CN and port-tcp:80")],
        [("expression", "host:com")],
    ]
    search: list[Params] = []
    for _ in range(400):
        kind = rng.random()
        page = str(rng.choice([0, 0, 0, 1, 2, 5]))
        if kind < 0.35:
            search.append([("ip", rng.choice(some24))])
        elif kind < 0.5:
            search.append([("ip", rng.choice(big16)), ("page", page)])
        else:
            search.append([*rng.choice(expressions), ("page", page)])
    summary: list[Params] = [
        [("summarize", "port-tcp")],
        [("summarize", "geo-country"), ("expression", "product-tag:nginx")],
        [("summarize", "product-tag"), ("ip", big16[0])],
        [("summarize", "port-tcp"), ("expression", "title:univ*")],
        [("summarize", "http-header"), ("summary_context", "Server"), ("expression", "port-tcp:443")],
        [("ip", big16[0]), ("most_recent", "true")],  # the heaviest search: counted with the summaries
    ]
    core: list[Params] = [
        [("ip", big16[0])],
        [("expression", "http-header;Server:nginx")],
        [("expression", 'title:"university london"'), ("slop", "1")],
        [("expression", "title:univ*")],
        [("expression", 'http-header;Server="nginx/1.18.0 (Ubuntu)"')],
        [("expression", "product-tag:nginx and not port-tcp:443")],
    ]
    ports = [f"/v1/scan/ports?{urlencode([('ip', rng.choice(addresses))])}" for _ in range(100)]
    ports += [f"/v1/scan/ipports?{urlencode([('ip', rng.choice(some24))])}" for _ in range(100)]
    return Plan(
        search=[f"/v1/scan/protocols?{urlencode(params)}" for params in search],
        summary=[f"/v1/scan/protocols?{urlencode(params)}" for params in summary],
        ports=ports,
        core=[f"/v1/scan/protocols?{urlencode(params)}" for params in core],
    )


# -- a minimal HTTP/1.1 keep-alive client ----------------------------------------------------------------


class Connection:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Host: {LOOPBACK}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(LOOPBACK, self.port)
        assert self.reader is not None
        self.writer.write(b"GET " + target.encode() + b" HTTP/1.1\r\n" + self.head)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"content-length:")
        if at >= 0:
            length = int(lower[at + 15 : lower.index(b"\r\n", at)])
            await self.reader.readexactly(length)
        if b"connection: close" in lower:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def client(
    port: int, token: str, choices: list[tuple[str, list[str]]], weights: list[float], tally: Tally, stop: float
) -> None:
    rng = random.Random(id(tally) ^ hash(token))
    connection = Connection(port, token)
    try:
        while time.monotonic() < stop and tally.sent > 0:
            tally.sent -= 1
            kind, targets = rng.choices(choices, weights)[0]
            target = rng.choice(targets)
            started = time.perf_counter()
            try:
                status = await connection.get(target)
            except (OSError, asyncio.IncompleteReadError) as exc:
                tally.statuses[f"error {type(exc).__name__}"] += 1
                await connection.close()
                continue
            tally.latencies[kind].append((time.perf_counter() - started) * 1000)
            tally.statuses[str(status)] += 1
    finally:
        await connection.close()


def cpu_seconds(pid: int) -> float:
    """CPU time of the process and its live descendants (``--workers``: the worker processes)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        total += sum(cpu_seconds(int(child)) for child in children.read_text().split())
    return total


def machine_busy_seconds() -> float:
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS


async def phase(
    name: str, port: int, tokens: list[str], mix: list[tuple[str, list[str], float]], args: argparse.Namespace
) -> dict[str, object]:
    tally = Tally(sent=args.max_requests)
    choices = [(kind, targets) for kind, targets, weight in mix if targets and weight > 0]
    weights = [weight for _, targets, weight in mix if targets and weight > 0]
    server_cpu, busy = cpu_seconds(args.server_pid), machine_busy_seconds()
    own = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    stop = started + args.seconds
    await asyncio.gather(
        *(
            client(port, tokens[number // CLIENTS_PER_TOKEN], choices, weights, tally, stop)
            for number in range(args.clients)
        )
    )
    wall = time.monotonic() - started
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (own_after.ru_utime + own_after.ru_stime) - (own.ru_utime + own.ru_stime)
    server_cpu = cpu_seconds(args.server_pid) - server_cpu
    busy = machine_busy_seconds() - busy
    return {
        "name": name,
        "wall": wall,
        "tally": tally,
        "server_cpu": server_cpu / wall,
        "client_cpu": client_cpu / wall,
        "other_cpu": max(0.0, busy - server_cpu - client_cpu) / wall,
    }


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def report(result: dict[str, object]) -> None:
    tally: Tally = result["tally"]  # type: ignore[assignment]
    wall: float = result["wall"]  # type: ignore[assignment]
    every = [value for values in tally.latencies.values() for value in values]
    print(f"\n### phase {result['name']}: {len(every):,} requests in {wall:.1f} s = {len(every) / wall:,.0f} req/s")
    print(
        f"CPU (cores busy on average): server {result['server_cpu']:.2f}, load client {result['client_cpu']:.2f},"
        f" everything else {result['other_cpu']:.2f}"
    )
    print(f"statuses: {dict(sorted(tally.statuses.items()))}\n")
    print("| kind | requests | req/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, values in [*sorted(tally.latencies.items()), ("all", every)]:
        if values:
            print(
                f"| {kind} | {len(values):,} | {len(values) / wall:,.0f} | {statistics.median(values):.1f}"
                f" | {percentile(values, 0.9):.1f} | {percentile(values, 0.99):.1f} | {max(values):.1f} |"
            )


# -- the server ---------------------------------------------------------------------------------------------


def ensure_index(data: Path, corpus: Path | None) -> None:
    if (data / "index").is_dir() and any((data / "index").rglob("*.store")):
        return
    if corpus is None:
        sys.exit(f"{data} holds no index: give --corpus FILE to import one")
    print(f"import: {corpus} into {data}", file=sys.stderr)
    subprocess.run([tool("shoal"), "import", "--data", str(data), str(corpus)], check=True)


def start_server(data: Path, port: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    command = [tool("shoal"), "serve", "--data", str(data), "--host", LOOPBACK, "--port", str(port)]
    command += [*args.serve_option]
    print(f"server: {' '.join(command)}", file=sys.stderr)
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(data / "load-serve.log").open("wb"))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited: see {data / 'load-serve.log'}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("the server did not start within 180 s")


async def has_ports(port: int, token: str) -> bool:
    connection = Connection(port, token)
    try:
        return await connection.get("/v1/scan/ports?ip=127.0.0.1") != 404
    finally:
        await connection.close()


async def run(args: argparse.Namespace, plan: Plan, tokens: list[str], port: int) -> None:
    with_ports = await has_ports(port, tokens[0])
    if not with_ports:
        plan.ports = []
    warm = [("search", plan.search, 1.0), ("summary", plan.summary, 1.0), ("ports", plan.ports, 1.0)]
    await phase("warm-up", port, tokens, warm, argparse.Namespace(**{**vars(args), "seconds": 3}))
    for name in args.phases:
        if name == "search":
            mix = [("search", plan.search, 1.0)]
        elif name == "core":
            mix = [("core search", plan.core, 1.0)]
        else:
            mix = [("search", plan.search, 0.7), ("summary", plan.summary, 0.2), ("ports", plan.ports, 0.1)]
        report(await phase(name, port, tokens, mix, args))
    print(f"\nopen-port queries: {'included' if with_ports else 'absent (no /v1/scan/ports on this server)'}")


def memory_mib(pid: int) -> str:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0]) // 1024 if name in ("VmRSS", "VmHWM") else 0
    return f"VmRSS {fields.get('VmRSS', 0)} MiB, VmHWM {fields.get('VmHWM', 0)} MiB"


TRIVIAL_PATH = "/v1/trivial"
TRIVIAL_BYTES = 40 * 1024


def trivial_app() -> object:
    """The peer: a FastAPI app whose one route returns 40 KB of JSON made once (about a result page's size),
    served by the same uvicorn, protocol and worker count: what the HTTP stack alone costs."""
    from fastapi import FastAPI
    from starlette.responses import Response

    body = b'{"results":"' + b"x" * (TRIVIAL_BYTES - 15) + b'"}'
    app = FastAPI()

    @app.get(TRIVIAL_PATH)
    async def trivial() -> Response:
        return Response(body, media_type="application/json")

    return app


def start_trivial(port: int, args: argparse.Namespace, data: Path) -> subprocess.Popen[bytes]:
    workers = args.serve_option[args.serve_option.index("--workers") + 1] if "--workers" in args.serve_option else "1"
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "--factory", "load:trivial_app"]
    command += ["--host", LOOPBACK, "--port", str(port), "--workers", workers, "--http", "httptools"]
    command += ["--log-level", "warning", "--no-access-log"]
    print(f"peer: {' '.join(command)}", file=sys.stderr)
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(data / "load-trivial.log").open("wb"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("the trivial server did not start within 60 s")


async def run_trivial(args: argparse.Namespace, tokens: list[str], data: Path, label: str) -> None:
    port = free_port()
    server = start_trivial(port, args, data)
    try:
        trivial_args = argparse.Namespace(**{**vars(args), "server_pid": server.pid})
        mix = [("trivial 40 KB", [TRIVIAL_PATH], 1.0)]
        await phase("warm-up", port, tokens, mix, argparse.Namespace(**{**vars(trivial_args), "seconds": 2}))
        report(await phase(label, port, tokens, mix, trivial_args))
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="data directory holding (or to hold) the index")
    parser.add_argument("--corpus", type=Path, help="JSON Lines corpus: imported if DIR has no index; query values")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each phase (default 20)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="most requests per phase")
    parser.add_argument("--phases", nargs="+", default=["core", "search", "mixed"], choices=["core", "search", "mixed"])
    parser.add_argument("--serve-option", action="append", default=[], help="extra 'shoal serve' argument")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer", action="store_true", help="also load a trivial FastAPI app (40 KB), before and after")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 512 or not 0 < args.seconds <= MAX_SECONDS or args.max_requests < 1:
        parser.error(f"--clients 1–512, --seconds up to {MAX_SECONDS}, --max-requests ≥ 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    ensure_index(data, args.corpus)
    plan = make_plan(sample_targets(args.corpus, data), random.Random(args.seed))

    from shoal.tokens import ID_LENGTH, TokenStore, hash_token

    store = TokenStore(data)
    tokens = [store.create(f"load-{n}", enterprise=True) for n in range(-(-args.clients // CLIENTS_PER_TOKEN))]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(f"\n## load: {args.clients} clients, {os.cpu_count()} cores, data {data}; load average {load_average()}")
    if args.peer:
        runner(run_trivial(args, tokens, data, "trivial (before)"))
    port = free_port()
    server = start_server(data, port, args)
    args.server_pid = server.pid
    try:
        runner(run(args, plan, tokens, port))
        print(f"server memory after the run: {memory_mib(server.pid)}", flush=True)
    finally:
        stop(server)
        if args.peer:
            runner(run_trivial(args, tokens, data, "trivial (after)"))
        print(f"load average at the end: {load_average()}")
        for token in tokens:
            store.revoke(hash_token(token)[:ID_LENGTH])
    return 0


if __name__ == "__main__":
    sys.exit(main())
