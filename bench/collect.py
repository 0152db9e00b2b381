#!/usr/bin/env python3
"""Collector benchmark, loopback only: port discovery connects/s, identification services/s, and the
identification latency of client-first protocols on their usual ports.

    python bench/collect.py [--addresses 1000] [--runs 5] [--latency-runs 50] [--peer DIR]   (as root: ports < 1024)

A second process (this script with ``--serve``) opens the listeners: ``--addresses`` loopback addresses
(127.52.0.0/16) × five services on their usual ports (SSH, FTP's banner, HTTP, Redis, MQTT: what the
collector identifies by far most often), plus one each of TLS, PostgreSQL, Modbus, SSH and HTTP for the latency
runs. The SSH listeners answer as OpenSSH does as far as a collector may go: the identification line, a KEXINIT
offering three host key types (RSA, ECDSA, Ed25519), and a key exchange reply carrying the key asked for. The HTTP
listeners serve a page and a 1 KiB ``/favicon.ico``. The listener process runs on uvloop on one core while the
collector runs on the other. Every address and port scanned is one this script opened.

Each scan runs in a process of its own (``--scan``). ``--peer DIR`` measures the collector of another checkout
(DIR/src, e.g. main) in the same run, interleaved with this one's, against the same listeners: the table gives
both, their ratio, and the connections each spent per service. Then each protocol alone (every listener of one
port): the collector's CPU time per identified service, interleaved the same way. Not part of the test suite: run
it by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import ipaddress
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.probes import modbus, mqtt
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.model import Report

NETWORK = ipaddress.ip_network("127.52.0.0/16")
SERVICE_PORTS = (22, 21, 80, 6379, 1883)
LATENCY_IP = "127.53.0.1"
LATENCY_PORTS = {"http": 80, "tls": 443, "redis": 6379, "postgres": 5432, "mqtt": 1883, "modbus": 502, "ssh": 22}
SETTINGS = ScanSettings(rate=1e6, concurrency=512, per_host=16, timeouts=Timeouts(3.0, 1.0, 5.0), jarm=False)
POLICY = ScanPolicy(allow=(NETWORK, ipaddress.ip_network(f"{LATENCY_IP}/32")), max_rate=1e6)
HTTP_ANSWER = b"HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Length: 31\r\n\r\n<html><title>bench</title></html>"
ICON = bytes(range(256)) * 4
ICON_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: image/x-icon\r\nContent-Length: %d\r\n\r\n%s" % (len(ICON), ICON)
SSH_LINE = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
REDIS_INFO = b"# Server\r\nredis_version:7.0.15\r\n"
REDIS_ANSWER = b"$%d\r\n%s\r\n" % (len(REDIS_INFO), REDIS_INFO)
PG_ERROR = b"SFATAL\x00VFATAL\x00C0A000\x00Munsupported frontend protocol 1234.5679: server supports 3.0 to 3.0\x00\x00"
MODBUS_ANSWER = b"\x2b\x0e\x01\x01\x00\x00\x01\x00\x05bench"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


# -- the listener process ------------------------------------------------------------------------------------


def banner_service(banner: bytes) -> Handler:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner)
        await reader.read(1024)  # FTP's QUIT, or the client hanging up

    return serve


def answering(request_end: bytes, answer: bytes) -> Handler:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(request_end)
        writer.write(answer)
        await writer.drain()
        await reader.read(1024)

    return serve


async def http_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    writer.write(ICON_ANSWER if request.startswith(b"GET /favicon.ico ") else HTTP_ANSWER)
    await writer.drain()
    await reader.read(1024)


def ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def ssh_packet(payload: bytes) -> bytes:
    padding = 8 - (len(payload) + 5) % 8
    padding += 8 if padding < 4 else 0
    return (len(payload) + padding + 1).to_bytes(4, "big") + bytes((padding,)) + payload + bytes(padding)


def host_key_blobs() -> dict[str, bytes]:
    """Public host keys in SSH's wire format, by the host key algorithm a client asks for."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    keys = {
        "rsa-sha2-512": rsa.generate_private_key(65537, 2048),
        "ecdsa-sha2-nistp256": ec.generate_private_key(ec.SECP256R1()),
        "ssh-ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    return {
        name: base64.b64decode(key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).split()[1])
        for name, key in keys.items()
    }


