"""``GET /v1/multi/summary``: many types summarised at once, over the ``protocols`` and ``domains`` datasets.

    {"observations": {"host": {"cardinality": {"domains": N, "protocols": N},
                               "other": {"domains": N, "protocols": N},
                               "values": {"domains": {value: count}, "protocols": {value: count}}}, …},
     "enrichments": {"product-tag": {…the same…}, …}}

Every item type present in either dataset gets a key of its own, summarising its values in every context;
the types Shoal's enrichers write for products and honeypots sit under ``enrichments`` (Driftnet keeps
``geo-country``, ``entity`` and ``asn`` under ``observations``, and so does Shoal). ``subject;cert`` and
``title;html`` are Driftnet's names for certificate subjects and HTML titles, the values of Shoal's
``subject`` and ``title`` items, so both names are given. Counts, ``other`` and cardinality are exact.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.limits import run_query
from shoal.api.render import json_response
from shoal.enrich.products import Honeypots, Products
from shoal.errors import NoResults
from shoal.model import BODY_SHA256, DOMAINS, PROTOCOLS, SUPERSEDES
from shoal.request.params import MULTI_SUMMARY, MULTI_SUMMARY_LIMIT, declare
from shoal.request.reading import known_types, summary_limit_of
from shoal.request.selection import Selection
from shoal.store.base import Filters, Store, Summary, SummaryRequest
from shoal.store.fanout import summarize_each
from shoal.tokens import Token

router = APIRouter()

MULTI_PATH = "/v1/multi/summary"
MULTI_DATASETS = (DOMAINS, PROTOCOLS)
ENRICHMENT_TYPES = Products.outputs | Honeypots.outputs
UNSUMMARISED_TYPES = frozenset({SUPERSEDES, BODY_SHA256})  # bookkeeping items, not observations
DRIFTNET_NAMES = {"subject": "subject;cert", "title": "title;html"}


def per_dataset(summaries: dict[str, Summary]) -> dict[str, Any]:
    return {
        "cardinality": {dataset: summary.cardinality for dataset, summary in summaries.items()},
        "other": {dataset: summary.other for dataset, summary in summaries.items()},
        "values": {dataset: dict(summary.values) for dataset, summary in summaries.items()},
    }


def multi_summary(store: Store, filters: Filters, limit: int) -> dict[str, dict[str, Any]]:
    """The two sections of the answer; a type without a value in either dataset is left out."""
    types = sorted(set().union(*(store.known_types(dataset) for dataset in MULTI_DATASETS)) - UNSUMMARISED_TYPES)
    jobs = [
        (replace(filters, dataset=dataset), SummaryRequest(item_type, limit=limit))
        for item_type in types
        for dataset in MULTI_DATASETS
    ]
    done = iter(summarize_each(store, jobs))
    body: dict[str, dict[str, Any]] = {"enrichments": {}, "observations": {}}
    for item_type in types:
        summaries = {dataset: next(done) for dataset in MULTI_DATASETS}
        if not any(summary.cardinality for summary in summaries.values()):
            continue
        section = body["enrichments" if item_type in ENRICHMENT_TYPES else "observations"]
        section[item_type] = per_dataset(summaries)
        if item_type in DRIFTNET_NAMES:
            section[DRIFTNET_NAMES[item_type]] = section[item_type]
    return body


def answer(params: QueryParams, store: Store, token: Token) -> Response:
    filters = Selection.read(params).as_filters(known_types(store))
    body = multi_summary(store, filters, summary_limit_of(MULTI_SUMMARY_LIMIT.read(params), token.enterprise))
    if not body["observations"] and not body["enrichments"]:
        raise NoResults()
    return json_response(body)


@router.get(MULTI_PATH, openapi_extra=declare(*MULTI_SUMMARY))
async def summary(request: Request) -> Response:
    token = require_token(request)
    return await run_query(request, answer, request.query_params, request.app.state.store, token)
