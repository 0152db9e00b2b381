#!/usr/bin/env python3
"""Shoal beside nmap -sV on every real daemon of the lab, TCP and UDP in one run: what each named, what Shoal
stored, the packets (datagrams) and connections each sent.

    python bench/fidelity.py [--only NAME,NAME] [--parallel 8] [--timing-runs 5]             (as root)
    python bench/fidelity.py --speed [--rounds 3] [--ports 1000] [--services 1000]          (as root)

Starts every daemon of the tests' lab (tests/collect/lab.py DAEMONS: the launchers the tests use, about half on
ports not their protocol's), a TCP one on its own 127.B.30.N, a UDP one on 127.B.40.N (address_of; 127.0.0.1 for
one that answers only from there), B from the process id, apart from the test suite's 127.51–150; strongSwan is
also scanned on IKE's NAT-T port. Then, one ip:port per invocation, `shoal scan` (its defaults but --no-dns) and
Debian's nmap (`-sS -sV` for TCP, `-sU -sV` for UDP), one tool after the other, while a packet tap on the loopback
interface counts the packets (datagrams) and connections (SYNs) each sends to each service. nmap's guesses from
its port table (method "table") do not count as identification. Prints one Markdown table and its totals
(docs/collector.md keeps them), then the in-process identification time of each service.

--speed: closed-port UDP discovery, Shoal against `nmap -sU` (no -sV) over the same --ports closed ports of an
address nothing listens on, interleaved, wall and CPU time; then Shoal's identification throughput, --services
DNS (unbound) and SNMP (snmpd) identifications at once, services/s and CPU per service.

Every address and port touched is one this script opened (with --speed, also the closed ports). Not part of the
test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import ipaddress
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import defusedxml.ElementTree as ElementTree
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.collect.lab import DAEMONS, UDP_DAEMONS, Daemon, address_of  # noqa: E402
from tests.collect.udp_daemons import IKE_NAT_T_PORT  # noqa: E402

from shoal.collect.connection import Timeouts  # noqa: E402
from shoal.collect.policy import ScanPolicy  # noqa: E402
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop  # noqa: E402
from shoal.model import Report  # noqa: E402

BLOCK = 151 + os.getpid() % 49  # 127.BLOCK.30.N (TCP), .40.N (UDP), .41.1 (--speed's closed ports)
ETH_P_IP = 0x0800
# nmap's service names for what Shoal calls by the protocol's own name
NMAP_NAMES: dict[str, set[str]] = {
    "smb": {"microsoft-ds", "netbios-ssn"},
    "rdp": {"ms-wbt-server"},
    "dns": {"domain"},
    "xmpp": {"xmpp-client", "jabber", "xmpp"},
    "x11": {"X11"},
    "ipp": {"ipp"},
    "http-proxy": {"http-proxy"},
    "svn": {"svnserve", "svn"},
    "nut": {"nut", "ups"},
    "smtp": {"smtp", "submission"},
    "etcd": {"etcd-client", "etcd"},
    "docker": {"docker"},
    "mqtt": {"mqtt"},
    "postgres": {"postgresql"},
    "amqp": {"amqp"},
    "beanstalkd": {"beanstalkd"},
    "nats": {"nats"},
    "clickhouse": {"clickhouse"},
    "irc": {"irc"},
    # inside TLS: nmap names the protocol and says "ssl" in its tunnel attribute (ssl/imap)
    "https": {"https", "http"},
    "imaps": {"imaps", "imap"},
    "pop3s": {"pop3s", "pop3"},
    "smtps": {"smtps", "smtp", "submission"},
    "ldaps": {"ldaps", "ldap"},
    "ftps": {"ftps", "ftp"},
    "ircs": {"ircs", "ircs-u", "irc"},
    "xmpps": {"xmpp-client", "jabber", "xmpp", "xmpps"},
    "mqtts": {"mqtt", "secure-mqtt"},
    "rediss": {"redis"},
    # UDP (nmap -sU -sV)
    "ike": {"isakmp", "nat-t-ike"},
    "ssdp": {"upnp", "ssdp"},
}


@dataclass
class Tap:
    """Counts the packets (TCP segments, UDP datagrams) sent to each (ip, port) on the loopback interface, and the
    TCP connections (SYNs); AF_PACKET bound to IPv4 sees each packet once."""

    packets: Counter[tuple[str, int]] = field(default_factory=Counter)
    syns: Counter[tuple[str, int]] = field(default_factory=Counter)
    running: bool = True

    def run(self) -> None:
        tap = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        tap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        tap.bind(("lo", ETH_P_IP))
        tap.settimeout(0.2)
        while self.running:
            try:
                packet = tap.recv(65535)
            except TimeoutError:
                continue
            if len(packet) < 20 or packet[9] not in (socket.IPPROTO_TCP, socket.IPPROTO_UDP):
                continue
            header = (packet[0] & 0x0F) * 4
            destination = (socket.inet_ntoa(packet[16:20]), struct.unpack_from("!H", packet, header + 2)[0])
            self.packets[destination] += 1
            if packet[9] == socket.IPPROTO_TCP and packet[header + 13] & 0x12 == 0x02:  # SYN without ACK
                self.syns[destination] += 1
        tap.close()

    def take(self) -> tuple[Counter[tuple[str, int]], Counter[tuple[str, int]]]:
        packets, syns = self.packets.copy(), self.syns.copy()
        self.packets.clear()
        self.syns.clear()
        return packets, syns


@dataclass
class Seen:
    named: str = ""
    detail: str = ""
    identified: bool = False
    depth: int = 0  # items beyond ip, port and banner
    seconds: float = 0.0
    packets: int = 0
    connections: int = 0


def start_lab(stack: ExitStack, chosen: Iterable[Daemon], folder: Path) -> list[tuple[Daemon, str]]:
    """Starts each daemon on its own address; the ones that start, with their address (strongSwan twice: IKE's
    port and its NAT-T port)."""
    targets = []
    for index, daemon in enumerate(chosen):
        ip = address_of(daemon, BLOCK) if daemon.transport == "udp" else f"127.{BLOCK}.30.{index + 1}"
        if held(ip, daemon.port, daemon.transport):
            print(f"{daemon.name}: not started: another process holds {ip}:{daemon.port}", file=sys.stderr)
            continue
        home = folder / daemon.name
        home.mkdir()
        try:
            stack.enter_context(daemon.launch(ip, daemon.port, home))
        except BaseException as exc:  # a missing daemon (pytest's skip outside pytest), a port another test holds
            print(f"{daemon.name}: did not start on {ip}:{daemon.port}: {exc!r}"[:300], file=sys.stderr)
            continue
        targets.append((daemon, ip))
        if daemon.protocol == "ike":
            targets.append((replace(daemon, name=f"{daemon.name}-nat-t", port=IKE_NAT_T_PORT), ip))
    return targets


def held(ip: str, port: int, transport: str) -> bool:
    """Whether another process holds the port on this address or on every address (another run's daemon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return True
    return False


def shoal_scan(daemon: Daemon, ip: str, folder: Path) -> Seen:
    data = folder / f"shoal-{daemon.name}"
    ports = ["--ports", str(daemon.port)] if daemon.transport == "tcp" else ["--udp-ports", str(daemon.port)]
    command = [str(ROOT / ".venv/bin/shoal"), "scan", "--data", str(data), "--allow", f"{ip}/32", "--no-dns", ip]
    started = time.monotonic()
    subprocess.run([*command, *ports], capture_output=True, check=False)
    seconds = time.monotonic() - started
    exported = subprocess.run(
        [str(ROOT / ".venv/bin/shoal"), "export", "--data", str(data)], capture_output=True, check=False
    ).stdout
    for line in exported.splitlines():
        items = orjson.loads(line)["items"]
        banner = next((item for item in items if item["type"] == "server-banner"), None)
        if banner is not None:
            observed = [item for item in items if not item["is_metadata"] and item["type"] != "server-banner"]
            return Seen(banner["context"], "", banner["context"] == daemon.protocol, len(observed), seconds)
    return Seen(seconds=seconds)


def nmap_scan(daemon: Daemon, ip: str, folder: Path) -> Seen:
    output = folder / f"nmap-{daemon.name}.xml"
    kind = "-sS" if daemon.transport == "tcp" else "-sU"
    command = ["nmap", kind, "-sV", "-Pn", "-n", "-p", str(daemon.port), "-oX", str(output), ip]
    started = time.monotonic()
    subprocess.run(command, capture_output=True, check=False)
    seconds = time.monotonic() - started
    service = ElementTree.parse(output).getroot().find(".//port/service")
    if service is None:
        return Seen(seconds=seconds)
    name, method = service.get("name", ""), service.get("method", "")
    shown = f"ssl/{name}" if service.get("tunnel") == "ssl" else name
    detail = " ".join(service.get(key, "") for key in ("product", "version", "extrainfo")).strip()
    accepted = NMAP_NAMES.get(daemon.protocol, {daemon.protocol})
    identified = method == "probed" and name in accepted
    return Seen(f"{shown} ({method})", detail[:60].replace("|", "/"), identified, 0, seconds)


class NoSink:
    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        pass

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        pass

    def report(self, report: Report) -> None:
        pass

    def closed_port(self, ip: str, port: int) -> None:
        pass


def identification_times(targets: list[tuple[Daemon, str]], runs: int) -> dict[str, float]:
    """Median milliseconds to discover and identify each service in-process (the collector's defaults but no
    JARM), one service at a time: the per-protocol identification time, usual and unusual ports alike."""
    policy = ScanPolicy(allow=tuple({ipaddress.ip_network(f"{ip}/32") for _, ip in targets}))
    settings = ScanSettings(timeouts=Timeouts(), jarm=False)

    async def measure() -> dict[str, float]:
        samples: dict[str, list[float]] = {daemon.name: [] for daemon, _ in targets}
        for _ in range(runs):  # each daemon once per round: servers that count recent connections (IRC) forget ours
            for daemon, ip in targets:
                started = time.perf_counter()
                collector = Collector(policy, settings, NoSink())
                await (collector.collect_udp if daemon.transport == "udp" else collector.collect)(ip, daemon.port)
                samples[daemon.name].append((time.perf_counter() - started) * 1000)
        return {name: statistics.median(times) for name, times in samples.items()}

    return run_event_loop(measure())


def run_tool(tool: str, targets: list[tuple[Daemon, str]], folder: Path, tap: Tap, parallel: int) -> dict[str, Seen]:
    scan = shoal_scan if tool == "shoal" else nmap_scan
    tap.take()
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        seen = dict(
            zip([d.name for d, _ in targets], pool.map(lambda t: scan(t[0], t[1], folder), targets), strict=True)
        )
    time.sleep(0.5)  # the last resets
    packets, syns = tap.take()
    for daemon, ip in targets:
        seen[daemon.name].packets = packets[ip, daemon.port]
        seen[daemon.name].connections = syns[ip, daemon.port]
    return seen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated daemon names (default: all)")
    parser.add_argument("--parallel", type=int, default=8, help="scans at once, per tool")
    parser.add_argument("--timing-runs", type=int, default=5, help="in-process identifications per service")
    parser.add_argument("--speed", action="store_true", help="UDP discovery and identification speed instead")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --speed")
    parser.add_argument("--ports", type=int, default=1000, help="closed UDP ports scanned by --speed")
    parser.add_argument("--services", type=int, default=1000, help="identifications per protocol by --speed")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("run as root: the daemons use their usual ports and the packet tap reads lo")
    if args.speed:
        return speed(args.rounds, args.ports, args.services)
    chosen = [daemon for daemon in DAEMONS if not args.only or daemon.name in args.only.split(",")]
    load = os.getloadavg()
    tap = Tap()
    listener = threading.Thread(target=tap.run, daemon=True)
    listener.start()
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="shoal-fidelity-"))
        folder.chmod(0o755)
        stack.callback(shutil.rmtree, folder, True)
        targets = start_lab(stack, chosen, folder)
        results = {tool: run_tool(tool, targets, folder, tap, args.parallel) for tool in ("shoal", "nmap")}
        timings = identification_times(targets, args.timing_runs)
    tap.running = False
    print_table(targets, results, load)
    print("\n| daemon | protocol | port | median ms to identify (in-process, defaults, no JARM) |\n|---|---|---|---:|")
    for daemon, _ in targets:
        print(f"| {daemon.name} | {daemon.protocol} | {daemon.port} | {timings[daemon.name]:,.1f} |")
    return 0


