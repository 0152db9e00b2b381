"""Compile a checked AST (plus the request's filters) into a tantivy Query.

The table ``SPECIAL_TYPES`` maps the types with their own semantics to their compilers; every other
type is an ordinary text type (phrase for ``:``, whole value for ``=``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import tantivy
from tantivy import FieldType, Occur, Query

from shoal.query.ast import And, Expr, Match, Not, Term
from shoal.store.base import Filters, IPNetwork
from shoal.store.embedded.schema import (
    CONTEXT_SEP,
    SUPERSEDED,
    TYPE_SEP,
    address_bits,
    cut,
    day_number,
    port_term,
    reversed_host,
    words_path,
)

ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .build()
)


def analyze(text: str) -> list[str]:
    """The words of a value, exactly as the index's default tokenizer sees them."""
    return ANALYZER.analyze(text)


def regex_literal(text: str) -> str:
    """Escape text for tantivy's (Rust) regex syntax: every ASCII punctuation or space gets a backslash, except
    ``<`` and ``>``, which need none (escaped, they are word-boundary assertions)."""
    return "".join(
        "\\" + ch if ch.isascii() and not ch.isalnum() and ch.isprintable() and ch not in "<>" else ch for ch in text
    )


@dataclass(frozen=True)
class Compiler:
    schema: tantivy.Schema
    types: frozenset[str]  # the item types present in the index (search-term looks in each)
    slop: int = 0
    host_in_url: bool = False

    def compile(self, expr: Expr) -> Query:
        if isinstance(expr, Term):
            return self.term(expr)
        if isinstance(expr, Not):
            return must_not(self.compile(expr.child))
        if isinstance(expr, And):
            clauses = []
            for child in expr.children:
                if isinstance(child, Not):
                    clauses.append((Occur.MustNot, self.compile(child.child)))
                else:
                    clauses.append((Occur.Must, self.compile(child)))
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.append((Occur.Must, Query.all_query()))
            return Query.boolean_query(clauses)
        return any_of([self.compile(child) for child in expr.children])

    def term(self, term: Term) -> Query:
        special = SPECIAL_TYPES.get(term.type)
        if special is not None:
            return special(self, term)
        return self.text(term)

    # -- ordinary text types -------------------------------------------------------------------------------

    def text(self, term: Term, item_type: str | None = None) -> Query:
        item_type = item_type or term.type
        if term.match is Match.EXACT:
            return self.exact(item_type, term.context, term.value, term.prefix)
        return self.words(item_type, term.context, term.value, term.prefix)

    def words(self, item_type: str, context: str | None, value: str, prefix: bool) -> Query:
        path = words_path(item_type, context)
        words = analyze(value)
        if not words:
            return self.has_type(item_type, context) if prefix else Query.empty_query()
        if prefix:
            return Query.phrase_prefix_query(self.schema, path, words)
        if len(words) == 1:
            return Query.term_query(self.schema, path, words[0])
        return Query.phrase_query(self.schema, path, words, slop=self.slop)

    def exact(self, item_type: str, context: str | None, value: str, prefix: bool) -> Query:
        field, key = ("exact", item_type) if context is None else ("exactc", item_type + CONTEXT_SEP + context)
        term = cut(key + TYPE_SEP + value)
        if prefix:
            return Query.regex_query(self.schema, field, regex_literal(term) + ".*")
        return Query.term_query(self.schema, field, term)

    def has_type(self, item_type: str, context: str | None) -> Query:
        kind = item_type if context is None else item_type + CONTEXT_SEP + context
        return Query.term_query(self.schema, "kinds", kind)

    # -- types with their own semantics ---------------------------------------------------------------------

    def search_term(self, term: Term) -> Query:
        """Any type: one clause per item type in the index (slower than naming the type, as in Driftnet)."""
        clauses = [self.text(term, item_type) for item_type in sorted(self.types)]
        return any_of(clauses) if clauses else Query.empty_query()

    def context_keyword(self, term: Term, item_type: str) -> Query:
        kind = item_type + CONTEXT_SEP + term.value
        if term.prefix:
            return Query.regex_query(self.schema, "kinds", regex_literal(kind) + ".*")
        return Query.term_query(self.schema, "kinds", kind)

    def port(self, term: Term) -> Query:
        return self.exact("port-tcp", term.context, port_term(term.value), prefix=False)

    def ip(self, term: Term) -> Query:
        network = ipaddress.ip_network(term.value, strict=False)
        if term.context is None:
            return ip_range(self.schema, "ipall", network)
        if term.context == "":
            return ip_range(self.schema, "ip", network)
        bits = address_bits(network.network_address.packed)
        prefix_length = network.prefixlen + (96 if network.version == 4 else 0)
        return Query.regex_query(
            self.schema, "ipc", regex_literal(term.context + TYPE_SEP + bits[:prefix_length]) + "[01]*"
        )

    def host(self, term: Term) -> Query:
        types = ["host", "url"] if self.host_in_url else ["host"]
        return any_of([self.host_labels(item_type, term) for item_type in types])

    def url(self, term: Term) -> Query:
        by_words = self.text(term)
        if term.match is Match.WORDS and not term.prefix and looks_like_host(term.value):
            return any_of([by_words, self.host_labels("url", term)])
        return by_words

    def host_labels(self, item_type: str, term: Term) -> Query:
        """Right-anchored on labels for ``:`` (``example.com`` matches ``a.example.com``), whole name for ``=``."""
        if term.context is None:
            field, key = "hosts", item_type + TYPE_SEP
        else:
            field, key = "hostsc", item_type + CONTEXT_SEP + term.context + TYPE_SEP
        name = key + reversed_host(term.value)
        if term.match is Match.EXACT:
            return Query.term_query(self.schema, field, name)
        return Query.regex_query(self.schema, field, regex_literal(name) + r"(\..*)?")


