"""``GET /v1/scan/protocols/diff`` (Shoal): the services opened, closed and changed on an address or network over
a span of days (``shoal.diffs``), each change old → new."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.limits import run_query
from shoal.api.render import json_response
from shoal.diffs import diff_body, diff_of, is_empty
from shoal.errors import BadParameter, NoResults
from shoal.model import IPNetwork
from shoal.request.params import DIFF, DIFF_IP, SINCE, UNTIL, declare, formatted
from shoal.request.responses import QUERY, answers
from shoal.store.base import Filters, Store

DIFF_PATH = "/v1/scan/protocols/diff"
router = APIRouter()


@router.get(DIFF_PATH, openapi_extra=declare(*DIFF) | answers(*QUERY))
async def scan_diff(request: Request) -> Response:
    require_token(request)
    return await run_query(request, diff_answer, request.query_params, request.app.state.store)


def read_diff(params: QueryParams) -> tuple[IPNetwork, dt.date, dt.date | None]:
    """``ip`` and ``since`` (both required) and ``until``; a missing or bad one is a 400 naming it."""
    network, since, until = DIFF_IP.read(params), SINCE.read(params), UNTIL.read(params)
    if network is None:
        raise BadParameter("ip", "'ip' is required: an IP address or CIDR, e.g. 192.0.2.1 or 192.0.2.0/24")
    if since is None:
        raise BadParameter("since", "'since' is required: the first day of the span, YYYY-MM-DD")
    return network, since, until


def diff_answer(params: QueryParams, store: Store) -> Response:
    """On a query thread: one pass over the network's current reports up to ``until``."""
    network, since, until = read_diff(params)
    diff = diff_of(store.iter_matches(Filters(ip=network, date_to=until)), since, until)
    body = diff_body(diff, formatted(network))
    if is_empty(body):
        raise NoResults()
    return json_response(body)
