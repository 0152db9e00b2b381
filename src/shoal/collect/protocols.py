"""The TCP protocol registry: one row per protocol, as data.

A row names the protocol (the ``server-banner`` context it reports), its default ports, who speaks first
(``ServerFirst``: recognised from its banner; ``ClientFirst``: its probe speaks first), the probe, and the
recogniser (of a banner; or, for a client-first protocol, of the answer another probe drew). The order of the
rows is the order of trial on a port that says nothing about its service: the server-first rows in the order
their recognisers are asked about a banner, the client-first rows in the order their probes are sent after the
banner wait. Cheap and telling first: TLS (a refused handshake is quick), Redis before HTTP (Redis drops a
connection that sends a ``Host:`` line), HTTP (its answer, or the error it draws, names most of the rest:
memcached, beanstalkd, NUT, AMQP, XMPP, IRC, RDP, ClickHouse, the HTTP APIs), then the protocols whose servers
wait in silence for bytes that make sense to them (``waits``: SMB, DNS, Modbus, the Erlang port mapper),
then the others, which close or answer at once when the bytes are not theirs. HTTP is the ``catch_all``: the
other protocols may claim an answer it accepted (ClickHouse's, Squid's, an API's), and its silence sorts the
rest: a server silent to ``GET /`` is one that waits, so the waiting protocols go first; one that answered or
hung up is not, so they go last.

TLS is a ``layer``: once its handshake succeeds, the plan runs again inside it (``shoal.collect.identify``). A row's
``tls_ports`` are where its service runs inside TLS from the first byte (993 for IMAP, 2376 for Docker): TLS is
tried first there, then that protocol inside it. Its ``tls_name`` is what it is called inside TLS where it has a
name of its own (``imaps``, ``https``); the others (the HTTP APIs among them) keep their name, and the TLS
session's items say where they ran.
"""

from __future__ import annotations

from dataclasses import replace

from shoal.collect.probes import (
    amqp,
    beanstalkd,
    cassandra,
    clickhouse,
    dns,
    docker,
    elasticsearch,
    epmd,
    etcd,
    ftp,
    git,
    http,
    http_proxy,
    imap,
    ipp,
    irc,
    kafka,
    kubernetes,
    ldap,
    memcached,
    modbus,
    mongodb,
    mqtt,
    mssql,
    mysql,
    nats,
    nut,
    pop3,
    postgres,
    rdp,
    redis,
    rsync,
    rtsp,
    sip,
    smb,
    smtp,
    socks,
    ssh,
    svn,
    telnet,
    tls,
    vnc,
    x11,
    xmpp,
    zookeeper,
)
from shoal.collect.probes.base import ClientFirst, Protocol, ServerFirst


def ports(*numbers: int | range) -> frozenset[int]:
    return frozenset(port for number in numbers for port in ([number] if isinstance(number, int) else number))


HTTP_PORTS = ports(80, 81, 591, 3000, 5000, 7547, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090)
HTTPS_PORTS = ports(443, 4443, 5986, 8443, 9443, 10443)
OTHER_TLS_PORTS = ports(563)  # TLS from the first byte, around a protocol the registry does not know (NNTP)

