"""Compile a plan (``shoal.store.plan``) into one SQL condition on the ``reports`` table (``selection``).

Two dialects, chosen by the server's version (``Layout.modern``), each a table from plan node type to SQL:

- **portable** (``PORTABLE``): runs unchanged on ClickHouse 18.16 and on every newer server (DESIGN.md §2): no
  query parameters (every literal is escaped here), no token functions, no IPv6 type, no CTEs. An item-level
  node becomes ``id IN (SELECT report_id FROM items_local WHERE …)``: on a cluster the whole condition runs on
  each shard, where a report and its items live together.
- **modern** (``MODERN``, servers with text indexes): an item-level node is answered on the report row by its
  tokens (``tokens.py``): ``has(tokens, t)``, read from the text index's posting lists, so a term costs what it
  matches, not a probe of every report id. What a token cannot say exactly (phrases, prefixes, the empty
  context, addresses in a context) keeps the portable test on ``items``, behind the tokens it needs as a
  necessary condition, so that only the rows those tokens select are probed.

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

from shoal.query.check import CONTEXT_KEYWORDS
from shoal.query.words import split_words
from shoal.store.base import Filters, IPNetwork, day_number
from shoal.store.clickhouse import tokens
from shoal.store.clickhouse.schema import Layout, address16_of, check_dataset
from shoal.store.plan import (
    NUMBER_DIGITS,
    AllOf,
    AnyOf,
    DateRange,
    DayRange,
    Everything,
    Exact,
    HasContext,
    HostName,
    IpRange,
    NoneOf,
    Nothing,
    NumberRange,
    Plan,
    ReportId,
    Words,
    lower,
)

# Added to a day number so that its decimal text has a fixed width (10 digits) and sorts as the number does.
DAY_KEY_OFFSET = 1_000_000_000
NEWEST_KEY = f"concat(toString(day + {DAY_KEY_OFFSET}), id)"  # orders reports as (day, id) does


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
    """The portable dialect. ``types``: the item types the dataset has (read when a term names no type)."""

    layout: Layout
    dataset: str
    types: Callable[[], frozenset[str]] = frozenset

    def compile(self, plan: Plan) -> str:
        return PORTABLE[type(plan)](self, plan)

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
        if plan.context == "":
            return scanned_address(plan.network)
        return self.addresses(plan)

    def addresses(self, plan: IpRange) -> str:
        first, last = address_range(plan.network)
        return self.items(*self.kind("ip", plan.context), f"address >= {first}", f"address <= {last}")

    def number_range(self, plan: NumberRange) -> str:
        """Items whose value is a canonical number (plan.NumberRange) within the bounds."""
        tests = [f"match(value, '^(0|[1-9][0-9]{{0,{NUMBER_DIGITS - 1}}})$')"]
        if plan.first is not None:
            tests.append(f"toUInt64OrZero(value) >= {plan.first}")
        if plan.last is not None:
            tests.append(f"toUInt64OrZero(value) <= {plan.last}")
        return self.items(*self.kind(plan.type, plan.context), *tests)

    def day_range(self, plan: DayRange) -> str:
        """Items whose value is a day (plan.DayRange) within the bounds: YYYY-MM-DD compares as text."""
        tests = ["match(value, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')"]
        if plan.first is not None:
            tests.append(f"value >= {literal(plan.first.isoformat())}")
        if plan.last is not None:
            tests.append(f"value <= {literal(plan.last.isoformat())}")
        return self.items(*self.kind(plan.type, plan.context), *tests)

    def date_range(self, plan: DateRange) -> str:
        bounds = []
        if plan.first is not None:
            bounds.append(f"day >= {day_number(plan.first)}")
        if plan.last is not None:
            bounds.append(f"day <= {day_number(plan.last)}")
        return "(" + " AND ".join(bounds) + ")"


def scanned_address(network: IPNetwork) -> str:
    first, last = address_range(network)
    return f"(has_ip = 1 AND ip >= {first} AND ip <= {last})"


class TokenCompiler(Compiler):
    """The modern dialect: item-level nodes on the report row's tokens (module docstring)."""

    def compile(self, plan: Plan) -> str:
        return MODERN[type(plan)](self, plan)

    def word_tokens(self, item_type: str | None, context: str | None, words: tuple[str, ...] | list[str]) -> str:
        """Each of ``words`` in an item of ``item_type`` (None: of any type the dataset has) in ``context``
        (None: any), as a condition on the tokens ("1" for no words)."""
        if item_type is not None:
            return has_all([tokens.word(item_type, context, word) for word in words]) if words else "1"
        types = sorted(self.types())
        each = [has_any([tokens.word(name, context, word) for name in types]) for word in words]
        return " AND ".join(each) if each else "1"

    def words(self, plan: Words) -> str:
        needed = plan.words[:-1] if plan.prefix else plan.words
        found = self.word_tokens(plan.type, plan.context or None, needed)
        if len(plan.words) == 1 and not plan.prefix and plan.context != "":
            return found
        return checked(found, super().words(plan))

    def exact(self, plan: Exact) -> str:
        if plan.type is None or plan.prefix:
            words = split_words(plan.value)
            if plan.prefix and split_words(plan.value[-1:]):
                words = words[:-1]  # the value may go on with more of its last word
            return checked(self.word_tokens(plan.type, None, words), super().exact(plan))
        if plan.type in tokens.VALUELESS_TYPES:
            return super().exact(plan)
        token = has_all([tokens.value(plan.type, plan.context or None, plan.value)])
        return token if plan.context != "" else checked(token, super().exact(plan))

    def has_context(self, plan: HasContext) -> str:
        if plan.prefix or plan.context == "":
            return super().has_context(plan)
        return has_all([tokens.has_context(plan.type, plan.context)])

    def host_name(self, plan: HostName) -> str:
        context = plan.context or None
        wanted = [tokens.host_name(plan.type, context, plan.name)]
        if not plan.whole:
            wanted.append(tokens.host_suffix(plan.type, context, plan.name))
        if plan.context == "":
            return checked(has_any(wanted), super().host_name(plan))
        return has_any(wanted)

    def number_range(self, plan: NumberRange) -> str:
        """A range of at most SMALL_RANGE numbers is the OR of their value tokens (exact but in the empty context);
        a wider one is compared on the items."""
        first = plan.first or 0
        if plan.last is None or plan.last - first >= SMALL_RANGE:
            return super().number_range(plan)
        values = [tokens.value(plan.type, plan.context or None, str(n)) for n in range(first, plan.last + 1)]
        return has_any(values) if plan.context != "" else checked(has_any(values), super().number_range(plan))

    def addresses(self, plan: IpRange) -> str:
        if plan.context is None:  # the scanned address, or another ip item (then checked on the items)
            other = checked(has_all([tokens.OTHER_ADDRESS]), super().addresses(plan))
            return f"({scanned_address(plan.network)} OR {other})"
        return checked(has_all([tokens.has_context("ip", plan.context)]), super().addresses(plan))