def print_table(
    targets: list[tuple[Daemon, str]], results: dict[str, dict[str, Seen]], load: tuple[float, float, float]
) -> None:
    udp = sum(daemon.transport == "udp" for daemon, _ in targets)
    unusual = sum(not daemon.usual for daemon, _ in targets)
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; load average before the run "
        f"{' '.join(f'{value:.2f}' for value in load)}; nmap {nmap_version()}; arguments {sys.argv[1:] or 'none'}"
    )
    print(
        f"{len(targets)} services: {len(targets) - udp} TCP on 127.{BLOCK}.30.N, {udp} UDP on 127.{BLOCK}.40.N "
        f"(or 127.0.0.1); {unusual} on ports not their protocol's\n"
    )
    print(
        "| daemon | protocol | transport | port | Shoal named | depth | Shoal pkts / conns | s "
        "| nmap -sV named | nmap detail | nmap pkts / conns | s |"
    )
    print("|---|---|---|---|---|---:|---:|---:|---|---|---:|---:|")
    totals: Counter[str] = Counter()
    mark = {True: "", False: " ✗"}
    for daemon, _ in targets:
        shoal, nmap = results["shoal"][daemon.name], results["nmap"][daemon.name]
        usual = "" if daemon.usual else " (unusual)"
        print(
            f"| {daemon.name} | {daemon.protocol} | {daemon.transport} | {daemon.port}{usual} "
            f"| {shoal.named or '—'}{mark[shoal.identified]} | {shoal.depth} | {spent(shoal, daemon)} "
            f"| {shoal.seconds:.1f} | {nmap.named or '—'}{mark[nmap.identified]} | {nmap.detail} "
            f"| {spent(nmap, daemon)} | {nmap.seconds:.1f} |"
        )
        for tool, seen in (("shoal", shoal), ("nmap", nmap)):
            for key in ("all", daemon.transport):
                totals[f"{tool} {key} identified"] += seen.identified
                totals[f"{tool} {key} packets"] += seen.packets
            totals[f"{tool} connections"] += seen.connections
    counts = {"all": len(targets), "tcp": len(targets) - udp, "udp": udp}

    def named(key: str) -> str:
        shoal, nmap = totals[f"shoal {key} identified"], totals[f"nmap {key} identified"]
        return f"Shoal {shoal}/{counts[key]}, nmap {nmap}/{counts[key]}"

    def sent(tool: str) -> str:
        return f"{totals[f'{tool} all packets']} ({totals[f'{tool} tcp packets']} + {totals[f'{tool} udp packets']})"

    print(
        f"\nidentified: {named('all')} (TCP {named('tcp')}, UDP {named('udp')}); "
        f"packets sent (TCP + UDP): Shoal {sent('shoal')}, nmap {sent('nmap')}; "
        f"TCP connections: Shoal {totals['shoal connections']}, nmap {totals['nmap connections']}"
    )


