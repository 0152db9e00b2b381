"""``GET /v1/scan/ports`` and ``GET /v1/scan/ipports``: open-port observation counts for an address or CIDR."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.limits import run_query
from shoal.api.render import ipports_body, json_response, ports_body
from shoal.errors import NoResults
from shoal.ports import summarize_ip_ports, summarize_ports
from shoal.request.params import PORTS, declare
from shoal.request.reading import read_port_query
from shoal.store.base import Store

router = APIRouter()


def today() -> dt.date:
    """The UTC date the default window ends on (a dependency, so tests can fix the clock)."""
    return dt.datetime.now(dt.UTC).date()


@router.get("/v1/scan/ports", openapi_extra=declare(*PORTS))
async def scan_ports(request: Request, day: Annotated[dt.date, Depends(today)]) -> Response:
    require_token(request)
    return await run_query(request, ports_answer, request.query_params, request.app.state.store, day)


@router.get("/v1/scan/ipports", openapi_extra=declare(*PORTS))
async def scan_ipports(request: Request, day: Annotated[dt.date, Depends(today)]) -> Response:
    require_token(request)
    return await run_query(request, ipports_answer, request.query_params, request.app.state.store, day)


def ports_answer(params: QueryParams, store: Store, day: dt.date) -> Response:
    """On a query thread: observation counts per port over the address or CIDR, and the honeypot flag."""
    found = store.open_ports(read_port_query(params, day))
    if not len(found):
        raise NoResults()
    return json_response(ports_body(summarize_ports(found)))


def ipports_answer(params: QueryParams, store: Store, day: dt.date) -> Response:
    """On a query thread: observation counts per port for each IP of the CIDR (the busiest 1,024)."""
    found = store.open_ports(read_port_query(params, day))
    if not len(found):
        raise NoResults()
    return json_response(ipports_body(summarize_ip_ports(found)))
