"""How to start each real UDP daemon the collector is tested against (and bench/ compares with nmap): one context
manager per daemon, given a folder of its own, an address and a port, yielding (ip, port) once it listens.

Their rows are in the lab's one table (``tests.collect.lab.DAEMONS``, ``transport="udp"``): each on its
own 127.B.40.N address, about half of them on a port no probe is known for. Four daemons bind the wildcard
address (nmbd, charon, zeroconf, minissdpd): their ports are the same for every test run on the machine, so two
full runs at the same moment collide there. minissdpd, bound to the wildcard address on ``lo``, answers from
127.0.0.1, so it is scanned there (on the port it opened).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from tests.collect.certificates import subject_of, write_certificate
from tests.collect.daemons import START_TIMEOUT, binary, python_env, python_module, running, unavailable
from tests.collect.dns_server import unbound_config

Target = tuple[str, int]
Launcher = Callable[[str, int, Path], AbstractContextManager[Target]]
CHRONY_EXTRACTED = "/opt/shoal-test-daemons/chrony/usr/sbin/chronyd"  # scripts/install-test-daemons.sh
NETBIOS_NAME, WORKGROUP = "SHOALTEST", "SHOALGROUP"
SSDP_SERVER = "Debian/12 UPnP/1.1 ShoalTest/1.0"
SSDP_TYPES = ("upnp:rootdevice", "urn:schemas-upnp-org:device:MediaServer:1")
SSDP_UUID = "uuid:5a1c0000-5ba1-4e57-8000-000000000001"
IKE_NAT_T_PORT = 4500
SWANCTL_TRIES = 40  # charon's control socket appears shortly after its IKE sockets: 50 ms apart


@contextmanager
def unbound(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """Debian's unbound with no zone of its own: it answers version.bind, and recursion from its cache only."""
    config = unbound_config(folder, ip, port, {}, {})
    with running([binary("/usr/sbin/unbound"), "-d", "-c", str(config)], ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def snmpd(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """Net-SNMP's agent with no community and no user: it still answers SNMPv3 engine discovery."""
    (folder / "snmpd.conf").write_text(f"[snmp] persistentDir {folder}/state\nsysLocation Shoal test rack\n")
    command = [binary("/usr/sbin/snmpd"), "-f", "-Lo", "-C", "-c", str(folder / "snmpd.conf")]
    command += ["-p", str(folder / "snmpd.pid"), f"udp:{ip}:{port}"]
    with running(command, ip, port, folder, env={**os.environ, "MIBS": ""}, udp=True) as target:
        yield target


@contextmanager
def chronyd(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """chrony as an NTP server of local stratum 8 that never touches the clock (``-x``). Installing Debian's chrony
    would remove systemd-timesyncd, so the install script unpacks its package instead."""
    (folder / "chrony.conf").write_text(
        f"bindaddress {ip}\nport {port}\ncmdport 0\nallow 127.0.0.0/8\nlocal stratum 8\n"
        f"pidfile {folder}/chronyd.pid\ndriftfile {folder}/drift\n"
    )
    chrony = binary("/usr/sbin/chronyd", CHRONY_EXTRACTED)
    command = [chrony, "-d", "-x", "-u", "root", "-f", str(folder / "chrony.conf")]
    with running(command, ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def tftpd(ip: str, port: int, folder: Path) -> Iterator[Target]:
    (folder / "files").mkdir()
    command = [binary("/usr/sbin/in.tftpd"), "-L", "-a", f"{ip}:{port}", "-s", str(folder / "files"), "-u", "root"]
    with running(command, ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def memcached(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """memcached with UDP on (``-U``) and TCP off."""
    command = [binary("/usr/bin/memcached"), "-U", str(port), "-p", "0", "-l", ip, "-u", "root"]
    with running(command, ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def nmbd(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """Samba's NetBIOS name server for one loopback address, its folders in ``folder``."""
    places = {name: folder / name for name in ("lock", "state", "cache", "private")}
    for place in places.values():
        place.mkdir()
    settings = {
        "netbios name": NETBIOS_NAME,
        "workgroup": WORKGROUP,
        "interfaces": f"{ip}/8",
        "bind interfaces only": "yes",
        **{f"{name} directory": str(place) for name, place in places.items() if name != "private"},
        "private dir": str(places["private"]),
        "pid directory": str(folder),
        "ncalrpc dir": str(folder / "ncalrpc"),
        "log file": str(folder / "log.%m"),
    }
    (folder / "smb.conf").write_text("[global]\n" + "".join(f"  {key} = {value}\n" for key, value in settings.items()))
    command = [binary("/usr/sbin/nmbd"), "-F", "--no-process-group", "--debug-stdout", "-s", str(folder / "smb.conf")]
    with running([*command, "-p", str(port)], ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def coturn(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """coturn answering STUN binding requests (no TLS, no TCP, no relay asked for)."""
    command = [binary("/usr/bin/turnserver"), "-n", f"--listening-ip={ip}", f"--listening-port={port}"]
    command += ["--no-tls", "--no-dtls", "--no-tcp", "--no-cli", "--log-file=stdout", "--simple-log"]
    command += [f"--pidfile={folder}/turnserver.pid", f"--userdb={folder}/turn.sqlite"]
    with running(command, ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def kamailio(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """Kamailio answering OPTIONS with 200 (its stateless reply module adds ``Server:``), anything else with 404."""
    found = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
    modules = str(found[0]) if found else "/usr/lib/kamailio/modules"
    (folder / "kamailio.cfg").write_text(f"""#!KAMAILIO
debug=1
log_stderror=yes
fork=no
children=1
listen=udp:{ip}:{port}
mpath="{modules}/"
loadmodule "sl.so"
request_route {{
    if (method=="OPTIONS") {{
        sl_send_reply("200", "OK");
        exit;
    }}
    sl_send_reply("404", "Not here");
}}
""")
    command = [binary("/usr/sbin/kamailio"), "-f", str(folder / "kamailio.cfg"), "-DD", "-E"]
    command += ["-w", str(folder), "-P", str(folder / "kamailio.pid"), "-Y", str(folder)]
    with running(command, ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def openvpn(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """An OpenVPN server (no tls-auth key, so it answers a hard reset) on a tun device it never configures."""
    if not os.path.exists("/dev/net/tun"):
        unavailable("OpenVPN's server needs /dev/net/tun")
    certificate, key, _ = write_certificate(folder, "openvpn", subject_of("shoal-test-vpn"))
    command = [binary("/usr/sbin/openvpn"), "--mode", "server", "--tls-server", "--dev", "tun", "--proto", "udp4"]
    command += ["--local", ip, "--lport", str(port), "--ca", str(certificate), "--cert", str(certificate)]
    command += ["--key", str(key), "--dh", "none", "--topology", "subnet", "--verb", "3"]
    command += ["--ifconfig", "10.255.255.1", "255.255.255.0", "--ifconfig-noexec", "--route-noexec"]
    with running(command, ip, port, folder, udp=True) as target:
        yield target


@contextmanager
def charon(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """strongSwan's charon (IKEv1 and IKEv2, NAT-T on 4500) with one pre-shared-key connection for ``ip``, loaded
    through swanctl, so it answers a proposal with its own (and its vendor ids). No route, no routing rule."""
    control = folder / "charon.vici"
    (folder / "strongswan.conf").write_text(f"""charon {{
  port = {port}
  port_nat_t = {IKE_NAT_T_PORT}
  load = random nonce aes sha1 sha2 md5 hmac gmp kdf kernel-netlink socket-default vici
  send_vendor_id = yes
  install_routes = no
  routing_table = 0
  plugins {{
    vici {{
      socket = unix://{control}
    }}
  }}
}}
""")
    (folder / "swanctl.conf").write_text(f"""connections {{
  scan {{
    version = 0
    local_addrs = {ip}
    proposals = aes256-sha256-modp2048, aes128-sha1-modp1024
    local {{
      auth = psk
      id = shoal-test
    }}
    remote {{
      auth = psk
    }}
    children {{
      net {{
        esp_proposals = aes128-sha256
      }}
    }}
  }}
}}
secrets {{
  ike-test {{
    secret = "shoal-test-only"
  }}
}}
""")
    environment = {**os.environ, "STRONGSWAN_CONF": str(folder / "strongswan.conf")}
    swanctl = binary("/usr/sbin/swanctl")
    with running([binary("/usr/lib/ipsec/charon")], ip, port, folder, env=environment, udp=True) as target:
        load = [swanctl, "--load-all", "--uri", f"unix://{control}", "--file", str(folder / "swanctl.conf")]
        for _ in range(SWANCTL_TRIES):
            if subprocess.run(load, env=environment, capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("swanctl could not load the test connection into charon")
        yield target


@contextmanager
def minissdpd(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """MiniSSDPd on ``lo`` (port 1900: SSDP has one), answering M-SEARCH for a media server registered through its
    socket, as miniupnpd and other UPnP daemons register theirs."""
    control = folder / "minissdpd.sock"
    command = [binary("/usr/sbin/minissdpd"), "-d", "-i", "lo", "-s", str(control), "-p", str(folder / "pid")]
    with running(command, ip, port, folder, udp=True) as target:
        deadline = time.monotonic() + START_TIMEOUT
        while not control.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the port may be bound before the registration socket is made
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as registry:
            registry.connect(str(control))
            for kind in SSDP_TYPES:
                fields = (kind, f"{SSDP_UUID}::{kind}", SSDP_SERVER, f"http://{ip}:49152/rootDesc.xml")
                registry.sendall(b"\x04" + b"".join(minissdpd_string(field.encode()) for field in fields))
        time.sleep(0.1)  # the registrations are read on its next turn
        yield target


def minissdpd_string(data: bytes) -> bytes:
    """MiniSSDPd's length prefix (base 128, most significant first, high bit on all but the last), then the data."""
    length, digits = len(data), [len(data) & 0x7F]
    while length := length >> 7:
        digits.append(0x80 | length & 0x7F)
    return bytes(reversed(digits)) + data


@contextmanager
def coap_server(ip: str, port: int, folder: Path) -> Iterator[Target]:
    command = python_module("tests.collect.coap_server", ip, str(port))
    with running(command, ip, port, folder, env=python_env(), udp=True) as target:
        yield target


@contextmanager
def mdns_server(ip: str, port: int, folder: Path) -> Iterator[Target]:
    """python-zeroconf announcing two services; the instance name carries the process id (unique on the machine)."""
    command = python_module("tests.collect.mdns_server", ip, f"shoal-test-{os.getpid()}")
    with running(command, ip, port, folder, env=python_env(), udp=True) as target:
        deadline = time.monotonic() + START_TIMEOUT
        while b"announced" not in (folder / "daemon.log").read_bytes():  # each name is probed for before use
            if time.monotonic() > deadline:
                raise RuntimeError("the mDNS responder did not announce its services")
            time.sleep(0.05)
        yield target
