"""Domain scans: visit a web service by host name (HTTP ``Host:``, TLS SNI) on the addresses the name resolves to.

For each name: its A/AAAA addresses (the resolver, following CNAMEs; or the forward answers already stored, for
``--names known``), then for each address the allow-list permits, each port (80 and 443 by default): HTTP on
ports the TLS probe is not known for, HTTPS (SNI and ``Host:`` the name) on the others. Each answer is one
``domains`` report (DESIGN.md §6): ``host``, ``ip``, ``port-tcp`` (context "", metadata), the banner, what the
HTTP/TLS probes extract (redirects and the favicon included: ``shoal.collect.probes.http``), and the body. A
redirect to another host name is recorded (``url;redirect``, ``host;redirect``), never followed. An address outside
the allow-list is never contacted: it is counted in ``DomainStats.outside``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from shoal.collect.connection import Connector, PortClosed
from shoal.collect.dns import DnsClient
from shoal.collect.identify import follow_up
from shoal.collect.policy import ScanPolicy
from shoal.collect.probes import http, tls
from shoal.collect.probes.base import Service
from shoal.collect.protocols import TLS_PORTS
from shoal.collect.scanner import ResultSink
from shoal.model import DOMAINS, DnsAnswer, Item, Report

log = logging.getLogger("shoal.collect")
DOMAIN_PORTS = (80, 443)


@dataclass(slots=True)
class DomainStats:
    names: int = 0
    resolved: int = 0  # names with at least one address
    outside: int = 0  # (name, address) pairs never contacted: the address is not allowed
    visits: int = 0  # name:address:port tried
    reports: int = 0
    answers: list[DnsAnswer] = field(default_factory=list)


def domain_report(name: str, ip: str, port: int, service: Service, day: dt.date) -> Report:
    items = [
        Item("host", name, "", True),
        Item("ip", ip, "", True),
        Item("port-tcp", str(port), "", True),
        Item("server-banner", service.banner, service.protocol),
        *service.items,
    ]
    return Report(date=day, items=tuple(items), dataset=DOMAINS, bodies=tuple(service.bodies))


class DomainScanner:
    def __init__(self, policy: ScanPolicy, connector: Connector, dns: DnsClient | None, sink: ResultSink) -> None:
        self.policy = policy
        self.connector = connector
        self.dns = dns
        self.sink = sink
        self.stats = DomainStats()

    async def scan(
        self,
        names: Sequence[str],
        ports: Sequence[int] = DOMAIN_PORTS,
        known: dict[str, list[str]] | None = None,
        concurrency: int = 64,
    ) -> DomainStats:
        """Visit every name; ``known`` gives the addresses of the names it holds instead of asking the resolver
        (``--names known``)."""
        slots = asyncio.Semaphore(concurrency)
        day = dt.datetime.now(dt.UTC).date()

        async def one(name: str) -> None:
            async with slots:
                await self.scan_name(name, ports, day, (known or {}).get(name))

        self.stats.names += len(names)
        await asyncio.gather(*(one(name) for name in names))
        return self.stats

    async def scan_name(self, name: str, ports: Sequence[int], day: dt.date, addresses: list[str] | None) -> None:
        if addresses is None:
            if self.dns is None:
                return
            addresses, answers = await self.dns.addresses(name, day)
            self.stats.answers += answers
        if addresses:
            self.stats.resolved += 1
        for ip in addresses:
            if not self.policy.permits(ipaddress.ip_address(ip)):
                self.stats.outside += 1
                continue
            for port in ports:
                report = await self.visit(name, ip, port, day)
                if report is not None:
                    self.stats.reports += 1
                    self.sink.report(report)
                    icon = http.favicon_report(report)
                    if icon is not None:
                        self.sink.report(icon)

    async def visit(self, name: str, ip: str, port: int, day: dt.date) -> Report | None:
        """One name:address:port; None if the port is closed or nothing HTTP answered."""
        self.stats.visits += 1
        try:
            connection = await self.connector.open(ip, port)
        except PortClosed:
            return None
        deadline = asyncio.get_running_loop().time() + self.connector.timeouts.service
        try:
            async with asyncio.timeout_at(deadline):
                if port in TLS_PORTS:
                    service = await tls.visit(connection, name)
                else:
                    service = await http.visit(connection, name)
        except (OSError, EOFError, TimeoutError, ssl.SSLError):
            return None
        except Exception:
            log.warning("visiting %s at %s:%d failed", name, ip, port, exc_info=True)
            return None
        finally:
            connection.close()
        if service is None:
            return None
        await follow_up(service, self.connector, deadline)
        return domain_report(name, ip, port, service, day)
