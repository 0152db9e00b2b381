"""``shoal scan``: discover open TCP ports and identify their services, into the store, with live progress."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.collect.connection import Timeouts
from shoal.collect.policy import PolicyFileError, ScanPolicy, load_policy, parse_network
from shoal.collect.queue import PriorityQueue
from shoal.collect.scanner import Collector, ScanSettings, ScanStats, run_event_loop
from shoal.collect.storing import StoredTotals, StoreWriter
from shoal.collect.targets import parse_ports, parse_targets
from shoal.collect.worker import CollectionWorker
from shoal.config import data_dir
from shoal.enrich import enrich_report
from shoal.errors import BadParameter, TargetNotAllowed
from shoal.ingest.pipeline import Transform
from shoal.store.base import IPNetwork, Store
from shoal.usage import UsageBook

PROGRESS_SECONDS = 0.25
T = TypeVar("T")


def parse_rate(text: str) -> float:
    """``500`` or ``500/s``: new connections per second."""
    number = text.strip().lower().removesuffix("/s")
    try:
        rate = float(number)
    except ValueError:
        raise ValueError(f"a rate is connections per second, e.g. 500 or 500/s, not {text!r}") from None
    if not rate > 0:
        raise ValueError(f"the rate must be positive, not {text!r}")
    return rate


def scan_command(
    targets: Annotated[list[str], typer.Argument(help="Addresses or CIDRs, each inside the allow-list.")],
    ports: Annotated[str, typer.Option(help="A list such as 22,80,8000-8100, or top100, or all.")] = "top100",
    rate: Annotated[str, typer.Option(help="New connections per second, e.g. 500/s (capped by max_rate).")] = "1000/s",
    concurrency: Annotated[int, typer.Option(min=1, help="ip:ports in flight at once.")] = 512,
    per_host: Annotated[int, typer.Option(min=1, help="Connections open at once to one address.")] = 16,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Also allow this address or CIDR for this run (repeatable).", show_default=False),
    ] = None,
    connect_timeout: Annotated[float, typer.Option(min=0.05, help="Seconds for a TCP handshake.")] = 3.0,
    wait: Annotated[float, typer.Option(min=0.05, help="Seconds to wait for a banner or an answer.")] = 3.0,
    service_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to identify one ip:port.")] = 20.0,
    identify: Annotated[bool, typer.Option(help="Identify services; --no-identify only finds open ports.")] = True,
    jarm: Annotated[bool, typer.Option(help="Add a JARM fingerprint to TLS services (10 more connections).")] = True,
    enrich: Annotated[
        bool, typer.Option(help="Enrich reports (country, network, product tags) before storing.")
    ] = True,
    data: DataOption = None,
) -> None:
    """Scan TARGETS. Only addresses in the allow-list (DATA/collector.toml, --allow) are touched."""
    folder = data_dir(data)
    try:
        policy = load_policy(folder).with_allowed(parse_network(text) for text in allow or [])
    except (PolicyFileError, ValueError) as exc:
        fail(BadParameter("allow", str(exc)))
    networks = _checked(lambda: parse_targets(targets), "targets")
    port_list = _checked(lambda: parse_ports(ports), "ports")
    per_second = _checked(lambda: parse_rate(rate), "rate")
    try:
        for network in networks:
            policy.check_network(network)
    except TargetNotAllowed as exc:
        fail(exc)
    if per_second > policy.max_rate:
        errors.print(f"[yellow]rate capped at max_rate = {policy.max_rate:g}/s[/] ({policy.source})", highlight=False)
    timeouts = Timeouts(connect=connect_timeout, first_byte=wait, service=service_timeout)
    settings = ScanSettings(per_second, concurrency, per_host, timeouts, identify, jarm)
    store = open_store(data)
    try:
        transform = enrich_report if enrich else None
        stats, stored = run_event_loop(run_scan(store, policy, settings, networks, port_list, transform))
    finally:
        store.close()
    show_summary(stats, stored)


def _checked(parse: Callable[[], T], parameter: str) -> T:
    try:
        return parse()
    except ValueError as exc:
        fail(BadParameter(parameter, str(exc)))


async def run_scan(
    store: Store,
    policy: ScanPolicy,
    settings: ScanSettings,
    networks: list[IPNetwork],
    ports: tuple[int, ...],
    transform: Transform | None,
) -> tuple[ScanStats, StoredTotals]:
    writer = StoreWriter(store, transform)
    collector = Collector(policy, settings, writer)
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
            stats = await collector.scan(networks, ports)
        finally:
            for background in (flushing, showing):
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
            await writer.flush()
        _update(progress, task, collector)
    return stats, writer.totals


async def _show_progress(progress: Progress, task: TaskID, collector: Collector) -> None:
    while True:
        _update(progress, task, collector)
        await asyncio.sleep(PROGRESS_SECONDS)


def _update(progress: Progress, task: TaskID, collector: Collector) -> None:
    stats = collector.stats
    connects = collector.connector.connects
    rate = f"{connects / stats.elapsed:,.0f} conn/s" if stats.elapsed > 0 else ""
    progress.update(
        task,
        total=stats.targets or None,
        completed=stats.tried,
        open=stats.open_ports,
        reports=stats.reports,
        rate=rate,
    )


def show_summary(stats: ScanStats, stored: StoredTotals) -> None:
    if stats.protocols:
        table = Table(title="services", title_justify="left")
        table.add_column("protocol")
        table.add_column("reports", justify="right")
        for protocol, count in sorted(stats.protocols.items(), key=lambda pair: (-pair[1], pair[0])):
            table.add_row(protocol, str(count))
        console.print(table)
    console.print(
        f"tried {stats.tried:,} ip:ports in {stats.elapsed:.1f} s: {stats.open_ports:,} open, "
        f"{stats.reports:,} identified; stored {stored.observations:,} observations and {stored.reports:,} reports",
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
    """The background collector of ``shoal serve`` (prioritize, rescans), with the policy of DATA and --allow."""
    try:
        policy = load_policy(data).with_allowed(parse_network(text) for text in allow or [])
    except (PolicyFileError, ValueError) as exc:
        fail(BadParameter("allow", str(exc)))
    every = None if rescan_every is None else _checked(lambda: parse_duration(rescan_every), "rescan-every")
    worker = CollectionWorker(
        store,
        policy,
        ScanSettings(),
        transform=enrich_report,
        rescan_every=every,
        queue=PriorityQueue(data),
        usage=UsageBook(data),
    )
    worker.start()
    return worker
