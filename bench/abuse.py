#!/usr/bin/env python3
"""Abuse benchmark: ``shoal serve`` on loopback as a hostile client treats it; what a normal client still gets.

    python bench/abuse.py --data DIR [--idle 5000] [--seconds 20] [--stalled 400] [--links 20]
    python bench/abuse.py --data DIR --phases ct fair master files timeout     # issue 22's attacks

The second round's phases (ct, fair, master, files, timeout) are in ``bench/hostile.py``, its docstring says
what each does. To measure a version without the fixes, run the same script with ``PYTHONPATH`` naming that
version's ``src`` (the servers and commands it starts inherit it).

Three phases, each against a fresh ``shoal serve`` over DIR (an index with enough reports that an export is
far larger than the socket buffers, e.g. 100,000+; ``--corpus FILE`` imports one if DIR has none):

1. **idle** (``--workers 1``): ``--idle`` connections from 40 loopback addresses (127.77.0.1…) that send
   nothing, a tenth of them trickling a request head at 1 byte a second (slow loris); each is reopened as
   soon as the server closes it, so the server stays under that pressure for ``--seconds``. Meanwhile one
   normal client (in this process; the attack runs in another) sends sequential ``/v1/scan/protocols``
   searches. Reported: the normal client's p50/p99 and
   errors, first without the attack (same run, same server), then under it; connections held; closes.
2. **stalled** (``--workers 1``): ``--stalled`` exports started by clients that never read (a 4 KiB receive
   buffer), five per token (the slot limit), then the server's memory: before, while they are held, once
   the server has cut them off (``--send-timeout``), and after the clients have closed.
3. **links** (``--workers 2``): ``--links`` times, a link from ``export/link`` and its download on a new
   connection each (as a browser), counting the downloads that succeed.

Loopback only; every loop is bounded in count and time; the servers are stopped at the end. Not run by the
tests (``tests/api/test_connections.py`` and ``test_export_sharing.py`` hold the same checks, smaller).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
ATTACKERS = [f"127.77.{n // 250}.{n % 250 + 1}" for n in range(40)]
MAX_IDLE = 15_000
MAX_SECONDS = 120
SEARCH = "/v1/scan/protocols?expression=port-tcp%3A443"
TICKS = os.sysconf("SC_CLK_TCK")
PHASES = ("idle", "stalled", "links", "ct", "fair", "master", "files", "timeout")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def tool(name: str) -> str:
    return str(BIN / name)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *workers]

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            total += process_cpu(pid)
        return total

    def rss_mib(self) -> float:
        """Resident memory of the server and its worker processes (uvicorn's supervisor included)."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                continue
        return total / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> float:
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def start_server(data: Path, *options: str, files: int | None = None, port: int | None = None) -> Server:
    """``shoal serve`` on ``port`` (else a free one); ``files``: its open-file limit (soft and hard), e.g. to
    reach it."""
    port = port or free_port()
    command = [tool("shoal"), "serve", "--data", str(data), "--host", LOOPBACK, "--port", str(port), *options]

    def limit_files() -> None:
        if files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    log = (data / "abuse-serve.log").open("wb")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=limit_files)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited: see {data / 'abuse-serve.log'}")
        try:
            httpx.get(f"http://{LOOPBACK}:{port}/", timeout=1)
            return Server(process, port)
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    sys.exit("the server did not start within 120 s")


def tokens(data: Path, count: int) -> list[str]:
    from shoal.tokens import TokenStore

    store = TokenStore(data)
    return [store.create(f"abuse-{n}", enterprise=True) for n in range(count)]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# -- phase 1: idle and slow connections ------------------------------------------------------------------------


@dataclass
class Pressure:
    open: int = 0
    closed_by_server: int = 0
    refused: int = 0
    samples: list[int] = field(default_factory=list)


