"""The lab: every real daemon the collector is tested against, in one table (``DAEMONS``), TCP and UDP alike.

A row says what Shoal must name the daemon, the port it listens on (about half on a port that is not their
protocol's), its launcher (``tests.collect.launchers``; the UDP ones in ``tests.collect.udp_daemons``) and its
transport. The tests and ``bench/fidelity.py`` start the daemons from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from shoal.collect.protocols import USUAL_PORTS
from shoal.collect.udp import UDP_PROBES
from tests.collect import udp_daemons
from tests.collect.launchers import (
    Launch,
    aiosmtpd,
    beanstalkd,
    clickhouse,
    cups,
    dante,
    dockerd,
    dovecot,
    etcd,
    exim,
    git_daemon,
    gst_rtsp,
    kamailio,
    mariadb,
    memcached,
    modbus,
    mosquitto,
    nats,
    nginx,
    ngircd,
    postgres,
    prosody,
    rabbitmq,
    redis,
    rsync,
    samba,
    slapd,
    squid,
    sshd,
    svnserve,
    telnetd,
    tigervnc,
    unbound,
    upsd,
    vsftpd,
    xrdp,
    xvfb,
    zookeeper,
)


@dataclass(frozen=True, slots=True)
class Daemon:
    """A real daemon the tests and ``bench/fidelity.py`` scan: what Shoal must name it, and where it listens
    (about half on a port that is not their protocol's)."""

    name: str
    protocol: str  # the server-banner context Shoal must report
    port: int
    launch: Callable[[str, int, Path], Launch]
    transport: str = "tcp"  # "udp": probed by the UDP probes (launchers in tests.collect.udp_daemons)
    on_localhost: bool = False  # bound to the wildcard address on lo: it answers from 127.0.0.1, scanned there

    @property
    def usual(self) -> bool:
        """Whether the port is one its protocol is known for (a TCP protocol's default port, a UDP probe's)."""
        if self.transport == "udp":
            return any(self.port in probe.ports for probe in UDP_PROBES if probe.name == self.protocol)
        return self.port in USUAL_PORTS[self.protocol]


DAEMONS: tuple[Daemon, ...] = (
    Daemon("nginx", "http", 8181, nginx),
    Daemon("openssh", "ssh", 22, sshd),
    Daemon("redis", "redis", 6380, redis),
    Daemon("vsftpd", "ftp", 21, vsftpd),
    Daemon("mosquitto", "mqtt", 1884, mosquitto),
    Daemon("postgresql", "postgres", 5432, postgres),
    Daemon("telnetd", "telnet", 23, telnetd),
    Daemon("pymodbus", "modbus", 5020, modbus),
    Daemon("aiosmtpd", "smtp", 25, aiosmtpd),
    Daemon("dovecot-imap", "imap", 143, dovecot),
    Daemon("dovecot-pop3", "pop3", 1110, partial(dovecot, protocol="pop3")),
    Daemon("exim", "smtp", 2626, exim),
    Daemon("slapd", "ldap", 389, slapd),
    Daemon("samba", "smb", 4445, samba),
    Daemon("xrdp", "rdp", 3389, xrdp),
    Daemon("tigervnc", "vnc", 5999, tigervnc),
    Daemon("xvfb", "x11", 6000, xvfb),
    Daemon("cups", "ipp", 631, cups),
    Daemon("squid", "http-proxy", 3999, squid),
    Daemon("unbound", "dns", 1053, unbound),
    Daemon("rsync", "rsync", 873, rsync),
    Daemon("git-daemon", "git", 9419, git_daemon),
    Daemon("prosody", "xmpp", 5222, prosody),
    Daemon("ngircd", "irc", 6789, ngircd),
    Daemon("beanstalkd", "beanstalkd", 11300, beanstalkd),
    Daemon("zookeeper", "zookeeper", 2182, zookeeper),
    Daemon("nut-upsd", "nut", 3493, upsd),
    Daemon("svnserve", "svn", 3691, svnserve),
    Daemon("memcached", "memcached", 11211, memcached),
    Daemon("mariadb", "mysql", 3307, mariadb),
    Daemon("rabbitmq", "amqp", 5672, rabbitmq),
    Daemon("nats", "nats", 4333, nats),
    Daemon("etcd", "etcd", 2379, etcd),
    Daemon("clickhouse", "clickhouse", 19000, clickhouse),
    Daemon("gst-rtsp-server", "rtsp", 8554, gst_rtsp),
    Daemon("kamailio", "sip", 5070, kamailio),
    Daemon("dante", "socks", 1081, dante),
    # TLS from the first byte: what runs inside is named as it is there
    Daemon("nginx-https", "https", 4433, partial(nginx, tls=True)),
    Daemon("dovecot-imaps", "imaps", 993, partial(dovecot, tls=True)),
    Daemon("dovecot-pop3s", "pop3s", 1995, partial(dovecot, protocol="pop3", tls=True)),
    Daemon("exim-smtps", "smtps", 465, partial(exim, tls=True)),
    Daemon("slapd-ldaps", "ldaps", 1636, partial(slapd, tls=True)),
    Daemon("vsftpd-ftps", "ftps", 990, partial(vsftpd, tls=True)),
    Daemon("ngircd-ircs", "ircs", 7697, partial(ngircd, tls=True)),
    Daemon("prosody-xmpps", "xmpps", 5223, partial(prosody, tls=True)),
    Daemon("mosquitto-mqtts", "mqtts", 18883, partial(mosquitto, tls=True)),
    Daemon("redis-tls", "rediss", 6390, partial(redis, tls=True)),
    Daemon("etcd-tls", "etcd", 12379, partial(etcd, tls=True)),
    Daemon("dockerd", "docker", 12375, dockerd),  # its API on a port that is not Docker's (2375)
    # UDP: each on its own 127.B.40.N (address_of), probed by the UDP tests
    Daemon("unbound-udp", "dns", 10053, udp_daemons.unbound, "udp"),
    Daemon("snmpd", "snmp", 161, udp_daemons.snmpd, "udp"),
    Daemon("chrony", "ntp", 10123, udp_daemons.chronyd, "udp"),
    Daemon("tftpd-hpa", "tftp", 69, udp_daemons.tftpd, "udp"),
    Daemon("memcached-udp", "memcached", 21211, udp_daemons.memcached, "udp"),
    Daemon("nmbd", "netbios-ns", 13137, udp_daemons.nmbd, "udp"),
    Daemon("coturn", "stun", 3478, udp_daemons.coturn, "udp"),
    Daemon("kamailio-udp", "sip", 15060, udp_daemons.kamailio, "udp"),
    Daemon("openvpn", "openvpn", 1194, udp_daemons.openvpn, "udp"),
    Daemon("strongswan", "ike", 500, udp_daemons.charon, "udp"),
    Daemon("zeroconf", "mdns", 5353, udp_daemons.mdns_server, "udp"),
    Daemon("minissdpd", "ssdp", 1900, udp_daemons.minissdpd, "udp", on_localhost=True),
    Daemon("aiocoap", "coap", 15683, udp_daemons.coap_server, "udp"),
)
DAEMON_NAMED = {daemon.name: daemon for daemon in DAEMONS}
UDP_DAEMONS = tuple(daemon for daemon in DAEMONS if daemon.transport == "udp")


def address_of(daemon: Daemon, block: int) -> str:
    """A UDP daemon's: 127.B.40.N, N its place among UDP_DAEMONS (from 1); 127.0.0.1 for one that answers from
    there."""
    return "127.0.0.1" if daemon.on_localhost else f"127.{block}.40.{UDP_DAEMONS.index(daemon) + 1}"
