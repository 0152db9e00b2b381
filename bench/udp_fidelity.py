#!/usr/bin/env python3
"""UDP side by side: Shoal's UDP probes and ``nmap -sU -sV`` over the same real daemons, in one run.

    python bench/udp_fidelity.py [--rounds 1] [--intensity 7] [--wait 3]        (as root)
    python bench/udp_fidelity.py --speed [--rounds 3] [--ports 1000] [--services 1000]

Starts every UDP daemon of the lab (``tests/collect/lab.py``) (each on its own 127.B.40.N, about half on a port no
probe is known for; the install script installs them), then, per round, Shoal (its defaults: ``--wait 3``, one
retry) and nmap (``-sU -sV -Pn -n --version-intensity 7``, one process per ip:port, all at once) over the same
ip:ports, one after the other. A sniffer on ``lo`` counts the UDP datagrams each sends to each ip:port. It prints,
per daemon: what each named (nmap's port-table guesses are not counted), the items Shoal stored and the
datagrams and seconds each spent. Never reads nmap's service probes file: nmap is run, not read. Touches only the
ports the daemons opened (and, with ``--speed``, closed ports of an address nothing listens on). Not part of the
test suite: run it by hand.

``--speed``: closed-port discovery, Shoal against ``nmap -sU`` (no ``-sV``) over the same ``--ports`` closed ports,
interleaved, wall and CPU time; then Shoal's identification throughput, ``--services`` DNS (unbound) and SNMP
(snmpd) identifications at once, services/s and CPU per service.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import resource
import shutil
import socket
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.collect.lab import UDP_DAEMONS, Daemon, address_of  # noqa: E402
from tests.collect.udp_daemons import IKE_NAT_T_PORT  # noqa: E402

from shoal.collect.connection import Timeouts  # noqa: E402
from shoal.collect.policy import ScanPolicy  # noqa: E402
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop  # noqa: E402
from shoal.model import Report  # noqa: E402

BLOCK = 150 + os.getpid() % 50  # 127.BLOCK.40.N: apart from the test suite's 127.51–150
ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4
NMAP_TIMEOUT = 600.0


class Sniffer:
    """UDP datagrams sent to each (ip, port) on ``lo``, counted once each (as they leave)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._socket.bind(("lo", 0))
        self._socket.settimeout(0.2)
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._running:
            try:
                frame, address = self._socket.recvfrom(65_535)
            except TimeoutError:
                continue
            if address[2] != PACKET_OUTGOING or len(frame) < 14 + 28 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            if ip[9] != socket.IPPROTO_UDP:
                continue
            header = (ip[0] & 0x0F) * 4
            destination = str(ipaddress.IPv4Address(ip[16:20]))
            self.counts[destination, struct.unpack(">H", ip[header + 2 : header + 4])[0]] += 1

    def take(self) -> Counter[tuple[str, int]]:
        time.sleep(0.3)  # the last frames of a phase
        counts, self.counts = self.counts, Counter()
        return counts

    def stop(self) -> None:
        self._running = False
        self._thread.join()
        self._socket.close()


@dataclass
class Seen:
    named: str = ""  # the protocol, or nmap's service (product version)
    depth: int = 0  # Shoal: items after ip, port-udp and the banner
    datagrams: int = 0
    seconds: float = 0.0


@dataclass
class Round:
    shoal: dict[str, Seen] = field(default_factory=dict)
    nmap: dict[str, Seen] = field(default_factory=dict)


def shoal_phase(targets: dict[str, tuple[str, int]], wait: float) -> dict[str, Seen]:
    allowed = tuple(ipaddress.ip_network(f"{ip}/32") for ip, _ in targets.values())
    settings = ScanSettings(timeouts=Timeouts(first_byte=wait), jarm=False)

    async def one(ip: str, port: int) -> tuple[Report | None, float]:
        started = time.monotonic()
        collector = Collector(ScanPolicy(allow=allowed), settings, Discard())
        return await collector.collect_udp(ip, port), time.monotonic() - started

    async def every() -> list[tuple[Report | None, float]]:
        return await asyncio.gather(*(one(ip, port) for ip, port in targets.values()))

    seen = {}
    for name, (report, seconds) in zip(targets, run_event_loop(every()), strict=True):
        protocol = report.items[2].context if report is not None else ""
        seen[name] = Seen(protocol, len(report.items) - 3 if report is not None else 0, 0, seconds)
    return seen


class Discard:
    def open_port(self, *_: object) -> None: ...

    def open_udp_port(self, *_: object) -> None: ...

    def report(self, _: Report) -> None: ...

    def closed_port(self, *_: object) -> None: ...


def nmap_phase(targets: dict[str, tuple[str, int]], intensity: int, folder: Path) -> dict[str, Seen]:
    nmap = shutil.which("nmap") or sys.exit("nmap is not installed (scripts/install-test-daemons.sh)")
    started, running = time.monotonic(), {}
    for name, (ip, port) in targets.items():
        command = [nmap, "-sU", "-sV", "-Pn", "-n", "--version-intensity", str(intensity), "-p", f"U:{port}", ip]
        output = folder / f"{name}.xml"
        running[name] = subprocess.Popen([*command, "-oX", str(output)], stdout=subprocess.DEVNULL)
    seen = {}
    for name, process in running.items():
        process.wait(NMAP_TIMEOUT)
        seen[name] = Seen(nmap_service(folder / f"{name}.xml"), 0, 0, time.monotonic() - started)
    return seen


