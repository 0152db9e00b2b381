"""``shoal search``: the API's search and summaries against the local store, for humans (or --json)."""

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
from shoal.errors import QueryError, ShoalError
from shoal.model import Report
from shoal.store.base import PAGE_SIZE, Page, Summary

BAR_WIDTH = 40


def search_command(
    expression: Annotated[str, typer.Argument(help="Expression, e.g. 'title:\"university london\"'.")] = "",
    ip: Annotated[str | None, typer.Option(help="IP address or CIDR.")] = None,
    indirect: Annotated[bool, typer.Option(help="Also match IPs seen in any context (e.g. certificates).")] = False,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    slop: Annotated[int, typer.Option(help="Extra word positions allowed in phrases.")] = 0,
    most_recent: Annotated[bool, typer.Option(help="Only the newest report per ip:port.")] = False,
    host_in_url: Annotated[bool, typer.Option(help="host: also matches the host part of URLs.")] = False,
    page: Annotated[int, typer.Option(help="Page of 100 results, from 0.")] = 0,
    summarize: Annotated[str | None, typer.Option(help="Summarise the values of this type instead.")] = None,
    summary_limit: Annotated[int, typer.Option(help="Most values in a summary.")] = 100,
    json_output: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    data: DataOption = None,
) -> None:
    """Search reports with the same engine and semantics as GET /v1/scan/protocols."""
    pairs = [("expression", expression), ("slop", str(slop)), ("page", str(page))]
    pairs += [(name, value) for name, value in (("ip", ip), ("from", date_from), ("to", date_to)) if value]
    pairs += [
        (name, "true")
        for name, flag in (("indirect", indirect), ("most_recent", most_recent), ("host_in_url", host_in_url))
        if flag
    ]
    if summarize:
        pairs += [("summarize", summarize), ("summary_limit", str(summary_limit))]
    params = QueryParams(pairs)
    store = open_store(data)
    try:
        types = known_types(store)
        filters = filters_of(params, types)
        summary = summary_of(params, types, enterprise=True)
        if summary is not None:
            result = store.summarize(filters, summary)
            show_summary(summarize or "", result, json_output)
            return
        number = page_of(params)
        found = store.search(filters, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    except QueryError as exc:
        fail(exc, expression if exc.parameter == "expression" else None)
    except ShoalError as exc:
        fail(exc)
    show_page(found, number, json_output)


def show_page(found: Page, number: int, json_output: bool) -> None:
    if json_output:
        print(orjson.dumps(page_body(found, number), option=orjson.OPT_SORT_KEYS).decode())
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


def show_summary(summary_type: str, result: Summary, json_output: bool) -> None:
    if json_output:
        body = summary_body(result, with_cardinality=True)
        print(orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode())
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