def looks_like_host(value: str) -> bool:
    return "." in value and all(part and all(ch.isalnum() or ch == "-" for ch in part) for part in value.split("."))


SPECIAL_TYPES: dict[str, Callable[[Compiler, Term], Query]] = {
    "search-term": Compiler.search_term,
    "protocol": lambda compiler, term: compiler.context_keyword(term, "server-banner"),
    "http-header-name": lambda compiler, term: compiler.context_keyword(term, "http-header"),
    "port-tcp": Compiler.port,
    "ip": Compiler.ip,
    "host": Compiler.host,
    "url": Compiler.url,
}


def any_of(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, query) for query in queries])


def must_not(query: Query) -> Query:
    return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, query)])


def ip_range(schema: tantivy.Schema, field: str, network: IPNetwork) -> Query:
    if network.num_addresses == 1:
        return Query.term_query(schema, field, str(network.network_address))
    return Query.range_query(
        schema, field, FieldType.IpAddr, str(network.network_address), str(network.broadcast_address)
    )


def compile_filters(
    schema: tantivy.Schema, filters: Filters, types: frozenset[str], hide_superseded: bool = False
) -> Query:
    """The whole selection: expression AND ip parameter AND date range AND report id, without superseded
    reports if asked (most_recent is applied after)."""
    clauses: list[Query] = []
    if filters.report_id is not None:
        clauses.append(Query.term_query(schema, "id", filters.report_id))
    if filters.expression is not None:
        compiler = Compiler(schema, types, slop=filters.slop, host_in_url=filters.host_in_url)
        clauses.append(compiler.compile(filters.expression))
    if filters.ip is not None:
        clauses.append(ip_range(schema, "ipall" if filters.indirect else "ip", filters.ip))
    if filters.date_from is not None or filters.date_to is not None:
        clauses.append(
            Query.range_query(
                schema,
                "day",
                FieldType.Integer,
                day_number(filters.date_from) if filters.date_from else None,
                day_number(filters.date_to) if filters.date_to else None,
            )
        )
    if hide_superseded:
        superseded = Query.term_query(schema, "exact", SUPERSEDED)
        return Query.boolean_query(
            [*((Occur.Must, clause) for clause in clauses or [Query.all_query()]), (Occur.MustNot, superseded)]
        )
    if not clauses:
        return Query.all_query()
    if len(clauses) == 1:
        return clauses[0]
    return Query.boolean_query([(Occur.Must, clause) for clause in clauses])


def count_matches(searcher: tantivy.Searcher, query: Query) -> int:
    """Number of documents matching query (tantivy refuses a search with limit 0)."""
    return searcher.search(query, limit=1, count=True).count
