"""``shoal count`` and ``shoal stats``: Shodan's verbs over Driftnet's summaries.

``count QUERY`` prints how many services match (the newest report of each ip:port) and on how many hosts;
with ``--history``, how many dated reports. ``stats --facets a,b:N,c QUERY`` summarises several types over the
same services (or, ``--history``, reports), one summary each (``b:N``: its top N values instead of ``--limit``),
as Shodan's ``stats --facets`` does.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from shoal.cli.common import DataOption, DatasetName, errors
from shoal.cli.options import (
    DatasetOption,
    JsonOption,
    QueryArgument,
    asked,
    check_summary_type,
    complete_type,
    open_backend,
    selecting,
)
from shoal.cli.output import DEFAULT_SEPARATOR, LayoutOption, SeparatorOption, layout_of
from shoal.cli.search import emit_summary, say_what_is_counted
from shoal.cli.trend import OverOption, parse_facets, show_trend
from shoal.model import DATASET_TABLE
from shoal.request.answers import ValueCounts
from shoal.request.selection import Selection


def default_facets(dataset: str) -> str:
    """The types of the dataset's facets, as the web UI draws them (protocols: country, port, product,
    organisation, protocol)."""
    return ",".join(dict.fromkeys(facet.type for facet in DATASET_TABLE[dataset].facets))


@selecting()
def count_command(
    query: QueryArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    *,
    selection: Selection,
    json_output: Annotated[bool, typer.Option("--json", help='As JSON: {"hosts": H, "services": S}.')] = False,
    data: DataOption = None,
) -> None:
    """How many services match QUERY (the newest report of each ip:port) and on how many hosts: "2,375 hosts ·
    2,614 services"; --history: how many dated reports."""
    backend = open_backend(data)
    try:
        counted = asked(selection, lambda: backend.count(selection, dataset.value))
    finally:
        backend.close()
    print(orjson.dumps(counted.body()).decode() if json_output else counted.text())


@selecting()
def stats_command(
    query: QueryArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    *,
    facets: Annotated[
        str | None,
        typer.Option(
            "--facets",
            help="Types to summarise, comma-separated; TYPE:N for its top N (default: the dataset's facets; with"
            " --over, none).",
            autocompletion=complete_type,
            show_default=False,
        ),
    ] = None,
    over: OverOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Values per facet (unless TYPE:N says).")] = 10,
    selection: Selection,
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: JsonOption = False,
    data: DataOption = None,
) -> None:
    """The top values of each facet over the services matching QUERY (--history: every dated report): one
    table per facet on a terminal, lines of facet, value and count in a pipe. With --over day|week|month: the
    matches per period of --from..--to (default: the last 12), and each facet's top values per period."""
    layout = layout_of(table, separator)
    if over is not None:
        show_trend(dataset.value, over, facets, limit, selection, layout, json_output, data)
        return
    backend = open_backend(data)
    results: dict[str, ValueCounts] = {}
    try:
        wanted = asked(selection, lambda: parse_facets(facets or default_facets(dataset.value), limit))
        for name, _ in wanted:
            asked(selection, lambda name=name: check_summary_type(name, backend.known_types(), "facets"))
        for name, top in wanted:
            results[name] = asked(
                selection,
                lambda name=name, top=top: backend.summarize(name, selection, top, dataset.value),
            )
    finally:
        backend.close()
    if json_output:
        body = {name: counts.body()["summary"] for name, counts in results.items()}
        print(orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode())
        return
    say_what_is_counted(layout, selection, dataset.value)
    for name, counts in results.items():
        if not counts.values:
            errors.print(f"{name}: no values in the matching reports", highlight=False)
            continue
        emit_summary(layout, name, counts, prefix=name)
