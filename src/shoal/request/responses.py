"""What each route answers, declared once: the statuses it really sends, what each means, and the media type of
each body, for the OpenAPI document (a route's ``openapi_extra`` is ``declare(...) | answers(...)``), so a client
generated from ``/openapi.json`` expects every answer it can get. ``tests/api/test_schemathesis.py`` checks
every fuzzed answer against them."""

from __future__ import annotations

from collections.abc import Iterable

from shoal.request.export import MEDIA_TYPES

JSON = "application/json"
EXPORT_MEDIA_TYPES = tuple(MEDIA_TYPES.values())
ERROR_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["error", "code", "detail"],
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "detail": {"type": "array", "items": {"type": "object"}},
    },
}
MEANINGS = {
    200: "The answer.",
    204: "Nothing matches: an empty body.",
    400: "A parameter, the query or the request is wrong; the error names the parameter (and, for query syntax,"
    " where).",
    401: "No token, an unknown or revoked one, or an export link that expired or was used already.",
    403: "The token or the server may not do this (summary_cardinality without an enterprise token; a server that"
    " does not collect, or an address outside its allow-list).",
    404: "No such alert of this token (/v1/alerts, a Shoal extension).",
    408: "The request's headers did not arrive in time.",
    414: "The query string or the request line is too long.",
    429: "A quota, the token's concurrent queries, or this server's share for the caller is used up; Retry-After"
    " says when to try again.",
    431: "The request's headers are too large.",
    503: "The server is at its connection limit, or its engine failed.",
    504: "The query ran past its time limit.",
    507: "The server's disk is full: nothing was charged or changed.",
}
# Sent to any /v1/ call before or beside its route: the protocol's limits (400, 408, 414, 431, 503), the token
# check (401), the quotas and slots (429), the usage book on a full disk (507).
EVERY_ROUTE = (400, 401, 408, 414, 429, 431, 503, 507)
QUERY = (204, 504)  # a route that runs a query: nothing matched, or it ran past its time limit


def answers(*statuses: int, media_types: Iterable[str] = (JSON,)) -> dict[str, object]:
    """A route's ``responses``: 200 in ``media_types``, the errors of EVERY_ROUTE and ``statuses``."""
    responses: dict[str, object] = {"200": {"description": MEANINGS[200], "content": content(media_types, {})}}
    for status in sorted({*EVERY_ROUTE, *statuses}):
        if status == 204:
            responses["204"] = {"description": MEANINGS[204]}
        else:
            responses[str(status)] = {"description": MEANINGS[status], "content": content([JSON], ERROR_SCHEMA)}
    return {"responses": responses}


def content(media_types: Iterable[str], schema: dict[str, object]) -> dict[str, object]:
    return {media_type.partition(";")[0]: {"schema": schema} for media_type in media_types}
