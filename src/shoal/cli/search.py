"""``shoal search``: the API's search and summaries against the local store, for humans (or --json/--ndjson).

The options selecting reports are defined here once and shared by ``shoal export`` and ``shoal host``.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table
from starlette.datastructures import QueryParams

from shoal.api.deps import known_types
from shoal.api.params import filters_of, page_of, summary_of
from shoal.api.render import page_body, summary_body
from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.errors import BadParameter, QueryError, ShoalError
from shoal.model import Report
from shoal.query.check import BUILTIN_TYPES
from shoal.store.base import PAGE_SIZE, Filters, Page, Store, Summary

BAR_WIDTH = 40


def complete_type(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion for --summarize: the built-in types and what they hold."""
    return [(name, help_text) for name, help_text in BUILTIN_TYPES.items() if name.startswith(incomplete)]


ExpressionArgument = Annotated[str, typer.Argument(help="Expression, e.g. 'title:\"university london\"'.")]
IpOption = Annotated[str | None, typer.Option(help="IP address or CIDR.")]
IndirectOption = Annotated[bool, typer.Option(help="Also match IPs seen in any context (e.g. certificates).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
SlopOption = Annotated[int, typer.Option(help="Extra word positions allowed in phrases.")]
MostRecentOption = Annotated[bool, typer.Option(help="Only the newest report per ip:port.")]
HostInUrlOption = Annotated[bool, typer.Option(help="host: also matches the host part of URLs.")]


def selection_pairs(
    expression: str,
    ip: str | None = None,
    indirect: bool = False,
    date_from: str | None = None,
    date_to: str | None = None,
    slop: int = 0,
    most_recent: bool = False,
    host_in_url: bool = False,
) -> list[tuple[str, str]]:
    """The command's options as the API's query parameters (so both check and mean the same)."""
    pairs = [("expression", expression), ("slop", str(slop))]
    pairs += [(name, value) for name, value in (("ip", ip), ("from", date_from), ("to", date_to)) if value]
    flags = (("indirect", indirect), ("most_recent", most_recent), ("host_in_url", host_in_url))
    return pairs + [(name, "true") for name, flag in flags if flag]


def selected(store: Store, params: QueryParams) -> Filters:
    """The filters of ``params``; an error is printed (with a caret under a bad expression) and exits 2."""
    try:
        return filters_of(params, known_types(store))
    except QueryError as exc:
        fail(exc, params.get(exc.parameter))
    except ShoalError as exc:
        fail(exc)


def search_command(
    expression: ExpressionArgument = "",
    ip: IpOption = None,
    indirect: IndirectOption = False,
    date_from: FromOption = None,
    date_to: ToOption = None,
    slop: SlopOption = 0,
    most_recent: MostRecentOption = False,
    host_in_url: HostInUrlOption = False,
    page: Annotated[int, typer.Option(help="Page of 100 results, from 0.")] = 0,
    summarize: Annotated[
        str | None, typer.Option(help="Summarise the values of this type instead.", autocompletion=complete_type)
    ] = None,
    summary_limit: Annotated[int, typer.Option(help="Most values in a summary.")] = 100,
    json_output: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    ndjson_output: Annotated[
        bool, typer.Option("--ndjson", help="One JSON object per line: each report, or each value and count.")
    ] = False,
    data: DataOption = None,
) -> None:
    """Search reports with the same engine and semantics as GET /v1/scan/protocols."""
    if json_output and ndjson_output:
        fail(BadParameter("ndjson", "give --json or --ndjson, not both"))
    pairs = selection_pairs(expression, ip, indirect, date_from, date_to, slop, most_recent, host_in_url)
    pairs.append(("page", str(page)))
    if summarize:
        pairs += [("summarize", summarize), ("summary_limit", str(summary_limit))]
    params = QueryParams(pairs)
    store = open_store(data)
    filters = selected(store, params)
    try:
        summary = summary_of(params, known_types(store), enterprise=True)
        if summary is not None:
            show_summary(summarize or "", store.summarize(filters, summary), json_output, ndjson_output)
            return
        number = page_of(params)
        found = store.search(filters, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    except ShoalError as exc:
        fail(exc)
    show_page(found, number, json_output, ndjson_output)


def show_page(found: Page, number: int, json_output: bool, ndjson_output: bool) -> None:
    if json_output:
        print(orjson.dumps(page_body(found, number), option=orjson.OPT_SORT_KEYS).decode())
        return
    if ndjson_output:
        for report in found.reports:
            print(orjson.dumps(report.as_dict(), option=orjson.OPT_SORT_KEYS).decode())
        return
    if not found.reports:
        errors.print("no results")
        raise typer.Exit(1)
    table = Table(title=f"{found.total} results (page {number})", title_justify="left")
    for column in ("date", "target", "protocol", "summary", "id"):
        table.add_column(column, overflow="fold")
    for report in found.reports:
        table.add_row(report.date.isoformat(), target_of(report), protocol_of(report), headline_of(report), report.id)
    console.print(table)


def show_summary(summary_type: str, result: Summary, json_output: bool, ndjson_output: bool) -> None:
    if json_output:
        body = summary_body(result, with_cardinality=True)
        print(orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode())
        return
    if ndjson_output:
        for value, count in result.values:
            print(orjson.dumps({"count": count, "value": value}).decode())
        return
    if not result.values:
        errors.print("no results")
        raise typer.Exit(1)
    top = result.values[0][1]
    table = Table(
        title=f"{summary_type}: {result.cardinality} distinct values, other {result.other}", title_justify="left"
    )
    table.add_column("value", overflow="fold")
    table.add_column("count", justify="right")
    table.add_column("")
    for value, count in result.values:
        table.add_row(value, str(count), "█" * max(1, round(BAR_WIDTH * count / top)))
    console.print(table)


def target_of(report: Report) -> str:
    ip, port = report.ip or "?", report.port
    host = f"[{ip}]" if ":" in ip else ip
    return f"{host}:{port}" if port is not None else host


def protocol_of(report: Report) -> str:
    return next((item.context for item in report.items if item.type == "server-banner"), "")


def headline_of(report: Report) -> str:
    for wanted in ("title", "server-banner", "subject"):
        for item in report.items:
            if item.type == wanted and item.value.strip():
                return item.value.strip()[:80]
    return ""
