"""The second hostile round's attacks (issue 22), as phases of ``bench/abuse.py``: each prints a markdown table.

- **ct**: ``shoal ct follow --once`` against a log that attacks it (``tests/ct/hostile_log.py``): answers of
  600 MB, a 10 MB gzip bomb (≈ 10 GB inflated), 60 MB of ``{},``, answers just under 64 MiB, a trickle of a byte
  every 2 s, silence. Per case: exit status, seconds, peak resident memory, the message.
- **fair**: ``shoal serve --allow-anon``; 70 anonymous clients (each its own address) start exports they never
  read and start them again when refused or cut; meanwhile an enterprise export's time to its first byte and a
  normal client's search latencies (p50, p99).
- **master**: ``shoal serve --workers 2``, its master killed with SIGKILL: how long its workers outlive it, and
  when a new ``shoal serve`` on the same port answers.
- **files**: ``shoal import`` of bad files: a gzip cut at two thirds, gzip on stdin, one line of ``--huge-items``
  items (the issue's 2,000,000-item line, scaled), a line just under the line cap with 200,000 items.
- **timeout**: heavy summaries asked with ``timeout=0.05`` on DIR's index: CPU the server spends on each after it
  answered 504 (DIR should hold 1M reports, as the issue's).

Every measured command runs with its address space capped (``MEMORY_CAP``) so that a version without the fixes
cannot take the machine's memory: a process stopped by the cap is reported as such. Loopback only.
"""

from __future__ import annotations

import gzip
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' protocol fixtures (the hostile CT log)

from tests.api.serving import closed, stalled_export, status_of  # noqa: E402
from tests.ct.hostile_log import HostileLog, hostile_log  # noqa: E402

BIN = Path(sys.executable).parent
SHOAL = str(BIN / "shoal")
MEMORY_CAP = 6 << 30  # bytes of address space a measured command may take
TICKS = os.sysconf("SC_CLK_TCK")
CT_CASES = ("huge", "bomb", "values", "fat", "trickle", "silent")
STALLERS = 70
EXPORT = "/v1/scan/protocols/export"
BLOCK = 200 + os.getpid() % 50  # 127.BLOCK.0.0/16: the anonymous clients' addresses


@dataclass
class Measured:
    status: int | str  # the exit status, or why there is none
    seconds: float
    peak: int  # bytes: the process's own high-water mark (VmHWM)
    stderr: str


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def measured(command: list[str], limit: float, stdin: bytes | None = None) -> Measured:
    """``command`` with its address space capped, killed after ``limit`` seconds; its VmHWM read until it ends."""
    with tempfile.TemporaryFile() as errors:
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            preexec_fn=capped,
        )
        if stdin is not None:
            threading.Thread(target=feed, args=(process, stdin), daemon=True).start()
        peak, killed = 0, False
        while process.poll() is None:
            peak = max(peak, high_water(process.pid))
            if time.monotonic() - started > limit:
                process.kill()
                killed = True
            time.sleep(0.02)
        seconds = time.monotonic() - started
        errors.seek(0)
        text = " ".join(errors.read().decode(errors="replace").split())
    status: int | str = f"killed at {limit:g} s" if killed else process.returncode
    if process.returncode != 0 and ("MemoryError" in text or "memory allocation" in text):
        status = f"out of memory at the {MEMORY_CAP >> 30} GiB cap"
    return Measured(status, seconds, peak, text)


def feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    with suppress(BrokenPipeError, OSError):
        assert process.stdin is not None
        process.stdin.write(data)
        process.stdin.close()


def high_water(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) << 10
    except OSError:
        pass
    return 0


def said(text: str, width: int = 110) -> str:
    """The last error line of a command's stderr, shortened for a table."""
    found = text[text.rfind("error:") :] if "error:" in text else text[-width:]
    return found[:width].replace("|", "/")


def mib(count: int) -> str:
    return f"{count / (1 << 20):,.0f}"


# -- ct -------------------------------------------------------------------------------------------------


