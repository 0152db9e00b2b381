"""``/v1/alerts``: a token's alerts (a Shoal extension, not Driftnet's; docs/alerts.md).

``POST /v1/alerts`` makes one (its parameters are ``shoal.request.params.ALERT``), ``GET /v1/alerts`` lists the
token's, ``GET /v1/alerts/{id}`` shows one with its last deliveries, ``DELETE /v1/alerts/{id}`` removes it and
``POST /v1/alerts/{id}/test`` queues a ``test`` event for it. A token sees and changes only the alerts it made;
its webhooks may reach only public addresses or the networks of ``shoal serve --webhook-allow``.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from shoal.alerts.book import AlertBook, Event
from shoal.alerts.making import AlertRequest, create_alert
from shoal.api.deps import require_token
from shoal.api.render import json_response
from shoal.request.params import (
    ALERT,
    ALERT_DATASET,
    ALERT_IP,
    ALERT_NAME,
    ALERT_QUERY,
    ALERT_TRIGGER,
    SECRET,
    WEBHOOK,
    declare,
    formatted,
)
from shoal.request.responses import answers

router = APIRouter()
EXTENSION = "A Shoal extension (not Driftnet's). "
# The path's one parameter, declared here rather than by FastAPI (which would declare a 422 no route sends)
ALERT_ID = {
    "name": "alert_id",
    "in": "path",
    "required": True,
    "description": "The alert's id.",
    "schema": {"type": "string", "maxLength": 64},
}


def one_alert() -> dict[str, object]:
    """A route on one alert: its id in the path, 404 when the token has no such alert."""
    return declare() | {"parameters": [ALERT_ID]} | answers(404)


def book_of(request: Request) -> AlertBook:
    book: AlertBook | None = request.app.state.alerts
    if book is None:
        book = request.app.state.alerts = AlertBook(request.app.state.tokens.path.parent)
    return book


def delivery(event: Event) -> dict[str, object]:
    return {
        "id": event.id,
        "event": event.event,
        "services": event.services,
        "status": event.status,
        "attempts": event.attempts,
        "outcome": event.outcome,
    }


@router.post(
    "/v1/alerts",
    openapi_extra=declare(*ALERT) | answers(400),
    description=EXTENSION + "Make an alert: a saved search whose new, changed and gone services are posted.",
)
async def create(request: Request) -> Response:
    token = require_token(request)
    values = request.query_params
    ip = ALERT_IP.read(values)
    wanted = AlertRequest(
        name=ALERT_NAME.read(values) or "",
        query=ALERT_QUERY.read(values),
        webhook=WEBHOOK.read(values) or "",
        dataset=ALERT_DATASET.read(values),
        ip=None if ip is None else formatted(ip),
        triggers=ALERT_TRIGGER.read(values),
        secret=SECRET.read(values),
    )
    book, store = book_of(request), request.app.state.store
    allowed = request.app.state.webhook_allow
    alert = await run_in_threadpool(create_alert, book, store, wanted, token.id, allowed)
    return json_response(alert.public())


@router.get("/v1/alerts", openapi_extra=declare() | answers(), description=EXTENSION + "The token's alerts.")
async def listing(request: Request) -> Response:
    token = require_token(request)
    return json_response({"alerts": [alert.public() for alert in book_of(request).alerts(token.id)]})


@router.get(
    "/v1/alerts/{alert_id}",
    openapi_extra=one_alert(),
    description=EXTENSION + "One alert of the token, with its last deliveries.",
)
async def show(request: Request) -> Response:
    token = require_token(request)
    alert_id = request.path_params["alert_id"]
    book = book_of(request)
    alert = book.get(alert_id, token.id)
    deliveries = [delivery(event) for event in book.history(alert.id)]
    return json_response(alert.public() | {"watched": book.watched_count(alert.id), "deliveries": deliveries})


@router.delete("/v1/alerts/{alert_id}", openapi_extra=one_alert(), description=EXTENSION + "Remove an alert.")
async def delete(request: Request) -> Response:
    token = require_token(request)
    alert_id = request.path_params["alert_id"]
    book_of(request).delete(alert_id, token.id)
    return json_response({"deleted": alert_id})


@router.post(
    "/v1/alerts/{alert_id}/test",
    openapi_extra=one_alert(),
    description=EXTENSION + "Queue a test event (no services) for the alert's webhook.",
)
async def test(request: Request) -> Response:
    token = require_token(request)
    alert_id = request.path_params["alert_id"]
    book = book_of(request)
    alert = book.get(alert_id, token.id)
    with book.transaction() as db:
        event_id = book.queue(db, alert, "test", [])
    return Response(orjson.dumps({"queued": event_id}), media_type="application/json")
