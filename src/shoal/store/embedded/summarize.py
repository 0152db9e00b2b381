"""Exact summaries from the term dictionary: per-value report counts, ``other`` and cardinality.

``terms_with_prefix`` walks the terms of one type (and context) in one shard and counts, per term, the matching
documents holding it, summed over segments: exact at any cardinality (no 65,000-bucket limit, no approximate
``other``). A report lives in one shard, so the shards' counts add up (``index.ReportIndex.summarize_terms``).
Where a value's reports are spread over several terms (several contexts, or a closed type's, schema.py), the
counts are summed and the reports holding the value under two of them counted once (``multi``).

That walk is one call tantivy cannot stop. Under a time limit it starts only if its estimate, over every shard,
fits the time left (``deadline.affordable``, before the shards start: ``walk_seconds``): the postings of the type
at ``POSTING_SECONDS`` each, counted cheaply as its documents per context: a named context's from its ``kinds``
term, the empty context (which has none) as every document of a shard holding it there (an upper bound).
Measured at 1M reports on the 2-core machine (CPU time), the walk costs 12–390 ns a posting (port-tcp 24, ip 278,
http-header 390 over every report; a narrower filter less): 150 ns is their middle, so an estimate is within about
3x of the truth where the type is in most reports.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

import tantivy
from tantivy import Occur, Query

from shoal.query.check import CONTEXT_KEYWORDS
from shoal.store import deadline
from shoal.store.base import Summary, SummaryRequest
from shoal.store.embedded.compile import Compiler, count_matches, regex_literal
from shoal.store.embedded.schema import CLOSED_TYPES, CONTEXT_SEP, TYPE_SEP, report_from_stored
from shoal.store.embedded.shards import Kinds

POSTING_SECONDS = 150e-9
CHECK_EVERY = 1024  # stored reports read between two checks of the time limit


def walk_seconds(searchers: Sequence[tantivy.Searcher], item_type: str, kinds: Kinds) -> float:
    """The estimated time of the term walks of ``item_type`` in every shard: its postings (documents per context,
    summed over the shards) at POSTING_SECONDS each."""
    postings = 0
    for searcher in searchers:
        postings += sum(count for _, count in searcher.terms_with_prefix("kinds", item_type + CONTEXT_SEP))
        if "" in kinds.of_type(item_type):
            postings += searcher.num_docs
    return postings * POSTING_SECONDS


def count_values(
    searcher: tantivy.Searcher, schema: tantivy.Schema, query: Query | None, request: SummaryRequest, kinds: Kinds
) -> Counter[str]:
    """One shard's counts of the request's values among the reports matching ``query`` (None: every report)."""
    if request.type in CONTEXT_KEYWORDS:
        return context_counts(searcher, schema, query, CONTEXT_KEYWORDS[request.type], kinds)
    closed = request.type in CLOSED_TYPES
    if not request.contexts and not request.excluded_contexts and not closed:
        return terms(searcher, "exact", request.type + TYPE_SEP, query)
    contexts = allowed_contexts(request, kinds)
    counts: Counter[str] = Counter()
    for context in contexts:
        deadline.check()
        counts.update(context_values(searcher, schema, query, request.type, context, kinds))
    if len(contexts) > 1:
        subtract_overlaps(searcher, schema, query, request.type, set(contexts), counts)
    return +counts


def context_values(
    searcher: tantivy.Searcher, schema: tantivy.Schema, query: Query | None, item_type: str, context: str, kinds: Kinds
) -> Counter[str]:
    """Counts of a type's values under one context (schema.py: where each is indexed)."""
    if context or item_type in CLOSED_TYPES:
        key = item_type + CONTEXT_SEP + context if context else item_type
        return terms(searcher, "exact", key + TYPE_SEP, query)
    if not kinds.named(item_type):
        return terms(searcher, "exact", item_type + TYPE_SEP, query)
    # An open type's empty context: its own terms where the report holds a named context too, the type's where not.
    counts = terms(searcher, "exact", item_type + CONTEXT_SEP + TYPE_SEP, query)
    named = Compiler(schema, kinds).named(item_type)
    only_empty = Query.boolean_query([(Occur.Must, query or Query.all_query()), (Occur.MustNot, named)])
    counts.update(terms(searcher, "exact", item_type + TYPE_SEP, only_empty))
    return counts


def context_counts(
    searcher: tantivy.Searcher, schema: tantivy.Schema, query: Query | None, item_type: str, kinds: Kinds
) -> Counter[str]:
    """``summarize=protocol``: the reports holding the type under each context ("" the empty context)."""
    counts = terms(searcher, "kinds", item_type + CONTEXT_SEP, query)
    if "" in kinds.of_type(item_type):
        empty = Compiler(schema, kinds).by_context(item_type, "", Compiler(schema, kinds).any_value)
        selection = empty if query is None else Query.boolean_query([(Occur.Must, query), (Occur.Must, empty)])
        found = count_matches(searcher, selection)
        if found:
            counts[""] = found
    return counts


def allowed_contexts(request: SummaryRequest, kinds: Kinds) -> list[str]:
    wanted = list(dict.fromkeys(request.contexts)) if request.contexts else sorted(kinds.of_type(request.type))
    excluded = set(request.excluded_contexts)
    return [context for context in wanted if context not in excluded]


def subtract_overlaps(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    query: Query | None,
    item_type: str,
    contexts: set[str],
    counts: Counter[str],
) -> None:
    """A report holding one value under several allowed contexts was counted once per context: count it once.

    Only reports flagged in the ``multi`` field (a value under ≥ 2 contexts of a type) are read.
    """
    flagged = Query.regex_query(schema, "multi", regex_literal(item_type + TYPE_SEP) + ".*")
    selection = flagged if query is None else Query.boolean_query([(Occur.Must, query), (Occur.Must, flagged)])
    total = count_matches(searcher, selection)
    if total == 0:
        return
    for number, (_, address) in enumerate(searcher.search(selection, limit=total, count=False).hits):
        if number % CHECK_EVERY == 0:
            deadline.check()
        report = report_from_stored(searcher.doc(address)["doc"][0])
        held: dict[str, set[str]] = {}
        for item in report.items:
            if item.type == item_type and item.context in contexts:
                held.setdefault(item.value, set()).add(item.context)
        for value, value_contexts in held.items():
            if len(value_contexts) > 1:
                counts[value] -= len(value_contexts) - 1


def terms(searcher: tantivy.Searcher, field: str, prefix: str, query: Query | None) -> Counter[str]:
    found = searcher.terms_with_prefix(field, prefix, filter_query=query)
    return Counter({term[len(prefix) :]: count for term, count in found if count > 0})


def top_values(counts: Counter[str], limit: int) -> Summary:
    """The ``limit`` highest counts, ties by value: only the values at or above the limit-th highest count are
    sorted (a summary over everything has thousands of values and lists a hundred)."""
    if len(counts) > limit:
        least = heapq.nlargest(limit, counts.values())[-1]
        candidates = [pair for pair in counts.items() if pair[1] >= least]
    else:
        candidates = list(counts.items())
    listed = sorted(candidates, key=lambda pair: (-pair[1], pair[0]))[:limit]
    other = sum(counts.values()) - sum(count for _, count in listed)
    return Summary(values=listed, other=other, cardinality=len(counts))
