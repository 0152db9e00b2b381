"""The search endpoints, one per dataset (its row's ``path``): search and summarise reports.

``scan/protocols``, ``scan/domains`` and ``ct/log`` take the same parameters and answer in the same shapes;
a dataset with selectors of its own takes them too (``domain/rdns``: ``host``, the IPs whose names are under
a domain, and ``nameserver``, a ``host;dns-ns`` name, right-anchored), ANDed with the rest. ``host_count=true``
(Shoal) adds to a page the distinct hosts its matches are on, for any token: Driftnet counts them only as an
enterprise summary's cardinality.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.limits import run_query
from shoal.api.render import json_response, page_response, summary_body, trend_body
from shoal.errors import BadParameter, Forbidden, NoResults
from shoal.model import DATASET_TABLE
from shoal.request.answers import has_hosts
from shoal.request.params import (
    HOST_COUNT,
    PAGE,
    SUMMARIZE,
    SUMMARY_CARDINALITY,
    SUMMARY_INTERVAL,
    declare,
    search_params,
)
from shoal.request.reading import known_types, summary_of
from shoal.request.responses import QUERY, answers
from shoal.request.selection import Selection
from shoal.store.base import Store
from shoal.tokens import Token
from shoal.trends import trend

router = APIRouter()


def answer(params: QueryParams, store: Store, token: Token, dataset: str) -> Response:
    """The whole call, on a query thread: check the parameters, ask the store, render."""
    types = known_types(store)
    filters = Selection.read(params, dataset).as_filters(types, dataset)
    summary = summary_of(params, types, token.enterprise)
    with_cardinality = summary is not None and SUMMARY_CARDINALITY.read(params)
    if with_cardinality and not token.enterprise:
        raise Forbidden("summary_cardinality=true needs an enterprise token")
    interval = SUMMARY_INTERVAL.read(params)
    with_hosts = HOST_COUNT.read(params)
    if with_hosts:
        check_host_count(dataset, summary is not None, interval is not None)
    if interval is not None:
        periods = trend(store, filters, interval, summary, dt.datetime.now(dt.UTC).date())
        return json_response(trend_body(periods, summary is not None, with_cardinality))
    if summary is not None:
        result = store.summarize(filters, summary)
        if not result.values:
            raise NoResults()
        return json_response(summary_body(result, with_cardinality))
    return page_response(store, filters, PAGE.read(params), with_hosts)


def check_host_count(dataset: str, summarized: bool, trended: bool) -> None:
    """``host_count=true`` (Shoal) counts the hosts of a page's matches: a dataset of addresses, no summary."""
    if not has_hosts(dataset):
        path = DATASET_TABLE[dataset].path
        raise BadParameter(
            HOST_COUNT.name, f"'host_count': the reports of {path} are not about addresses, so they have no hosts"
        )
    if summarized or trended:
        other = SUMMARIZE.name if summarized else SUMMARY_INTERVAL.name
        raise BadParameter(
            HOST_COUNT.name, f"'host_count' adds the hosts to a page of reports; it does not combine with '{other}'"
        )


def search_route(dataset: str) -> Callable[[Request], object]:
    async def search(request: Request) -> Response:
        token = require_token(request)
        return await run_query(request, answer, request.query_params, request.app.state.store, token, dataset)

    search.__name__ = f"search_{dataset}"
    return search


for _row in DATASET_TABLE.values():
    router.add_api_route(
        _row.path,
        search_route(_row.name),
        methods=["GET"],
        name=f"search_{_row.name}",
        openapi_extra=declare(*search_params(_row.name)) | answers(*QUERY, 403),
    )