def ssh_service(blobs: dict[str, bytes]) -> Handler:
    """OpenSSH as far as a collector goes: the line, a KEXINIT, and the reply to a key exchange with the host key
    the client's KEXINIT asked for (a signature of zeros: a collector does not verify it)."""
    lists = [
        "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
        ",".join(blobs),
        *["aes128-ctr,aes256-gcm@openssh.com"] * 2,
        *["hmac-sha2-256"] * 2,
        *["none"] * 2,
        "",
        "",
    ]
    kexinit = ssh_packet(b"\x14" + bytes(16) + b"".join(ssh_string(name.encode()) for name in lists) + bytes(5))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSH_LINE)
        if not await reader.readline():  # a collector that only reads the line hangs up here
            return
        writer.write(kexinit)
        payloads = []
        while len(payloads) < 2:  # the client's KEXINIT and its key exchange message
            length = int.from_bytes(await reader.readexactly(4), "big")
            packet = await reader.readexactly(length)
            payloads.append(packet[1 : length - packet[0]])
        offered = payloads[0][17:]
        kex_length = int.from_bytes(offered[:4], "big")
        host_key_length = int.from_bytes(offered[4 + kex_length : 8 + kex_length], "big")
        asked = offered[8 + kex_length : 8 + kex_length + host_key_length].decode().split(",")[0]
        reply = b"\x1f" + ssh_string(blobs[asked]) + ssh_string(bytes(32)) + ssh_string(bytes(83))
        writer.write(ssh_packet(reply))
        await writer.drain()
        await reader.read(1024)

    return serve


async def postgres_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    for answer in (b"N", b"E" + (4 + len(PG_ERROR)).to_bytes(4, "big") + PG_ERROR):
        await reader.readexactly(8)
        writer.write(answer)
    await reader.read(1024)


async def modbus_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readexactly(len(modbus.REQUEST))
    writer.write(request[:4] + (1 + len(MODBUS_ANSWER)).to_bytes(2, "big") + request[6:7] + MODBUS_ANSWER)
    await reader.read(1024)


def closing(handler: Handler) -> Handler:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError):
            pass  # ValueError: bytes that are not the protocol (a client-first probe sent to a slow listener)
        finally:
            writer.transport.abort()

    return serve


