"""``shoal ports``: the open ports of an address or CIDR (GET /v1/scan/ports and /v1/scan/ipports), and why
the honeypot flag is or is not set (``--explain``, which reads the observations themselves: local only)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from shoal.cli.backend import LocalBackend, port_counts
from shoal.cli.common import DataOption, console, errors, fail
from shoal.cli.options import FromOption, ToOption, asked, open_backend, option_of
from shoal.cli.output import DEFAULT_SEPARATOR, Layout, LayoutOption, SeparatorOption, emit, layout_of
from shoal.cli.search import bar
from shoal.errors import BadParameter
from shoal.request.answers import IpPortCounts, PortCounts
from shoal.request.params import PORTS_TRANSPORT

if TYPE_CHECKING:
    from shoal.store.base import OpenPorts

SHOWN_PORTS = 12  # ports listed per IP in the --per-ip table
DEFAULT_WINDOW_DAYS = 30  # as the API (shoal.ports.DEFAULT_WINDOW_DAYS)
TransportOption = option_of(PORTS_TRANSPORT)


def ports_command(
    target: Annotated[str, typer.Argument(help="IP address or CIDR, e.g. 8.8.8.8 or 8.8.8.0/24.")],
    date_from: FromOption = None,
    date_to: ToOption = None,
    explain_flag: Annotated[
        bool, typer.Option("--explain", help="Show the honeypot rule's evidence (local store only).")
    ] = False,
    per_ip: Annotated[bool, typer.Option("--per-ip", help="Per IP, as GET /v1/scan/ipports.")] = False,
    transport: TransportOption = "tcp",
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    data: DataOption = None,
) -> None:
    """Open TCP ports (UDP ports with --transport udp) seen on an address or CIDR: observation counts per port
    (default: the last 30 days)."""
    layout = layout_of(table, separator)
    backend = open_backend(data, reading_reports=False)
    if explain_flag and not isinstance(backend, LocalBackend):
        backend.close()
        fail(
            BadParameter(
                "explain", f"--explain reads the observations themselves: give --data DIR (not {backend.where})"
            )
        )
    try:
        if explain_flag:  # one read of the observations, for the counts and for the explanation
            assert isinstance(backend, LocalBackend)
            observed = asked("", lambda: backend.observations(target, date_from, date_to, transport))
            found = port_counts(observed, per_ip)
        else:
            found = asked("", lambda: backend.ports(target, date_from, date_to, per_ip, transport))
    finally:
        backend.close()
    udp = " (UDP)" if transport.strip().lower() == "udp" else ""
    where = f"{target_text(target)}{udp}, {window_text(date_from, date_to)}"
    if json_output:
        print(orjson.dumps(found.body(), option=orjson.OPT_SORT_KEYS).decode())
    elif not found.values:
        errors.print(f"no open-port observations for {where}")
        raise typer.Exit(1)
    elif isinstance(found, IpPortCounts):
        show_per_ip(where, found, layout)
    else:
        show_ports(where, found, layout)
    if explain_flag:
        show_explanation(observed, f"{target_text(target)} meet the rule in {window_text(date_from, date_to)}")


def window_text(date_from: str | None, date_to: str | None) -> str:
    """The days searched, as the API chooses them: ``from`` defaults to 29 days before ``to`` (or today)."""
    if date_from is None:
        try:
            last = dt.date.fromisoformat(date_to) if date_to else dt.datetime.now(dt.UTC).date()
        except ValueError:
            last = dt.datetime.now(dt.UTC).date()
        date_from = (last - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)).isoformat()
    return f"{date_from} to {date_to or 'now'}"


def target_text(target: str) -> str:
    """An address without its /32 (or /128), a CIDR as it is (host bits cleared)."""
    network = ipaddress.ip_network(target.strip(), strict=False)
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def show_ports(where: str, found: PortCounts, layout: Layout) -> None:
    flag = " honeypot" if found.honeypot else ""
    title = f"{where}: other {found.other}{flag}"
    top = max(found.values.values(), default=1)
    rows = [[port, count, *([bar(count, top)] if layout.table else [])] for port, count in found.values.items()]
    columns = ["port", "observations", ""] if layout.table else ["port", "observations"]
    emit(layout, title, columns, rows, right=["port", "observations"])


def hosts_in_order(found: IpPortCounts) -> list[tuple[str, PortCounts, int]]:
    """(ip, ports, observations): most observations first, ties by address, as the API chooses them."""
    hosts = [(ip, ports, sum(ports.values.values()) + ports.other) for ip, ports in found.values.items()]
    return sorted(hosts, key=lambda host: (-host[2], ipaddress.ip_address(host[0])))


def show_per_ip(where: str, found: IpPortCounts, layout: Layout) -> None:
    rows = []
    for ip, ports, total in hosts_in_order(found):
        listed = list(ports.values.items())
        shown = ", ".join(f"{port} ({count})" for port, count in listed[:SHOWN_PORTS])
        more = len(listed) - SHOWN_PORTS
        if more > 0 or ports.other:
            shown += f", … {max(more, 0)} more ports, other {ports.other}"
        rows.append([ip, total, shown])
    title = f"{where}: {found.other} IPs not shown"
    emit(layout, title, ["ip", "observations", "ports (observations)"], rows, right=["observations"])


def show_explanation(found: OpenPorts, where: str) -> None:
    from shoal.ports import explain

    flagged, evidence = explain(found)
    if not len(found):
        return
    verdict = "[bold red]honeypot: true[/]" if flagged else "[green]honeypot: not set[/]"
    console.print(f"{verdict} — {flagged} host(s) of {where}")
    for item in evidence:
        console.print(f"[bold]{item.ip}[/] ({item.observations} observations)", highlight=False)
        for line in item.reasons():
            console.print(f"  {line}", highlight=False, markup=False)
    if flagged > len(evidence):
        console.print(f"… and {flagged - len(evidence)} more flagged hosts")
