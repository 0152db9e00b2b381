#!/usr/bin/env python3
"""Shoal beside nmap -sV on the same real daemons: what each named, what Shoal stored, the packets each sent.

    python bench/fidelity.py [--only NAME,NAME] [--parallel 8]          (as root: daemons and a packet tap)

Starts every daemon of the tests' lab (tests/collect/lab.py DAEMONS, TCP and UDP: the same launchers the
tests use, about half on ports not their protocol's) on its own 127.55.30.N (a UDP daemon that answers only from
127.0.0.1 there), then runs, one ip:port per invocation,
`shoal scan` (its defaults but --no-dns) and Debian's `nmap -sV` (`-sU` for UDP entries), one tool after the
other, while a packet tap on the loopback interface counts the packets and connections (SYNs) each sends to
each service. nmap's guesses from its port table (method "table") do not count as identification. Prints a
Markdown table (docs/collector.md keeps one). Every address and port touched is one this script opened.
Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import ipaddress
import os
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
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as ElementTree
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.collect.lab import DAEMONS, Daemon  # noqa: E402

from shoal.collect.connection import Timeouts  # noqa: E402
from shoal.collect.policy import ScanPolicy  # noqa: E402
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop  # noqa: E402

NETWORK = "127.55.30.0/24"
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
    "ike": {"isakmp"},
    "ssdp": {"upnp", "ssdp"},
}


@dataclass
class Tap:
    """Counts the packets sent to each (ip, port) on the loopback interface (AF_PACKET: each packet once)."""

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
            if len(packet) < 20 or packet[9] not in (6, 17):
                continue
            header = (packet[0] & 0x0F) * 4
            destination = (socket.inet_ntoa(packet[16:20]), struct.unpack_from("!H", packet, header + 2)[0])
            self.packets[destination] += 1
            if packet[9] == 6 and packet[header + 13] & 0x12 == 0x02:  # SYN without ACK: a new connection
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
            return Seen(
                banner["context"], banner["value"][:60], banner["context"] == daemon.protocol, len(observed), seconds
            )
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
    return Seen(f"{shown} ({method})", detail[:60], method == "probed" and name in accepted, 0, seconds)


class NoSink:
    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        pass

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        pass

    def report(self, report: object) -> None:
        pass

    def closed_port(self, ip: str, port: int) -> None:
        pass


def identification_times(targets: list[tuple[Daemon, str]], runs: int) -> dict[str, float]:
    """Median milliseconds to discover and identify each service in-process (the collector's defaults but no
    JARM), one service at a time: the per-protocol identification time, usual and unusual ports alike."""
    policy = ScanPolicy(allow=(ipaddress.ip_network(NETWORK), ipaddress.ip_network("127.0.0.1/32")))
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
    parser = argparse.ArgumentParser(description="shoal scan beside nmap -sV on the tests' real daemons")
    parser.add_argument("--only", default="", help="comma-separated daemon names (default: all)")
    parser.add_argument("--parallel", type=int, default=8, help="scans at once, per tool")
    parser.add_argument("--timing-runs", type=int, default=5, help="in-process identifications per service")
    args = parser.parse_args(argv)
    chosen = [daemon for daemon in DAEMONS if not args.only or daemon.name in args.only.split(",")]
    load = os.getloadavg()[0]
    tap = Tap()
    listener = threading.Thread(target=tap.run, daemon=True)
    listener.start()
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="shoal-fidelity-"))
        folder.chmod(0o755)
        stack.callback(shutil.rmtree, folder, True)
        targets = []
        for index, daemon in enumerate(chosen):
            ip = "127.0.0.1" if daemon.on_localhost else f"127.55.30.{index + 1}"
            home = folder / daemon.name
            home.mkdir()
            try:
                stack.enter_context(daemon.launch(ip, daemon.port, home))
            except BaseException as exc:
                print(f"{daemon.name}: did not start: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
                continue
            targets.append((daemon, ip))
        results = {tool: run_tool(tool, targets, folder, tap, args.parallel) for tool in ("shoal", "nmap")}
        timings = identification_times(targets, args.timing_runs)
    tap.running = False
    print_table(targets, results, load)
    print("\n| daemon | protocol | port | median ms to identify (in-process, defaults, no JARM) |\n|---|---|---|---:|")
    for daemon, _ in targets:
        print(f"| {daemon.name} | {daemon.protocol} | {daemon.port} | {timings[daemon.name]:,.1f} |")
    return 0


def print_table(targets: list[tuple[Daemon, str]], results: dict[str, dict[str, Seen]], load: float) -> None:
    print(
        f"date {dt.date.today()}; {os.cpu_count()} cores; load average before the run {load:.2f}; nmap {nmap_version()}"
    )
    print(f"{len(targets)} daemons, one ip:port each on 127.55.30.N; each tool scans them {sys.argv[1:] or 'all'}\n")
    columns = ["daemon", "port", "Shoal named", "depth", "Shoal pkts / conns", "s"]
    print("| " + " | ".join([*columns, "nmap -sV named", "nmap detail", "nmap pkts / conns", "s"]) + " |")
    print("|---|---|---|---:|---:|---:|---|---|---:|---:|")
    totals = Counter()
    for daemon, _ in targets:
        shoal, nmap = results["shoal"][daemon.name], results["nmap"][daemon.name]
        usual = "" if daemon.usual else " (unusual)"
        mark = {True: "", False: " ✗"}
        print(
            f"| {daemon.name} | {daemon.port}{usual} | {shoal.named or '—'}{mark[shoal.identified]} | {shoal.depth} "
            f"| {shoal.packets} / {shoal.connections} | {shoal.seconds:.1f} "
            f"| {nmap.named or '—'}{mark[nmap.identified]} | {nmap.detail} "
            f"| {nmap.packets} / {nmap.connections} | {nmap.seconds:.1f} |"
        )
        for tool, seen in (("shoal", shoal), ("nmap", nmap)):
            totals[f"{tool} identified"] += seen.identified
            totals[f"{tool} packets"] += seen.packets
            totals[f"{tool} connections"] += seen.connections
    count = len(targets)
    print(
        f"\nidentified: Shoal {totals['shoal identified']}/{count}, nmap -sV {totals['nmap identified']}/{count}; "
        f"packets sent: Shoal {totals['shoal packets']}, nmap {totals['nmap packets']}; "
        f"connections: Shoal {totals['shoal connections']}, nmap {totals['nmap connections']}"
    )


def nmap_version() -> str:
    output = subprocess.run(["nmap", "--version"], capture_output=True, text=True, check=False).stdout
    return output.split("\n", 1)[0].replace("Nmap version ", "").split(" ")[0]


if __name__ == "__main__":
    sys.exit(main())
