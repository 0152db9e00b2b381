"""``shoal dns``: reverse lookups of addresses into ``rdns`` reports, forward lookups of names (A, AAAA, NS, MX,
TXT and ``_dmarc.`` TXT) into ``fdns`` and ``mx`` reports and the stored answers that domain scans visit
(``shoal scan --names known``). Only the resolver is ever contacted."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.collect.dns import DnsClient, ResolverSettings, parse_resolver, reverse_all
from shoal.collect.scanner import run_event_loop
from shoal.collect.storing import StoredTotals, StoreWriter
from shoal.collect.targets import read_names, split_targets
from shoal.errors import BadParameter
from shoal.ingest.forward import forward_reports
from shoal.request.answers import plural
from shoal.store.base import IPNetwork, Store

MAX_ADDRESSES = 1 << 20  # a /12 of PTR lookups: wider is refused (split it)
BATCH = 4096  # addresses looked up at once
T = TypeVar("T")

ResolverOption = Annotated[
    str | None, typer.Option(help="The resolver, IP[:PORT] (default: the system's first nameserver).")
]
DnsRateOption = Annotated[float, typer.Option("--dns-rate", min=0.1, help="DNS queries per second.")]
DnsTimeoutOption = Annotated[float, typer.Option("--dns-timeout", min=0.05, help="Seconds to wait for one answer.")]
DnsRetriesOption = Annotated[int, typer.Option("--dns-retries", min=0, max=10, help="More tries after a timeout.")]


def checked(parse: Callable[[], T], parameter: str) -> T:
    """``parse()``; a ValueError is a bad ``parameter`` (exit 2 with its message), as a BadParameter is."""
    try:
        return parse()
    except ValueError as exc:
        fail(BadParameter(parameter, str(exc)))
    except BadParameter as exc:
        fail(exc)


def resolver_settings(resolver: str | None, rate: float, timeout: float, retries: int) -> ResolverSettings:
    address, port = checked(lambda: parse_resolver(resolver), "resolver")
    return ResolverSettings(address, port, timeout, retries, rate)


def dns_command(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Addresses or CIDRs (PTR lookups) and host names (A, AAAA, NS, MX, TXT lookups).", show_default=False
        ),
    ] = None,
    names: Annotated[
        Path | None, typer.Option("--names", help="A file of host names, one a line (forward lookups).")
    ] = None,
    resolver: ResolverOption = None,
    rate: DnsRateOption = 500.0,
    timeout: DnsTimeoutOption = 2.0,
    retries: DnsRetriesOption = 2,
    data: DataOption = None,
) -> None:
    """Look up TARGETS: each address's PTR names, their zones' name servers and addresses (one rdns report per
    address with a PTR name), and each name's A, AAAA, CNAME, NS (an fdns report), MX, TXT and DMARC (an mx
    report), its addresses kept for 'shoal scan --names known'."""
    networks, listed = checked(lambda: split_targets(targets or []), "targets")
    if names is not None:
        listed += checked(lambda: read_names(names), "names")
    addresses = sum(network.num_addresses for network in networks)
    if addresses > MAX_ADDRESSES:
        fail(BadParameter("targets", f"{addresses:,} addresses is more than {MAX_ADDRESSES:,}: split the range"))
    if not addresses and not listed:
        fail(BadParameter("targets", "give addresses, CIDRs or host names (or --names FILE)"))
    settings = resolver_settings(resolver, rate, timeout, retries)
    store = open_store(data, create=True)
    try:
        client = DnsClient(settings)
        totals, found = run_event_loop(look_up(store, client, networks, addresses, list(dict.fromkeys(listed))))
    finally:
        store.close()
    stats = client.stats
    console.print(
        f"looked up {plural(addresses, 'address')} ({found[0]:,} with PTR names) and {plural(len(listed), 'name')} "
        f"({found[1]:,} resolved): stored {plural(totals.reports, 'rdns, fdns and mx report')} and"
        f" {plural(totals.answers, 'new answer')}; {plural(stats.queries, 'query')} to"
        f" {settings.address}:{settings.port}, {stats.failed:,} unanswered",
        highlight=False,
    )
    if stats.queries and not stats.answered:
        errors.print(
            f"[bold red]error:[/] {settings.address}:{settings.port} answered none of {plural(stats.queries, 'query')}:"
            " is it a resolver, and reachable? (--resolver IP[:PORT] names another)",
            highlight=False,
        )
        raise typer.Exit(1)


def each_address(networks: list[IPNetwork]) -> Iterator[str]:
    for network in networks:
        for address in network if network.num_addresses == 1 else network.hosts():
            yield str(address)


async def look_up(
    store: Store, client: DnsClient, networks: list[IPNetwork], addresses: int, names: list[str]
) -> tuple[StoredTotals, tuple[int, int]]:
    writer = StoreWriter(store, None)
    day = dt.datetime.now(dt.UTC).date()
    with_ptr = resolved = 0
    with Progress(
        TextColumn("dns"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=not errors.is_terminal,
    ) as progress:
        task = progress.add_task("dns", total=addresses + len(names))
        flushing = asyncio.create_task(writer.run())
        try:
            pending = each_address(networks)
            while batch := list(islice(pending, BATCH)):
                for lookup in await reverse_all(client, batch, day):
                    report = lookup.report(day)
                    if report is not None:
                        with_ptr += 1
                        writer.report(report)
                    writer.answers(lookup.answers)
                progress.advance(task, len(batch))
            for start in range(0, len(names), BATCH):
                part = names[start : start + BATCH]
                for name, answers in zip(
                    part, await asyncio.gather(*(client.forward(n, day) for n in part)), strict=True
                ):
                    reports = forward_reports(name, answers, day)
                    resolved += bool(reports)
                    for report in reports:
                        writer.report(report)
                    writer.answers(answers)
                progress.advance(task, len(part))
        finally:
            flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flushing
            await writer.flush()
    return writer.totals, (with_ptr, resolved)
