"""``shoal ports``: the open ports of an address or CIDR (GET /v1/scan/ports and /v1/scan/ipports), and why
the honeypot flag is or is not set (``--explain``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
import typer
from rich.table import Table
from starlette.datastructures import QueryParams

from shoal.api.params import port_query_of
from shoal.api.render import ipports_body, ports_body
from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.errors import ShoalError
from shoal.ports import explain, summarize_ip_ports, summarize_ports
from shoal.store.base import OpenPorts, PortQuery

BAR_WIDTH = 40
SHOWN_PORTS = 12  # ports listed per IP in the --per-ip table


def ports_command(
    target: Annotated[str, typer.Argument(help="IP address or CIDR, e.g. 8.8.8.8 or 8.8.8.0/24.")],
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    explain_flag: Annotated[bool, typer.Option("--explain", help="Show the honeypot rule's evidence.")] = False,
    per_ip: Annotated[bool, typer.Option("--per-ip", help="Per IP, as GET /v1/scan/ipports.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    data: DataOption = None,
) -> None:
    """Open TCP ports seen on an address or CIDR: observation counts per port (default: the last 30 days)."""
    pairs = [("ip", target)] + [(name, value) for name, value in (("from", date_from), ("to", date_to)) if value]
    store = open_store(data)
    try:
        query = port_query_of(QueryParams(pairs), dt.datetime.now(dt.UTC).date())
        found = store.open_ports(query)
    except ShoalError as exc:
        fail(exc)
    finally:
        store.close()
    if json_output:
        body = ipports_body(summarize_ip_ports(found)) if per_ip else ports_body(summarize_ports(found))
        print(orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode())
    elif not len(found):
        errors.print(f"no open-port observations for {target_text(query)} in {window_text(query)}")
        raise typer.Exit(1)
    elif per_ip:
        show_per_ip(query, found)
    else:
        show_ports(query, found)
    if explain_flag:
        show_explanation(query, found)


def window_text(query: PortQuery) -> str:
    return f"{query.date_from or '…'} to {query.date_to or 'now'}"


def target_text(query: PortQuery) -> str:
    """An address without its /32 (or /128), a CIDR as it is."""
    network = query.network
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def show_ports(query: PortQuery, found: OpenPorts) -> None:
    summary = summarize_ports(found)
    flag = " [bold red]honeypot[/]" if summary.honeypot else ""
    table = Table(
        title=f"{target_text(query)}, {window_text(query)}: other {summary.other}{flag}", title_justify="left"
    )
    table.add_column("port", justify="right")
    table.add_column("observations", justify="right")
    table.add_column("")
    top = max((count for _, count in summary.values), default=1)
    for port, count in summary.values:
        table.add_row(str(port), str(count), "█" * max(1, round(BAR_WIDTH * count / top)))
    console.print(table)


def show_per_ip(query: PortQuery, found: OpenPorts) -> None:
    summary = summarize_ip_ports(found)
    table = Table(
        title=f"{target_text(query)}, {window_text(query)}: {summary.other} IPs not shown", title_justify="left"
    )
    table.add_column("ip")
    table.add_column("observations", justify="right")
    table.add_column("ports (observations)", overflow="fold")
    for host in summary.hosts:
        shown = ", ".join(f"{port} ({count})" for port, count in host.values[:SHOWN_PORTS])
        more = len(host.values) - SHOWN_PORTS
        if more > 0 or host.other:
            shown += f", … {max(more, 0)} more ports, other {host.other}"
        table.add_row(host.ip, str(sum(count for _, count in host.values) + host.other), shown)
    console.print(table)


def show_explanation(query: PortQuery, found: OpenPorts) -> None:
    flagged, evidence = explain(found)
    if not len(found):
        return
    verdict = "[bold red]honeypot: true[/]" if flagged else "[green]honeypot: not set[/]"
    console.print(f"{verdict} — {flagged} host(s) of {target_text(query)} meet the rule in {window_text(query)}")
    for item in evidence:
        console.print(f"[bold]{item.ip}[/] ({item.observations} observations)", highlight=False)
        for line in item.reasons():
            console.print(f"  {line}", highlight=False, markup=False)
    if flagged > len(evidence):
        console.print(f"… and {flagged - len(evidence)} more flagged hosts")