def spent(seen: Seen, daemon: Daemon) -> str:
    return f"{seen.packets} / {seen.connections if daemon.transport == 'tcp' else '—'}"


def nmap_version() -> str:
    output = subprocess.run(["nmap", "--version"], capture_output=True, text=True, check=False).stdout
    return output.split("\n", 1)[0].replace("Nmap version ", "").split(" ")[0]


def speed(rounds: int, ports: int, services: int) -> int:
    closed_ip = f"127.{BLOCK}.41.1"  # nothing listens there: every port is closed
    closed = list(range(20_000, 20_000 + ports))
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print(f"closed-port discovery, {ports} UDP ports of {closed_ip}: wall s (CPU s)")
    for number in range(1, rounds + 1):
        shoal_wall, shoal_cpu = timed_shoal(closed_ip, closed)
        nmap_wall, nmap_cpu = timed_nmap(closed_ip, closed)
        print(
            f"  round {number}: Shoal {shoal_wall:.2f} ({shoal_cpu:.2f}), nmap -sU {nmap_wall:.2f} ({nmap_cpu:.2f});"
            f" time ratio {shoal_wall / nmap_wall:.2f}, CPU ratio {shoal_cpu / nmap_cpu:.2f}"
        )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="udp-speed-") as temporary:
        chosen = [daemon for daemon in UDP_DAEMONS if daemon.protocol in ("dns", "snmp")]
        for daemon, ip in start_lab(stack, chosen, Path(temporary)):
            for number in range(1, rounds + 1):
                wall, cpu, named = identify_many(ip, daemon.port, services)
                print(
                    f"{daemon.protocol} on {ip}:{daemon.port}, {services} identifications at once, round {number}: "
                    f"{named} named, {services / wall:,.0f}/s, {cpu / services * 1e6:,.0f} µs CPU each"
                )
    return 0


