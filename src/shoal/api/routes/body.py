"""``GET /v1/scan/protocols/body``: the raw responses (HTTP bodies, whole banners) behind reports.

Selects reports as ``scan/protocols`` does (plus ``id=`` for one report, and ``dataset=domains`` for the
bodies of domain scans), keeps those that hold a body, and answers a page of them:

    {"page": 0, "pages": 1, "result_count": 1,
     "results": [{"date": "2026-11-01", "id": "…", "ip": "192.0.2.1", "port": 80,
                  "bodies": [{"context": "http", "sha256": "…", "length": 1234, "truncated": false,
                              "content_type": "text/html", "encoding": "utf-8", "data": "<html>…"}]}]}

``data`` is the body as text when it is valid UTF-8 (``encoding`` ``utf-8``), else base64 (``base64``).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.limits import run_query
from shoal.api.render import json_response
from shoal.errors import NoResults
from shoal.model import BODY_SHA256, DOMAINS, Body, Report
from shoal.query.ast import Match, Term
from shoal.request.params import BODY, BODY_DATASET, PAGE, declare
from shoal.request.reading import known_types
from shoal.request.selection import Selection, with_terms
from shoal.store.base import MAX_PAGES, PAGE_SIZE, Store

router = APIRouter()

BODY_PATH = "/v1/scan/protocols/body"
HOLDS_A_BODY = Term(BODY_SHA256, Match.EXACT, "", prefix=True)


def body_dict(context: str, digest: str, body: Body) -> dict[str, Any]:
    try:
        data, encoding = body.data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        data, encoding = base64.b64encode(body.data).decode("ascii"), "base64"
    return {
        "content_type": body.content_type,
        "context": context,
        "data": data,
        "encoding": encoding,
        "length": len(body.data),
        "sha256": digest,
        "truncated": body.truncated,
    }


def result_dict(report: Report, bodies: dict[str, Body]) -> dict[str, Any]:
    named = [(item.context, item.value) for item in report.items if item.type == BODY_SHA256]
    return {
        "bodies": [body_dict(context, digest, bodies[digest]) for context, digest in named if digest in bodies],
        "date": report.date.isoformat(),
        "id": report.id,
        "ip": report.ip,
        "port": report.port,
    }


def answer(params: QueryParams, store: Store) -> Response:
    dataset = BODY_DATASET.read(params)
    filters = with_terms(Selection.read(params).as_filters(known_types(store), dataset), [HOLDS_A_BODY])
    page = PAGE.read(params)
    found = store.search(filters, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if filters.report_id is not None and not found.reports and not params.getlist(BODY_DATASET.name):
        found = store.search(replace(filters, dataset=DOMAINS), offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if not found.reports:
        raise NoResults()
    bodies = store.bodies(item.value for report in found.reports for item in report.items if item.type == BODY_SHA256)
    return json_response(
        {
            "page": page,
            "pages": min(-(-found.total // PAGE_SIZE), MAX_PAGES),
            "result_count": found.total,
            "results": [result_dict(report, bodies) for report in found.reports],
        }
    )


@router.get(BODY_PATH, openapi_extra=declare(*BODY))
async def scan_body(request: Request) -> Response:
    require_token(request)
    return await run_query(request, answer, request.query_params, request.app.state.store)