async def hold(port: int, source: str, slow: bool, pressure: Pressure, stop: float) -> None:
    """One idle (or slow-loris) connection, reopened whenever the server closes it, until ``stop``."""
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection(LOOPBACK, port, local_addr=(source, 0))
        except OSError:
            pressure.refused += 1
            await asyncio.sleep(0.5)
            continue
        pressure.open += 1
        try:
            if slow:
                await trickle(reader, writer, stop)
            else:
                await asyncio.wait_for(reader.read(4096), timeout=max(0.01, stop - time.monotonic()))
            pressure.closed_by_server += 1  # an end of file, or an answer (408, 429) before one
        except TimeoutError:
            pass  # still open when the phase ended
        except OSError:
            pressure.closed_by_server += 1
        finally:
            pressure.open -= 1
            writer.close()


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: float) -> None:
    """A request head, one byte a second, until the server answers or closes (TimeoutError at ``stop``)."""
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    for byte in head:
        writer.write(bytes([byte]))
        try:
            await asyncio.wait_for(reader.read(4096), timeout=1.0)
            return
        except TimeoutError:
            if time.monotonic() >= stop:
                raise
    raise TimeoutError


async def normal_client(port: int, token: str, seconds: float) -> tuple[list[float], int]:
    """Sequential searches on one keep-alive connection (reopened if closed): latencies in ms, errors."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=f"http://{LOOPBACK}:{port}", timeout=10) as client:
        while time.monotonic() < stop and len(latencies) + errors < 100_000:
            started = time.perf_counter()
            try:
                response = await client.get(SEARCH, headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 200:
                    errors += 1
                    continue
            except httpx.HTTPError:
                errors += 1
                await asyncio.sleep(0.05)
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
    return latencies, errors


async def sample(pressure: Pressure, stop: float) -> None:
    while time.monotonic() < stop:
        pressure.samples.append(pressure.open)
        await asyncio.sleep(0.5)


async def attack(port: int, idle: int, seconds: float) -> Pressure:
    """The hostile side: ``idle`` connections held (a tenth of them slow loris) for ``seconds``."""
    pressure = Pressure()
    stop = time.monotonic() + seconds
    holders = [
        asyncio.create_task(hold(port, ATTACKERS[n % len(ATTACKERS)], n % 10 == 0, pressure, stop)) for n in range(idle)
    ]
    await sample(pressure, stop)
    await asyncio.gather(*holders, return_exceptions=True)
    return pressure


def attacker(port: int, idle: int, seconds: float, results: multiprocessing.Queue) -> None:
    """In its own process, so that its event loop never delays the normal client's measurements."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    pressure = asyncio.run(attack(port, idle, seconds))
    results.put((pressure.samples, pressure.closed_by_server, pressure.refused))


async def measured(server: Server, token: str, seconds: float, hostile: int | None = None) -> dict[str, object]:
    """The normal client for ``seconds``, and the cores used meanwhile by the server, the attacker, the rest."""
    start = time.monotonic()
    cpu = (server.cpu_seconds(), process_cpu(hostile) if hostile else 0.0, process_cpu(os.getpid()), machine_busy())
    latencies, errors = await normal_client(server.port, token, seconds)
    wall = time.monotonic() - start
    after = (server.cpu_seconds(), process_cpu(hostile) if hostile else 0.0, process_cpu(os.getpid()), machine_busy())
    used = [(late - early) / wall for early, late in zip(cpu, after, strict=True)]
    return {
        "latencies": latencies,
        "errors": errors,
        "server": used[0],
        "attacker": used[1],
        "other": max(0.0, used[3] - used[0] - used[1] - used[2]),
    }


