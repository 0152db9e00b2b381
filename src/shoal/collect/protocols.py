"""The TCP protocol registry: one row per protocol, as data.

A row names the protocol (the ``server-banner`` context it reports), its default ports, who speaks first
(``ServerFirst``: recognised from its banner; ``ClientFirst``: its probe speaks first), the probe, and the
recogniser. The order of the rows is the order of trial on a port that says nothing about its service: the
server-first rows in the order their recognisers are asked about a banner, the client-first rows in the order
their probes are sent after the banner wait — cheap and common first: TLS (a refused handshake is quick),
Redis before HTTP (Redis drops a connection that sends a ``Host:`` line), HTTP (its answer, or the error it
draws, names most of the rest), then the others.
"""

from __future__ import annotations

from shoal.collect.probes import ftp, http, modbus, mqtt, mysql, postgres, redis, smtp, ssh, telnet, tls
from shoal.collect.probes.base import ClientFirst, Protocol, ServerFirst


def ports(*numbers: int) -> frozenset[int]:
    return frozenset(numbers)


TCP_PROTOCOLS: tuple[Protocol, ...] = (
    # ServerFirst|ClientFirst(name, default ports, probe, recogniser)
    ServerFirst("ssh", ports(22, 2222), ssh.converse, ssh.recognizes),
    ServerFirst("telnet", ports(23, 2323), telnet.converse, telnet.recognizes),
    ServerFirst("mysql", ports(3306), mysql.converse, mysql.recognizes),
    ServerFirst("ftp", ports(21, 2121), ftp.converse, ftp.recognizes),
    ServerFirst("smtp", ports(25, 587), smtp.converse, smtp.recognizes),
    ClientFirst("tls", tls.TLS_PORTS, tls.run),
    ClientFirst("redis", ports(6379), redis.run),
    ClientFirst("http", ports(80, 81, 591, 3000, 5000, 7547, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090), http.run),
    ClientFirst("postgres", ports(5432), postgres.run),
    ClientFirst("mqtt", ports(1883), mqtt.run),
    ClientFirst("modbus", ports(502), modbus.run),
)
CLIENT_FIRST: tuple[ClientFirst, ...] = tuple(row for row in TCP_PROTOCOLS if isinstance(row, ClientFirst))
SERVER_FIRST: tuple[ServerFirst, ...] = tuple(row for row in TCP_PROTOCOLS if isinstance(row, ServerFirst))