def has_all(wanted: list[str]) -> str:
    if len(wanted) == 1:
        return f"has(tokens, {literal(wanted[0])})"
    return f"hasAll(tokens, [{', '.join(map(literal, wanted))}])"


def has_any(wanted: list[str]) -> str:
    if not wanted:
        return "0"
    if len(wanted) == 1:
        return f"has(tokens, {literal(wanted[0])})"
    return f"hasAny(tokens, [{', '.join(map(literal, wanted))}])"


def checked(needed: str, test: str) -> str:
    """``test``, behind what the tokens say every match must hold ("1": nothing)."""
    return test if needed == "1" else f"({needed} AND {test})"


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


Rule = Callable[[Any, Any], str]
PORTABLE: dict[type, Rule] = {
    AllOf: Compiler.all_of,
    AnyOf: Compiler.any_of,
    NoneOf: Compiler.none_of,
    Words: Compiler.words,
    Exact: Compiler.exact,
    HasContext: Compiler.has_context,
    HostName: Compiler.host_name,
    IpRange: Compiler.ip_range,
    NumberRange: Compiler.number_range,
    DayRange: Compiler.day_range,
    DateRange: Compiler.date_range,
    ReportId: lambda compiler, plan: f"id = {literal(plan.id)}",
    Everything: lambda compiler, plan: "1",
    Nothing: lambda compiler, plan: "0",
}
SMALL_RANGE = 64  # numbers: at most this many in a range are asked of the tokens, one each (modern dialect)
MODERN: dict[type, Rule] = {
    **PORTABLE,
    NumberRange: TokenCompiler.number_range,
    Words: TokenCompiler.words,
    Exact: TokenCompiler.exact,
    HasContext: TokenCompiler.has_context,
    HostName: TokenCompiler.host_name,
}
DIALECTS = {"portable": PORTABLE, "modern": MODERN}


