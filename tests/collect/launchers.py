"""How to start each real daemon on one loopback address and port: one launcher per daemon, for the tests and
for ``bench/fidelity.py`` alike.

A launcher takes (ip, port, folder) and returns a context manager that runs the daemon, listening on ip:port
only, until the block ends; the folder holds its configuration, data and log. Each uses Debian's package (or,
where Debian has no server, a real server library from PyPI) and never a system-wide configuration file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tests.collect.certificates import subject_of, write_certificate
from tests.collect.daemons import binary, installed, python_env, python_module, running, stop
from tests.collect.dns_server import ZONE, unbound_config

HERE = Path(__file__).parent

Target = tuple[str, int]
Launch = AbstractContextManager[Target]


def memcached(ip: str, port: int, folder: Path) -> Launch:
    command = [binary("/usr/bin/memcached"), "-u", "memcache", "-l", ip, "-p", str(port), "-U", "0", "-m", "16"]
    return running(command, ip, port, folder)


def beanstalkd(ip: str, port: int, folder: Path) -> Launch:
    return running([binary("/usr/bin/beanstalkd"), "-l", ip, "-p", str(port)], ip, port, folder)


def nats(ip: str, port: int, folder: Path) -> Launch:
    command = [binary("/usr/sbin/nats-server", "/usr/bin/nats-server"), "-a", ip, "-p", str(port), "-m", "0"]
    return running(command, ip, port, folder)


def rsync(ip: str, port: int, folder: Path) -> Launch:
    (folder / "share").mkdir(exist_ok=True)
    (folder / "rsyncd.conf").write_text(
        f"pid file = {folder}/rsyncd.pid\nuse chroot = no\n[files]\n  path = {folder}/share\n  comment = Shoal tests\n"
    )
    command = [binary("/usr/bin/rsync"), "--daemon", "--no-detach", f"--address={ip}", f"--port={port}"]
    return running([*command, f"--config={folder}/rsyncd.conf"], ip, port, folder)


def git_daemon(ip: str, port: int, folder: Path) -> Launch:
    git = binary("/usr/bin/git")
    repositories = folder / "repositories"
    repositories.mkdir(exist_ok=True)
    subprocess.run([git, "init", "-q", "--bare", str(repositories / "shoal.git")], check=True)
    command = [git, "daemon", f"--listen={ip}", f"--port={port}", f"--base-path={repositories}", "--reuseaddr"]
    return running([*command, "--export-all", str(repositories)], ip, port, folder)


def svnserve(ip: str, port: int, folder: Path) -> Launch:
    subprocess.run([binary("/usr/bin/svnadmin"), "create", str(folder / "repository")], check=True)
    command = [binary("/usr/bin/svnserve"), "-d", "--foreground", "--listen-host", ip, "--listen-port", str(port)]
    return running([*command, "-r", str(folder)], ip, port, folder)


def ngircd(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    """ngIRCd on ip:port (with ``tls``: IRC over TLS from the first byte, its only port)."""
    tls_lines = ""
    if tls:
        certificate, key = certificate_for(folder, "ngircd")
        tls_lines = f"[SSL]\nCertFile = {certificate}\nKeyFile = {key}\nPorts = {port}\n"
    (folder / "ngircd.conf").write_text(
        "[Global]\nName = irc.shoal.test\nInfo = Shoal test IRC server\n"
        f"Listen = {ip}\nPorts = {'' if tls else port}\nPidFile = {folder}/ngircd.pid\nServerUID = irc\n"
        f"ServerGID = irc\n[Options]\nDNS = no\nIdent = no\nPAM = no\n{tls_lines}"
    )
    command = [binary("/usr/sbin/ngircd"), "--nodaemon", "--config", str(folder / "ngircd.conf")]
    return running(command, ip, port, folder)


def upsd(ip: str, port: int, folder: Path) -> Launch:
    """NUT's upsd with one UPS whose driver never runs (upsd still answers VER, NETVER and LIST UPS)."""
    server = binary("/usr/lib/nut/upsd")  # /usr/sbin/upsd is a wrapper that reads /etc/nut
    for name, text in {
        "nut.conf": "MODE=netserver\n",
        "ups.conf": '[shoal]\n  driver = dummy-ups\n  port = shoal.dev\n  desc = "Shoal test UPS"\n',
        "upsd.conf": f"LISTEN {ip} {port}\n",
        "upsd.users": "",
    }.items():
        (folder / name).write_text(text)
    shutil.chown(folder, "nut", "nut")
    environment = {**os.environ, "NUT_CONFPATH": str(folder), "NUT_STATEPATH": str(folder)}
    return running([server, "-F", "-u", "nut"], ip, port, folder, env=environment)


