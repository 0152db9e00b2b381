"""``GET /v1/admin/user``: the calling token's class and quota (free: it costs no units).

Driftnet's fields (``user_class``, ``token``, ``paid``, ``additional_quota``, ``quota.lifetime_usage``,
``quota.reset``) stand beside Shoal's own (``class``, ``name``, ``quota.next_reset``…). ``token`` is the token's
name, never its secret; ``paid`` is true for an enterprise token; ``additional_quota`` is what an operator's
``shoal token quota`` grants above the class's monthly ``api_limit`` (0 when none).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.responses import Response

from shoal.api.deps import require_token
from shoal.api.render import json_response
from shoal.request.params import declare
from shoal.request.responses import answers
from shoal.tokens import Token
from shoal.usage import UsageBook, iso, month_of, next_reset

router = APIRouter()


@router.get("/v1/admin/user", openapi_extra=declare() | answers())
async def admin_user(request: Request) -> Response:
    token = require_token(request)
    usage: UsageBook = request.app.state.usage
    return json_response(user_body(token, usage, dt.datetime.now(dt.UTC)))


def user_body(token: Token, usage: UsageBook, now: dt.datetime) -> dict[str, object]:
    used = usage.used(token.id, now)
    reset = iso(next_reset(now))
    return {
        "name": token.name,
        "token": token.name,
        "class": token.token_class,
        "user_class": token.token_class,
        "paid": token.enterprise,
        "additional_quota": max(0, token.quota_limit("api") - token.limits.api_limit),
        "id": token.id,
        "created": token.created or None,
        "quota": {
            "api_limit": token.quota_limit("api"),
            "api_usage": used["api"],
            "priority_limit": token.quota_limit("priority"),
            "priority_usage": used["priority"],
            "concurrency_limit": token.limits.concurrency,
            "period": month_of(now),
            "next_reset": reset,
            "reset": reset,
            "lifetime_usage": usage.lifetime(token.id),
        },
    }
