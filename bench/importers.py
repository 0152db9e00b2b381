#!/usr/bin/env python3
"""Importer, DNS and CT benchmarks, each beside its floor in the same run (medians, interleaved).

    python bench/importers.py [--records 100000] [--addresses 5000] [--entries 5000] [--runs 3] [--only zgrab2,...]

- **zgrab2**: ``--records`` generated zgrab2 lines (http with headers, a body and one of 2,000 certificates,
  ssh, ftp, redis, tls, mixed), imported with ``shoal import`` (a subprocess: the whole command) into a fresh
  data directory; the floor is ``orjson.loads`` of every line in one process.
- **nmap**: an nmap ``-oX`` document of ``--records`` probed open ports (4 per host), ``shoal import``; the floor
  is ``defusedxml`` ``iterparse`` over the file.
- **DNS**: Debian's unbound (root, 127.77.0.53) serving ``--addresses`` PTR records and their zone; the
  collector's ``reverse`` (PTR, A, AAAA, NS of the zone) of every address, rate limit off; the floor is one
  PTR query per address with dnspython, as many in flight (256).
- **CT**: the test log (tests/ct/log_server.py) with ``--entries`` entries; ``follow`` into a fresh store
  (commits of 1,024 entries); the floor is decoding the same entries (``decode_entries``: leaf parsing and certificate
  items) without storing.

Not part of the test suite: run it by hand, from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import defusedxml.ElementTree as SafeTree
import dns.asyncquery
import dns.message
import dns.reversename
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.collect.certificates import subject_of, write_certificate  # noqa: E402
from tests.collect.dns_server import ZONE, unbound_config  # noqa: E402
from tests.ct.log_server import FixtureLog, serving  # noqa: E402

from shoal.collect.dns import DnsClient, ResolverSettings, reverse_all  # noqa: E402
from shoal.collect.scanner import run_event_loop  # noqa: E402
from shoal.ct.follow import LogClient, decode_entries, follow, log_base  # noqa: E402
from shoal.store.embedded import EmbeddedStore  # noqa: E402

SHOAL = [str(Path(sys.executable).parent / "shoal")]
DNS_IP, LOG_IP = "127.77.0.53", "127.77.1.1"
CERTIFICATES = 2_000  # distinct certificates in the zgrab2 corpus (each on ~22 lines)
T = "2026-11-26T10:00:00Z"


def median(times: Sequence[float]) -> float:
    return statistics.median(times)


def zgrab2_lines(count: int, certificates: list[str]) -> list[bytes]:
    rng = random.Random(1)
    lines = []
    for number in range(count):
        ip = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
        kind = rng.random()
        if kind < 0.6:
            tls = rng.random() < 0.35
            headers = {
                "server": [rng.choice(["nginx/1.22.1", "Apache/2.4.57 (Debian)", "Microsoft-IIS/10.0"])],
                "content_type": ["text/html; charset=utf-8"],
                "date": ["Wed, 26 Nov 2026 10:00:00 GMT"],
                "unknown": [{"key": "x_powered_by", "value": ["PHP/8.2"]}],
            }
            text = "x" * rng.randint(200, 1500)
            body = f"<html><head><title>Site {number % 997}</title></head><body>{text}</body></html>"
            request: dict[str, object] = {"url": {"scheme": "https" if tls else "http", "host": ip, "path": "/"}}
            if tls:
                request["tls_log"] = {
                    "handshake_log": {"server_certificates": {"certificate": {"raw": rng.choice(certificates)}}}
                }
            response = {
                "status_line": "200 OK",
                "status_code": 200,
                "protocol": {"name": "HTTP/1.1"},
                "headers": headers,
                "body": body,
                "request": request,
            }
            data = {
                "http": {
                    "status": "success",
                    "protocol": "http",
                    "port": 443 if tls else 80,
                    "result": {"response": response},
                    "timestamp": T,
                }
            }
        elif kind < 0.8:
            result = {
                "server_id": {"raw": "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"},
                "key_exchange": {"server_host_key": {"algorithm": "ssh-ed25519", "fingerprint_sha256": "ab" * 32}},
            }
            data = {"ssh": {"status": "success", "protocol": "ssh", "port": 22, "result": result, "timestamp": T}}
        elif kind < 0.9:
            data = {
                "ftp": {
                    "status": "success",
                    "protocol": "ftp",
                    "port": 21,
                    "result": {"banner": "220 (vsFTPd 3.0.3)\r\n"},
                    "timestamp": T,
                },
                "redis": {
                    "status": "success",
                    "protocol": "redis",
                    "port": 6379,
                    "result": {"version": "7.0.15"},
                    "timestamp": T,
                },
            }
        else:
            data = {
                "tls": {
                    "status": "success",
                    "protocol": "tls",
                    "port": 8443,
                    "result": {
                        "handshake_log": {
                            "server_hello": {
                                "version": {"name": "TLSv1.3"},
                                "cipher_suite": {"name": "TLS_AES_128_GCM_SHA256"},
                            },
                            "server_certificates": {"certificate": {"raw": rng.choice(certificates)}},
                        }
                    },
                    "timestamp": T,
                }
            }
        lines.append(orjson.dumps({"ip": ip, "data": data}))
    return lines


NMAP_PORT = (
    '<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack" reason_ttl="64"/>'
    '<service name="{name}" product="{product}" version="{version}" method="probed" conf="10">'
    "<cpe>cpe:/a:{cpe}</cpe></service>{scripts}</port>\n"
)
SERVICES = [
    (
        22,
        "ssh",
        "OpenSSH",
        "9.2p1 Debian 2+deb12u3",
        "openbsd:openssh:9.2p1",
        '<script id="banner" output="SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"/>',
    ),
    (
        80,
        "http",
        "nginx",
        "1.22.1",
        "igor_sysoev:nginx:1.22.1",
        '<script id="http-title" output="Welcome"><elem key="title">Welcome</elem></script>'
        '<script id="http-server-header" output="nginx/1.22.1"><elem>nginx/1.22.1</elem></script>',
    ),
    (25, "smtp", "Postfix smtpd", "", "postfix:postfix", ""),
    (3306, "mysql", "MySQL", "8.0.36", "mysql:mysql:8.0.36", ""),
]


def nmap_document(records: int) -> bytes:
    hosts = []
    for number in range(records // len(SERVICES)):
        ip = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
        ports = "".join(
            NMAP_PORT.format(port=port, name=name, product=product, version=version, cpe=cpe, scripts=scripts)
            for port, name, product, version, cpe, scripts in SERVICES
        )
        hosts.append(
            f'<host starttime="1796112075" endtime="1796112080"><status state="up" reason="syn-ack"/>\n'
            f'<address addr="{ip}" addrtype="ipv4"/>\n<hostnames>\n'
            f'<hostname name="host-{number}.example.net" type="PTR"/>\n</hostnames>\n<ports>{ports}</ports>\n</host>\n'
        )
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" start="1796112074">\n'
    return (head + "".join(hosts) + "</nmaprun>\n").encode()


def shoal_import(path: Path) -> float:
    folder = Path(tempfile.mkdtemp(prefix="shoal-bench-import-"))
    try:
        started = time.perf_counter()
        result = subprocess.run([*SHOAL, "import", str(path), "--data", str(folder)], capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(result.stderr[-2000:])
        print(f"    {result.stdout.strip()}", flush=True)
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def orjson_floor(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as lines:
        for line in lines:
            orjson.loads(line)
    return time.perf_counter() - started


def xml_floor(path: Path) -> float:
    started = time.perf_counter()
    for _, element in SafeTree.iterparse(str(path), events=("end",)):
        if element.tag == "host":
            element.clear()
    return time.perf_counter() - started


def interleaved(runs: int, *measures: Callable[[], float]) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for slot, measure in enumerate(measures):
            times[slot].append(measure())
    return times


def bench_file(name: str, path: Path, records: int, floor: Callable[[Path], float], runs: int) -> str:
    print(f"{name}: {records:,} records, {path.stat().st_size / 2**20:.1f} MiB", flush=True)
    shoal_times, floor_times = interleaved(runs, lambda: shoal_import(path), lambda: floor(path))
    shoal_rate, floor_rate = records / median(shoal_times), records / median(floor_times)
    return (
        f"| {name} import, {records:,} records | {shoal_rate:,.0f} records/s ({median(shoal_times):.1f} s) | "
        f"{floor_rate:,.0f} records/s ({median(floor_times):.2f} s) | {floor_rate / shoal_rate:.1f}× |"
    )


def bench_dns(addresses: int, runs: int, folder: Path) -> str:
    unbound = shutil.which("unbound") or "/usr/sbin/unbound"
    ips = [f"127.78.{number >> 8 & 255}.{number & 255}" for number in range(addresses)]
    ptr = {ip: f"host-{number}.{ZONE}" for number, ip in enumerate(ips)}
    forward = {name: [f"A {ip}"] for ip, name in ptr.items()}
    config = unbound_config(folder, DNS_IP, 53, forward, ptr)
    server = subprocess.Popen([unbound, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        settings = ResolverSettings(DNS_IP, 53, timeout=2.0, retries=2, rate=1e9)
        day = dt.date(2026, 12, 1)

        def collector() -> float:
            client = DnsClient(settings)
            started = time.perf_counter()
            lookups = run_event_loop(reverse_all(client, ips, day))
            elapsed = time.perf_counter() - started
            assert sum(bool(lookup.names) for lookup in lookups) == addresses, "unanswered lookups"
            collector.queries = client.stats.queries  # type: ignore[attr-defined]
            return elapsed

        def floor() -> float:
            async def all_ptr() -> None:
                slots = asyncio.Semaphore(256)

                async def one(ip: str) -> None:
                    async with slots:
                        await dns.asyncquery.udp(
                            dns.message.make_query(dns.reversename.from_address(ip), "PTR"), DNS_IP, 2.0
                        )

                await asyncio.gather(*(one(ip) for ip in ips))

            started = time.perf_counter()
            run_event_loop(all_ptr())
            return time.perf_counter() - started

        collector_times, floor_times = interleaved(runs, collector, floor)
    finally:
        server.terminate()
        server.wait()
    queries = collector.queries  # type: ignore[attr-defined]
    lookup_rate = addresses / median(collector_times)
    query_rate = queries / median(collector_times)
    floor_rate = addresses / median(floor_times)
    return (
        f"| DNS reverse lookups (PTR + A/AAAA + zone NS), {addresses:,} addresses, unbound on loopback | "
        f"{lookup_rate:,.0f} lookups/s = {query_rate:,.0f} queries/s ({queries / addresses:.1f} per lookup) | "
        f"{floor_rate:,.0f} bare PTR queries/s (dnspython) | {floor_rate / query_rate:.1f}× per query |"
    )


def bench_ct(entries: int, runs: int) -> str:
    log = FixtureLog(entries)
    with serving(log, LOG_IP) as url:
        base = log_base(url)

        def shoal_follow() -> float:
            folder = Path(tempfile.mkdtemp(prefix="shoal-bench-ct-"))
            store = EmbeddedStore(folder)
            client = LogClient(base, rate=1e9)
            try:
                started = time.perf_counter()
                result = follow(store, folder, client)
                elapsed = time.perf_counter() - started
                assert result.totals.imported == entries
                return elapsed
            finally:
                client.close()
                store.close()
                shutil.rmtree(folder, ignore_errors=True)

        def floor() -> float:
            started = time.perf_counter()
            decode_entries(base, 0, log.entries)
            return time.perf_counter() - started

        follow_times, floor_times = interleaved(runs, shoal_follow, floor)
    follow_rate, floor_rate = entries / median(follow_times), entries / median(floor_times)
    return (
        f"| `shoal ct follow`, {entries:,} entries from the test log on loopback | {follow_rate:,.0f} entries/s "
        f"({median(follow_times):.1f} s) | {floor_rate:,.0f} entries/s decoded, not stored | "
        f"{floor_rate / follow_rate:.1f}× |"
    )


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--addresses", type=int, default=5_000)
    parser.add_argument("--entries", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="zgrab2,nmap,dns,ct")
    options = parser.parse_args(argv)
    wanted = set(options.only.split(","))
    folder = Path(tempfile.mkdtemp(prefix="shoal-bench-importers-"))
    rows = []
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    try:
        if "zgrab2" in wanted:
            certificates = []
            for number in range(CERTIFICATES):
                _, _, der = write_certificate(
                    folder, f"c{number}", subject_of(f"site{number}.example.net"), (f"site{number}.example.net",)
                )
                certificates.append(base64.b64encode(der).decode())
            path = folder / "zgrab2.jsonl"
            path.write_bytes(b"\n".join(zgrab2_lines(options.records, certificates)) + b"\n")
            rows.append(bench_file("zgrab2", path, options.records, orjson_floor, options.runs))
        if "nmap" in wanted:
            path = folder / "nmap.xml"
            path.write_bytes(nmap_document(options.records))
            rows.append(bench_file("nmap", path, options.records, xml_floor, options.runs))
        if "dns" in wanted:
            rows.append(bench_dns(options.addresses, options.runs, folder))
        if "ct" in wanted:
            rows.append(bench_ct(options.entries, options.runs))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{machine()} (after)\n")
    print("| measure | Shoal (median) | floor, same run (median) | floor ÷ Shoal |\n|---|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
