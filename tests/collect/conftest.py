"""Fixtures: the real daemons (session-wide, each on its own 127.B.0.N), and a collector to scan them.

B (``BLOCK``) depends on the process id, so two test runs on one machine do not take each other's addresses."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from shoal.collect.connection import Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.model import Report
from tests.collect.certificates import subject_of, write_certificate
from tests.collect.daemons import binary, folder_for, python_env, python_module, require_root, running
from tests.collect.dns_server import ZONE, unbound_config
from tests.collect.udp_daemons import UDP_DAEMONS, address_of

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
}
DNS_PTR = {VHOSTS_IP: VHOST_NAMES[0], NGINX_IP: f"nginx.{ZONE}"}
CERT_NAMES = ("shoal-test.example", "www.shoal-test.example")
CERT_IPS = (NGINX_IP, "192.0.2.7")


class ListSink:
    def __init__(self) -> None:
        self.open_ports: list[Target] = []
        self.open_udp_ports: list[Target] = []
        self.reports: list[Report] = []

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open_ports.append((ip, port))

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        self.open_udp_ports.append((ip, port))

    def report(self, report: Report) -> None:
        self.reports.append(report)


class UdpDaemons:
    """The UDP daemons of ``tests.collect.udp_daemons``, each started on first use and kept for the session."""

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


def nginx_command(nginx_binary: str, folder: Path, servers: list[str]) -> list[str]:
    """Write an nginx.conf for one unprivileged test instance in ``folder`` (its temporary files, pid and log
    there) serving these ``server`` blocks, and return the command that runs it in the foreground."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temporary = "".join(f"{kind}_temp_path {folder}/{kind};\n" for kind in kinds)
    blocks = "\n".join(f"    server {{ {block} }}" for block in servers)
    (folder / "nginx.conf").write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    {temporary}
{blocks}
}}
""")
    return [nginx_binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]


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
    with running(nginx_command(nginx_binary, folder, [server]), NGINX_IP, 80, folder):
        yield {"http": (NGINX_IP, 80), "https": (NGINX_IP, 443), "http-unlisted": (NGINX_IP, 8181)}


@pytest.fixture(scope="session")
def unbound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """Debian's unbound on DNS_IP:53 serving the test zone (DNS_FORWARD) and its reverse zones (DNS_PTR)."""
    unbound_binary = binary("/usr/sbin/unbound")
    folder = tmp_path_factory.mktemp("unbound")
    config = unbound_config(folder, DNS_IP, 53, DNS_FORWARD, DNS_PTR)
    with running([unbound_binary, "-d", "-c", str(config)], DNS_IP, 53, folder) as target:
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
    with running(nginx_command(nginx_binary, folder, blocks), VHOSTS_IP, 443, folder) as target:
        yield target


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    sshd_binary = binary("/usr/sbin/sshd")
    folder = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True)
    (folder / "sshd_config").write_text(
        f"Port 2222\nListenAddress {SSHD_IP}\nHostKey {folder}/host_key\nPidFile {folder}/sshd.pid\n"
        "UsePAM no\nStrictModes no\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory, normally made by systemd
    with running([sshd_binary, "-D", "-e", "-f", str(folder / "sshd_config")], SSHD_IP, 2222, folder) as target:
        yield target


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    """An open Redis on 6379, and one that wants a password on an unlisted port (7777)."""
    redis_binary = binary("/usr/bin/redis-server")
    folder = tmp_path_factory.mktemp("redis")
    common = ["--bind", REDIS_IP, "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", str(folder)]
    with (
        running([redis_binary, "--port", "6379", *common], REDIS_IP, 6379, folder),
        running([redis_binary, "--port", "7777", "--requirepass", "secret", *common], REDIS_IP, 7777, folder),
    ):
        yield {"open": (REDIS_IP, 6379), "password": (REDIS_IP, 7777)}


@pytest.fixture(scope="session")
def vsftpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    vsftpd_binary = binary("/usr/sbin/vsftpd")
    folder = tmp_path_factory.mktemp("vsftpd")
    (folder / "vsftpd.conf").write_text(
        f"listen=YES\nlisten_ipv6=NO\nlisten_address={FTP_IP}\nlisten_port=21\nbackground=NO\n"
        f"anonymous_enable=YES\nanon_root={folder}\nlocal_enable=NO\nseccomp_sandbox=NO\n"
        f"secure_chroot_dir={folder}\nrun_as_launching_user=YES\n"
    )
    with running([vsftpd_binary, str(folder / "vsftpd.conf")], FTP_IP, 21, folder) as target:
        yield target


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    mosquitto_binary = binary("/usr/sbin/mosquitto")
    folder = tmp_path_factory.mktemp("mosquitto")
    (folder / "mosquitto.conf").write_text(
        f"listener 1883 {MQTT_IP}\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
    )
    with running([mosquitto_binary, "-c", str(folder / "mosquitto.conf")], MQTT_IP, 1883, folder) as target:
        yield target


@pytest.fixture(scope="session")
def postgres() -> Iterator[Target]:
    """PostgreSQL, run as the ``postgres`` user from a fresh cluster (initdb) in a folder it owns."""
    initdb = binary("initdb", *sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")))
    server = str(Path(initdb).resolve().parent / "postgres")
    folder = folder_for("postgres")
    cluster = folder / "cluster"
    subprocess.run(
        [initdb, "-D", str(cluster), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        user="postgres",
        cwd=folder,
    )
    command = [server, "-D", str(cluster), "-k", str(folder), "-c", f"listen_addresses={POSTGRES_IP}", "-p", "5432"]
    with running(command, POSTGRES_IP, 5432, folder, user="postgres") as target:
        yield target


@pytest.fixture(scope="session")
def telnetd() -> Iterator[Target]:
    """inetutils telnetd behind a tiny inetd: a thread accepting on port 23, one telnetd per connection."""
    telnetd_binary = binary("/usr/sbin/telnetd")
    listener = socket.create_server((TELNET_IP, 23))
    children: list[subprocess.Popen[bytes]] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                children.append(
                    subprocess.Popen([telnetd_binary], stdin=connection, stdout=connection, stderr=subprocess.DEVNULL)
                )

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield TELNET_IP, 23
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    for child in children:
        child.kill()
        child.wait()


@pytest.fixture(scope="session")
def modbus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    require_root("the Modbus server's port 502")
    folder = tmp_path_factory.mktemp("modbus")
    command = python_module("tests.collect.modbus_server", MODBUS_IP, "502")
    with running(command, MODBUS_IP, 502, folder, env=python_env()) as target:
        yield target


@pytest.fixture(scope="session")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    require_root("the SMTP server's port 25")
    folder = tmp_path_factory.mktemp("smtp")
    command = python_module("aiosmtpd", "-n", "-l", f"{SMTP_IP}:25", "-c", "aiosmtpd.handlers.Sink")
    with running(command, SMTP_IP, 25, folder, env=python_env()) as target:
        yield target
