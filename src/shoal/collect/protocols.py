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
"""

from __future__ import annotations

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

TCP_PROTOCOLS: tuple[Protocol, ...] = (
    # ServerFirst(name, default ports, probe, recogniser of its banner)
    ServerFirst("ssh", ports(22, 2222), ssh.converse, ssh.recognizes),
    ServerFirst("telnet", ports(23, 2323), telnet.converse, telnet.recognizes),
    ServerFirst("mysql", ports(3306), mysql.converse, mysql.recognizes),
    ServerFirst("ftp", ports(21, 2121), ftp.converse, ftp.recognizes),
    ServerFirst("smtp", ports(25, 587, 2525), smtp.converse, smtp.recognizes),
    ServerFirst("imap", ports(143), imap.converse, imap.recognizes),
    ServerFirst("pop3", ports(110), pop3.converse, pop3.recognizes),
    ServerFirst("vnc", ports(range(5900, 5911)), vnc.converse, vnc.recognizes),
    ServerFirst("rsync", ports(873), rsync.converse, rsync.recognizes),
    ServerFirst("svn", ports(3690), svn.converse, svn.recognizes),
    ServerFirst("nats", ports(4222), nats.converse, nats.recognizes),
    # ClientFirst(name, default ports, probe, recogniser of an answer to another probe, waits=, catch_all=)
    ClientFirst("tls", tls.TLS_PORTS, tls.run),
    ClientFirst("redis", ports(6379), redis.run),
    ClientFirst("http", HTTP_PORTS, http.run, catch_all=True),
    ClientFirst("smb", ports(445), smb.run, smb.recognizes, waits=True),
    ClientFirst("dns", ports(53), dns.run, waits=True),
    ClientFirst("modbus", ports(502), modbus.run, waits=True),
    ClientFirst("epmd", ports(4369), epmd.run, waits=True),
    ClientFirst("rtsp", ports(554, 8554), rtsp.run, rtsp.recognizes),
    ClientFirst("sip", ports(5060), sip.run, sip.recognizes),
    ClientFirst("rdp", ports(3389), rdp.run, rdp.recognizes),
    ClientFirst("ldap", ports(389), ldap.run),
    ClientFirst("postgres", ports(5432), postgres.run),
    ClientFirst("mqtt", ports(1883), mqtt.run),
    ClientFirst("mssql", ports(1433), mssql.run, mssql.recognizes),
    ClientFirst("mongodb", ports(27017, 27018), mongodb.run),
    ClientFirst("x11", ports(range(6000, 6010)), x11.run),
    ClientFirst("amqp", ports(5672), amqp.run, amqp.recognizes),
    ClientFirst("memcached", ports(11211), memcached.run, memcached.recognizes),
    ClientFirst("beanstalkd", ports(11300), beanstalkd.run, beanstalkd.recognizes),
    ClientFirst("nut", ports(3493), nut.run, nut.recognizes),
    ClientFirst("xmpp", ports(5222), xmpp.run, xmpp.recognizes),
    ClientFirst("irc", ports(range(6660, 6670), 7000), irc.run, irc.recognizes),
    ClientFirst("clickhouse", ports(9000), clickhouse.run, clickhouse.recognizes),
    ClientFirst("zookeeper", ports(2181), zookeeper.run),
    ClientFirst("git", ports(9418), git.run),
    ClientFirst("cassandra", ports(9042), cassandra.run, cassandra.recognizes),
    ClientFirst("kafka", ports(9092), kafka.run),
    ClientFirst("ipp", ports(631), ipp.run, ipp.recognizes),
    ClientFirst("http-proxy", ports(3128, 8118, 8123), http_proxy.run, http_proxy.recognizes),
    ClientFirst("elasticsearch", ports(9200), elasticsearch.run, elasticsearch.recognizes),
    ClientFirst("docker", ports(2375), docker.run, docker.recognizes),
    ClientFirst("kubernetes", ports(8001), kubernetes.run, kubernetes.recognizes),
    ClientFirst("etcd", ports(2379), etcd.run, etcd.recognizes),
)
CLIENT_FIRST: tuple[ClientFirst, ...] = tuple(row for row in TCP_PROTOCOLS if isinstance(row, ClientFirst))
SERVER_FIRST: tuple[ServerFirst, ...] = tuple(row for row in TCP_PROTOCOLS if isinstance(row, ServerFirst))
