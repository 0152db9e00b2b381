"""Driftnet JSON: keys sorted (as Driftnet sends them), compact, UTF-8."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from shoal.store.base import MAX_PAGES, PAGE_SIZE, Page, Summary


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), media_type="application/json")


def page_body(page: Page, number: int) -> dict[str, Any]:
    pages = min(-(-page.total // PAGE_SIZE), MAX_PAGES)
    return {
        "page": number,
        "pages": pages,
        "result_count": page.total,
        "results": [report.as_dict() for report in page.reports],
    }


def summary_body(summary: Summary, with_cardinality: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"other": summary.other, "values": dict(summary.values)}
    if with_cardinality:
        body["cardinality"] = summary.cardinality
    return {"summary": body}
