"""Compile a plan (``shoal.store.plan``) into one SQL condition on the ``reports`` table (``selection``).

One portable subset that runs unchanged on ClickHouse 18.16 and on chDB 26.9 (DESIGN.md §2): no query
parameters (every literal is escaped here), no ``hasToken``/``tokens``, no IPv6 type, no CTEs. ``RULES`` maps
each plan node type to its SQL. An item-level node becomes ``id IN (SELECT report_id FROM items_local WHERE
…)``: on a cluster the whole condition runs on each shard, where a report and its items live together.

Phrases (``Words``) are matched on the item's ``words`` array (Shoal's analyzer, computed at ingest): with
slop s, the words w_1..w_k at positions p_1..p_k match when max(p_i − i) − min(p_i − i) ≤ s (Lucene's
sloppy phrase; reversed order costs slop too). The minimum is reached by some word j at a position p, so
the SQL tries each j: word j at p, and every other word i in the window [p − j + i, p − j + i + s].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shoal.store.base import Filters, IPNetwork, day_number
from shoal.store.clickhouse.schema import Layout, address16_of, check_dataset
from shoal.store.plan import (
    AllOf,
    AnyOf,
    DateRange,
    Everything,
    Exact,
    HasContext,
    HostName,
    IpRange,
    NoneOf,
    Nothing,
    Plan,
    ReportId,
    Words,
    lower,
)

# Added to a day number so that its decimal text has a fixed width (10 digits) and sorts as the number does.
DAY_KEY_OFFSET = 1_000_000_000


def literal(text: str) -> str:
    """A ClickHouse string literal: quotes and backslashes escaped, NUL written as ``\\0``."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0") + "'"


def date_literal(date: dt.date) -> str:
    return f"toDate('{date.isoformat()}')"


def address_range(network: IPNetwork) -> tuple[str, str]:
    """The first and last 16-byte addresses of ``network`` (IPv4 mapped), as SQL expressions."""
    first, last = address16_of(network.network_address.packed), address16_of(network.broadcast_address.packed)
    return f"unhex('{first.hex()}')", f"unhex('{last.hex()}')"


@dataclass(frozen=True)
class Compiler:
    layout: Layout
    dataset: str

    def compile(self, plan: Plan) -> str:
        return RULES[type(plan)](self, plan)

    def all_of(self, plan: AllOf) -> str:
        return "(" + " AND ".join(self.compile(child) for child in plan.children) + ")"

    def any_of(self, plan: AnyOf) -> str:
        return "(" + " OR ".join(self.compile(child) for child in plan.children) + ")"

    def none_of(self, plan: NoneOf) -> str:
        return f"NOT {self.compile(plan.child)}"

    def items(self, *conditions: str) -> str:
        """Reports holding an item that meets every condition."""
        where = " AND ".join((f"dataset = {literal(self.dataset)}", *conditions))
        return f"id IN (SELECT report_id FROM {self.layout.local('items')} WHERE {where})"

    @staticmethod
    def kind(item_type: str | None, context: str | None) -> list[str]:
        conditions = []
        if item_type is not None:
            conditions.append(f"type = {literal(item_type)}")
        if context is not None:
            conditions.append(f"context = {literal(context)}")
        return conditions

    def words(self, plan: Words) -> str:
        return self.items(*self.kind(plan.type, plan.context), *phrase(plan))

    def exact(self, plan: Exact) -> str:
        test = f"startsWith(value, {literal(plan.value)})" if plan.prefix else f"value = {literal(plan.value)}"
        return self.items(*self.kind(plan.type, plan.context), test)

    def has_context(self, plan: HasContext) -> str:
        test = f"startsWith(context, {literal(plan.context)})" if plan.prefix else f"context = {literal(plan.context)}"
        return self.items(f"type = {literal(plan.type)}", test)

    def host_name(self, plan: HostName) -> str:
        test = f"host = {literal(plan.name)}"
        if not plan.whole:
            test = f"({test} OR endsWith(host, {literal('.' + plan.name)}))"
        return self.items(*self.kind(plan.type, plan.context), "host != ''", test)

    def ip_range(self, plan: IpRange) -> str:
        first, last = address_range(plan.network)
        if plan.context == "":
            return f"(has_ip = 1 AND ip >= {first} AND ip <= {last})"
        return self.items(*self.kind("ip", plan.context), f"address >= {first}", f"address <= {last}")

    def date_range(self, plan: DateRange) -> str:
        bounds = []
        if plan.first is not None:
            bounds.append(f"day >= {day_number(plan.first)}")
        if plan.last is not None:
            bounds.append(f"day <= {day_number(plan.last)}")
        return "(" + " AND ".join(bounds) + ")"


