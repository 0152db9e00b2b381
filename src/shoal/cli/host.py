"""``shoal host IP``: one address's history (from the store, or a server), like the web UI's host page.

It leads with what Shodan's host view leads with (``shoal.request.hosts``): country, organisation, AS, tags,
PTR names, first and last seen, open ports. Then its services (one row per port, TCP or UDP: protocol,
reports, first and last seen, the latest headline), its open-port observations, the certificates its reports
carry, and the reports themselves, newest first (``--dataset``: the reports of another dataset). Beside them,
from the other datasets: its PTR names (``rdns``), the names pointing at it (``fdns``) and those whose mail it
receives (``mx``), its favicons (``favicons``), the certificates Certificate Transparency logs hold for it
(``ct``, by IP address in the certificate), and who holds it, as ``ip/summary`` says (its registration: domain
and entity). One pass over the matching reports (the store's matches, or the server's export): memory grows
with the ports and certificates, not with the number of reports.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import orjson
import typer

from shoal.cli.backend import EARLIEST, Backend
from shoal.cli.common import DataOption, DatasetName, console, errors, fail
from shoal.cli.diff import BetweenOption, SinceOption, show_diff
from shoal.cli.fields import headline_of, protocol_of
from shoal.cli.options import DatasetOption, asked, open_backend, selecting
from shoal.cli.output import DEFAULT_SEPARATOR, Layout, LayoutOption, SeparatorOption, emit, layout_of
from shoal.errors import BadParameter
from shoal.model import CT, FAVICONS, FDNS, MX, RDNS, Report
from shoal.request.answers import PortCounts, plural
from shoal.request.hosts import Host, host_of, port_label, port_of, ptr_names_of
from shoal.request.params import FROM, IP, TO
from shoal.request.selection import Selection

MAIL_NAMES = 4  # the IP's names whose mail domains shoal host looks up (one search each)


@dataclass(slots=True)
class Service:
    port: int | None
    protocol: str
    latest: str  # the newest report's headline
    first_seen: dt.date
    last_seen: dt.date
    newest: Report  # its newest report
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
    forward_names: list[str] = field(default_factory=list)  # names whose A/AAAA point at it (fdns), newest first
    mail_for: list[str] = field(default_factory=list)  # names whose MX is one of its names (mx)
    favicons: list[tuple[str, str]] = field(default_factory=list)  # (url, Shodan hash) of its favicons
    logged: dict[str, Certificate] = field(default_factory=dict)  # certificates in CT logs naming the IP
    registration: dict[str, dict[str, str]] = field(default_factory=dict)  # ip/summary's domain and entity

    @property
    def first_seen(self) -> dt.date | None:
        return min((service.first_seen for service in self.services.values()), default=None)

    @property
    def last_seen(self) -> dt.date | None:
        return max((service.last_seen for service in self.services.values()), default=None)

    def host(self) -> Host:
        """The header: country, organisation, AS, tags from the newest report of each service; PTR names; dates."""
        newest = [service.newest for service in self.services.values()]
        return host_of(self.ip, newest, self.ptr_names, self.first_seen, self.last_seen)


def first_value(report: Report, item_type: str, context: str | None = None) -> str:
    return next((i.value for i in report.items if i.type == item_type and context in (None, i.context)), "")


def note(history: History, report: Report) -> None:
    """Add one report (they come newest first) to the history."""
    history.reports += 1
    key = port_of(report)
    service = history.services.get(key)
    if service is None:
        service = Service(key[0], protocol_of(report), headline_of(report), report.date, report.date, report, 0, key[1])
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
    history.ptr_names = ptr_names_of(rdns)
    for report in ct:
        note_certificate(history.logged, report)


def note_names(backend: Backend, selection: Selection, history: History) -> None:
    """The names pointing at the IP (fdns, newest first), the names whose mail goes to one of its first
    ``MAIL_NAMES`` names (mx; one search each), and its favicons (the newest of each URL)."""
    forward = backend.search(selection, 0, FDNS).results
    history.forward_names = [name for name in dict.fromkeys(r.value_of("host") for r in forward) if name]
    mail: dict[str, None] = {}
    for name in [*dict.fromkeys([*history.forward_names, *history.ptr_names])][:MAIL_NAMES]:
        by_exchange = replace(selection, ip=None, selectors=(("mx", name),))
        mail.update(dict.fromkeys(r.value_of("host") or "" for r in backend.search(by_exchange, 0, MX).results))
    history.mail_for = [name for name in mail if name]
    icons = backend.search(replace(selection, most_recent=True), 0, FAVICONS).results
    history.favicons = [(r.value_of("url") or "", first_value(r, "obj-murmur3", "favicon")) for r in icons]


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
    since: SinceOption = None,
    between: BetweenOption = None,
    data: DataOption = None,
) -> None:
    """An IP's services, open ports, PTR names, the names pointing at it and the domains it receives mail for,
    favicons, certificates and reports over time, superseded ones included (locally: a server's API lists
    current reports only; `shoal export --ip IP` for all reports). Plain lines (in a pipe) start with what they
    are: ip, country, organisation, asn, tag, ptr, port, fdns, mx-for, favicon, open-port, service, certificate,
    ct-certificate, report. With --since DATE or --between A B: what opened, closed and changed instead (as
    `shoal diff IP`)."""
    if since is not None or between is not None:
        show_diff(ip, since, between, layout_of(table, separator), json_output, data)
        return
    try:
        address = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        fail(BadParameter("ip", f"'ip' must be one IP address, e.g. 8.8.8.8, not {ip!r}"))
    layout = layout_of(table, separator)
    selection = replace(selection, ip=IP.take(address))
    backend = open_backend(data)
    try:
        everything = replace(selection, history=True)
        history = asked(None, lambda: history_of(address, backend.reports(everything, dataset.value), limit))
        ports = asked(
            None, lambda: backend.ports(address, selection.date_from or EARLIEST, selection.date_to, per_ip=False)
        )
        rdns = asked(None, lambda: backend.search(selection, 0, RDNS).results)
        ct = asked(None, lambda: backend.search(replace(selection, indirect=True), 0, CT).results)
        note_other_datasets(history, rdns, ct)
        asked(None, lambda: note_names(backend, selection, history))
        history.registration = asked(None, lambda: backend.registration(address))
    finally:
        backend.close()
    assert isinstance(ports, PortCounts)
    open_ports = ports.body()
    if json_output:
        print(orjson.dumps(history_body(history, open_ports)).decode())
        return
    known = (history.ptr_names, history.logged, history.forward_names, history.registration)
    if not (history.reports or ports.values or any(known)):
        errors.print(f"nothing known about {address}")
        raise typer.Exit(1)
    show(history, ports, layout)


def history_body(history: History, open_ports: dict[str, Any]) -> dict[str, Any]:
    """The header first (``Host.header``: ip, country, organisation, asn, tags, ptr_names, first and last seen,
    ports), then the rest."""

    def day(value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    return history.host().header() | {
        "reports": history.reports,
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
        "forward_names": history.forward_names,
        "mail_for": history.mail_for,
        "favicons": [{"url": url, "murmur3": murmur3} for url, murmur3 in history.favicons],
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


HEADER = (  # label on a terminal, line prefix in a pipe, the Host's values
    ("Country", "country", lambda host: host.countries),
    ("Organisation", "organisation", lambda host: host.organisations),
    ("AS", "asn", lambda host: host.asns),
    ("Tags", "tag", lambda host: host.tags),
    ("PTR names", "ptr", lambda host: host.ptr_names),
    ("Open ports", "port", lambda host: host.ports),
)


def show(history: History, ports: PortCounts, layout: Layout) -> None:
    def day(value: dt.date | None) -> str:
        return value.isoformat() if value else ""

    host = history.host()
    if layout.table:
        console.print(f"[bold]{history.ip}[/]", highlight=False)
        rows = [(label, ", ".join(values(host))) for label, _, values in HEADER]
        if history.reports:
            seen = f"{history.first_seen} · last seen {history.last_seen} · {plural(history.reports, 'report')}"
            rows.append(("First seen", seen))
        for label, value in rows:
            if value:
                console.print(f"  {label:<13} {value}", highlight=False, markup=False)
        if ports.values:
            listed = " · ".join(f"{port} ×{count}" for port, count in ports.values.items())
            flag = "  [bold red]honeypot-like[/]" if ports.honeypot else ""
            console.print(f"  {'Observations':<13} {listed}{flag}", highlight=False)
        extra = (
            ("Registration", " · ".join(registration_lines(history.registration))),
            ("Names here", ", ".join(history.forward_names)),
            ("Mail for", ", ".join(history.mail_for)),
            ("Favicons", ", ".join(f"{url} (murmur3 {murmur3})" for url, murmur3 in history.favicons)),
        )
        for label, value in extra:
            if value:
                console.print(f"  {label:<13} {value}", highlight=False, markup=False)
    else:
        flag = ["honeypot"] if ports.honeypot else []
        fields = [history.ip, history.reports, day(history.first_seen), day(history.last_seen), *flag]
        emit(layout, "", [], [fields], prefix="ip")
        for _, prefix, values in HEADER:
            emit(layout, "", [], [[value] for value in values(host)], prefix=prefix)
        emit(layout, "", [], registration_rows(history.registration), prefix="registration")
        emit(layout, "", [], [[name] for name in history.forward_names], prefix="fdns")
        emit(layout, "", [], [[name] for name in history.mail_for], prefix="mx-for")
        emit(layout, "", [], [[url, murmur3] for url, murmur3 in history.favicons], prefix="favicon")
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
                port_label(*port_of(report)),
                protocol_of(report),
                headline_of(report),
                report.id,
            ]
            for report in history.newest
        ]
        emit(layout, "reports, newest first", ["date", "port", "protocol", "summary", "id"], rows, prefix="report")
    hidden = history.reports - len(history.newest)
    if hidden:
        errors.print(f"… {plural(hidden, 'older report')} (--limit 0 lists all)", highlight=False)
