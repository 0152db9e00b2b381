"""Fixtures: the real daemons (session-wide, each on its own 127.B.0.N), and a collector to scan them.

B (``BLOCK``) depends on the process id, so two test runs on one machine do not take each other's addresses."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.model import Report
from tests.collect import launchers
from tests.collect.certificates import subject_of, write_certificate
from tests.collect.daemons import binary, folder_for, require_root, running
from tests.collect.dns_server import ZONE
from tests.collect.lab import DAEMONS, UDP_DAEMONS, address_of

BLOCK = 51 + os.getpid() % 100  # 127.BLOCK.0.0/16 holds every address these tests use
TEST_NETWORK = ipaddress.ip_network(f"127.{BLOCK}.0.0/16")
FAST = Timeouts(connect=2.0, first_byte=1.5, service=15.0)  # generous: CI machines may be loaded
Target = tuple[str, int]

NGINX_IP, SSHD_IP, REDIS_IP, FTP_IP, MQTT_IP = (f"127.{BLOCK}.0.{host}" for host in range(2, 7))
POSTGRES_IP, TELNET_IP, MODBUS_IP, SMTP_IP = (f"127.{BLOCK}.0.{host}" for host in range(7, 11))
NGINX_TITLE = "Shoal test page"
# The DNS server (unbound), the name-based virtual hosts (nginx) and an address outside the domain scans' allow-list.
DNS_IP, VHOSTS_IP, OUTSIDE_IP = f"127.{BLOCK}.20.53", f"127.{BLOCK}.21.2", f"127.{BLOCK}.22.9"
VHOST_NAMES = (f"www.{ZONE}", f"shop.{ZONE}")  # each with its own page and SNI certificate
VHOST_TITLES = {VHOST_NAMES[0]: "The www page", VHOST_NAMES[1]: "The shop page"}
DNS_FORWARD = {
    VHOST_NAMES[0]: [f"A {VHOSTS_IP}"],
    VHOST_NAMES[1]: [f"CNAME {VHOST_NAMES[0]}."],
    f"outside.{ZONE}": [f"A {OUTSIDE_IP}"],
    f"loop-a.{ZONE}": [f"CNAME loop-b.{ZONE}."],
    f"loop-b.{ZONE}": [f"CNAME loop-a.{ZONE}."],
    f"ns1.{ZONE}": [f"A {DNS_IP}"],
    ZONE: [f"MX 10 mail.{ZONE}.", f"MX 20 backup-mx.{ZONE}.", 'TXT "v=spf1 mx " "-all"'],
    f"mail.{ZONE}": [f"A {VHOSTS_IP}"],
    f"_dmarc.{ZONE}": ['TXT "v=DMARC1; p=reject"'],
}
DNS_PTR = {VHOSTS_IP: VHOST_NAMES[0], NGINX_IP: f"nginx.{ZONE}"}
CERT_NAMES = ("shoal-test.example", "www.shoal-test.example")
CERT_IPS = (NGINX_IP, "192.0.2.7")


class ListSink:
    def __init__(self) -> None:
        self.open_ports: list[Target] = []
        self.open_udp_ports: list[Target] = []
        self.reports: list[Report] = []
        self.closed_ports: list[Target] = []

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open_ports.append((ip, port))

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open_udp_ports.append((ip, port))

    def report(self, report: Report) -> None:
        self.reports.append(report)

    def closed_port(self, ip: str, port: int) -> None:
        self.closed_ports.append((ip, port))


class UdpDaemons:
    """The UDP daemons of the lab (``lab.UDP_DAEMONS``), each started on first use and kept for the session."""

    def __init__(self, folders: pytest.TempPathFactory, stack: ExitStack) -> None:
        self.folders = folders
        self.stack = stack
        self.started: dict[str, Target] = {}

    def start(self, protocol: str) -> Target:
        if protocol not in self.started:
            [daemon] = [daemon for daemon in UDP_DAEMONS if daemon.protocol == protocol]
            launcher = daemon.launch(address_of(daemon, BLOCK), daemon.port, self.folders.mktemp(daemon.name))
            self.started[protocol] = self.stack.enter_context(launcher)
        return self.started[protocol]


@pytest.fixture(scope="session")
def udp_daemons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UdpDaemons]:
    with ExitStack() as stack:
        yield UdpDaemons(tmp_path_factory, stack)


def collect_one(ip: str, port: int, timeouts: Timeouts = FAST, jarm: bool = False) -> Report | None:
    """Discover and identify one ip:port in-process, as the collector does for each target."""
    collector = Collector(ScanPolicy(allow=(TEST_NETWORK,)), ScanSettings(timeouts=timeouts, jarm=jarm), ListSink())
    return run_event_loop(collector.collect(ip, port))


def collect_udp_one(ip: str, port: int, timeouts: Timeouts = FAST) -> tuple[Report | None, Collector]:
    """Probe and identify one UDP ip:port in-process (the address allowed whatever it is: some daemons answer
    from 127.0.0.1); the report and the collector (its stats count the datagrams sent)."""
    policy = ScanPolicy(allow=(TEST_NETWORK, ipaddress.ip_network(f"{ip}/32")))
    collector = Collector(policy, ScanSettings(timeouts=timeouts), ListSink())
    return run_event_loop(collector.collect_udp(ip, port)), collector


def items_of(report: Report, item_type: str) -> list[tuple[str, str]]:
    """(context, value) of every item of that type."""
    return [(item.context, item.value) for item in report.items if item.type == item_type]


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    """HTTP on 80 and on an unlisted port (8181), HTTPS on 443 with a certificate with DNS and IP SANs."""
    nginx_binary = binary("/usr/sbin/nginx")
    folder = tmp_path_factory.mktemp("nginx")
    (folder / "www").mkdir()
    (folder / "www/index.html").write_text(f"<html><head><title>{NGINX_TITLE}</title></head><body>hi</body></html>")
    certificate, key, _ = write_certificate(folder, "nginx", subject_of(CERT_NAMES[0]), CERT_NAMES, CERT_IPS)
    server = f"""
        listen {NGINX_IP}:80;
        listen {NGINX_IP}:8181;
        listen {NGINX_IP}:443 ssl;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        root {folder}/www;
        add_header X-Clacks-Overhead "GNU Terry Pratchett";
    """
    with running(launchers.nginx_command(nginx_binary, folder, [server]), NGINX_IP, 80, folder):
        yield {"http": (NGINX_IP, 80), "https": (NGINX_IP, 443), "http-unlisted": (NGINX_IP, 8181)}


@pytest.fixture(scope="session")
def unbound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """Debian's unbound on DNS_IP:53 serving the test zone (DNS_FORWARD) and its reverse zones (DNS_PTR)."""
    with launchers.unbound(DNS_IP, 53, tmp_path_factory.mktemp("unbound"), DNS_FORWARD, DNS_PTR) as target:
        yield target


