"""``GET /v1/ip/summary`` and ``GET /v1/ip/reverse``: who holds an address, and which networks a name holds
(``shoal.registration.summary``; the data comes from ``shoal import`` of registration dumps, the rdns dataset
and the bundled ASN table)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.limits import run_query
from shoal.api.render import json_response
from shoal.errors import BadParameter, NoResults
from shoal.registration.summary import Registrations
from shoal.request.params import IP_REVERSE, IP_SUMMARY, PAGE, PHRASE, RESTRICT, SUMMARY_IP, declare
from shoal.request.responses import QUERY, answers

router = APIRouter()


@router.get("/v1/ip/summary", openapi_extra=declare(*IP_SUMMARY) | answers(*QUERY))
async def ip_summary(request: Request) -> Response:
    require_token(request)
    return await run_query(request, summary_answer, request.query_params, request.app.state.registrations)


@router.get("/v1/ip/reverse", openapi_extra=declare(*IP_REVERSE) | answers(*QUERY))
async def ip_reverse(request: Request) -> Response:
    require_token(request)
    return await run_query(request, reverse_answer, request.query_params, request.app.state.registrations)


def summary_answer(params: QueryParams, registrations: Registrations) -> Response:
    address = SUMMARY_IP.read(params)
    if address is None:
        raise BadParameter("ip", "'ip' is required: one IP address, e.g. 8.8.8.8")
    body = registrations.summary(address, RESTRICT.read(params))
    if not body:
        raise NoResults()
    return json_response(body)


def reverse_answer(params: QueryParams, registrations: Registrations) -> Response:
    phrase = PHRASE.read(params)
    if phrase is None:
        raise BadParameter("phrase", "'phrase' is required: words of a network's registered name, e.g. example net")
    page = PAGE.read(params)
    body = registrations.reverse(phrase, page)
    if not body["results"]:
        raise NoResults()
    return json_response(body)