ROWS: tuple[Protocol, ...] = (
    # ServerFirst(name, default ports, probe, recogniser of its banner, tls_ports=, tls_name=)
    ServerFirst("ssh", ports(22, 2222), ssh.converse, ssh.recognizes),
    ServerFirst("telnet", ports(23, 2323), telnet.converse, telnet.recognizes, ports(992), "telnets"),
    ServerFirst("mysql", ports(3306), mysql.converse, mysql.recognizes),
    ServerFirst("ftp", ports(21, 2121), ftp.converse, ftp.recognizes, ports(989, 990), "ftps"),
    ServerFirst("smtp", ports(25, 587, 2525), smtp.converse, smtp.recognizes, ports(465), "smtps"),
    ServerFirst("imap", ports(143), imap.converse, imap.recognizes, ports(993), "imaps"),
    ServerFirst("pop3", ports(110), pop3.converse, pop3.recognizes, ports(995), "pop3s"),
    ServerFirst("vnc", ports(range(5900, 5911)), vnc.converse, vnc.recognizes),
    ServerFirst("rsync", ports(873), rsync.converse, rsync.recognizes),
    ServerFirst("svn", ports(3690), svn.converse, svn.recognizes),
    ServerFirst("nats", ports(4222), nats.converse, nats.recognizes),
    # ClientFirst(name, default ports, probe, recogniser of an answer to another probe, waits=, catch_all=,
    # tls_ports=, tls_name=, layer=)
    ClientFirst("tls", OTHER_TLS_PORTS, tls.run, layer=True),
    ClientFirst("redis", ports(6379), redis.run, tls_name="rediss"),
    ClientFirst("http", HTTP_PORTS, http.run, catch_all=True, tls_ports=HTTPS_PORTS, tls_name="https"),
    ClientFirst("smb", ports(445), smb.run, smb.recognizes, waits=True),
    ClientFirst("dns", ports(53), dns.run, waits=True, tls_ports=ports(853), tls_name="dns-over-tls"),
    ClientFirst("modbus", ports(502), modbus.run, waits=True),
    ClientFirst("epmd", ports(4369), epmd.run, waits=True),
    ClientFirst("rtsp", ports(554, 8554), rtsp.run, rtsp.recognizes, tls_name="rtsps"),
    ClientFirst("sip", ports(5060), sip.run, sip.recognizes, tls_ports=ports(5061), tls_name="sips"),
    ClientFirst("rdp", ports(3389), rdp.run, rdp.recognizes),
    ClientFirst("ldap", ports(389), ldap.run, tls_ports=ports(636, 3269), tls_name="ldaps"),
    ClientFirst("postgres", ports(5432), postgres.run),
    ClientFirst("mqtt", ports(1883), mqtt.run, tls_ports=ports(8883), tls_name="mqtts"),
    ClientFirst("mssql", ports(1433), mssql.run, mssql.recognizes),
    ClientFirst("mongodb", ports(27017, 27018), mongodb.run),
    ClientFirst("x11", ports(range(6000, 6010)), x11.run),
    ClientFirst("amqp", ports(5672), amqp.run, amqp.recognizes, tls_ports=ports(5671), tls_name="amqps"),
    ClientFirst("memcached", ports(11211), memcached.run, memcached.recognizes),
    ClientFirst("beanstalkd", ports(11300), beanstalkd.run, beanstalkd.recognizes),
    ClientFirst("nut", ports(3493), nut.run, nut.recognizes),
    ClientFirst("xmpp", ports(5222), xmpp.run, xmpp.recognizes, tls_ports=ports(5223), tls_name="xmpps"),
    ClientFirst(
        "irc", ports(range(6660, 6670), 7000), irc.run, irc.recognizes, tls_ports=ports(994, 6697), tls_name="ircs"
    ),
    ClientFirst("clickhouse", ports(9000), clickhouse.run, clickhouse.recognizes, tls_ports=ports(9440)),
    ClientFirst("zookeeper", ports(2181), zookeeper.run),
    ClientFirst("git", ports(9418), git.run),
    ClientFirst("cassandra", ports(9042), cassandra.run, cassandra.recognizes),
    ClientFirst("kafka", ports(9092), kafka.run),
    ClientFirst("ipp", ports(631), ipp.run, ipp.recognizes, tls_name="ipps"),
    ClientFirst("http-proxy", ports(3128, 8118, 8123), http_proxy.run, http_proxy.recognizes),
    ClientFirst("socks", ports(1080), socks.run),
    ClientFirst("elasticsearch", ports(9200), elasticsearch.run, elasticsearch.recognizes, tls_ports=ports(9200)),
    ClientFirst("docker", ports(2375), docker.run, docker.recognizes, tls_ports=ports(2376)),
    ClientFirst("kubernetes", ports(8001), kubernetes.run, kubernetes.recognizes, tls_ports=ports(6443)),
    ClientFirst("etcd", ports(2379), etcd.run, etcd.recognizes, tls_ports=ports(2379)),
)
# Where TLS comes first: the ports of every protocol that runs inside it, and those of protocols not in the registry.
TLS_PORTS = frozenset().union(OTHER_TLS_PORTS, *(row.tls_ports for row in ROWS))
TCP_PROTOCOLS: tuple[Protocol, ...] = tuple(
    replace(row, ports=TLS_PORTS) if isinstance(row, ClientFirst) and row.layer else row for row in ROWS
)
CLIENT_FIRST: tuple[ClientFirst, ...] = tuple(row for row in TCP_PROTOCOLS if isinstance(row, ClientFirst))
SERVER_FIRST: tuple[ServerFirst, ...] = tuple(row for row in TCP_PROTOCOLS if isinstance(row, ServerFirst))
TLS_NAMES = {row.name: row.tls_name for row in TCP_PROTOCOLS if row.tls_name}  # imap → imaps, http → https, …


def usual_ports(rows: tuple[Protocol, ...]) -> dict[str, frozenset[int]]:
    """Where each protocol is usually found, by the name it is reported under (inside TLS too: ``imaps`` → 993)."""
    found: dict[str, frozenset[int]] = {}
    for row in rows:
        inside_tls = frozenset() if row.tls_name else row.tls_ports  # a protocol with no TLS name of its own
        found[row.name] = found.get(row.name, frozenset()) | row.ports | inside_tls
        if row.tls_name:
            found[row.tls_name] = row.tls_ports
    return found


USUAL_PORTS = usual_ports(TCP_PROTOCOLS)