def ct_phase(work: Path) -> None:
    print("## ct follow against a hostile log\n")
    print("| answer | exit | seconds | peak RSS MiB | what it said |\n|---|---|---:|---:|---|")
    for mode in CT_CASES:
        data = work / f"ct-{mode}"
        with hostile_log(HostileLog(mode, tree_size=2048), "127.0.0.1") as url:
            result = measured([SHOAL, "ct", "follow", url, "--once", "--rate", "100/s", "--data", str(data)], 120)
        print(f"| {mode} | {result.status} | {result.seconds:.1f} | {mib(result.peak)} | {said(result.stderr)} |")
    print()


# -- fair ------------------------------------------------------------------------------------------------


def fair_phase(server: object, enterprise: str, normal: str, seconds: float) -> None:
    port = server.port  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    addresses = [f"127.{BLOCK}.{n // 250}.{n % 250 + 1}" for n in range(STALLERS)]
    anonymous = {"Authorization": "Bearer anon"}
    connections = {address: stalled_export(port, EXPORT, anonymous, address) for address in addresses}
    retries = 0

    def keep_retrying() -> None:
        nonlocal retries
        while not stop.wait(0.2):
            for address, connection in list(connections.items()):
                if status_of(connection) == 429 or closed(connection):
                    connection.close()
                    connections[address] = stalled_export(port, EXPORT, anonymous, address)
                    retries += 1

    retrier = threading.Thread(target=keep_retrying, daemon=True)
    retrier.start()
    time.sleep(3)
    held = sum(status_of(connection) == 200 for connection in connections.values())
    starts = []
    for _ in range(5):
        started = time.monotonic()
        try:
            with httpx.stream(
                "GET", f"{base}{EXPORT}", headers={"Authorization": f"Bearer {enterprise}"}, timeout=60
            ) as export:
                if export.status_code == 200:
                    next(export.iter_raw())  # the first byte
                starts.append(f"{export.status_code} in {time.monotonic() - started:.2f} s")
        except httpx.HTTPError as exc:
            starts.append(type(exc).__name__)
    latencies, errors = normal_client(base, normal, seconds)
    stop.set()
    retrier.join()
    for connection in connections.values():
        connection.close()
    print(f"## fair: {STALLERS} anonymous exports that are never read, each client retrying when refused or cut\n")
    print("| measure | result |\n|---|---|")
    print(f"| anonymous exports streaming (held) after 3 s | {held} |")
    print(f"| an enterprise export (5 tries): status, time to its first byte | {'; '.join(starts)} |")
    print(f"| anonymous retries meanwhile | {retries} |")
    print(
        f"| a normal client's searches over {seconds:g} s: count, p50, p99 ms, errors | {len(latencies)},"
        f" {percentile(latencies, 0.5):.1f}, {percentile(latencies, 0.99):.1f}, {errors} |\n"
    )


