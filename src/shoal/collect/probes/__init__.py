"""The probe registry: which probes exist, and their order when the port says nothing.

Client-first probes in the order tried on an unknown port: TLS first (a failed handshake is quick and the
port is most often HTTPS), Redis before HTTP (Redis drops a connection that sends a ``Host:`` line), then
HTTP and the rest. Server-first probes in the order their ``recognizes`` is asked about a banner; anything
that speaks first and matches none is a ``generic`` banner.
"""

from __future__ import annotations

from shoal.collect.probes import ftp, http, modbus, mqtt, mysql, postgres, redis, smtp, ssh, telnet, tls
from shoal.collect.probes.base import BannerProbe, RequestProbe, Service

REQUEST_PROBES: tuple[RequestProbe, ...] = (
    tls.PROBE,
    redis.PROBE,
    http.PROBE,
    postgres.PROBE,
    mqtt.PROBE,
    modbus.PROBE,
)
BANNER_PROBES: tuple[BannerProbe, ...] = (ssh.PROBE, telnet.PROBE, mysql.PROBE, ftp.PROBE, smtp.PROBE)

__all__ = ["BANNER_PROBES", "REQUEST_PROBES", "BannerProbe", "RequestProbe", "Service"]
