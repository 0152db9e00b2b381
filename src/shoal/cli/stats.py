"""``shoal count`` and ``shoal stats``: Shodan's verbs over Driftnet's summaries.

``count EXPR`` prints the number of matching reports (the ``result_count`` of the first page). ``stats
--facets a,b:N,c EXPR`` summarises several types over the same reports, one summary each (``b:N``: its top
N values instead of ``--limit``), as Shodan's ``stats --facets`` does.
"""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from shoal.cli.common import DataOption, DatasetName, errors
from shoal.cli.options import (
    DatasetOption,
    ExpressionArgument,
    JsonOption,
    asked,
    check_summary_type,
    complete_type,
    open_backend,
    selecting,
)
from shoal.cli.output import DEFAULT_SEPARATOR, LayoutOption, SeparatorOption, layout_of
from shoal.cli.search import emit_summary
from shoal.errors import BadParameter
from shoal.model import DATASET_TABLE
from shoal.request.answers import ValueCounts
from shoal.request.selection import Selection


def default_facets(dataset: str) -> str:
    """The types of the dataset's facets, as the web UI draws them (protocols: country, port, product,
    organisation, protocol)."""
    return ",".join(dict.fromkeys(facet.type for facet in DATASET_TABLE[dataset].facets))


@selecting()
def count_command(
    expression: ExpressionArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    *,
    selection: Selection,
    data: DataOption = None,
) -> None:
    """The number of reports matching EXPR (and the options), as GET /v1/scan/protocols counts them."""
    backend = open_backend(data)
    try:
        found = asked(expression, lambda: backend.search(selection, 0, dataset.value))
    finally:
        backend.close()
    print(found.result_count)


def parse_facets(text: str, default_limit: int) -> list[tuple[str, int]]:
    """``port-tcp,geo-country:20`` → [(port-tcp, default_limit), (geo-country, 20)]."""
    facets = []
    for raw in text.split(","):
        name, _, limit = raw.strip().partition(":")
        if not name:
            raise BadParameter("facets", f"an empty facet in {text!r}: separate types with one comma")
        if limit and not limit.isdigit():
            raise BadParameter("facets", f"a facet's limit is a whole number, e.g. {name}:20, not {raw.strip()!r}")
        facets.append((name, int(limit) if limit else default_limit))
    return facets


@selecting()
def stats_command(
    expression: ExpressionArgument = "",
    dataset: DatasetOption = DatasetName.protocols,
    *,
    facets: Annotated[
        str,
        typer.Option(
            "--facets",
            help="Types to summarise, comma-separated; TYPE:N for its top N (default: the dataset's facets).",
            autocompletion=complete_type,
            show_default=False,
        ),
    ] = "",
    limit: Annotated[int, typer.Option(min=1, help="Values per facet (unless TYPE:N says).")] = 10,
    selection: Selection,
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: JsonOption = False,
    data: DataOption = None,
) -> None:
    """The top values of each facet over the reports matching EXPR: one table per facet on a terminal, lines
    of facet, value and count in a pipe."""
    layout = layout_of(table, separator)
    backend = open_backend(data)
    results: dict[str, ValueCounts] = {}
    try:
        wanted = asked(expression, lambda: parse_facets(facets or default_facets(dataset.value), limit))
        for name, _ in wanted:
            asked(expression, lambda name=name: check_summary_type(name, backend.known_types(), "facets"))
        for name, top in wanted:
            results[name] = asked(
                expression,
                lambda name=name, top=top: backend.summarize(name, selection, top, dataset.value),
            )
    finally:
        backend.close()
    if json_output:
        body = {name: counts.body()["summary"] for name, counts in results.items()}
        print(orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode())
        return
    for name, counts in results.items():
        if not counts.values:
            errors.print(f"{name}: no values in the matching reports", highlight=False)
            continue
        emit_summary(layout, name, counts, prefix=name)
