"""``shoal host IP``: one address's history from the local store, like the web UI's host page.

Its services (one row per port: protocol, reports, first and last seen, the latest headline), its open-port
observations, the certificates its reports carry, and the reports themselves, newest first. One pass over
``Store.iter_matches``: memory grows with the ports and certificates, not with the number of reports.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table
from starlette.datastructures import QueryParams

from shoal.api.render import ports_body
from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.cli.search import FromOption, ToOption, headline_of, protocol_of, selected, selection_pairs
from shoal.errors import BadParameter, ShoalError
from shoal.model import Report
from shoal.ports import summarize_ports
from shoal.store.base import PortQuery


@dataclass(slots=True)
class Service:
    port: int | None
    protocol: str
    latest: str  # the newest report's headline
    first_seen: dt.date
    last_seen: dt.date
    reports: int = 0


@dataclass(slots=True)
class Certificate:
    subject: str
    issuer: str
    sha256: str
    first_seen: dt.date
    last_seen: dt.date
    names: dict[str, None] = field(default_factory=dict)  # ordered sets
    addresses: dict[str, None] = field(default_factory=dict)
    ports: dict[int | None, None] = field(default_factory=dict)


@dataclass(slots=True)
class History:
    ip: str
    reports: int = 0
    services: dict[int | None, Service] = field(default_factory=dict)
    certificates: dict[str, Certificate] = field(default_factory=dict)
    newest: list[Report] = field(default_factory=list)  # the first ``limit`` reports

    @property
    def first_seen(self) -> dt.date | None:
        return min((service.first_seen for service in self.services.values()), default=None)

    @property
    def last_seen(self) -> dt.date | None:
        return max((service.last_seen for service in self.services.values()), default=None)


def first_value(report: Report, item_type: str, context: str | None = None) -> str:
    return next((i.value for i in report.items if i.type == item_type and context in (None, i.context)), "")


def note(history: History, report: Report) -> None:
    """Add one report (they come newest first) to the history."""
    history.reports += 1
    service = history.services.get(report.port)
    if service is None:
        service = Service(report.port, protocol_of(report), headline_of(report), report.date, report.date)
        history.services[report.port] = service
    service.reports += 1
    service.first_seen = min(service.first_seen, report.date)
    subject, issuer, sha256 = (first_value(report, kind) for kind in ("subject", "issuer", "cert-sha256"))
    if not (subject or issuer or sha256):
        return
    key = sha256 or f"{subject}\n{issuer}"
    certificate = history.certificates.setdefault(key, Certificate(subject, issuer, sha256, report.date, report.date))
    certificate.first_seen = min(certificate.first_seen, report.date)
    certificate.last_seen = max(certificate.last_seen, report.date)
    certificate.ports[report.port] = None
    for item in report.items:
        if item.type == "host" and item.context == "cert-dns-name":
            certificate.names[item.value] = None
        elif item.type == "ip" and item.context == "cert-ip-address":
            certificate.addresses[item.value] = None


def history_of(ip: str, reports: Iterable[Report], limit: int) -> History:
    history = History(ip)
    for report in reports:
        note(history, report)
        if limit == 0 or len(history.newest) < limit:
            history.newest.append(report)
    return history


def host_command(
    ip: Annotated[str, typer.Argument(help="One IP address (v4 or v6).")],
    date_from: FromOption = None,
    date_to: ToOption = None,
    limit: Annotated[int, typer.Option(min=0, help="Reports listed, newest first; 0 lists all.")] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="The history as one JSON object.")] = False,
    data: DataOption = None,
) -> None:
    """An IP's services, open ports, certificates and reports over time (`shoal export --ip IP` for all reports)."""
    try:
        address = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        fail(BadParameter("ip", f"'ip' must be one IP address, e.g. 8.8.8.8, not {ip!r}"))
    params = QueryParams(selection_pairs("", address, date_from=date_from, date_to=date_to))
    store = open_store(data)
    filters = selected(store, params)
    try:
        history = history_of(address, store.iter_matches(filters), limit)
        observed = store.open_ports(PortQuery(ipaddress.ip_network(address), filters.date_from, filters.date_to))
    except ShoalError as exc:
        fail(exc)
    finally:
        store.close()
    open_ports = ports_body(summarize_ports(observed))
    if json_output:
        print(orjson.dumps(history_body(history, open_ports), option=orjson.OPT_SORT_KEYS).decode())
        return
    if not history.reports and not open_ports["values"]:
        errors.print(f"nothing known about {address}")
        raise typer.Exit(1)
    show(history, open_ports)


def history_body(history: History, open_ports: dict[str, Any]) -> dict[str, Any]:
    def day(value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "ip": history.ip,
        "reports": history.reports,
        "first_seen": day(history.first_seen),
        "last_seen": day(history.last_seen),
        "open_ports": open_ports,
        "services": [
            {
                "port": s.port,
                "protocol": s.protocol,
                "reports": s.reports,
                "first_seen": day(s.first_seen),
                "last_seen": day(s.last_seen),
                "latest": s.latest,
            }
            for s in history.services.values()
        ],
        "certificates": [
            {
                "subject": c.subject,
                "issuer": c.issuer,
                "sha256": c.sha256,
                "names": list(c.names),
                "addresses": list(c.addresses),
                "ports": list(c.ports),
                "first_seen": day(c.first_seen),
                "last_seen": day(c.last_seen),
            }
            for c in history.certificates.values()
        ],
        "newest": [report.as_dict() for report in history.newest],
    }


def show(history: History, open_ports: dict[str, Any]) -> None:
    span = f", {history.first_seen} to {history.last_seen}" if history.reports else ""
    console.print(f"[bold]{history.ip}[/]: {history.reports} reports{span}", highlight=False)
    if open_ports["values"]:
        ports = " · ".join(f"{port} ×{count}" for port, count in open_ports["values"].items())
        flag = "  [bold red]honeypot-like[/]" if open_ports.get("honeypot") else ""
        console.print(f"open-port observations: {ports}{flag}", highlight=False)
    services = Table(title="services", title_justify="left")
    for column in ("port", "protocol", "reports", "first seen", "last seen", "latest"):
        services.add_column(column, overflow="fold", justify="right" if column in ("port", "reports") else "left")
    for s in sorted(history.services.values(), key=lambda s: (s.port is None, s.port or 0)):
        port = "" if s.port is None else str(s.port)
        services.add_row(port, s.protocol, str(s.reports), str(s.first_seen), str(s.last_seen), s.latest)
    if history.services:
        console.print(services)
    if history.certificates:
        certificates = Table(title="certificates", title_justify="left")
        for column in ("subject", "issuer", "names", "ports", "seen"):
            certificates.add_column(column, overflow="fold")
        for c in history.certificates.values():
            seen = str(c.first_seen) if c.first_seen == c.last_seen else f"{c.first_seen} to {c.last_seen}"
            names = ", ".join([*c.names, *c.addresses])
            certificates.add_row(c.subject, c.issuer, names, ", ".join(str(p) for p in c.ports), seen)
        console.print(certificates)
    if history.newest:
        timeline = Table(title="reports, newest first", title_justify="left")
        for column in ("date", "port", "protocol", "summary", "id"):
            timeline.add_column(column, overflow="fold")
        for report in history.newest:
            port = "" if report.port is None else str(report.port)
            timeline.add_row(str(report.date), port, protocol_of(report), headline_of(report), report.id)
        console.print(timeline)
    hidden = history.reports - len(history.newest)
    if hidden:
        errors.print(f"… {hidden} older reports (--limit 0 lists all)", highlight=False)
