"""``shoal stats EXPR --over day|week|month [--facets F]``: the matching reports counted per period, and each
facet's top values per period (``shoal.trends``; a server's ``summary_interval``).

On a terminal: a table of periods with their counts (and a bar), then one table per facet; in a pipe: lines
``period FROM TO COUNT`` and ``FACET FROM VALUE COUNT``; ``--json``: ``{"intervals": [{"from", "to",
"result_count", "facets": {F: {"other", "values"}}}]}``.
"""

from __future__ import annotations

from typing import Any

import orjson

from shoal.cli.options import asked, check_summary_type, open_backend, option_of
from shoal.cli.output import Layout, emit
from shoal.cli.search import bar
from shoal.errors import BadParameter
from shoal.request.answers import PeriodCounts
from shoal.request.params import SUMMARY_INTERVAL
from shoal.request.selection import Selection

OverOption = option_of(SUMMARY_INTERVAL)


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


def show_trend(
    dataset: str,
    interval: str,
    facets: str | None,
    limit: int,
    selection: Selection,
    layout: Layout,
    json_output: bool,
    data: Any,
) -> None:
    chosen = asked(selection, lambda: SUMMARY_INTERVAL.take(interval))
    backend = open_backend(data)
    try:
        wanted = asked(selection, lambda: parse_facets(facets, limit)) if facets else []
        for name, _ in wanted:
            asked(selection, lambda name=name: check_summary_type(name, backend.known_types(), "facets"))
        counts = asked(selection, lambda: backend.trend(chosen, None, selection, limit, dataset))
        by_facet = {
            name: asked(selection, lambda name=name, top=top: backend.trend(chosen, name, selection, top, dataset))
            for name, top in wanted
        }
    finally:
        backend.close()
    if json_output:
        print(orjson.dumps(trend_json(counts, by_facet), option=orjson.OPT_SORT_KEYS).decode())
        return
    top = max((period.result_count for period in counts), default=0) or 1
    rows = [[period.first, period.last, period.result_count] for period in counts]
    if layout.table:
        rows = [[*row, bar(period.result_count, top)] for row, period in zip(rows, counts, strict=True)]
    columns = ["from", "to", "count", ""] if layout.table else ["from", "to", "count"]
    emit(layout, f"reports per {chosen}", columns, rows, ["count"], "period")
    for name, periods in by_facet.items():
        values = [
            [period.first, value, n]
            for period in periods
            if period.summary is not None
            for value, n in period.summary.values.items()
        ]
        emit(layout, f"{name} per {chosen}", ["from", "value", "count"], values, ["count"], name)


def trend_json(counts: list[PeriodCounts], by_facet: dict[str, list[PeriodCounts]]) -> dict[str, Any]:
    intervals = []
    for index, period in enumerate(counts):
        entry = period.body()
        if by_facet:
            entry["facets"] = {name: facet_summary(periods[index]) for name, periods in by_facet.items()}
        intervals.append(entry)
    return {"intervals": intervals}


def facet_summary(period: PeriodCounts) -> object:
    return period.summary.body()["summary"] if period.summary is not None else {"other": 0, "values": {}}
