"""``GET /v1/scan/protocols/prioritize``: queue a protocol-level collection of one ip:port.

The answer comes at once (``{"ip", "port", "status": "queued"}``; Shoal's ``transport=udp`` asks for a UDP
port, probed as ``shoal scan --udp-ports`` probes one, and its answer says ``"transport": "udp"``); ``shoal
serve``'s collection worker does the work, and the report is searchable with ``scan/protocols?ip=IP`` about a
second after it ends. Each token may call this 5 times a second averaged over 10 minutes (Driftnet's rule): a
bucket of 3,000 calls refilled at 5 a second; past it, 429 with ``Retry-After``. The call also costs one unit
of the token's monthly ``priority_limit`` (charged by ``shoal.api.guard``, returned if the call fails). An
accepted call is written to ``DATA/prioritize.sqlite3`` before the answer: it is collected even if the server
dies first.
"""

from __future__ import annotations

import ipaddress
import math

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.render import json_response
from shoal.collect.policy import canonical
from shoal.collect.ratelimit import KeyedRateLimit
from shoal.errors import BadParameter, Forbidden, TooManyRequests
from shoal.request.params import PRIORITIZE, TARGET_IP, TARGET_PORT, TARGET_TRANSPORT, declare
from shoal.request.responses import answers

CALLS_PER_SECOND = 5.0
AVERAGED_OVER_SECONDS = 600

router = APIRouter()


def per_token_limit() -> KeyedRateLimit:
    return KeyedRateLimit(CALLS_PER_SECOND, CALLS_PER_SECOND * AVERAGED_OVER_SECONDS)


def target_of(params: QueryParams) -> tuple[str, int, str]:
    """(ip, port, transport) of a call; BadParameter naming what is missing or wrong."""
    text = TARGET_IP.read(params)
    if text is None:
        raise BadParameter("ip", "'ip' is required: the address to collect, e.g. ip=192.0.2.1")
    if "%" in text:
        raise BadParameter("ip", f"'ip' must not carry a zone id (%…): it names an interface of this server, {text!r}")
    try:
        ip = str(canonical(ipaddress.ip_address(text.strip())))
    except ValueError:
        raise BadParameter("ip", f"'ip' must be one IP address (no CIDR), not {text!r}") from None
    port = TARGET_PORT.read(params)
    if port is None:
        raise BadParameter("port", "'port' is required: the port to collect, e.g. port=443 (port=53&transport=udp)")
    return ip, port, TARGET_TRANSPORT.read(params)


@router.get("/v1/scan/protocols/prioritize", openapi_extra=declare(*PRIORITIZE) | answers(403))
async def prioritize(request: Request) -> Response:
    token = require_token(request)
    ip, port, transport = target_of(request.query_params)
    wait = request.app.state.prioritize_limit.try_take(token.id)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyRequests(
            f"prioritize is limited to {CALLS_PER_SECOND:g} calls a second per token, averaged over"
            f" {AVERAGED_OVER_SECONDS // 60} minutes; retry in {seconds} s",
            seconds,
        )
    collector = request.app.state.collector
    if collector is None:
        raise Forbidden("this server does not collect: start it with 'shoal serve --allow CIDR'")
    collector.submit(ip, port, request.scope.get("state", {}).get("charge"), transport)
    udp = {"transport": transport} if transport == "udp" else {}
    return json_response({"ip": ip, "port": port, **udp, "status": "queued"})