def nmap_service(path: Path) -> str:
    """What nmap named (by a probe's answer, not by its port table): "name (product version)", or ""."""
    service = ElementTree.parse(path).find(".//port/service")
    if service is None or service.get("method") != "probed":
        return ""
    detail = " ".join(value for value in (service.get("product"), service.get("version")) if value)
    return f"{service.get('name')} ({detail})" if detail else str(service.get("name"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--intensity", type=int, default=7, help="nmap's --version-intensity")
    parser.add_argument("--wait", type=float, default=3.0, help="Shoal's --wait (its default)")
    parser.add_argument("--speed", action="store_true", help="discovery and identification speed instead")
    parser.add_argument("--ports", type=int, default=1000, help="closed ports scanned by --speed")
    parser.add_argument("--services", type=int, default=1000, help="identifications per protocol by --speed")
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("run as root: the daemons use their usual ports and the sniffer reads lo")
    if options.speed:
        return speed(options.rounds, options.ports, options.services)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="udp-fidelity-") as temporary:
        folder = Path(temporary)
        targets = start_all(stack, folder)
        sniffer = Sniffer()
        stack.callback(sniffer.stop)
        rounds = []
        for _ in range(options.rounds):
            this = Round()
            this.shoal = shoal_phase(targets, options.wait)
            count(this.shoal, targets, sniffer.take())
            this.nmap = nmap_phase(targets, options.intensity, folder)
            count(this.nmap, targets, sniffer.take())
            rounds.append(this)
        show(targets, rounds)
    return 0


def start_all(stack: ExitStack, folder: Path) -> dict[str, tuple[str, int]]:
    targets = {}
    daemons: list[tuple[str, Daemon, int]] = [(daemon.protocol, daemon, daemon.port) for daemon in UDP_DAEMONS]
    daemons.append(("ike (NAT-T)", next(d for d in UDP_DAEMONS if d.protocol == "ike"), IKE_NAT_T_PORT))
    started: dict[str, tuple[str, int]] = {}
    for name, daemon, port in daemons:
        if daemon.protocol in started:
            targets[name] = (started[daemon.protocol][0], port)
            continue
        place = folder / name
        place.mkdir()
        try:
            started[daemon.protocol] = stack.enter_context(daemon.launch(address_of(daemon, BLOCK), port, place))
        except BaseException as exc:  # a missing daemon (pytest's skip outside pytest) or one that cannot start
            print(f"{name}: not started ({exc})", file=sys.stderr)
            continue
        targets[name] = started[daemon.protocol]
    return targets


def count(seen: dict[str, Seen], targets: dict[str, tuple[str, int]], counts: Counter[tuple[str, int]]) -> None:
    for name, target in targets.items():
        seen[name].datagrams = counts[target]


def show(targets: dict[str, tuple[str, int]], rounds: list[Round]) -> None:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average {load}; {len(targets)} UDP services, {len(rounds)} round(s)")
    print(
        "| daemon | ip:port | Shoal named | Shoal items | Shoal datagrams | Shoal s "
        "| nmap -sV named | nmap datagrams | nmap s |"
    )
    print("|---|---|---|---:|---:|---:|---|---:|---:|")
    last = rounds[-1]
    usual = {daemon.protocol: daemon.usual for daemon in UDP_DAEMONS}
    for name, (ip, port) in targets.items():
        shoal, nmap = last.shoal[name], last.nmap[name]
        where = f"{ip}:{port}" + ("" if usual.get(name, True) else " (unusual)")
        print(
            f"| {name} | {where} | {shoal.named or '—'} | {shoal.depth} | {shoal.datagrams} | {shoal.seconds:.2f} | "
            f"{nmap.named or '—'} | {nmap.datagrams} | {nmap.seconds:.1f} |"
        )
    for number, each in enumerate(rounds, start=1):
        named = sum(1 for seen in each.shoal.values() if seen.named and seen.named != "generic")
        nmap_named = sum(1 for seen in each.nmap.values() if seen.named)
        shoal_sent = sum(seen.datagrams for seen in each.shoal.values())
        nmap_sent = sum(seen.datagrams for seen in each.nmap.values())
        slowest = max(seen.seconds for seen in each.shoal.values())
        nmap_slowest = max(seen.seconds for seen in each.nmap.values())
        print(
            f"round {number}: Shoal named {named}/{len(targets)} with {shoal_sent} datagrams in {slowest:.1f} s; "
            f"nmap -sV named {nmap_named}/{len(targets)} with {nmap_sent} datagrams in {nmap_slowest:.1f} s"
        )


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
        for protocol in ("dns", "snmp"):
            daemon = next(d for d in UDP_DAEMONS if d.protocol == protocol)
            place = Path(temporary) / protocol
            place.mkdir()
            ip, port = stack.enter_context(daemon.launch(address_of(daemon, BLOCK), daemon.port, place))
            for number in range(1, rounds + 1):
                wall, cpu, named = identify_many(ip, port, services)
                print(
                    f"{protocol} on {ip}:{port}, {services} identifications at once, round {number}: {named} named, "
                    f"{services / wall:,.0f}/s, {cpu / services * 1e6:,.0f} µs CPU each"
                )
    return 0


def timed_shoal(ip: str, ports: list[int]) -> tuple[float, float]:
    policy = ScanPolicy(allow=(ipaddress.ip_network(f"{ip}/32"),), max_rate=1e9)
    collector = Collector(policy, ScanSettings(rate=1e9, jarm=False), Discard())
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
    collector = Collector(policy, ScanSettings(rate=1e9, per_host=count, jarm=False), Discard())

    async def every() -> list[Report | None]:
        return await asyncio.gather(*(collector.collect_udp(ip, port) for _ in range(count)))

    started, cpu = time.monotonic(), time.process_time()
    reports = run_event_loop(every())
    return time.monotonic() - started, time.process_time() - cpu, sum(report is not None for report in reports)


if __name__ == "__main__":
    raise SystemExit(main())