def tls_context(folder: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.example")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "bench.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "bench.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "bench.crt", folder / "bench.key")
    return context


async def serve(addresses: int) -> None:
    services = {
        22: ssh_service(host_key_blobs()),
        21: banner_service(b"220 (vsFTPd 3.0.3)\r\n"),
        80: http_service,
        6379: answering(b"server\r\n", REDIS_ANSWER),
        1883: answering(mqtt.CLIENT_ID, b"\x20\x02\x00\x00"),
    }
    servers = []
    for ip in [str(address) for _, address in zip(range(addresses), NETWORK.hosts(), strict=False)]:
        for port, handler in services.items():
            servers.append(await asyncio.start_server(closing(handler), ip, port, backlog=1024))
    with tempfile.TemporaryDirectory() as folder:
        context = tls_context(Path(folder))
        latency = {
            "http": (services[80], None),
            "tls": (answering(b"\r\n\r\n", HTTP_ANSWER), context),
            "redis": (services[6379], None),
            "postgres": (postgres_service, None),
            "mqtt": (services[1883], None),
            "modbus": (modbus_service, None),
            "ssh": (services[22], None),
        }
        for name, (handler, tls) in latency.items():
            servers.append(await asyncio.start_server(closing(handler), LATENCY_IP, LATENCY_PORTS[name], ssl=tls))
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


# -- the collector side --------------------------------------------------------------------------------------


class CountingSink:
    def __init__(self) -> None:
        self.open_ports = 0
        self.protocols: dict[str, int] = {}

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open_ports += 1

    def closed_port(self, ip: str, port: int) -> None:
        pass  # a connect that failed: the open ports counted fall short, which stops the measure

    def report(self, report: Report) -> None:
        protocol = report.items[2].context
        self.protocols[protocol] = self.protocols.get(protocol, 0) + 1


def scan_rate(addresses: int, identify: bool, ports: Sequence[int] = SERVICE_PORTS) -> dict[str, object]:
    """ip:ports per second over the listeners of ``ports`` (discovery only, or with identification): per second of
    wall time, and per second of this process's CPU time (what one free core would do, whatever else runs); the
    connections opened and the services identified."""
    sink = CountingSink()
    collector = Collector(POLICY, ScanSettings(**{**SETTINGS_FIELDS, "identify": identify}), sink)
    last = list(NETWORK.hosts())[addresses - 1]
    networks = list(ipaddress.summarize_address_range(next(NETWORK.hosts()), last))
    started, cpu_started = time.perf_counter(), time.process_time()
    stats = run_event_loop(collector.scan(networks, ports))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    expected = addresses * len(ports)
    if stats.open_ports != expected:
        raise SystemExit(f"expected {expected} open ports, found {stats.open_ports}: is the listener process up?")
    return {
        "wall": stats.tried / elapsed,
        "cpu": stats.tried / cpu,
        "connects": collector.connector.connects,
        "protocols": sink.protocols,
    }


SETTINGS_FIELDS = {name: getattr(SETTINGS, name) for name in SETTINGS.__slots__}
if os.environ.get("SHOAL_BENCH_NO_FOLLOW_UPS") and "follow_ups" in SETTINGS_FIELDS:  # --no-follow-ups
    SETTINGS_FIELDS["follow_ups"] = False


def latencies(runs: int) -> dict[str, list[float]]:
    """Milliseconds to discover and identify each service on its usual port, one at a time."""

    async def measure() -> dict[str, list[float]]:
        collector = Collector(POLICY, ScanSettings(**SETTINGS_FIELDS), CountingSink())
        results: dict[str, list[float]] = {}
        for name, port in LATENCY_PORTS.items():
            samples = []
            for _ in range(runs + 2):
                started = time.perf_counter()
                report = await collector.collect(LATENCY_IP, port)
                samples.append((time.perf_counter() - started) * 1000)
                if report is None or report.items[2].context not in (name, "https"):
                    raise SystemExit(f"{name} on port {port} was not identified: {report}")
            results[name] = samples[2:]  # two warm-ups
        return results

    return run_event_loop(measure())


def measured(checkout: Path, mode: str, args: argparse.Namespace, port: int | None = None) -> Any:
    """One measure (``discovery``, ``identify``, ``protocol`` — identify the listeners of ``port`` alone — or
    ``latency``) by the collector of ``checkout``, in a process of its own (its ``src`` first on the path)."""
    command = [sys.executable, __file__, "--scan", mode, "--addresses", str(args.addresses)]
    command += ["--latency-runs", str(args.latency_runs), *(["--port", str(port)] if port else [])]
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    if args.no_follow_ups:
        env["SHOAL_BENCH_NO_FOLLOW_UPS"] = "1"
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{mode} by {checkout} failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    return json.loads(done.stdout)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024**2
    return f"{os.cpu_count()} vCPU {model}, {memory:.1f} GiB, Python {platform.python_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the collector on loopback listeners it opens itself.")
    parser.add_argument("--addresses", type=int, default=1000, help="loopback addresses, 5 services each")
    parser.add_argument("--runs", type=int, default=5, help="timed scans of every listener, per measure")
    parser.add_argument("--latency-runs", type=int, default=50, help="timed identifications per protocol")
    parser.add_argument("--peer", type=Path, help="another checkout whose collector is measured, interleaved")
    parser.add_argument("--no-follow-ups", action="store_true", help="scan without follow-ups (where known)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scan", choices=("discovery", "identify", "protocol", "latency"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        run_event_loop(serve(args.addresses))
        return 0
    if args.scan:
        if args.scan == "latency":
            result: Any = latencies(args.latency_runs)
        elif args.scan == "protocol":
            result = scan_rate(args.addresses, True, (args.port,))
        else:
            result = scan_rate(args.addresses, args.scan == "identify")
        print(json.dumps(result))
        return 0
    checkouts = {"this": Path(__file__).resolve().parents[1], **({"peer": args.peer.resolve()} if args.peer else {})}
    listeners = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--addresses", str(args.addresses)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    modes = ("discovery", "identify", *(f"port {port}" for port in SERVICE_PORTS))
    results: Results = {(label, mode): [] for label in checkouts for mode in modes}
    try:
        assert listeners.stdout is not None
        if listeners.stdout.readline().strip() != "ready":
            raise SystemExit("the listener process did not start (run as root: it binds ports below 1024)")
        load = os.getloadavg()
        for run in range(args.runs):
            order = list(checkouts.items())[:: -1 if run % 2 else 1]  # interleaved, each first in turn
            for mode in ("discovery", "identify"):
                for label, checkout in order:
                    results[label, mode].append(measured(checkout, mode, args))
        for run in range(args.runs):
            order = list(checkouts.items())[:: -1 if run % 2 else 1]
            for port in SERVICE_PORTS:
                for label, checkout in order:
                    results[label, f"port {port}"].append(measured(checkout, "protocol", args, port))
        latency = {label: measured(checkout, "latency", args) for label, checkout in checkouts.items()}
        load_after = os.getloadavg()
    finally:
        listeners.communicate("", timeout=30)
    report(args, checkouts, results, latency, load, load_after)
    return 0


Results = dict[tuple[str, str], list[dict[str, Any]]]  # (checkout, measure) → one dict per run


def report(
    args: argparse.Namespace,
    checkouts: dict[str, Path],
    results: Results,
    latency: dict[str, dict[str, list[float]]],
    load: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    services = args.addresses * len(SERVICE_PORTS)
    print(f"date {dt.date.today()}; {machine()}; load average {load[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"listeners: {args.addresses} addresses x ports {SERVICE_PORTS} = {services}; {args.runs} runs each")
    print(f"checkouts: {', '.join(f'{label} = {path}' for label, path in checkouts.items())}\n")
    print("| measure | checkout | median /s (wall) | runs | median /s of collector CPU | connections per ip:port |")
    print("|---|---|---:|---|---:|---:|")
    for mode, label in ((mode, label) for mode in ("discovery", "identify") for label in checkouts):
        runs = results[label, mode]
        walls = [run["wall"] for run in runs]
        cpus = [run["cpu"] for run in runs]
        connects = statistics.median(run["connects"] for run in runs) / services
        runs_text = ", ".join(f"{wall:,.0f}" for wall in walls)
        row = f"{statistics.median(walls):,.0f} | {runs_text} | {statistics.median(cpus):,.0f}"
        print(f"| {mode} | {label} | {row} | {connects:.2f} |")
    if "peer" in checkouts:
        for mode in ("discovery", "identify"):
            ratio = [
                this["cpu"] / peer["cpu"]
                for this, peer in zip(results["this", mode], results["peer", mode], strict=True)
            ]
            print(
                f"\n{mode}: CPU rate this/peer, per interleaved pair: {', '.join(f'{r:.2f}' for r in ratio)}"
                f" (median {statistics.median(ratio):.2f})"
            )
    for label in checkouts:
        print(f"\nprotocols identified in the last run ({label}): {results[label, 'identify'][-1]['protocols']}")
    print("\nEach protocol alone (discovery + identification), median µs of collector CPU per service:\n")
    print("| protocol (port) | " + " | ".join(f"{label} µs | connections" for label in checkouts) + " | ratio |")
    print("|---|" + "---:|---:|" * len(checkouts) + "---|")
    for port in SERVICE_PORTS:
        runs = {label: results[label, f"port {port}"] for label in checkouts}
        name = next(iter(runs["this"][-1]["protocols"]), "?")
        cells = [
            f"{1e6 / statistics.median(run['cpu'] for run in runs[label]):.0f} | "
            f"{statistics.median(run['connects'] for run in runs[label]) / args.addresses:.2f}"
            for label in checkouts
        ]
        ratio = (
            statistics.median(this["cpu"] / peer["cpu"] for this, peer in zip(runs["this"], runs["peer"], strict=True))
            if "peer" in runs
            else None
        )
        print(f"| {name} ({port}) | " + " | ".join(cells) + f" | {'—' if ratio is None else f'{ratio:.2f}'} |")
    print(
        "\n| protocol (usual port) | " + " | ".join(f"{label} median ms | {label} p95 ms" for label in checkouts) + " |"
    )
    print("|---|" + "---:|---:|" * len(checkouts))
    for name, port in LATENCY_PORTS.items():
        cells = []
        for label in checkouts:
            samples = latency[label].get(name)
            cells += (
                ["—", "—"]
                if not samples
                else [f"{statistics.median(samples):.2f}", f"{statistics.quantiles(samples, n=20)[-1]:.2f}"]
            )
        print(f"| {name} ({port}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
