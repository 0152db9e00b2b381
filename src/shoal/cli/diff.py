"""``shoal diff CIDR --since DATE`` and ``shoal host IP --since DATE``: what opened, closed and changed.

The span is ``--since DATE`` (that day up to the newest report) or ``--between A B`` (both days inclusive),
against what was seen before it (``shoal.diffs``). One pass over the network's reports, from the local store
or a server's export. On a terminal: three tables; in a pipe: lines starting with opened, closed or changed
(one ``changed`` line per field, old then new); ``--json``: the API's answer (``/v1/scan/protocols/diff``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
import typer

from shoal.cli.common import DataOption, errors, fail
from shoal.cli.fields import headline_of, port_label, protocol_of
from shoal.cli.options import asked, open_backend
from shoal.cli.output import DEFAULT_SEPARATOR, Layout, LayoutOption, SeparatorOption, emit, layout_of
from shoal.diffs import Diff, diff_body, diff_of, is_empty
from shoal.errors import BadParameter, ShoalError
from shoal.request.params import DIFF_IP, SINCE, UNTIL, formatted
from shoal.request.selection import Selection

SinceOption = Annotated[
    str | None, typer.Option("--since", metavar="DATE", help=SINCE.help + " YYYY-MM-DD.", show_default=False)
]
BetweenOption = Annotated[
    tuple[str, str] | None,
    typer.Option("--between", metavar="A B", help="The span from day A to day B, both inclusive.", show_default=False),
]
JsonDiffOption = Annotated[bool, typer.Option("--json", help="The diff as the API's JSON.")]


def span_of(since: str | None, between: tuple[str, str] | None) -> tuple[dt.date, dt.date | None]:
    """``--since DATE`` or ``--between A B`` (exactly one), read as the API reads ``since`` and ``until``."""
    if (since is None) == (between is None):
        raise BadParameter("since", "give either --since DATE or --between A B (days as YYYY-MM-DD)")
    if between is not None:
        first, last = SINCE.take(between[0]), UNTIL.take(between[1])
        if last < first:
            raise BadParameter("until", f"--between {first} {last}: the second day is before the first")
        return first, last
    return SINCE.take(since), None


def diff_command(
    ip: Annotated[str, typer.Argument(help="An address or CIDR (v4 or v6).")],
    since: SinceOption = None,
    between: BetweenOption = None,
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: JsonDiffOption = False,
    data: DataOption = None,
) -> None:
    """The services opened, closed and changed on a network since a day (or between two), each change old → new:
    a service is opened if first seen in the span, closed if seen before it and not in it, changed if its newest
    report in the span differs from its newest before it (banner, HTTP status, title, product tags, certificate,
    JARM, JA4S, JA4X)."""
    show_diff(ip, since, between, layout_of(table, separator), json_output, data)


def show_diff(
    ip: str, since: str | None, between: tuple[str, str] | None, layout: Layout, json_output: bool, data: Any
) -> None:
    """Compute and print the diff of ``ip`` (``shoal diff``, and ``shoal host`` with ``--since``/``--between``)."""
    try:
        network = DIFF_IP.take(ip)
        first, last = span_of(since, between)
    except ShoalError as exc:
        fail(exc)
    backend = open_backend(data)
    try:
        selection = Selection(ip=network, date_to=last)
        diff = asked(None, lambda: diff_of(backend.reports(selection), first, last))
    finally:
        backend.close()
    body = diff_body(diff, formatted(network))
    if json_output:
        print(orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode())
        return
    if is_empty(body):
        errors.print(f"nothing opened, closed or changed on {body['ip']} {span_text(diff)}", highlight=False)
        return
    show(diff, layout)


def span_text(diff: Diff) -> str:
    return f"from {diff.since} to {diff.until}" if diff.until else f"since {diff.since}"


def show(diff: Diff, layout: Layout) -> None:
    columns = ["ip", "port", "protocol"]
    opened = [[*where(key), protocol_of(report), report.date, headline_of(report)] for key, report in diff.opened()]
    if opened:
        emit(layout, f"opened {span_text(diff)}", [*columns, "first seen", "latest"], opened, prefix="opened")
    closed = [[*where(key), protocol_of(report), report.date, headline_of(report)] for key, report in diff.closed()]
    if closed:
        emit(layout, f"closed {span_text(diff)}", [*columns, "last seen", "latest"], closed, prefix="closed")
    changed = [
        [*where(key), protocol_of(new), change["field"], shown(change["old"]), shown(change["new"])]
        for key, _, new, changes in diff.changed()
        for change in changes
    ]
    if changed:
        emit(layout, f"changed {span_text(diff)}", [*columns, "field", "old", "new"], changed, prefix="changed")


def where(key: tuple[str, int, str]) -> list[str]:
    return [key[0], port_label(key[1], key[2])]


def shown(value: str | None) -> str:
    return "-" if value is None else value