def selection(
    layout: Layout, filters: Filters, superseded: bool = True, types: Callable[[], frozenset[str]] = frozenset
) -> str:
    """The SQL condition on ``reports`` for the matching reports before ``most_recent``: the dataset, the plan,
    and superseded reports hidden (unless ``history`` or a ``report_id``). ``superseded``: whether the dataset
    has superseded marks at all (without, the clause is left out: it would exclude nothing, yet read every
    report id); ``types``: the dataset's item types, asked for only when a term names none."""
    dataset = literal(check_dataset(filters.dataset))
    chosen = (TokenCompiler if layout.modern else Compiler)(layout, filters.dataset, types)
    parts = [f"dataset = {dataset}", chosen.compile(lower(filters))]
    if superseded and not filters.history and filters.report_id is None:
        parts.append(f"id NOT IN (SELECT id FROM {layout.local('superseded')} WHERE dataset = {dataset})")
    return " AND ".join(parts)


def summary_values(column: str, conditions: list[str]) -> str:
    """The distinct ``column`` values (``value`` or ``context``) of a report row's items meeting ``conditions``
    (on ``t``, the type, and ``c``, the context), as an array expression over the row's item arrays (the
    contexts read only when needed: a summary's cost is reading the arrays of every matching row)."""
    test = " AND ".join(conditions)
    if column == "context" or any(condition.startswith("c ") for condition in conditions):
        return f"arrayDistinct(arrayFilter((v, t, c) -> {test}, item_{column}, item_type, item_context))"
    return f"arrayDistinct(arrayFilter((v, t) -> {test}, item_{column}, item_type))"


def summary_conditions(
    kind: str, contexts: tuple[str, ...], excluded: tuple[str, ...], names: tuple[str, str] = ("t", "c")
) -> tuple[str, list[str]]:
    """The column a summary of ``kind`` counts and the conditions on the items it counts, naming the type and the
    context ``names`` (a lambda's, or the ``items`` columns)."""
    item_type, context = names
    if kind in CONTEXT_KEYWORDS:
        return "context", [f"{item_type} = {literal(CONTEXT_KEYWORDS[kind])}"]
    conditions = [f"{item_type} = {literal(kind)}"]
    if contexts:
        conditions.append(f"{context} IN ({', '.join(map(literal, contexts))})")
    if excluded:
        conditions.append(f"{context} NOT IN ({', '.join(map(literal, excluded))})")
    return "value", conditions


def whole_days(filters: Filters) -> bool:
    """Does the selection keep whole days of the dataset (no condition but dates)? A summary of it reads the report
    rows of those days; any other is cheaper on its type's slice of ``items``, probed against the matches."""
    plan = lower(filters)
    parts = plan.children if isinstance(plan, AllOf) else (plan,)
    return all(isinstance(part, (Everything, DateRange)) for part in parts)
