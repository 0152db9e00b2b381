"""Driftnet JSON: keys sorted (as Driftnet sends them), compact, UTF-8."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from shoal.errors import NoResults
from shoal.ports import IpPortSummary, PortSummary
from shoal.store.base import MAX_PAGES, PAGE_SIZE, Filters, Store, Summary
from shoal.trends import Period


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), media_type="application/json")


def page_response(store: Store, filters: Filters, number: int, with_hosts: bool = False) -> Response:
    """Result page ``number`` of a search, or NoResults (204): the reports' API JSON (``Store.search_rendered``)
    joined into the page; ``with_hosts``: led by ``host_count`` (Shoal), the distinct hosts of every match."""
    total, results = store.search_rendered(filters, offset=number * PAGE_SIZE, limit=PAGE_SIZE)
    if not results:
        raise NoResults()
    pages = min(-(-total // PAGE_SIZE), MAX_PAGES)
    hosts = b'"host_count":%d,' % store.host_count(filters) if with_hosts else b""  # keys sorted, as Driftnet's
    head = b'{%s"page":%d,"pages":%d,"result_count":%d,"results":[' % (hosts, number, pages, total)
    return Response(head + b",".join(results) + b"]}", media_type="application/json")


def summary_body(summary: Summary, with_cardinality: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"other": summary.other, "values": dict(summary.values)}
    if with_cardinality:
        body["cardinality"] = summary.cardinality
    return {"summary": body}


def trend_body(periods: list[Period], summarized: bool, with_cardinality: bool) -> dict[str, Any]:
    """``summary_interval`` (Shoal): ``{"intervals": [{"from", "to", "result_count"[, "summary"]}]}``."""
    intervals = []
    for period in periods:
        entry: dict[str, Any] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
        entry["result_count"] = period.count
        if summarized:
            summary = period.summary or Summary([], 0, 0)
            entry |= summary_body(summary, with_cardinality)
        intervals.append(entry)
    return {"intervals": intervals}


def ports_body(summary: PortSummary) -> dict[str, Any]:
    """scan/ports: ``{"other", "values": {port: count}}``, plus ``"honeypot": true`` when the rule holds."""
    body: dict[str, Any] = {"other": summary.other, "values": {str(port): count for port, count in summary.values}}
    if summary.honeypot:
        body["honeypot"] = True
    return body


def ipports_body(summary: IpPortSummary) -> dict[str, Any]:
    """scan/ipports: ``{"other": IPs left out, "values": {ip: {"other", "values": {port: count}}}}``."""
    values = {
        host.ip: {"other": host.other, "values": {str(port): count for port, count in host.values}}
        for host in summary.hosts
    }
    return {"other": summary.other, "values": values}