def timed_shoal(ip: str, ports: list[int]) -> tuple[float, float]:
    policy = ScanPolicy(allow=(ipaddress.ip_network(f"{ip}/32"),), max_rate=1e9)
    collector = Collector(policy, ScanSettings(rate=1e9, jarm=False), NoSink())
    started, cpu = time.monotonic(), time.process_time()
    run_event_loop(collector.scan([ipaddress.ip_network(f"{ip}/32")], [], ports))
    assert collector.stats.udp_open == 0
    return time.monotonic() - started, time.process_time() - cpu


def timed_nmap(ip: str, ports: list[int]) -> tuple[float, float]:
    nmap = shutil.which("nmap") or sys.exit("nmap is not installed (scripts/install-test-daemons.sh)")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    command = [nmap, "-sU", "-Pn", "-n", "-p", f"{ports[0]}-{ports[-1]}", ip]
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic() - started, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def identify_many(ip: str, port: int, count: int) -> tuple[float, float, int]:
    policy = ScanPolicy(allow=(ipaddress.ip_network(f"{ip}/32"),), max_rate=1e9)
    collector = Collector(policy, ScanSettings(rate=1e9, per_host=count, jarm=False), NoSink())

    async def every() -> list[Report | None]:
        return await asyncio.gather(*(collector.collect_udp(ip, port) for _ in range(count)))

    started, cpu = time.monotonic(), time.process_time()
    reports = run_event_loop(every())
    return time.monotonic() - started, time.process_time() - cpu, sum(report is not None for report in reports)


if __name__ == "__main__":
    sys.exit(main())