def etcd(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    """etcd's client API on ip:port (with ``tls``: HTTPS), its peer port on port + 1."""
    scheme = "https" if tls else "http"
    command = [
        binary("/usr/bin/etcd"),
        "--name",
        "shoal",
        "--data-dir",
        str(folder / "data"),
        "--listen-client-urls",
        f"{scheme}://{ip}:{port}",
        "--advertise-client-urls",
        f"{scheme}://{ip}:{port}",
        "--listen-peer-urls",
        f"http://{ip}:{port + 1}",
        "--initial-advertise-peer-urls",
        f"http://{ip}:{port + 1}",
        "--initial-cluster",
        f"shoal=http://{ip}:{port + 1}",
        "--log-level",
        "warn",
    ]
    if tls:
        certificate, key = certificate_for(folder, "etcd")
        command += ["--cert-file", str(certificate), "--key-file", str(key)]
    return running(command, ip, port, folder)


@contextmanager
def dockerd(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """Docker's engine with its API on ip:port over plain TCP (what the docker probe is for): no bridge, no
    iptables rules, vfs storage, a containerd of its own; its run-time state in a short directory of /tmp (the
    unix sockets there have at most 107 bytes of path)."""
    with tempfile.TemporaryDirectory(prefix="shoal-docker-", dir="/tmp") as state:
        command = [binary("/usr/sbin/dockerd"), "--host", f"tcp://{ip}:{port}", "--data-root", str(folder / "data")]
        command += ["--exec-root", state, "--pidfile", str(folder / "dockerd.pid"), "--storage-driver", "vfs"]
        command += ["--bridge", "none", "--iptables=false", "--ip6tables=false", "--containerd-namespace", "shoal"]
        with running(command, ip, port, folder) as target:
            yield target


def zookeeper(ip: str, port: int, folder: Path) -> Launch:
    (folder / "data").mkdir(exist_ok=True)
    (folder / "zoo.cfg").write_text(
        f"tickTime=2000\ndataDir={folder}/data\nclientPort={port}\nclientPortAddress={ip}\nadmin.enableServer=false\n"
    )
    (folder / "log4j.properties").write_text(
        "log4j.rootLogger=WARN, CONSOLE\n"
        "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
        "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
    )
    jar = installed("/usr/share/java/zookeeper.jar")
    command = [
        binary("/usr/bin/java"),
        "-Xmx128m",
        f"-Dlog4j.configuration=file:{folder}/log4j.properties",
        "-cp",
        f"{folder}:{jar}",
        "org.apache.zookeeper.server.ZooKeeperServerMain",
        str(folder / "zoo.cfg"),
    ]
    return running(command, ip, port, folder)


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


def nginx(ip: str, port: int, folder: Path, title: str = "Shoal test page", tls: bool = False) -> Launch:
    """nginx serving one page on ip:port (over TLS: ``tls``)."""
    (folder / "www").mkdir(exist_ok=True)
    (folder / "www/index.html").write_text(f"<html><head><title>{title}</title></head><body>hi</body></html>")
    server = f"listen {ip}:{port}; root {folder}/www;"
    if tls:
        certificate, key = certificate_for(folder, "nginx")
        server = f"listen {ip}:{port} ssl; ssl_certificate {certificate}; ssl_certificate_key {key}; root {folder}/www;"
    return running(nginx_command(binary("/usr/sbin/nginx"), folder, [server]), ip, port, folder)


def sshd(ip: str, port: int, folder: Path) -> Launch:
    sshd_binary = binary("/usr/sbin/sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True)
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress {ip}\nHostKey {folder}/host_key\nPidFile {folder}/sshd.pid\n"
        "UsePAM no\nStrictModes no\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory, normally made by systemd
    return running([sshd_binary, "-D", "-e", "-f", str(folder / "sshd_config")], ip, port, folder)


def redis(ip: str, port: int, folder: Path, password: str | None = None, tls: bool = False) -> Launch:
    command = [binary("/usr/bin/redis-server"), "--port", str(port), "--bind", ip, "--save", "", "--appendonly", "no"]
    command += ["--protected-mode", "no", "--dir", str(folder)]
    if tls:
        certificate, key = certificate_for(folder, "redis")
        command[2] = "0"  # no plain port: TLS only
        command += ["--tls-port", str(port), "--tls-cert-file", str(certificate), "--tls-key-file", str(key)]
        command += ["--tls-auth-clients", "no"]
    return running([*command, *(["--requirepass", password] if password else [])], ip, port, folder)


def vsftpd(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    """vsftpd for anonymous users (with ``tls``: FTPS, TLS from the first byte)."""
    tls_lines = ""
    if tls:
        certificate, key = certificate_for(folder, "vsftpd")
        tls_lines = f"ssl_enable=YES\nimplicit_ssl=YES\nallow_anon_ssl=YES\nrsa_cert_file={certificate}\n"
        tls_lines += f"rsa_private_key_file={key}\n"
    (folder / "vsftpd.conf").write_text(
        f"listen=YES\nlisten_ipv6=NO\nlisten_address={ip}\nlisten_port={port}\nbackground=NO\n"
        f"anonymous_enable=YES\nanon_root={folder}\nlocal_enable=NO\nseccomp_sandbox=NO\n"
        f"secure_chroot_dir={folder}\nrun_as_launching_user=YES\n{tls_lines}"
    )
    return running([binary("/usr/sbin/vsftpd"), str(folder / "vsftpd.conf")], ip, port, folder)


def mosquitto(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    tls_lines = ""
    if tls:
        certificate, key = certificate_for(folder, "mosquitto")
        tls_lines = f"certfile {certificate}\nkeyfile {key}\n"
    (folder / "mosquitto.conf").write_text(
        f"listener {port} {ip}\n{tls_lines}allow_anonymous true\npersistence false\nlog_dest stderr\n"
    )
    return running([binary("/usr/sbin/mosquitto"), "-c", str(folder / "mosquitto.conf")], ip, port, folder)


def postgres(ip: str, port: int, folder: Path) -> Launch:
    """PostgreSQL, run as the ``postgres`` user from a fresh cluster (initdb) in a folder it owns."""
    initdb = binary("initdb", *sorted(str(path) for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")))
    server = str(Path(initdb).resolve().parent / "postgres")
    shutil.chown(folder, "postgres", "postgres")
    cluster = folder / "cluster"
    subprocess.run(
        [initdb, "-D", str(cluster), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
        user="postgres",
        cwd=folder,
    )
    command = [server, "-D", str(cluster), "-k", str(folder), "-c", f"listen_addresses={ip}", "-p", str(port)]
    return running(command, ip, port, folder, user="postgres")


def telnetd(ip: str, port: int, folder: Path) -> Launch:
    """inetutils telnetd, which only runs from inetd: one telnetd per connection through ``inetd``."""
    return inetd(ip, port, [binary("/usr/sbin/telnetd")])


def modbus(ip: str, port: int, folder: Path) -> Launch:
    """A pymodbus device (tests/collect/modbus_server.py)."""
    return running(python_module("tests.collect.modbus_server", ip, str(port)), ip, port, folder, env=python_env())


def aiosmtpd(ip: str, port: int, folder: Path) -> Launch:
    command = python_module("aiosmtpd", "-n", "-l", f"{ip}:{port}", "-c", "aiosmtpd.handlers.Sink")
    return running(command, ip, port, folder, env=python_env())


def unbound(
    ip: str, port: int, folder: Path, forward: dict[str, list[str]] | None = None, ptr: dict[str, str] | None = None
) -> Launch:
    """Debian's unbound serving the test zone (``forward``, ``ptr``: see dns_server.unbound_config), UDP and TCP."""
    config = unbound_config(folder, ip, port, forward or {f"ns1.{ZONE}": [f"A {ip}"]}, ptr or {})
    return running([binary("/usr/sbin/unbound"), "-d", "-c", str(config)], ip, port, folder)


@contextmanager
def inetd(ip: str, port: int, command: Sequence[str]) -> Iterator[Target]:
    """An accept-and-hand-over helper for daemons that only run from inetd (telnetd) or bind only the addresses
    of network interfaces (smbd): a thread accepts on ip:port and runs ``command`` once per connection, the
    connection as its standard input and output."""
    listener = socket.create_server((ip, port))
    children: list[subprocess.Popen[bytes]] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                children.append(
                    subprocess.Popen(
                        list(command),
                        stdin=connection,
                        stdout=connection,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,  # smbd signals its whole process group when it ends
                    )
                )

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield ip, port
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for child in children:
            child.kill()
            child.wait()


def certificate_for(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for a daemon's TLS or STARTTLS, readable by its own user."""
    certificate, key, _ = write_certificate(folder, name, subject_of(f"{name}.shoal.test"), (f"{name}.shoal.test",))
    for path in (certificate, key):
        path.chmod(0o644)
    return certificate, key


def dovecot(ip: str, port: int, folder: Path, protocol: str = "imap", tls: bool = False) -> Launch:
    """Dovecot serving ``protocol`` (imap or pop3, with STARTTLS/STLS; with ``tls``: imaps or pop3s, TLS from the
    first byte) on ip:port; nobody can log in."""
    certificate, key = certificate_for(folder, "dovecot")
    plain, secure = (0, port) if tls else (port, 0)
    (folder / "passwd").write_text("")
    other = "pop3" if protocol == "imap" else "imap"
    (folder / "dovecot.conf").write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = {protocol}
listen = {ip}
ssl = yes
ssl_cert = <{certificate}
ssl_key = <{key}
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
service {protocol}-login {{
  inet_listener {protocol} {{
    port = {plain}
  }}
  inet_listener {protocol}s {{
    port = {secure}
  }}
}}
service {other}-login {{
  inet_listener {other} {{
    port = 0
  }}
  inet_listener {other}s {{
    port = 0
  }}
}}
""")
    return running([binary("/usr/sbin/dovecot"), "-F", "-c", str(folder / "dovecot.conf")], ip, port, folder)


def exim(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    """Exim offering STARTTLS (with ``tls``: TLS from the first byte, as on port 465); it accepts no mail (every
    recipient is refused)."""
    certificate, key = certificate_for(folder, "exim")
    (folder / "spool").mkdir(exist_ok=True)
    for path in (folder, folder / "spool"):
        shutil.chown(path, "Debian-exim", "Debian-exim")
    (folder / "exim.conf").write_text(f"""
primary_hostname = mail.shoal.test
daemon_smtp_ports = {port}
local_interfaces = <; {ip}
spool_directory = {folder}/spool
log_file_path = {folder}/%slog
pid_file_path = {folder}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
tls_advertise_hosts = *
tls_certificate = {certificate}
tls_privatekey = {key}
tls_on_connect_ports = {port if tls else ""}
keep_environment =
acl_smtp_rcpt = refuse_all
begin acl
refuse_all:
  deny
""")
    command = [binary("/usr/sbin/exim4"), "-bdf", "-C", str(folder / "exim.conf"), "-oX", str(port)]
    return running(command, ip, port, folder)


def slapd(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    """OpenLDAP with one naming context (dc=shoal,dc=test) and StartTLS (with ``tls``: LDAPS, TLS from the first
    byte)."""
    certificate, key = certificate_for(folder, "slapd")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "slapd.conf").write_text(f"""
include /etc/ldap/schema/core.schema
pidfile {folder}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile {certificate}
TLSCertificateKeyFile {key}
database mdb
maxsize 16777216
suffix "dc=shoal,dc=test"
directory {folder}/data
""")
    url = f"{'ldaps' if tls else 'ldap'}://{ip}:{port}/"
    command = [binary("/usr/sbin/slapd"), "-d", "0", "-h", url, "-f", str(folder / "slapd.conf")]
    return running(command, ip, port, folder)


def samba(ip: str, port: int, folder: Path) -> Launch:
    """Samba's smbd, one process per connection through ``inetd`` (smbd binds only interface addresses)."""
    smbd = binary("/usr/sbin/smbd")
    for name in ("share", "lock", "state", "cache", "private", "ncalrpc"):
        (folder / name).mkdir(exist_ok=True)
    (folder / "smb.conf").write_text(f"""
[global]
  workgroup = SHOALTEST
  netbios name = SHOAL-SMB
  server role = standalone server
  server signing = mandatory
  disable netbios = yes
  pid directory = {folder}
  lock directory = {folder}/lock
  state directory = {folder}/state
  cache directory = {folder}/cache
  private dir = {folder}/private
  ncalrpc dir = {folder}/ncalrpc
  log file = {folder}/smbd.log
[share]
  path = {folder}/share
""")
    return inetd(ip, port, [smbd, f"--configfile={folder}/smb.conf"])


def xrdp(ip: str, port: int, folder: Path) -> Launch:
    """xrdp offering standard RDP security and TLS (it has no NLA); nobody can log in (no session manager)."""
    certificate, key = certificate_for(folder, "xrdp")
    (folder / "xrdp.ini").write_text(
        f"[Globals]\nini_version=1\nfork=false\nport=tcp://{ip}:{port}\nsecurity_layer=negotiate\n"
        f"crypt_level=high\ncertificate={certificate}\nkey_file={key}\nssl_protocols=TLSv1.2, TLSv1.3\n"
        f"[Logging]\nLogFile={folder}/xrdp.log\nLogLevel=INFO\nEnableSyslog=false\n"
    )
    return running([binary("/usr/sbin/xrdp"), "--nodaemon", "--config", str(folder / "xrdp.ini")], ip, port, folder)


def epmd_port(ip: str) -> int:
    """The Erlang port mapper's port beside the RabbitMQ on ``ip`` (one of this address's own)."""
    return 20000 + display_number(ip)


def display_number(ip: str) -> int:
    """An X display number of this address's own (the X server's socket and lock file are machine-wide)."""
    octets = [int(octet) for octet in ip.split(".")]
    return 100 + (octets[1] * 65536 + octets[2] * 256 + octets[3]) % 5000


def tigervnc(ip: str, port: int, folder: Path, security: str = "VncAuth") -> Launch:
    """TigerVNC's X server with its VNC port on ip:port (X itself on a Unix socket only)."""
    (folder / "passwd").write_bytes(bytes(8))  # an obfuscated password file (never used: nobody logs in)
    command = [binary("/usr/bin/Xtigervnc"), f":{display_number(ip)}", "-rfbport", str(port), "-interface", ip]
    command += ["-SecurityTypes", security, "-PasswordFile", str(folder / "passwd"), "-nolisten", "tcp"]
    return running(command, ip, port, folder)


def xvfb(ip: str, port: int, folder: Path) -> Launch:
    """Xvfb with no access control (``-ac``, as ``xhost +``) on a display of this address's own, reached on
    ip:port through ``relay`` (X itself would bind 6000 + display on every address)."""
    display = display_number(ip)
    command = [binary("/usr/bin/Xvfb"), f":{display}", "-nolisten", "tcp", "-ac"]
    return relay(ip, port, Path(f"/tmp/.X11-unix/X{display}"), command, folder)


@contextmanager
def relay(ip: str, port: int, socket_path: Path, command: Sequence[str], folder: Path) -> Iterator[Target]:
    """Run ``command``, a server listening on the Unix socket ``socket_path``, and pass every connection to
    ip:port through to it, byte for byte (the server is the real one; only the address is ours)."""
    log = folder / "daemon.log"
    with log.open("wb") as output:
        server = subprocess.Popen(list(command), stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    listener = socket.create_server((ip, port))
    try:
        deadline = time.monotonic() + 20
        while not socket_path.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not socket_path.exists():
            raise RuntimeError(f"{command} made no socket {socket_path}: {log.read_text(errors='replace')[-2000:]}")

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

        def accept() -> None:
            while True:
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                upstream = socket.socket(socket.AF_UNIX)
                upstream.connect(str(socket_path))
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pipe, args=(source, sink), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        yield ip, port
    finally:
        listener.close()
        stop(server)


def cups(ip: str, port: int, folder: Path) -> Launch:
    """CUPS's scheduler (IPP over HTTP), sharing no printer."""
    for name in ("cache", "state", "spool", "log"):
        (folder / name).mkdir(exist_ok=True)
    (folder / "cupsd.conf").write_text(
        f"Listen {ip}:{port}\nBrowsing No\nWebInterface Yes\nDefaultAuthType Basic\nIdleExitTimeout 0\n"
        "ServerAlias *\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
    )
    (folder / "cups-files.conf").write_text(
        f"CacheDir {folder}/cache\nStateDir {folder}/state\nRequestRoot {folder}/spool\nServerRoot {folder}\n"
        f"AccessLog {folder}/log/access_log\nErrorLog {folder}/log/error_log\nPageLog {folder}/log/page_log\n"
        f"TempDir {folder}/spool\nSystemGroup root\nFileDevice No\n"
    )
    command = [binary("/usr/sbin/cupsd"), "-f", "-c", str(folder / "cupsd.conf"), "-s", str(folder / "cups-files.conf")]
    return running(command, ip, port, folder)


def squid(ip: str, port: int, folder: Path) -> Launch:
    """Squid, an HTTP proxy that forwards nothing (every request is denied; it still answers as a proxy)."""
    (folder / "squid.conf").write_text(
        f"http_port {ip}:{port}\nhttp_access deny all\ncache deny all\npid_filename {folder}/squid.pid\n"
        f"cache_log {folder}/cache.log\naccess_log none\ncache_store_log none\ncoredump_dir {folder}\n"
        "cache_effective_user proxy\nshutdown_lifetime 0 seconds\nvisible_hostname proxy.shoal.test\n"
    )
    shutil.chown(folder, "proxy", "proxy")
    return running([binary("/usr/sbin/squid"), "-N", "-f", str(folder / "squid.conf")], ip, port, folder)


def dante(ip: str, port: int, folder: Path) -> Launch:
    """Dante, a SOCKS5 server that asks for no authentication and forwards nothing (every request is blocked)."""
    (folder / "danted.conf").write_text(
        f"logoutput: {folder}/danted.log\ninternal: {ip} port = {port}\nexternal: {ip}\nsocksmethod: none\n"
        "clientmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n"
        "client pass {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n}\nsocks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n}\n"
    )
    return running([binary("/usr/sbin/danted"), "-f", str(folder / "danted.conf")], ip, port, folder)


def prosody(ip: str, port: int, folder: Path, tls: bool = False) -> Launch:
    """Prosody (XMPP) for shoal.test and for its own address (so a scan by address sees the stream features),
    offering STARTTLS on its client port (with ``tls``: XMPP over TLS from the first byte instead)."""
    certificate, key = certificate_for(folder, "prosody")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "prosody.cfg.lua").write_text(f"""
run_as_root = true
pidfile = "{folder}/prosody.pid"
data_path = "{folder}/data"
interfaces = {{ "{ip}" }}
c2s_ports = {{ {"" if tls else port} }}
c2s_direct_tls_ports = {{ {port if tls else ""} }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "tls", "saslauth", "disco", "version", "ping" }}
modules_disabled = {{ "s2s", "offline"{"" if tls else ', "c2s_direct_tls"'} }}
authentication = "internal_hashed"
log = {{ {{ levels = {{ min = "warn" }}, to = "console" }} }}
ssl = {{ certificate = "{certificate}", key = "{key}" }}
VirtualHost "shoal.test"
VirtualHost "{ip}"
""")
    command = [binary("/usr/bin/prosody"), "--config", str(folder / "prosody.cfg.lua"), "-F"]
    return running(command, ip, port, folder)


def mariadb(ip: str, port: int, folder: Path) -> Launch:
    """MariaDB from a fresh data directory, with TLS (its certificate is shown after the SSL request)."""
    certificate, key = certificate_for(folder, "mariadb")
    shutil.chown(folder, "mysql", "mysql")
    install = [binary("/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"), "--no-defaults", "--user=mysql"]
    install += [f"--datadir={folder}/data", "--skip-test-db", "--auth-root-authentication-method=socket"]
    subprocess.run(install, check=True, capture_output=True, cwd=folder)
    command = [binary("/usr/sbin/mariadbd"), "--no-defaults", "--user=mysql", f"--datadir={folder}/data"]
    command += [f"--bind-address={ip}", f"--port={port}", f"--socket={folder}/mysqld.sock"]
    command += [f"--pid-file={folder}/mysqld.pid", f"--ssl-cert={certificate}", f"--ssl-key={key}"]
    command += ["--skip-log-bin", "--innodb-buffer-pool-size=8M", "--performance-schema=OFF"]
    return running(command, ip, port, folder)


@contextmanager
def rabbitmq(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """RabbitMQ (AMQP 0-9-1), with its own Erlang port mapper on ``epmd_port(ip)`` and its distribution port,
    both ports of this address's own (the mapper also binds 127.0.0.1). The port mapper runs in the foreground
    first: started by the broker, it would detach and outlive it."""
    server = binary("/usr/lib/rabbitmq/bin/rabbitmq-server")
    epmd = binary("/usr/bin/epmd", *sorted(str(path) for path in Path("/usr/lib/erlang").glob("erts-*/bin/epmd")))
    (folder / "enabled_plugins").write_text("[].\n")
    (folder / "rabbitmq.conf").write_text("")
    (folder / ".erlang.cookie").write_text("SHOALTESTCOOKIE")
    (folder / ".erlang.cookie").chmod(0o400)
    environment = {
        **os.environ,
        "HOME": str(folder),
        "RABBITMQ_NODENAME": f"shoal{port}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": ip,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(40000 + display_number(ip)),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": f"-kernel inet_dist_use_interface {{{ip.replace('.', ',')}}}",
        "ERL_EPMD_ADDRESS": ip,
        "ERL_EPMD_PORT": str(epmd_port(ip)),
        "RABBITMQ_BASE": str(folder),
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(folder / "rabbitmq.pid"),
    }
    epmd_command = [epmd, "-address", ip, "-port", str(epmd_port(ip))]
    with (
        running(epmd_command, ip, epmd_port(ip), folder),
        running([server], ip, port, folder, env=environment) as target,
    ):
        yield target


def clickhouse(ip: str, port: int, folder: Path) -> Launch:
    """Debian's clickhouse-server: its native protocol on ip:port, its HTTP interface on port + 1."""
    for name in ("data", "tmp", "user_files", "format_schemas"):
        (folder / name).mkdir(exist_ok=True)
    (folder / "config.xml").write_text(f"""<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>{folder}/server.log</log><errorlog>{folder}/error.log</errorlog></logger>
    <listen_host>{ip}</listen_host>
    <tcp_port>{port}</tcp_port>
    <http_port>{port + 1}</http_port>
    <max_connections>64</max_connections>
    <mark_cache_size>67108864</mark_cache_size>
    <path>{folder}/data/</path>
    <tmp_path>{folder}/tmp/</tmp_path>
    <user_files_path>{folder}/user_files/</user_files_path>
    <format_schema_path>{folder}/format_schemas/</format_schema_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
""")
    command = [
        binary("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"),
        f"--config-file={folder}/config.xml",
    ]
    return running(command, ip, port, folder)


def gst_rtsp(ip: str, port: int, folder: Path) -> Launch:
    """GStreamer's RTSP server library (Debian's gst-rtsp-server, run by Debian's python3 through its
    GObject bindings: tests/collect/rtsp_server.py)."""
    installed("/usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib")
    command = [binary("/usr/bin/python3"), str(HERE / "rtsp_server.py"), ip, str(port)]
    return running(command, ip, port, folder)


def kamailio(ip: str, port: int, folder: Path) -> Launch:
    """Kamailio, a SIP proxy, on TCP: it answers OPTIONS itself and refuses everything else."""
    (folder / "kamailio.cfg").write_text(f"""#!KAMAILIO
listen=tcp:{ip}:{port}
children=1
tcp_children=1
log_stderror=yes
debug=1
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
request_route {{
    if (is_method("OPTIONS")) {{
        append_to_reply("Allow: INVITE, ACK, CANCEL, OPTIONS, BYE\\r\\n");
        sl_send_reply("200", "OK");
        exit;
    }}
    sl_send_reply("403", "Forbidden");
}}
""")
    command = [binary("/usr/sbin/kamailio"), "-DD", "-E", "-f", str(folder / "kamailio.cfg"), "-P", str(folder / "pid")]
    return running([*command, "-Y", str(folder)], ip, port, folder)