def phrase(plan: Words) -> list[str]:
    """Conditions on an item's ``words`` for a phrase (see the module docstring)."""
    words = [literal(word) for word in plan.words]
    # has() first: cheap, and the condition a bloom-filter skip index can use on servers that have one.
    conditions = [f"has(words, {word})" for word in (words[:-1] if plan.prefix else words)]
    if len(words) == 1:
        if plan.prefix:
            conditions.append(f"arrayExists(w -> startsWith(w, {words[0]}), words)")
        return conditions
    if plan.prefix or plan.slop == 0:
        tests = [f"words[p + {i}] = {word}" for i, word in enumerate(words)]
        if plan.prefix:
            tests[-1] = f"startsWith(words[p + {len(words) - 1}], {words[-1]})"
        conditions.append(f"arrayExists(p -> {' AND '.join(tests)}, arrayEnumerate(words))")
        return conditions
    anchors = []
    for j, anchor in enumerate(words):
        tests = [f"words[p] = {anchor}"]
        for i, word in enumerate(words):
            if i != j:
                tests.append(window(i - j, plan.slop, word))
        anchors.append(f"arrayExists(p -> {' AND '.join(tests)}, arrayEnumerate(words))")
    conditions.append("(" + " OR ".join(anchors) + ")")
    return conditions


def window(offset: int, slop: int, word: str) -> str:
    """``word`` at a position in [p + offset, p + offset + slop] (clipped to the array's start)."""
    start = f"p + {offset}" if offset >= 0 else f"greatest(1, toInt64(p) - {-offset})"
    end = f"toInt64(p) + {offset + slop}"
    if offset >= 0:
        return f"has(arraySlice(words, {start}, {slop + 1}), {word})"
    return f"({end} >= 1 AND has(arraySlice(words, {start}, {end} - {start} + 1), {word}))"


RULES: dict[type, Callable[[Compiler, Any], str]] = {
    AllOf: Compiler.all_of,
    AnyOf: Compiler.any_of,
    NoneOf: Compiler.none_of,
    Words: Compiler.words,
    Exact: Compiler.exact,
    HasContext: Compiler.has_context,
    HostName: Compiler.host_name,
    IpRange: Compiler.ip_range,
    DateRange: Compiler.date_range,
    ReportId: lambda compiler, plan: f"id = {literal(plan.id)}",
    Everything: lambda compiler, plan: "1",
    Nothing: lambda compiler, plan: "0",
}


def selection(layout: Layout, filters: Filters) -> str:
    """The SQL condition on ``reports`` for the matching reports: the dataset, the plan, superseded reports
    hidden (unless ``history`` or a ``report_id``), then ``most_recent``: per identity (``target``), the report
    with the greatest (day, id), chosen over the Distributed table (so across shards) and shipped to every
    shard with ``GLOBAL IN``."""
    dataset = literal(check_dataset(filters.dataset))
    parts = [f"dataset = {dataset}", Compiler(layout, filters.dataset).compile(lower(filters))]
    if not filters.history and filters.report_id is None:
        parts.append(f"id NOT IN (SELECT id FROM {layout.local('superseded')} WHERE dataset = {dataset})")
    condition = " AND ".join(parts)
    if not filters.most_recent:
        return condition
    newest_id = f"argMax(id, concat(toString(day + {DAY_KEY_OFFSET}), id))"
    newest = f"SELECT {newest_id} FROM {layout.table('reports')} WHERE {condition} GROUP BY target"
    return f"dataset = {dataset} AND id GLOBAL IN ({newest})"
