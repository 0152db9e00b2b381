"""``GET /v1/scan/protocols``: search and summarise reports."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import known_types, require_token
from shoal.api.limits import run_query
from shoal.api.params import boolean, filters_of, page_of, summary_of
from shoal.api.registry import SCAN_PROTOCOLS, declare
from shoal.api.render import json_response, page_body, summary_body
from shoal.errors import Forbidden, NoResults
from shoal.store.base import PAGE_SIZE, Store
from shoal.tokens import Token

router = APIRouter()


@router.get("/v1/scan/protocols", openapi_extra=declare(*SCAN_PROTOCOLS))
async def scan_protocols(request: Request) -> Response:
    token = require_token(request)
    return await run_query(request, answer, request.query_params, request.app.state.store, token)


def answer(params: QueryParams, store: Store, token: Token) -> Response:
    """The whole call, on a query thread: check the parameters, ask the store, render."""
    types = known_types(store)
    filters = filters_of(params, types)
    summary = summary_of(params, types, token.enterprise)
    if summary is not None:
        with_cardinality = boolean(params, "summary_cardinality")
        if with_cardinality and not token.enterprise:
            raise Forbidden("summary_cardinality=true needs an enterprise token")
        result = store.summarize(filters, summary)
        if not result.values:
            raise NoResults()
        return json_response(summary_body(result, with_cardinality))
    page = page_of(params)
    result_page = store.search(filters, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if not result_page.reports:
        raise NoResults()
    return json_response(page_body(result_page, page))
