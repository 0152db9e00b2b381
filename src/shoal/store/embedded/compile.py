"""Compile a plan (``shoal.store.plan``, lowered from the checked AST and the request's filters) into a tantivy
Query: ``RULES`` maps each plan node type to its compiler, one tantivy field per kind of node (the fields are
described in ``schema.py``). Which contexts a type holds comes from the dataset's ``Kinds``: a query over all of a
closed type's contexts is an OR over them, and the empty context of an open type is a term of its own only in
reports that hold the type under a named context too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from shoal.store.base import Filters, IPNetwork, day_number
from shoal.store.embedded.schema import (
    CLOSED_TYPES,
    CONTEXT_SEP,
    SUPERSEDED,
    TYPE_SEP,
    address_bits,
    cut,
    day_range,
    json_key,
    reversed_host,
)
from shoal.store.embedded.shards import Kinds
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


def regex_literal(text: str) -> str:
    """Escape text for tantivy's (Rust) regex syntax: every ASCII punctuation or space gets a backslash, except
    ``<`` and ``>``, which need none (escaped, they are word-boundary assertions)."""
    return "".join(
        "\\" + ch if ch.isascii() and not ch.isalnum() and ch.isprintable() and ch not in "<>" else ch for ch in text
    )


@dataclass(frozen=True)
class Compiler:
    schema: tantivy.Schema
    kinds: Kinds  # the (type, context) pairs of the dataset: a node of any type looks in each type

    def compile(self, plan: Plan) -> Query:
        return RULES[type(plan)](self, plan)

    def all_of(self, plan: AllOf) -> Query:
        clauses = []
        for child in plan.children:
            if isinstance(child, NoneOf):
                clauses.append((Occur.MustNot, self.compile(child.child)))
            else:
                clauses.append((Occur.Must, self.compile(child)))
        if all(occur == Occur.MustNot for occur, _ in clauses):
            clauses.append((Occur.Must, Query.all_query()))
        return Query.boolean_query(clauses)

    def any_of(self, plan: AnyOf) -> Query:
        return any_of([self.compile(child) for child in plan.children])

    def none_of(self, plan: NoneOf) -> Query:
        return must_not(self.compile(plan.child))

    def each_type(self, item_type: str | None, build: Callable[[str], Query]) -> Query:
        """``build`` for the one type named, or for every type in the index (an item of any type)."""
        if item_type is not None:
            return build(item_type)
        clauses = [build(name) for name in sorted(self.kinds.types())]
        return any_of(clauses) if clauses else Query.empty_query()

    def by_context(self, item_type: str, context: str | None, term: Callable[[str], Query]) -> Query:
        """``term(key)`` over the items of a type in a context (None: any), ``key`` naming where such items are
        indexed (schema.py): ``type/context``; ``type`` for the empty context of a closed type, or for any
        context of an open one; ``type/`` for the empty context of an open type in a report holding a named
        one."""
        if context:
            return term(item_type + CONTEXT_SEP + context)
        contexts = self.kinds.of_type(item_type)
        named = self.kinds.named(item_type)
        if item_type in CLOSED_TYPES:
            if context == "":
                return term(item_type)
            keys = ([item_type] if "" in contexts else []) + [item_type + CONTEXT_SEP + name for name in named]
            return any_of([term(key) for key in keys]) if keys else Query.empty_query()
        if context is None or not named:
            return term(item_type)
        only_empty = Query.boolean_query([(Occur.Must, term(item_type)), (Occur.MustNot, self.named(item_type))])
        return any_of([term(item_type + CONTEXT_SEP), only_empty])

    def named(self, item_type: str) -> Query:
        """Reports holding the type under a named context."""
        return Query.regex_query(self.schema, "kinds", regex_literal(item_type + CONTEXT_SEP) + ".+")

    def words(self, plan: Words) -> Query:
        def phrase(key: str) -> Query:
            path = "words." + json_key(key)
            words = list(plan.words)
            if plan.prefix:
                return Query.phrase_prefix_query(self.schema, path, words)
            if len(words) == 1:
                return Query.term_query(self.schema, path, words[0])
            return Query.phrase_query(self.schema, path, words, slop=plan.slop)

        return self.each_type(plan.type, lambda item_type: self.by_context(item_type, plan.context, phrase))

    def exact(self, plan: Exact) -> Query:
        def term(key: str) -> Query:
            value = cut(key + TYPE_SEP + plan.value)
            if plan.prefix:
                return Query.regex_query(self.schema, "exact", regex_literal(value) + ".*")
            return Query.term_query(self.schema, "exact", value)

        return self.each_type(plan.type, lambda item_type: self.by_context(item_type, plan.context, term))

    def has_context(self, plan: HasContext) -> Query:
        if plan.context == "":
            return self.by_context(plan.type, "", lambda key: self.any_value(key))
        kind = plan.type + CONTEXT_SEP + plan.context
        if plan.prefix:
            return Query.regex_query(self.schema, "kinds", regex_literal(kind) + ".*")
        return Query.term_query(self.schema, "kinds", kind)

    def any_value(self, key: str) -> Query:
        """Reports with any ``exact`` term under ``key`` (the empty context has no ``kinds`` term)."""
        return Query.regex_query(self.schema, "exact", regex_literal(key + TYPE_SEP) + ".*")

    def host_name(self, plan: HostName) -> Query:
        reversed_name = reversed_host(plan.name)

        def term(key: str) -> Query:
            name = key + TYPE_SEP + reversed_name
            if plan.whole:
                return Query.term_query(self.schema, "hosts", name)
            return Query.regex_query(self.schema, "hosts", regex_literal(name) + r"(\..*)?")

        return self.by_context(plan.type, plan.context, term)

    def ip_range(self, plan: IpRange) -> Query:
        if plan.context is None:
            return any_of([ip_range(self.schema, "ip", plan.network), ip_range(self.schema, "ipall", plan.network)])
        if plan.context == "":
            return ip_range(self.schema, "ip", plan.network)
        bits = address_bits(plan.network.network_address.packed)
        prefix_length = plan.network.prefixlen + (96 if plan.network.version == 4 else 0)
        return Query.regex_query(
            self.schema, "ipc", regex_literal(plan.context + TYPE_SEP + bits[:prefix_length]) + "[01]*"
        )

    def number_range(self, plan: NumberRange) -> Query:
        pattern = number_pattern(plan.first or 0, plan.last if plan.last is not None else 10**NUMBER_DIGITS - 1)
        return self.by_context(plan.type, plan.context, lambda key: self.values_matching(key, pattern))

    def day_range(self, plan: DayRange) -> Query:
        pattern = day_pattern(plan.first, plan.last)
        return self.by_context(plan.type, plan.context, lambda key: self.values_matching(key, pattern))

    def values_matching(self, key: str, pattern: str) -> Query:
        """Reports with an ``exact`` term under ``key`` whose value matches the regex ``pattern`` (all of it)."""
        return Query.regex_query(self.schema, "exact", regex_literal(key + TYPE_SEP) + pattern)

    def date_range(self, plan: DateRange) -> Query:
        keys = day_range(day_number(plan.first) if plan.first else None, day_number(plan.last) if plan.last else None)
        if keys is None:
            return Query.empty_query()
        if keys == (None, None):
            return Query.all_query()
        return Query.range_query(self.schema, "sort", FieldType.Integer, *keys)


RULES: dict[type, Callable[[Compiler, Any], Query]] = {
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
    ReportId: lambda compiler, plan: Query.term_query(compiler.schema, "id", plan.id),
    Everything: lambda compiler, plan: Query.all_query(),
    Nothing: lambda compiler, plan: Query.empty_query(),
}


def any_of(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, query) for query in queries])


def must_not(query: Query) -> Query:
    return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, query)])


# A range of at most this many addresses is read from the inverted index (the terms in the range: 0.05 ms for a
# /24 at 200k reports), a wider one from the fast-field twin (a scan of the column: 1.3 ms, where the terms of a
# /16 took 6.5 ms).
FEW_ADDRESSES = 4096
FAST_TWIN = {"ip": "ipfast"}


def ip_range(schema: tantivy.Schema, field: str, network: IPNetwork) -> Query:
    if network.num_addresses == 1:
        return Query.term_query(schema, field, str(network.network_address))
    if network.num_addresses > FEW_ADDRESSES and field in FAST_TWIN:
        field = FAST_TWIN[field]
    return Query.range_query(
        schema, field, FieldType.IpAddr, str(network.network_address), str(network.broadcast_address)
    )


# Ranges of values (``port-tcp:[1 TO 1024]``, ``cert-not-after:<2027-01-01``) are one regex over the ``exact``
# terms of the type: tantivy walks its term dictionary with the automaton, so a range costs about what its matching
# terms do (BENCHMARKS.md, "Ranges": within 1.3x of the OR of the same terms, and no field of its own to index).


def number_pattern(first: int, last: int) -> str:
    """A regex matching the decimal numbers from ``first`` to ``last`` written without leading zeros."""
    parts = []
    for length in range(len(str(first)), len(str(last)) + 1):
        low, high = max(first, 10 ** (length - 1) if length > 1 else 0), min(last, 10**length - 1)
        if low <= high:
            parts += [_render(classes) for classes in fixed_width(str(low), str(high))]
    return "(" + "|".join(parts) + ")"


def day_pattern(first: dt.date | None, last: dt.date | None) -> str:
    """A regex matching the days (YYYY-MM-DD) from ``first`` to ``last`` (None: unbounded)."""
    low = first.isoformat().replace("-", "") if first else "0" * 8
    high = last.isoformat().replace("-", "") if last else "9" * 8
    return "(" + "|".join(_render(classes, dashes=(4, 6)) for classes in fixed_width(low, high)) + ")"


def fixed_width(low: str, high: str) -> list[list[str]]:
    """Patterns, one character class per position, matching the digit strings as long as ``low`` and ``high`` (of
    equal length, ``low`` ≤ ``high``) from ``low`` to ``high``; each of the result's strings matches a block."""
    shared = 0
    while shared < len(low) and low[shared] == high[shared]:
        shared += 1
    prefix, low, high = list(low[:shared]), low[shared:], high[shared:]
    if not low:
        return [prefix]
    rest = len(low) - 1
    patterns: list[list[str]] = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != "0" * rest:  # the block of low's first digit, from low up
        patterns += [prefix + pattern for pattern in fixed_width(low, low[0] + "9" * rest)]
        first += 1
    whole_last = high[1:] == "9" * rest
    if not whole_last:
        last -= 1
    if first <= last:
        patterns.append(prefix + [_digits(first, last)] + ["[0-9]"] * rest)
    if not whole_last:  # the block of high's first digit, up to high
        patterns += [prefix + pattern for pattern in fixed_width(high[0] + "0" * rest, high)]
    return patterns


def _digits(first: int, last: int) -> str:
    return str(first) if first == last else f"[{first}-{last}]"


def _render(classes: list[str], dashes: tuple[int, ...] = ()) -> str:
    """The pattern of one block; a run of any digits is written once with its count (``[0-9]{3}``)."""
    out: list[str] = []
    run = 0
    for index, part in enumerate(classes):
        if part == "[0-9]" and index not in dashes:
            run += 1
            continue
        out.append(_run(run) + ("-" if index in dashes else "") + part)
        run = 0
    return "".join(out) + _run(run)


def _run(count: int) -> str:
    return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"


def compile_filters(schema: tantivy.Schema, filters: Filters, kinds: Kinds, hide_superseded: bool = False) -> Query:
    """The whole selection as one query, without superseded reports if asked (most_recent is applied after)."""
    query = Compiler(schema, kinds).compile(lower(filters))
    if not hide_superseded:
        return query
    return Query.boolean_query([(Occur.Must, query), (Occur.MustNot, Query.term_query(schema, "exact", SUPERSEDED))])


def count_matches(searcher: tantivy.Searcher, query: Query) -> int:
    """Number of documents matching query (tantivy refuses a search with limit 0)."""
    return searcher.search(query, limit=1, count=True).count
