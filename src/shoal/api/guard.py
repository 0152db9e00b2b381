"""The door every request passes: input limits, the token, concurrency and quota — before any route runs.

``Guard`` is a plain ASGI middleware, so every route (present and future) gets the same treatment:

1. The raw query string: at most ``MAX_QUERY_STRING`` bytes (else 414); well-formed percent-encoding and
   UTF-8 (else 400 naming the parameter). Raw non-ASCII bytes that are valid UTF-8 are accepted and
   percent-encoded, so they are read as UTF-8 rather than Latin-1.
2. Under ``/v1/``: the ``Authorization: Bearer`` token (401), put in ``request.state.token``. A request
   with no Authorization header but a ``ticket`` parameter (a one-use download link, e.g. an export) is
   passed on unauthenticated and unmetered: the route redeems the ticket or answers 401 itself.
3. Under ``/v1/`` except ``/v1/admin/``: a concurrency slot (else 429 with ``Retry-After``), then the
   call's units from the monthly quota (else 429 naming the quota and its reset). Units come back when the
   answer is neither a success (2xx) nor a timeout (504): a rejected or failed call costs nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, unquote_to_bytes

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shoal.api.errors import render_error
from shoal.api.limits import ANON_SLOT_BUCKETS, MAX_QUERY_STRING, ServerSettings, Slot, Slots, anonymous_key
from shoal.errors import BadParameter, RequestTooLong, ShoalError, TooManyRequests, Unauthorized
from shoal.model import DATASET_TABLE
from shoal.request.params import HOST_COUNT, SUMMARIZE, SUMMARY_LIMIT
from shoal.tokens import MAX_SECRET_LENGTH, QuotaKind, Token, TokenStore
from shoal.usage import Charge, UsageBook, summary_cost

log = logging.getLogger("shoal.api")
PRIORITY_PATHS = frozenset({"/v1/scan/protocols/prioritize"})  # calls charged to priority_limit
SUMMARY_PATHS = frozenset({"/v1/multi/summary"})  # calls that are summaries without a ``summarize``
SEARCH_PATHS = frozenset(row.path for row in DATASET_TABLE.values())  # the endpoints that take ``host_count``
UNMETERED_PREFIX = "/v1/admin/"
BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
NON_ASCII = re.compile(rb"[\x80-\xff]+")
MAX_COST_LIMIT = 1_000_000


@dataclass(slots=True)
class Admission:
    slot: Slot
    charge: Charge


class Guard:
    def __init__(
        self, app: ASGIApp, tokens: TokenStore, usage: UsageBook, slots: Slots, settings: ServerSettings
    ) -> None:
        self.app, self.tokens, self.usage, self.slots, self.settings = app, tokens, usage, slots, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        admission: Admission | None = None
        try:
            scope["query_string"] = checked_query_string(scope.get("query_string", b""))
            path: str = scope["path"]
            authorization = header_values(scope, b"authorization")
            if path.startswith("/v1/") and (authorization or not has_ticket(scope["query_string"])):
                token = authenticate(authorization, client_address(scope), self)
                state = scope.setdefault("state", {})
                state["token"] = token
                if not path.startswith(UNMETERED_PREFIX):
                    admission = self.admit(token, path, scope["query_string"])
                    state["slot"], state["charge"] = admission.slot, admission.charge
        except ShoalError as error:
            if error.status >= 500:
                log.error("request refused by a server failure: %s", error.message)
            await render_error(error)(scope, receive, send)
            return
        if admission is None:
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            admission.slot.release()
            if not (200 <= status < 300 or status == 504):
                self.usage.refund(admission.charge)

    def admit(self, token: Token, path: str, query_string: bytes) -> Admission:
        capacity = token.limits.concurrency
        slot = self.slots.acquire(slot_key(token), capacity)
        if slot is None:
            raise TooManyRequests(
                f"at most {capacity} queries may run at once per token; retry when one has finished", 1
            )
        try:
            kind: QuotaKind = "priority" if path in PRIORITY_PATHS else "api"
            charge = self.usage.charge(token.id, kind, cost_of(path, query_string), token.quota_limit(kind))
        except BaseException:
            slot.release()
            raise
        return Admission(slot, charge)


def slot_key(token: Token) -> str:
    if token.anonymous:  # bounded number of files whatever the number of client addresses
        return f"anon-{int(token.id.removeprefix('anon-')[:8], 16) % ANON_SLOT_BUCKETS}"
    return token.id


def cost_of(path: str, query_string: bytes) -> int:
    """Units a call costs: 1, or for a summary (and a multi/summary) one per started 10,000 of ``summary_limit``;
    a page with ``host_count`` (Shoal) is a page and a summary of one value."""
    params = QueryParams(query_string)
    try:
        if SUMMARIZE.read(params) is None and path not in SUMMARY_PATHS:
            return 1 + (summary_cost(1) if path in SEARCH_PATHS and HOST_COUNT.read(params) else 0)
        limit = SUMMARY_LIMIT.read(params)
    except BadParameter:
        return 1  # answered 400 by the route, and refunded
    return summary_cost(min(max(limit, 1), MAX_COST_LIMIT))


def has_ticket(query_string: bytes) -> bool:
    return b"ticket=" in query_string and "ticket" in QueryParams(query_string)


def header_values(scope: Scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers", ()) if key.lower() == name]


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def authenticate(values: list[bytes], address: str, guard: Guard) -> Token:
    if len(values) > 1:
        raise Unauthorized("send one Authorization header, not several")
    header = values[0].decode("latin-1") if values else ""
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("missing token: send 'Authorization: Bearer <token>' (create one with 'shoal token create')")
    if len(secret) > MAX_SECRET_LENGTH:
        raise Unauthorized(f"malformed token: longer than {MAX_SECRET_LENGTH} characters")
    if secret == "anon":
        if not guard.settings.allow_anon:
            raise Unauthorized("anonymous access is off on this server: send a token")
        return Token("anon", created="", id=anonymous_key(address), anonymous=True)
    token = guard.tokens.lookup(secret)
    if token is None:
        raise Unauthorized("unknown or revoked token")
    return token


def checked_query_string(raw: bytes) -> bytes:
    """The query string if well-formed (raw UTF-8 percent-encoded); RequestTooLong or BadParameter if not."""
    if len(raw) > MAX_QUERY_STRING:
        raise RequestTooLong(f"the query string is {len(raw):,} bytes; at most {MAX_QUERY_STRING:,} are accepted")
    if NON_ASCII.search(raw):
        raw = NON_ASCII.sub(lambda match: quote_from_bytes(match.group()).encode("ascii"), raw)
    if b"%" not in raw:
        return raw  # ASCII without escapes is always well-formed UTF-8
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        parameter = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")[:100]
        for part, what in ((name, "name"), (value, "value")):
            if BAD_PERCENT.search(part):
                raise BadParameter(parameter, f"the {what} of parameter {parameter!r} has a broken %-escape")
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadParameter(parameter, f"the {what} of parameter {parameter!r} is not valid UTF-8") from None
    return raw