def normal_client(base: str, token: str, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                ok = client.get("/v1/scan/protocols", params={"expression": "port-tcp:443"}).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
            time.sleep(0.02)
    return latencies, errors


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# -- master ------------------------------------------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def master_phase(start: Callable[..., object], data: Path) -> None:
    server = start(data, "--workers", "2")
    pid = server.process.pid  # type: ignore[attr-defined]
    port = server.port  # type: ignore[attr-defined]
    workers = [int(worker) for worker in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    os.kill(pid, signal.SIGKILL)
    server.process.wait()  # type: ignore[attr-defined]
    killed = time.monotonic()
    while any(alive(worker) for worker in workers) and time.monotonic() - killed < 30:
        time.sleep(0.05)
    outlived = time.monotonic() - killed
    left = [worker for worker in workers if alive(worker)]
    restart = subprocess.run(  # what a user does next; with workers left over it cannot listen
        [SHOAL, "serve", "--data", str(data), "--port", str(port)], capture_output=True, text=True, timeout=20
    ) if left else None  # fmt: skip
    for worker in left:
        os.kill(worker, signal.SIGKILL)  # the runner frees the port itself, for the measure below
    began = time.monotonic()
    again = start(data, "--workers", "2", port=port)
    recovered = time.monotonic() - began
    again.stop()  # type: ignore[attr-defined]
    print("## master: `shoal serve --workers 2`, its master killed with SIGKILL\n")
    print("| measure | result |\n|---|---|")
    print(f"| workers | {len(workers)} |")
    print(
        f"| workers still serving {outlived:.1f} s after the kill | {len(left)}"
        f"{' (killed by the runner)' if left else ''} |"
    )
    if restart is not None:
        print(f"| a new `shoal serve` on the same port, workers still there | {said(restart.stderr)} |")
    print(f"| a new `shoal serve` on the same port answering, after | {recovered:.1f} s |\n")


# -- files -------------------------------------------------------------------------------------------------


def files_phase(work: Path, huge_items: int) -> None:
    lines = [orjson.dumps(report) + b"\n" for report in generated(20_000)]
    whole = gzip.compress(b"".join(lines))
    cut = work / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    complete = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(cut.read_bytes()).count(b"\n")
    target = {"type": "ip", "value": "192.0.2.1", "context": "", "is_metadata": True}
    many = {"date": "2026-11-01", "items": [target] + [{"type": "x", "value": "y" * 40}] * huge_items}
    (work / "many.jsonl").write_bytes(orjson.dumps(many) + b"\n")
    under = {"date": "2026-11-01", "items": [target] + [{"type": "x", "value": "y"}] * 200_000}
    (work / "under.jsonl").write_bytes(orjson.dumps(under) + b"\n")
    cases = [
        ("a gzip cut at 2/3", [str(cut)], None, f"{complete:,} complete lines"),
        ("gzip on stdin (20,000 reports)", ["-"], whole, "20,000 reports"),
        (f"one line of {huge_items:,} items ({mib(len(orjson.dumps(many)))} MiB)", [str(work / "many.jsonl")], None,
         "rejected (over the 16 MiB a line may hold)"),
        ("one line of 200,000 items (under the line cap)", [str(work / "under.jsonl")], None, "rejected (items)"),
    ]  # fmt: skip
    print("## files: `shoal import` of bad files\n")
    print(
        "| file | exit | seconds | peak RSS MiB | stored | expected | what it said |\n|---|---|---:|---:|---:|---|---|"
    )
    for name, arguments, stdin, expected in cases:
        data = work / f"data-{len(name)}-{time.monotonic_ns()}"
        result = measured([SHOAL, "import", "--data", str(data), *arguments], 600, stdin)
        print(
            f"| {name} | {result.status} | {result.seconds:.1f} | {mib(result.peak)} | {stored(data)} | {expected} |"
            f" {said(result.stderr)} |"
        )
    print()


def generated(count: int) -> list[dict[str, object]]:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    return list(generate(count, 22))


def stored(data: Path) -> str:
    done = subprocess.run([SHOAL, "count", "--data", str(data), ""], capture_output=True, text=True, check=False)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else "—"


# -- timeout -------------------------------------------------------------------------------------------------

HEAVY = [
    {"summarize": "ip", "summary_limit": "1000000", "most_recent": "true", "expression": "not port-tcp:1"},
    {"summarize": "http-header", "summary_limit": "1000000", "expression": "not port-tcp:1"},
    {"summarize": "host", "summary_limit": "1000000", "most_recent": "true"},
    {"most_recent": "true", "expression": "not port-tcp:1", "page": "99"},
]


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def timeout_phase(server: object, token: str) -> None:
    base = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    pid = server.process.pid  # type: ignore[attr-defined]
    print("## timeout: heavy queries asked with timeout=0.05\n")
    print("| query | answer | answered after s | server CPU-s for it | the same without a timeout: s |")
    print("|---|---|---:|---:|---:|")
    for params in HEAVY:
        time.sleep(1)
        before = cpu_of(pid)
        started = time.monotonic()
        answer = httpx.get(
            f"{base}/v1/scan/protocols",
            params={**params, "timeout": "0.05"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        answered = time.monotonic() - started
        last = cpu_of(pid)
        while True:  # until the server stops working on it
            time.sleep(0.5)
            now = cpu_of(pid)
            if now - last < 0.02:
                break
            last = now
        spent = cpu_of(pid) - before
        started = time.monotonic()
        httpx.get(f"{base}/v1/scan/protocols", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=600)
        whole = time.monotonic() - started
        shown = "&".join(f"{key}={value}" for key, value in params.items())
        print(f"| `{shown}` | {answer.status_code} | {answered:.2f} | {spent:.2f} | {whole:.2f} |")
    print()
