"""``shoal host IP``: one address's history (from the store, or a server), like the web UI's host page.

Its services (one row per port, TCP or UDP: protocol, reports, first and last seen, the latest headline), its open-port
observations, the certificates its reports carry, and the reports themselves, newest first (``--dataset``:
the reports of another dataset). Beside them, from the other datasets: its PTR names (``rdns``) and the
certificates Certificate Transparency logs hold for it (``ct``, by IP address in the certificate); and who holds
it, as ``ip/summary`` says (its registration: domain and entity). One pass
over the matching reports (the store's matches, or the server's export): memory grows with the ports and
certificates, not with the number of reports.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import orjson
import typer

from shoal.cli.backend import EARLIEST
from shoal.cli.common import DataOption, DatasetName, console, errors, fail
from shoal.cli.fields import headline_of, port_label, protocol_of, scanned_port
from shoal.cli.options import DatasetOption, asked, open_backend, selecting
from shoal.cli.output import DEFAULT_SEPARATOR, Layout, LayoutOption, SeparatorOption, emit, layout_of
from shoal.errors import BadParameter
from shoal.model import CT, RDNS, Report
from shoal.request.answers import PortCounts
from shoal.request.params import FROM, IP, TO
from shoal.request.selection import Selection

PTR_ITEM = ("host", "dns-ptr")


@dataclass(slots=True)
class Service:
    port: int | None
    protocol: str
    latest: str  # the newest report's headline
    first_seen: dt.date
    last_seen: dt.date
    reports: int = 0
    transport: str = "tcp"  # or "udp"


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
    services: dict[tuple[int | None, str], Service] = field(default_factory=dict)  # by (port, transport)
    certificates: dict[str, Certificate] = field(default_factory=dict)
    newest: list[Report] = field(default_factory=list)  # the first ``limit`` reports
    ptr_names: list[str] = field(default_factory=list)  # newest first, from the rdns dataset
    logged: dict[str, Certificate] = field(default_factory=dict)  # certificates in CT logs naming the IP
    registration: dict[str, dict[str, str]] = field(default_factory=dict)  # ip/summary's domain and entity

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
    key = scanned_port(report)
    service = history.services.get(key)
    if service is None:
        service = Service(key[0], protocol_of(report), headline_of(report), report.date, report.date, 0, key[1])
        history.services[key] = service
    service.reports += 1
    service.first_seen = min(service.first_seen, report.date)
    note_certificate(history.certificates, report)


def note_certificate(certificates: dict[str, Certificate], report: Report) -> None:
    """Add the certificate a report carries (if any) to ``certificates``, by SHA-256 (else subject+issuer)."""
    subject, issuer, sha256 = (first_value(report, kind) for kind in ("subject", "issuer", "cert-sha256"))
    if not (subject or issuer or sha256):
        return
    key = sha256 or f"{subject}\n{issuer}"
    certificate = certificates.setdefault(key, Certificate(subject, issuer, sha256, report.date, report.date))
    certificate.first_seen = min(certificate.first_seen, report.date)
    certificate.last_seen = max(certificate.last_seen, report.date)
    if report.port is not None:
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


def note_other_datasets(history: History, rdns: Iterable[Report], ct: Iterable[Report]) -> None:
    """The PTR names (host;dns-ptr of the rdns reports, newest first) and the CT certificates naming the IP."""
    names = (item.value for report in rdns for item in report.items if (item.type, item.context) == PTR_ITEM)
    history.ptr_names = list(dict.fromkeys(names))
    for report in ct:
        note_certificate(history.logged, report)


@selecting(FROM, TO)
def host_command(
    ip: Annotated[str, typer.Argument(help="One IP address (v4 or v6).")],
    dataset: DatasetOption = DatasetName.protocols,
    *,
    selection: Selection,
    limit: Annotated[int, typer.Option(min=0, help="Reports listed, newest first; 0 lists all.")] = 20,
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="The history as one JSON object.")] = False,
    data: DataOption = None,
) -> None:
    """An IP's services, open ports, PTR names, certificates and reports over time, superseded ones included
    (locally: a server's API lists current reports only; `shoal export --ip IP` for all reports). Plain lines
    (in a pipe) start with what they are: ip, ptr, open-port, service, certificate, ct-certificate, report."""
    try:
        address = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        fail(BadParameter("ip", f"'ip' must be one IP address, e.g. 8.8.8.8, not {ip!r}"))
    layout = layout_of(table, separator)
    selection = replace(selection, ip=IP.take(address))
    backend = open_backend(data)
    try:
        everything = replace(selection, history=True)
        history = asked("", lambda: history_of(address, backend.reports(everything, dataset.value), limit))
        ports = asked(
            "", lambda: backend.ports(address, selection.date_from or EARLIEST, selection.date_to, per_ip=False)
        )
        rdns = asked("", lambda: backend.search(selection, 0, RDNS).results)
        ct = asked("", lambda: backend.search(replace(selection, indirect=True), 0, CT).results)
        note_other_datasets(history, rdns, ct)
        history.registration = asked("", lambda: backend.registration(address))
    finally:
        backend.close()
    assert isinstance(ports, PortCounts)
    open_ports = ports.body()
    if json_output:
        print(orjson.dumps(history_body(history, open_ports), option=orjson.OPT_SORT_KEYS).decode())
        return
    if not (history.reports or ports.values or history.ptr_names or history.logged or history.registration):
        errors.print(f"nothing known about {address}")
        raise typer.Exit(1)
    show(history, ports, layout)


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
                "transport": s.transport,
                "protocol": s.protocol,
                "reports": s.reports,
                "first_seen": day(s.first_seen),
                "last_seen": day(s.last_seen),
                "latest": s.latest,
            }
            for s in history.services.values()
        ],
        "certificates": [certificate_body(c) for c in history.certificates.values()],
        "ptr_names": history.ptr_names,
        "ct_certificates": [certificate_body(c) for c in history.logged.values()],
        "registration": history.registration,
        "newest": [report.as_dict() for report in history.newest],
    }


def registration_rows(registration: dict[str, dict[str, str]]) -> list[list[str]]:
    """``[part, context, cidr, value]``: the domain's apex domain, the entity's name."""
    return [
        [part, found["context"], found["cidr"], found.get("apex_domain") or found.get("name", "")]
        for part, found in registration.items()
    ]


def registration_lines(registration: dict[str, dict[str, str]]) -> list[str]:
    return [f"{part} {value} ({context}, {cidr})" for part, context, cidr, value in registration_rows(registration)]


def certificate_body(certificate: Certificate) -> dict[str, Any]:
    return {
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "sha256": certificate.sha256,
        "names": list(certificate.names),
        "addresses": list(certificate.addresses),
        "ports": list(certificate.ports),
        "first_seen": certificate.first_seen.isoformat(),
        "last_seen": certificate.last_seen.isoformat(),
    }


def certificate_rows(certificates: Iterable[Certificate], with_ports: bool) -> list[list[str]]:
    rows = []
    for c in certificates:
        seen = str(c.first_seen) if c.first_seen == c.last_seen else f"{c.first_seen} to {c.last_seen}"
        names = ", ".join([*c.names, *c.addresses])
        ports = [", ".join(str(p) for p in c.ports)] if with_ports else []
        rows.append([c.subject, c.issuer, names, *ports, seen])
    return rows


def show(history: History, ports: PortCounts, layout: Layout) -> None:
    def day(value: dt.date | None) -> str:
        return value.isoformat() if value else ""

    span = f", {history.first_seen} to {history.last_seen}" if history.reports else ""
    if layout.table:
        reports = f"{history.reports} report" + ("" if history.reports == 1 else "s")
        console.print(f"[bold]{history.ip}[/]: {reports}{span}", highlight=False)
        if ports.values:
            listed = " · ".join(f"{port} ×{count}" for port, count in ports.values.items())
            flag = "  [bold red]honeypot-like[/]" if ports.honeypot else ""
            console.print(f"open-port observations: {listed}{flag}", highlight=False)
        if history.ptr_names:
            console.print(f"PTR names: {', '.join(history.ptr_names)}", highlight=False)
        if history.registration:
            console.print(f"registration: {' · '.join(registration_lines(history.registration))}", highlight=False)
    else:
        flag = ["honeypot"] if ports.honeypot else []
        fields = [history.ip, history.reports, day(history.first_seen), day(history.last_seen), *flag]
        emit(layout, "", [], [fields], prefix="ip")
        emit(layout, "", [], [[name] for name in history.ptr_names], prefix="ptr")
        emit(layout, "", [], registration_rows(history.registration), prefix="registration")
        emit(layout, "", [], [[port, count] for port, count in ports.values.items()], prefix="open-port")
    services = sorted(history.services.values(), key=lambda s: (s.port is None, s.port or 0, s.transport))
    if services:
        emit(
            layout,
            "services",
            ["port", "protocol", "reports", "first seen", "last seen", "latest"],
            [
                [port_label(s.port, s.transport), s.protocol, s.reports, s.first_seen, s.last_seen, s.latest]
                for s in services
            ],
            right=["port", "reports"],
            prefix="service",
        )
    if history.certificates:
        rows = certificate_rows(history.certificates.values(), with_ports=True)
        emit(layout, "certificates", ["subject", "issuer", "names", "ports", "seen"], rows, prefix="certificate")
    if history.logged:
        rows = certificate_rows(history.logged.values(), with_ports=False)
        columns = ["subject", "issuer", "names", "logged"]
        emit(layout, "certificates in CT logs naming it", columns, rows, prefix="ct-certificate")
    if history.newest:
        rows = [
            [
                report.date,
                port_label(*scanned_port(report)),
                protocol_of(report),
                headline_of(report),
                report.id,
            ]
            for report in history.newest
        ]
        emit(layout, "reports, newest first", ["date", "port", "protocol", "summary", "id"], rows, prefix="report")
    hidden = history.reports - len(history.newest)
    if hidden:
        errors.print(f"… {hidden} older reports (--limit 0 lists all)", highlight=False)
