"""``GET /v1/scan/protocols``: search and summarise reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from shoal.api.deps import get_store, known_types, require_token
from shoal.api.params import boolean, filters_of, page_of, summary_of
from shoal.api.render import json_response, page_body, summary_body
from shoal.errors import Forbidden, NoResults
from shoal.store.base import PAGE_SIZE, Store
from shoal.tokens import Token

router = APIRouter()


@router.get("/v1/scan/protocols")
def scan_protocols(
    request: Request,
    token: Annotated[Token, Depends(require_token)],
    store: Annotated[Store, Depends(get_store)],
) -> Response:
    params = request.query_params
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