async def idle_phase(server: Server, token: str, idle: int, seconds: float) -> dict[str, object]:
    quiet = await measured(server, token, min(10.0, seconds))
    results: multiprocessing.Queue = multiprocessing.Queue()
    hostile = multiprocessing.Process(target=attacker, args=(server.port, idle, seconds + 8, results))
    hostile.start()
    await asyncio.sleep(5)  # let the connections pile up
    rss_held = server.rss_mib()
    loaded = await measured(server, token, seconds, hostile.pid)
    samples, closed, refused = await asyncio.to_thread(results.get, True, seconds + 120)
    await asyncio.to_thread(hostile.join, 30)
    held = samples[len(samples) // 5 :]  # after the pile-up
    return {
        "quiet": quiet,
        "loaded": loaded,
        "held_median": statistics.median(held) if held else 0,
        "held_min": min(held, default=0),
        "closed_by_server": closed,
        "refused": refused,
        "rss_held": rss_held,
    }


# -- phase 2: stalled exports ----------------------------------------------------------------------------------


def stalled_export(port: int, token: str) -> socket.socket:
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.connect((LOOPBACK, port))
    connection.sendall(
        f"GET /v1/scan/protocols/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    return connection


def status_of(connection: socket.socket) -> int:
    """The status of the response waiting in the receive buffer (0 if none yet), without reading it."""
    connection.setblocking(False)
    try:
        head = connection.recv(12, socket.MSG_PEEK)
    except OSError:
        return 0
    finally:
        connection.setblocking(True)
    return int(head[9:12]) if head.startswith(b"HTTP/1.1 ") and len(head) >= 12 else 0


def server_closed(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        while True:
            chunk = connection.recv(1 << 20)
            if not chunk:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def stalled_phase(server: Server, secrets: list[str], stalled: int, send_timeout: float) -> dict[str, object]:
    before = server.rss_mib()
    with ExitStack() as held:
        connections = []
        for n in range(stalled):
            connections.append(held.enter_context(stalled_export(server.port, secrets[n // 5])))
            if n % 50 == 49:
                time.sleep(0.2)
        time.sleep(3)
        during = server.rss_mib()
        answers = Counter(status_of(connection) for connection in connections)
        try:
            statuses: int | str = httpx.get(
                f"{server.base}{SEARCH}", headers={"Authorization": f"Bearer {secrets[0]}"}, timeout=60
            ).status_code
        except httpx.HTTPError as exc:
            statuses = type(exc).__name__
        time.sleep(send_timeout + 3)
        cut = sum(server_closed(connection) for connection in connections)
        after_cut = server.rss_mib()
    time.sleep(3)
    return {
        "before": before,
        "during": during,
        "answers": dict(sorted(answers.items())),
        "slots_while_held": statuses,
        "cut": cut,
        "after_cut": after_cut,
        "after_close": server.rss_mib(),
    }


# -- phase 3: export links across workers ------------------------------------------------------------------------


def links_phase(server: Server, secret: str, links: int) -> int:
    good = 0
    for _ in range(links):
        with httpx.Client(base_url=server.base, timeout=60) as browser:
            link = browser.post(
                "/v1/scan/protocols/export/link",
                params={"expression": "port-tcp:443", "format": "csv"},
                headers={"Authorization": f"Bearer {secret}"},
            )
        if link.status_code != 200:
            continue
        with httpx.Client(base_url=server.base, timeout=60) as browser:
            good += browser.get(link.json()["url"]).status_code == 200
    return good


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    return f"{os.cpu_count()} CPU {model}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="data directory holding (or to hold) the index")
    parser.add_argument("--corpus", type=Path, help="JSON Lines corpus imported if DIR has no index")
    parser.add_argument("--idle", type=int, default=5000, help="idle and slow connections held (default 5000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of the idle phase (default 20)")
    parser.add_argument("--stalled", type=int, default=400, help="stalled exports (default 400)")
    parser.add_argument("--send-timeout", type=float, default=10.0, help="the server's --send-timeout (default 10)")
    parser.add_argument("--links", type=int, default=20, help="export links downloaded (default 20)")
    parser.add_argument("--plain", action="store_true", help="no --send-timeout (to measure older versions)")
    parser.add_argument("--server-files", type=int, help="the idle phase's server open-file limit (default: as is)")
    parser.add_argument("--huge-items", type=int, default=400_000, help="items of the files phase's huge line")
    parser.add_argument("--fair-seconds", type=float, default=10.0, help="the fair phase's normal client, seconds")
    parser.add_argument("--phases", nargs="+", default=list(PHASES), choices=PHASES)
    args = parser.parse_args(argv)
    if not 0 < args.idle <= MAX_IDLE or not 0 < args.seconds <= MAX_SECONDS or not 0 < args.stalled <= 2000:
        parser.error(f"--idle is 1–{MAX_IDLE}, --seconds 1–{MAX_SECONDS}, --stalled 1–2000")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.idle + 100 > hard:
        sys.exit(f"the open-file limit ({hard}) is below --idle")
    if not (args.data / "index").is_dir():
        if args.corpus is None:
            sys.exit(f"{args.data} holds no index: give --corpus FILE")
        subprocess.run([tool("shoal"), "import", "--data", str(args.data), str(args.corpus)], check=True)
    secrets = tokens(args.data, max(1, -(-args.stalled // 5)) + 1)
    print(f"# bench/abuse.py — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}\n")
    if "idle" in args.phases:
        server = start_server(args.data, files=args.server_files)
        try:
            result = asyncio.run(idle_phase(server, secrets[-1], args.idle, args.seconds))
        finally:
            server.stop()
        limit = f", server open-file limit {args.server_files}" if args.server_files else ""
        print(
            f"## idle: {args.idle} connections (a tenth slow loris) from {len(ATTACKERS)} addresses,"
            f" {args.seconds:g} s{limit}\n"
        )
        print(
            "| normal client | searches | p50 ms | p90 ms | p99 ms | errors | server cores | attacker cores |"
            " other cores |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        )
        for name in ("quiet", "loaded"):
            phase_result = result[name]
            assert isinstance(phase_result, dict)
            values = phase_result["latencies"]
            print(
                f"| {'alone' if name == 'quiet' else 'under attack'} | {len(values)} | {percentile(values, 0.5):.1f}"
                f" | {percentile(values, 0.9):.1f} | {percentile(values, 0.99):.1f} | {phase_result['errors']}"
                f" | {phase_result['server']:.2f} | {phase_result['attacker']:.2f} | {phase_result['other']:.2f} |"
            )
        print(
            f"\nconnections held: median {result['held_median']:.0f}, min {result['held_min']}; closed by the"
            f" server {result['closed_by_server']}; connects refused {result['refused']};"
            f" server RSS {result['rss_held']:.0f} MiB\n"
        )
    if "stalled" in args.phases:
        options = [] if args.plain else ["--send-timeout", str(args.send_timeout)]
        server = start_server(args.data, *options)
        try:
            result = stalled_phase(server, secrets, args.stalled, args.send_timeout)
        finally:
            server.stop()
        print(
            f"## stalled: {args.stalled} exports that read nothing, 5 per token, --send-timeout {args.send_timeout:g}\n"
        )
        print("| moment | server RSS MiB |\n|---|---:|")
        for key, label in (("before", "before"), ("during", "held"), ("after_cut", "after the send timeout"),
                           ("after_close", "after the clients closed")):  # fmt: skip
            print(f"| {label} | {result[key]:.0f} |")
        print(
            f"\nanswers (status: exports): {result['answers']}; closed by the server: {result['cut']} of"
            f" {args.stalled}; a search by a token whose 5 exports stalled, while they were held:"
            f" {result['slots_while_held']}\n"
        )
    if "links" in args.phases:
        server = start_server(args.data, "--workers", "2")
        try:
            good = links_phase(server, secrets[-1], args.links)
        finally:
            server.stop()
        print(f"## links: export links with --workers 2: {good}/{args.links} downloads succeeded\n")
    second_round(args, secrets)
    return 0


def second_round(args: argparse.Namespace, secrets: list[str]) -> None:
    """Issue 22's phases (``bench/hostile.py``)."""
    import hostile

    with tempfile.TemporaryDirectory(prefix="shoal-abuse-") as folder:
        work = Path(folder)
        if "ct" in args.phases:
            hostile.ct_phase(work)
        if "fair" in args.phases:
            from shoal.tokens import TokenStore

            normal = TokenStore(args.data).create("abuse-normal")
            server = start_server(args.data, "--allow-anon")
            try:
                hostile.fair_phase(server, secrets[-1], normal, args.fair_seconds)
            finally:
                server.stop()
        if "master" in args.phases:
            hostile.master_phase(start_server, args.data)
        if "files" in args.phases:
            hostile.files_phase(work, args.huge_items)
        if "timeout" in args.phases:
            server = start_server(args.data)
            try:
                hostile.timeout_phase(server, secrets[-1])
            finally:
                server.stop()


if __name__ == "__main__":
    sys.exit(main())