@pytest.fixture(scope="session")
def vhosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """nginx with name-based virtual hosts on VHOSTS_IP (80 and 443): www (its own page and SNI certificate),
    shop (a redirect to www on 80, its own page and certificate on 443), and a default server for any other
    name (404, and a certificate of its own)."""
    nginx_binary = binary("/usr/sbin/nginx")
    folder = tmp_path_factory.mktemp("vhosts")
    www = VHOST_NAMES[0]
    default_certificate, default_key, _ = write_certificate(folder, "default", subject_of("default.invalid"))
    blocks = [
        f"listen {VHOSTS_IP}:80 default_server; listen {VHOSTS_IP}:443 ssl default_server; return 404;"
        f" ssl_certificate {default_certificate}; ssl_certificate_key {default_key};"
    ]
    for name in VHOST_NAMES:
        certificate, key, _ = write_certificate(folder, name, subject_of(name), (name,))
        root = folder / name
        root.mkdir()
        (root / "index.html").write_text(f"<html><head><title>{VHOST_TITLES[name]}</title></head></html>")
        blocks.append(
            f"listen {VHOSTS_IP}:443 ssl; server_name {name}; root {root};"
            f" ssl_certificate {certificate}; ssl_certificate_key {key};"
        )
        plain = f"root {root};" if name == www else f"return 301 https://{www}/from-shop;"
        blocks.append(f"listen {VHOSTS_IP}:80; server_name {name}; {plain}")
    with running(launchers.nginx_command(nginx_binary, folder, blocks), VHOSTS_IP, 443, folder) as target:
        yield target


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with launchers.sshd(SSHD_IP, 2222, tmp_path_factory.mktemp("sshd")) as target:
        yield target


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    """An open Redis on 6379, and one that wants a password on an unlisted port (7777)."""
    folder = tmp_path_factory.mktemp("redis")
    with (
        launchers.redis(REDIS_IP, 6379, folder),
        launchers.redis(REDIS_IP, 7777, folder, password="secret"),
    ):
        yield {"open": (REDIS_IP, 6379), "password": (REDIS_IP, 7777)}


