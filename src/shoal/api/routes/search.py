"""The search endpoints, one per dataset: search and summarise reports.

``scan/protocols``, ``scan/domains`` and ``ct/log`` take the same parameters and answer in the same shapes;
``domain/rdns`` adds its selectors ``host`` (reverse: the IPs whose names are under a domain) and
``nameserver`` (a ``host;dns-ns`` name, right-anchored), ANDed with the rest (``ip`` is its forward search).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import known_types, require_token
from shoal.api.limits import run_query
from shoal.api.params import boolean, dataset_filters, page_of, summary_of
from shoal.api.registry import DOMAIN_RDNS, SCAN_PROTOCOLS, declare
from shoal.api.render import json_response, page_response, summary_body
from shoal.errors import Forbidden, NoResults
from shoal.model import RDNS
from shoal.results import DATASET_PATHS
from shoal.store.base import Store
from shoal.tokens import Token

router = APIRouter()


def answer(params: QueryParams, store: Store, token: Token, dataset: str) -> Response:
    """The whole call, on a query thread: check the parameters, ask the store, render."""
    types = known_types(store)
    filters = dataset_filters(params, types, dataset)
    summary = summary_of(params, types, token.enterprise)
    if summary is not None:
        with_cardinality = boolean(params, "summary_cardinality")
        if with_cardinality and not token.enterprise:
            raise Forbidden("summary_cardinality=true needs an enterprise token")
        result = store.summarize(filters, summary)
        if not result.values:
            raise NoResults()
        return json_response(summary_body(result, with_cardinality))
    return page_response(store, filters, page_of(params))


def search_route(dataset: str) -> Callable[[Request], object]:
    async def search(request: Request) -> Response:
        token = require_token(request)
        return await run_query(request, answer, request.query_params, request.app.state.store, token, dataset)

    search.__name__ = f"search_{dataset}"
    return search


for _dataset, _path in DATASET_PATHS.items():
    _declared = declare(*(DOMAIN_RDNS if _dataset == RDNS else SCAN_PROTOCOLS))
    router.add_api_route(
        _path, search_route(_dataset), methods=["GET"], name=f"search_{_dataset}", openapi_extra=_declared
    )
