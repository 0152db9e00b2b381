"""Compile a plan (``shoal.store.plan``, lowered from the checked AST and the request's filters) into a tantivy
Query: ``RULES`` maps each plan node type to its compiler, one tantivy field per kind of node (the fields are
described in ``schema.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from shoal.store.base import Filters, IPNetwork, day_number
from shoal.store.embedded.schema import (
    CONTEXT_SEP,
    SUPERSEDED,
    TYPE_SEP,
    address_bits,
    cut,
    reversed_host,
    words_path,
)
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


def regex_literal(text: str) -> str:
    """Escape text for tantivy's (Rust) regex syntax: every ASCII punctuation or space gets a backslash, except
    ``<`` and ``>``, which need none (escaped, they are word-boundary assertions)."""
    return "".join(
        "\\" + ch if ch.isascii() and not ch.isalnum() and ch.isprintable() and ch not in "<>" else ch for ch in text
    )


@dataclass(frozen=True)
class Compiler:
    schema: tantivy.Schema
    types: frozenset[str]  # the item types present in the index (a node of any type looks in each)

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
        clauses = [build(name) for name in sorted(self.types)]
        return any_of(clauses) if clauses else Query.empty_query()

    def words(self, plan: Words) -> Query:
        def phrase(path: str) -> Query:
            words = list(plan.words)
            if plan.prefix:
                return Query.phrase_prefix_query(self.schema, path, words)
            if len(words) == 1:
                return Query.term_query(self.schema, path, words[0])
            return Query.phrase_query(self.schema, path, words, slop=plan.slop)

        def build(item_type: str) -> Query:
            if plan.context != "":
                return phrase(words_path(item_type, plan.context))
            # The empty context (schema.py: words of the empty context): the type's words where all its items
            # have an empty context, else the empty context's own words.
            named_contexts = Query.regex_query(self.schema, "kinds", regex_literal(item_type + CONTEXT_SEP) + ".+")
            only_empty = Query.boolean_query(
                [(Occur.Must, phrase(words_path(item_type, None))), (Occur.MustNot, named_contexts)]
            )
            return any_of([phrase(words_path(item_type, "")), only_empty])

        return self.each_type(plan.type, build)

    def exact(self, plan: Exact) -> Query:
        def build(item_type: str) -> Query:
            if plan.context is None:
                field, key = "exact", item_type
            else:
                field, key = "exactc", item_type + CONTEXT_SEP + plan.context
            term = cut(key + TYPE_SEP + plan.value)
            if plan.prefix:
                return Query.regex_query(self.schema, field, regex_literal(term) + ".*")
            return Query.term_query(self.schema, field, term)

        return self.each_type(plan.type, build)

    def has_context(self, plan: HasContext) -> Query:
        kind = plan.type + CONTEXT_SEP + plan.context
        if plan.prefix:
            return Query.regex_query(self.schema, "kinds", regex_literal(kind) + ".*")
        return Query.term_query(self.schema, "kinds", kind)

    def host_name(self, plan: HostName) -> Query:
        if plan.context is None:
            field, key = "hosts", plan.type + TYPE_SEP
        else:
            field, key = "hostsc", plan.type + CONTEXT_SEP + plan.context + TYPE_SEP
        name = key + reversed_host(plan.name)
        if plan.whole:
            return Query.term_query(self.schema, field, name)
        return Query.regex_query(self.schema, field, regex_literal(name) + r"(\..*)?")

    def ip_range(self, plan: IpRange) -> Query:
        if plan.context is None:
            return ip_range(self.schema, "ipall", plan.network)
        if plan.context == "":
            return ip_range(self.schema, "ip", plan.network)
        bits = address_bits(plan.network.network_address.packed)
        prefix_length = plan.network.prefixlen + (96 if plan.network.version == 4 else 0)
        return Query.regex_query(
            self.schema, "ipc", regex_literal(plan.context + TYPE_SEP + bits[:prefix_length]) + "[01]*"
        )

    def date_range(self, plan: DateRange) -> Query:
        return Query.range_query(
            self.schema,
            "day",
            FieldType.Integer,
            day_number(plan.first) if plan.first else None,
            day_number(plan.last) if plan.last else None,
        )


RULES: dict[type, Callable[[Compiler, Any], Query]] = {
    AllOf: Compiler.all_of,
    AnyOf: Compiler.any_of,
    NoneOf: Compiler.none_of,
    Words: Compiler.words,
    Exact: Compiler.exact,
    HasContext: Compiler.has_context,
    HostName: Compiler.host_name,
    IpRange: Compiler.ip_range,
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


def compile_filters(
    schema: tantivy.Schema, filters: Filters, types: frozenset[str], hide_superseded: bool = False
) -> Query:
    """The whole selection as one query, without superseded reports if asked (most_recent is applied after)."""
    query = Compiler(schema, types).compile(lower(filters))
    if not hide_superseded:
        return query
    return Query.boolean_query([(Occur.Must, query), (Occur.MustNot, Query.term_query(schema, "exact", SUPERSEDED))])


def count_matches(searcher: tantivy.Searcher, query: Query) -> int:
    """Number of documents matching query (tantivy refuses a search with limit 0)."""
    return searcher.search(query, limit=1, count=True).count