@pytest.fixture(scope="session")
def vsftpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with launchers.vsftpd(FTP_IP, 21, tmp_path_factory.mktemp("vsftpd")) as target:
        yield target


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with launchers.mosquitto(MQTT_IP, 1883, tmp_path_factory.mktemp("mosquitto")) as target:
        yield target


@pytest.fixture(scope="session")
def postgres() -> Iterator[Target]:
    with launchers.postgres(POSTGRES_IP, 5432, folder_for("postgres")) as target:
        yield target


@pytest.fixture(scope="session")
def telnetd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with launchers.telnetd(TELNET_IP, 23, tmp_path_factory.mktemp("telnetd")) as target:
        yield target


@pytest.fixture(scope="session")
def modbus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    require_root("the Modbus server's port 502")
    with launchers.modbus(MODBUS_IP, 502, tmp_path_factory.mktemp("modbus")) as target:
        yield target


@pytest.fixture(scope="session")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    require_root("the SMTP server's port 25")
    with launchers.aiosmtpd(SMTP_IP, 25, tmp_path_factory.mktemp("smtp")) as target:
        yield target


LAB_NETWORK = ipaddress.ip_network(f"127.{BLOCK}.30.0/23")  # this file's lab: 127.BLOCK.30-39.N (see launchers)


def lab_address(index: int) -> str:
    return f"127.{BLOCK}.{30 + index // 250}.{1 + index % 250}"


@pytest.fixture(scope="session")
def lab() -> Iterator[dict[str, Report | BaseException | None]]:
    """Every daemon of ``lab.DAEMONS`` on its own 127.BLOCK.30.N, all scanned at once: the report of
    each (None if nothing was identified), or why its daemon could not start (re-raised by its test)."""
    with ExitStack() as stack:
        started: dict[str, Target] = {}
        outcomes: dict[str, Report | BaseException | None] = {}
        for index, daemon in enumerate(DAEMONS):
            if daemon.transport != "tcp":
                continue  # a UDP daemon is scanned by the UDP tests
            folder = Path(tempfile.mkdtemp(prefix=f"shoal-lab-{daemon.name}-"))
            folder.chmod(0o755)
            stack.callback(shutil.rmtree, folder, True)
            try:
                started[daemon.name] = stack.enter_context(daemon.launch(lab_address(index), daemon.port, folder))
            except BaseException as exc:  # a missing binary skips (or fails in CI); a crash fails its test
                outcomes[daemon.name] = exc
        collector = Collector(ScanPolicy(allow=(LAB_NETWORK,)), ScanSettings(timeouts=FAST, jarm=False), ListSink())

        async def scan_all() -> list[Report | None]:
            return await asyncio.gather(*(collector.collect(ip, port) for ip, port in started.values()))

        outcomes.update(zip(started, run_event_loop(scan_all()), strict=True))
        yield outcomes
