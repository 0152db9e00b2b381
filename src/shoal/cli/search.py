"""``shoal search``: the API's search and summaries, for people (tables), pipes (plain lines with
``--fields``/``--separator``) or programs (``--json``/``--ndjson``), from a local store or a server."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from shoal.cli.backend import Backend
from shoal.cli.common import DataOption, DatasetName, errors, fail
from shoal.cli.fields import Field, parse_fields
from shoal.cli.options import (
    DatasetOption,
    JsonOption,
    PageOption,
    QueryArgument,
    SummaryLimitOption,
    asked,
    check_summary_type,
    complete_type,
    open_backend,
    selecting,
)
from shoal.cli.output import DEFAULT_SEPARATOR, Layout, LayoutOption, SeparatorOption, emit, layout_of
from shoal.errors import BadParameter
from shoal.model import DATASET_TABLE
from shoal.request.answers import SearchPage, ValueCounts, plural
from shoal.request.params import SUMMARY_LIMIT
from shoal.request.selection import Selection
from shoal.store.base import MAX_PAGES, PAGE_SIZE

BAR_WIDTH = 40
FieldsOption = Annotated[
    str,
    typer.Option(
        "--fields",
        "-f",
        help="Columns: report fields (date, id, target, protocol, summary) and item types, e.g. ip,port-tcp,title"
        " or http-header;Server (default: date,target,protocol,summary,id, or the dataset's own).",
        show_default=False,
    ),
]
NdjsonOption = Annotated[
    bool, typer.Option("--ndjson", help="One JSON object per line: each report, or each value and count.")
]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        max=MAX_PAGES * PAGE_SIZE,
        help="Show this many results (from --page on, over as many pages as it takes; default one page of 100).",
        show_default=False,
    ),
]


@selecting()
def search_command(
    query: QueryArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    *,
    selection: Selection,
    page: PageOption = 1,
    limit: LimitOption = None,
    summarize: Annotated[
        str | None, typer.Option(help="Summarise the values of this type instead.", autocompletion=complete_type)
    ] = None,
    summary_limit: SummaryLimitOption = SUMMARY_LIMIT.default,
    fields: FieldsOption = "",
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: JsonOption = False,
    ndjson_output: NdjsonOption = False,
    data: DataOption = None,
) -> None:
    """Search with the same engine and semantics as GET /v1/scan/protocols (or the --dataset's endpoint): the
    newest report of each service (--history: every dated report), a table on a terminal, plain lines in a
    pipe."""
    if json_output and ndjson_output:
        fail(BadParameter("ndjson", "give --json or --ndjson, not both"))
    layout = layout_of(table, separator)
    backend = open_backend(data)
    try:
        if summarize:
            asked(selection, lambda: check_summary_type(summarize, backend.known_types()))
            counts = asked(
                selection,
                lambda: backend.summarize(summarize, selection, summary_limit, dataset.value),
            )
            if not (json_output or ndjson_output):
                say_what_is_counted(layout, selection, dataset.value)
            show_summary(summarize, counts, layout, json_output, ndjson_output)
            return
        columns = asked(
            selection, lambda: parse_fields(fields or DATASET_TABLE[dataset.value].columns, backend.known_types())
        )
        found = asked(selection, lambda: gathered(backend, selection, page - 1, limit, dataset.value))
    finally:
        backend.close()
    unit = DATASET_TABLE[dataset.value].unit if selection.most_recent else "report"
    show_page(found, columns, layout, json_output, ndjson_output, unit)


def gathered(backend: Backend, selection: Selection, page: int, limit: int | None, dataset: str) -> SearchPage:
    """Page ``page`` (from 0), or with ``limit`` that many results from it on, over as many pages as it takes."""
    found = backend.search(selection, page, dataset)
    if limit is None:
        return found
    results = found.results[:limit]
    number = page + 1
    while len(results) < limit and number < found.pages:
        results += backend.search(selection, number, dataset).results[: limit - len(results)]
        number += 1
    return SearchPage(found.page, found.pages, found.result_count, results)


def say_what_is_counted(layout: Layout, selection: Selection, dataset: str) -> None:
    """On a terminal, a line saying what the numbers count: services (the newest report of each), or reports."""
    if not layout.table:
        return
    unit = DATASET_TABLE[dataset].unit
    counted = (
        f"counting {unit}s: the newest report of each (--history: every dated report)"
        if selection.most_recent
        else "counting every dated report (without --history: the newest report of each " + unit + ")"
    )
    errors.print(counted, highlight=False)


def show_page(
    found: SearchPage, columns: list[Field], layout: Layout, json_output: bool, ndjson_output: bool, unit: str
) -> None:
    if json_output:
        print(orjson.dumps(found.body(), option=orjson.OPT_SORT_KEYS).decode())
        return
    if ndjson_output:
        for report in found.results:
            print(orjson.dumps(report.as_dict(), option=orjson.OPT_SORT_KEYS).decode())
        return
    if not found.results:
        errors.print("no results")
        raise typer.Exit(1)
    title = f"{plural(found.result_count, unit)} (page {found.page + 1} of {found.pages})"
    rows = ([column(report) for column in columns] for report in found.results)
    emit(layout, title, [column.name.removesuffix(";") for column in columns], rows)


def show_summary(
    summary_type: str, counts: ValueCounts, layout: Layout, json_output: bool, ndjson_output: bool
) -> None:
    if json_output:
        print(orjson.dumps(counts.body(), option=orjson.OPT_SORT_KEYS).decode())
        return
    if ndjson_output:
        for value, count in counts.values.items():
            print(orjson.dumps({"count": count, "value": value}).decode())
        return
    if not counts.values:
        errors.print("no results")
        raise typer.Exit(1)
    emit_summary(layout, summary_type, counts)


def emit_summary(layout: Layout, summary_type: str, counts: ValueCounts, prefix: str | None = None) -> None:
    """A summary as a bar chart (a table), or as plain rows of value and count (``prefix``: before each)."""
    columns = ["value", "count", ""] if layout.table else ["value", "count"]
    rows = chart_rows(counts, layout.table)
    emit(layout, summary_title(summary_type, counts), columns, rows, right=["count"], prefix=prefix)


def summary_title(summary_type: str, counts: ValueCounts) -> str:
    if counts.cardinality is None:
        return f"{summary_type}: other {counts.other} (distinct values: enterprise tokens only)"
    return f"{summary_type}: {plural(counts.cardinality, 'distinct value')}, other {counts.other}"


def chart_rows(counts: ValueCounts, bars: bool) -> list[list[str]]:
    """value, count and (``bars``) a bar as wide as the count against the top one."""
    top = max(counts.values.values(), default=1)
    rows = [[value, str(n)] for value, n in counts.values.items()]
    if bars:
        for row, n in zip(rows, counts.values.values(), strict=True):
            row.append(bar(n, top))
    return rows


def bar(count: int, top: int) -> str:
    """A bar as wide as ``count`` against the ``top`` one (at least one block)."""
    return "█" * max(1, round(BAR_WIDTH * count / top))
