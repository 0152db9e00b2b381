"""``shoal scan``: discover open TCP ports (and UDP ports, when asked) and identify their services, into the store,
with live progress."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.cli.dns import (
    DnsRateOption,
    DnsRetriesOption,
    DnsTimeoutOption,
    ResolverOption,
    checked,
    resolver_settings,
)
from shoal.cli.options import Options, taking
from shoal.collect.connection import Timeouts
from shoal.collect.dns import DnsClient, ResolverSettings, reverse_all
from shoal.collect.domains import DOMAIN_PORTS, DomainScanner, DomainStats
from shoal.collect.policy import PolicyFileError, ScanPolicy, load_policy, parse_network
from shoal.collect.queue import PriorityQueue
from shoal.collect.scanner import Collector, ResultSink, ScanSettings, ScanStats, run_event_loop
from shoal.collect.schedules import ScheduleBook
from shoal.collect.storing import StoredTotals, StoreWriter
from shoal.collect.targets import (
    UDP_WORDS,
    PortSpec,
    is_host_name,
    iterate_targets,
    parse_port_spec,
    parse_ports,
    read_names,
    split_targets,
)
from shoal.collect.worker import CollectionWorker
from shoal.config import data_dir
from shoal.enrich import enrich_report
from shoal.errors import BadParameter, TargetNotAllowed
from shoal.ingest.pipeline import Transform
from shoal.model import Report
from shoal.request.answers import plural
from shoal.request.params import (
    CONCURRENCY,
    CONNECT_TIMEOUT,
    ENRICH,
    FOLLOW_UPS,
    IDENTIFY,
    JARM,
    PER_HOST,
    RATE,
    REVERSE_DNS,
    SCAN,
    SCAN_PORTS,
    SCAN_UDP_PORTS,
    SERVICE_TIMEOUT,
    UDP_RETRIES,
    WAIT,
)
from shoal.store.base import IPNetwork, Store
from shoal.usage import UsageBook

PROGRESS_SECONDS = 0.25
T = TypeVar("T")


@taking(*SCAN)
def scan_command(
    options: Options,  # the options of SCAN, in this place (shoal.cli.options.taking)
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Addresses or CIDRs, each inside the allow-list; host names are visited by name (domain scans).",
            show_default=False,
        ),
    ] = None,
    names: Annotated[
        str | None,
        typer.Option(
            "--names",
            help="A file of host names to visit by name, or 'known' for every name 'shoal dns' or a scan resolved.",
            show_default=False,
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Also allow this address or CIDR for this run (repeatable).", show_default=False),
    ] = None,
    resolver: ResolverOption = None,
    dns_rate: DnsRateOption = 500.0,
    dns_timeout: DnsTimeoutOption = 2.0,
    dns_retries: DnsRetriesOption = 2,
    data: DataOption = None,
) -> None:
    """Scan TARGETS. Only addresses in the allow-list (DATA/collector.toml, --allow) are touched; a name is
    visited only on the addresses it resolves to that the allow-list permits. After 'shoal login' (without
    --data): the server is asked to collect each IP:PORT, and 'shoal scan list|status' follow what was asked."""
    from shoal.cli.remote import server_of
    from shoal.cli.submit import FOLLOWING, scan_remotely

    ports, udp_ports = options[SCAN_PORTS.attribute], options[SCAN_UDP_PORTS.attribute]
    server = server_of(data)
    if server is not None:
        scan_remotely(server, targets or [], ports, udp_ports)
        return
    if targets and targets[0] in FOLLOWING:
        fail(
            BadParameter(
                "targets",
                f"'shoal scan {targets[0]}' follows what a server was asked to collect: 'shoal login URL' first",
            )
        )
    folder = data_dir(data)
    try:
        policy = load_policy(folder).with_allowed(parse_network(text) for text in allow or [])
    except (PolicyFileError, ValueError) as exc:
        fail(BadParameter("allow", str(exc)))
    networks, visited = checked(lambda: split_targets(targets or []), "targets")
    known = names == "known"
    if names is not None and not known:
        visited += checked(lambda: read_names(Path(names)), "names")
    if not networks and not visited and not known:
        fail(BadParameter("targets", "give at least one target address or CIDR, a host name, or --names"))
    spec = checked(lambda: port_spec(ports, udp_ports, networks), "ports")
    name_ports = spec.tcp if ports is not None and spec.tcp else DOMAIN_PORTS
    per_second = options[RATE.attribute]
    try:
        for network in networks:
            policy.check_network(network)
    except TargetNotAllowed as exc:
        fail(exc)
    if (visited or known) and not policy.allow:
        message = "names are visited only on addresses the allow-list permits, and it is empty: allow networks"
        fail(TargetNotAllowed(visited[0] if visited else "known", f"{message} with --allow CIDR or in collector.toml"))
    if per_second > policy.max_rate:
        errors.print(f"[yellow]rate capped at max_rate = {policy.max_rate:g}/s[/] ({policy.source})", highlight=False)
    dns = options[REVERSE_DNS.attribute]
    needs_resolver = bool(visited) or (dns and bool(networks))
    resolving = resolver_settings(resolver, dns_rate, dns_timeout, dns_retries) if needs_resolver else None
    settings = settings_of(options)
    store = open_store(data, create=True)
    try:
        transform = enrich_report if options[ENRICH.attribute] else None
        plan = ScanPlan(networks, spec.tcp, spec.udp, visited, name_ports, known, dns and bool(networks))
        stats, stored, domain_stats = run_event_loop(run_scan(store, policy, settings, plan, transform, resolving))
    finally:
        store.close()
    show_summary(stats, stored, domain_stats)


def settings_of(options: Options) -> ScanSettings:
    """How the collector scans, from the options of SCAN."""
    timeouts = Timeouts(
        connect=options[CONNECT_TIMEOUT.attribute],
        first_byte=options[WAIT.attribute],
        service=options[SERVICE_TIMEOUT.attribute],
    )
    return ScanSettings(
        rate=options[RATE.attribute],
        concurrency=options[CONCURRENCY.attribute],
        per_host=options[PER_HOST.attribute],
        timeouts=timeouts,
        identify=options[IDENTIFY.attribute],
        jarm=options[JARM.attribute],
        follow_ups=options[FOLLOW_UPS.attribute],
        udp_retries=options[UDP_RETRIES.attribute],
    )


def port_spec(ports: str | None, udp_ports: str | None, networks: list[IPNetwork]) -> PortSpec:
    """--ports and --udp-ports: TCP top100 for addresses (80,443 for names) unless either says otherwise."""
    spec = parse_port_spec(ports or ("top100" if networks else "80,443"))
    if udp_ports is None:
        return spec
    udp = tuple(dict.fromkeys([*spec.udp, *parse_ports(udp_ports, UDP_WORDS)]))
    return PortSpec(spec.tcp if ports is not None else (), udp)


@dataclass(frozen=True, slots=True)
class ScanPlan:
    networks: list[IPNetwork]
    ports: tuple[int, ...]
    udp_ports: tuple[int, ...]
    names: list[str]  # visited by name
    name_ports: tuple[int, ...]
    known: bool  # also visit every name with stored addresses
    reverse_dns: bool  # PTR/NS of every scanned address, forward lookups of the names found


class NameFinder:
    """A ResultSink that passes everything on and remembers the certificate names of the reports it sees."""

    def __init__(self, sink: ResultSink) -> None:
        self.sink = sink
        self.names: dict[str, None] = {}

    def open_port(self, ip: str, port: int, day: dt.date) -> None:
        self.sink.open_port(ip, port, day)

    def open_udp_port(self, ip: str, port: int, day: dt.date) -> None:
        self.sink.open_udp_port(ip, port, day)

    def report(self, report: Report) -> None:
        for item in report.items:
            if item.type == "host" and item.context == "cert-dns-name" and is_host_name(item.value):
                self.names[item.value.rstrip(".").lower()] = None
        self.sink.report(report)

    def closed_port(self, ip: str, port: int) -> None:
        self.sink.closed_port(ip, port)


async def run_scan(
    store: Store,
    policy: ScanPolicy,
    settings: ScanSettings,
    plan: ScanPlan,
    transform: Transform | None,
    resolving: ResolverSettings | None,
) -> tuple[ScanStats, StoredTotals, DomainStats | None]:
    writer = StoreWriter(store, transform)
    finder = NameFinder(writer)
    collector = Collector(policy, settings, finder)
    client = DnsClient(resolving) if resolving is not None else None
    domain_stats = None
    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("open [bold]{task.fields[open]}[/]  reports [bold]{task.fields[reports]}[/]  {task.fields[rate]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=not errors.is_terminal,
    ) as progress:
        task = progress.add_task("scan", total=None, open=0, reports=0, rate="")
        flushing = asyncio.create_task(writer.run())
        showing = asyncio.create_task(_show_progress(progress, task, collector))
        try:
            stats = await collector.scan(plan.networks, plan.ports, plan.udp_ports) if plan.networks else ScanStats()
            if plan.reverse_dns and client is not None:
                await reverse_lookups(client, writer, plan, policy, list(finder.names))
            if plan.names or plan.known:
                known = store.known_addresses() if plan.known else None
                names = list(dict.fromkeys([*plan.names, *(known or {})]))
                scanner = DomainScanner(policy, collector.connector, client, writer)
                domain_stats = await scanner.scan(names, plan.name_ports, known)
                writer.answers(domain_stats.answers)
        finally:
            for background in (flushing, showing):
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
            await writer.flush()
        _update(progress, task, collector)
    return stats, writer.totals, domain_stats


async def reverse_lookups(
    client: DnsClient, writer: StoreWriter, plan: ScanPlan, policy: ScanPolicy, names: list[str]
) -> None:
    """One rdns report per scanned address with a PTR name; forward answers of the PTR and certificate names."""
    day = dt.datetime.now(dt.UTC).date()
    addresses = [ip for ip, _ in iterate_targets(plan.networks, (plan.ports or plan.udp_ports)[:1], policy)]
    for start in range(0, len(addresses), 4096):
        for lookup in await reverse_all(client, addresses[start : start + 4096], day):
            report = lookup.report(day)
            if report is not None:
                writer.report(report)
            writer.answers(lookup.answers)
    for _, answers in await asyncio.gather(*(client.addresses(name, day) for name in names)):
        writer.answers(answers)


async def _show_progress(progress: Progress, task: TaskID, collector: Collector) -> None:
    while True:
        _update(progress, task, collector)
        await asyncio.sleep(PROGRESS_SECONDS)


def _update(progress: Progress, task: TaskID, collector: Collector) -> None:
    stats = collector.stats
    connects, datagrams = collector.connector.connects, collector.connector.datagrams
    rate = f"{connects / stats.elapsed:,.0f} conn/s" if stats.elapsed > 0 else ""
    if datagrams and stats.elapsed > 0:
        rate += f" {datagrams / stats.elapsed:,.0f} datagrams/s"
    progress.update(
        task,
        total=stats.targets or None,
        completed=stats.tried,
        open=stats.open_ports,
        reports=stats.reports,
        rate=rate,
    )


def show_summary(stats: ScanStats, stored: StoredTotals, domains: DomainStats | None = None) -> None:
    if stats.protocols:
        table = Table(title="services", title_justify="left")
        table.add_column("protocol")
        table.add_column("reports", justify="right")
        for protocol, count in sorted(stats.protocols.items(), key=lambda pair: (-pair[1], pair[0])):
            table.add_row(protocol, str(count))
        console.print(table)
    if stats.targets:
        console.print(
            f"tried {plural(stats.tried, 'ip:port')} in {stats.elapsed:.1f} s:"
            f" {stats.open_ports + stats.udp_open:,} open, {stats.reports:,} identified",
            highlight=False,
        )
    if stats.udp_datagrams:
        console.print(
            f"UDP: {stats.udp_open:,} ports answered, {stats.udp_silent:,} silent (open|filtered: not stored), "
            f"{stats.udp_datagrams:,} datagrams sent",
            highlight=False,
        )
    if domains is not None:
        console.print(
            f"visited {domains.names:,} names ({domains.resolved:,} resolved): {domains.visits:,} name:address:ports "
            f"tried, {domains.reports:,} answered; {domains.outside:,} addresses outside the allow-list not contacted",
            highlight=False,
        )
    udp = f" (and {stored.udp_observations:,} of UDP ports)" if stored.udp_observations else ""
    console.print(
        f"stored {plural(stored.observations, 'observation')}{udp} and {plural(stored.reports, 'report')}, "
        f"{plural(stored.answers, 'new DNS answer')}",
        highlight=False,
    )


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``6h``, ``1d``, ``2w`` (or plain seconds) in seconds."""
    word = text.strip().lower()
    number, unit = (word[:-1], word[-1]) if word[-1:].isalpha() else (word, "s")
    try:
        seconds = float(number) * DURATION_UNITS[unit]
    except (ValueError, KeyError):
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"a duration is a positive number with s, m, h, d or w, e.g. 6h, not {text!r}")
    return seconds


def start_collection_worker(
    store: Store, data: Path, allow: list[str] | None, rescan_every: str | None
) -> CollectionWorker:
    """The background collector of ``shoal serve`` (prioritize, rescans, scan schedules), with the policy of DATA
    and --allow."""
    try:
        policy = load_policy(data).with_allowed(parse_network(text) for text in allow or [])
    except (PolicyFileError, ValueError) as exc:
        fail(BadParameter("allow", str(exc)))
    every = None if rescan_every is None else checked(lambda: parse_duration(rescan_every), "rescan-every")
    worker = CollectionWorker(
        store,
        policy,
        ScanSettings(),
        transform=enrich_report,
        rescan_every=every,
        queue=PriorityQueue(data),
        usage=UsageBook(data),
        schedules=ScheduleBook(data),
    )
    worker.start()
    return worker
