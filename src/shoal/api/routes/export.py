"""``GET /v1/scan/protocols/export``: every match of a search, streamed as NDJSON or CSV (Shoal).

The parameters are scan/protocols' (a ``Selection``), without its 10,000-result cap, plus ``dataset`` (and its
selectors) and ``format``. The body is a generator over ``Store.iter_matches`` encoded in chunks of about 64 KiB
(``shoal.request.export``), so memory stays constant however many reports match. ``X-Result-Count`` carries
the number of matches when the export started.

A browser cannot send ``Authorization`` on a plain download, so ``POST /v1/scan/protocols/export/link``
(with the token) answers with a URL carrying a ``ticket``: good for that exact query, once, for a minute.

A process streams at most ``MAX_EXPORTS`` exports at once, shared so that no crowd can take them all
(``ExportGate``): anonymous clients together, and any one client address, take at most a quarter of the places,
normal tokens together three quarters (the last quarter is kept for enterprise tokens); and an export whose
client stops reading is cut after a third of the server's send timeout (10 s by default), not the whole of it.
So 70 anonymous clients that never read hold 8 places, and an enterprise export starts at once beside them.
"""

from __future__ import annotations

import asyncio
import ctypes
import datetime as dt
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from shoal.api.deps import require_token
from shoal.api.guard import slot_key
from shoal.api.limits import Slot, client_network, executor_of, run_query
from shoal.api.protocol import SEND_TIMEOUT_SHARE
from shoal.api.render import json_response
from shoal.api.tickets import TICKET_SECONDS, ExportTickets
from shoal.errors import BadParameter, NoResults, TooManyRequests, Unauthorized
from shoal.request.export import MEDIA_TYPES, ExportFormat, encode, export_filename
from shoal.request.params import DATASET, EXPORT, FORMAT, TICKET, declare
from shoal.request.reading import known_types
from shoal.request.responses import EXPORT_MEDIA_TYPES, QUERY, answers
from shoal.request.selection import Selection
from shoal.store.base import Filters, Store
from shoal.tokens import Token
from shoal.usage import UsageBook

router = APIRouter()

EXPORT_PATH = "/v1/scan/protocols/export"
MAX_EXPORTS = 32  # streaming at once per server process (ExportGate)
# The most of a process's places each token class may hold at once, all its tokens together (enterprise: all).
CLASS_SHARES = {"anon": 0.25, "normal": 0.75}
CLIENT_SHARE = 0.25  # the most of the places one client address (an IPv6 /64) may hold at once
STALL_SHARE = 1 / 3  # of the server's send timeout: how long an export may be left unread before it is cut
EXPORT_UNIT = 10_000  # an export costs one unit of the api quota per started block of this many reports
GUARD_UNITS = 1  # what the Guard charged a Bearer call before the route ran


def query_of(params: QueryParams) -> tuple[tuple[str, str], ...]:
    """The request's parameters in a canonical order, without the ticket."""
    return tuple(sorted((name, value) for name, value in params.multi_items() if name != "ticket"))


def export_token(request: Request) -> tuple[Token, int, Slot | None]:
    """The caller's token, the units already charged for this call, and the concurrency slot this route took.

    The Guard (shoal.api.guard) authenticated a Bearer call, charged it one unit and holds its slot; it lets a
    call with a ``ticket`` and no Authorization header through, for the ticket to be redeemed here: the
    download then takes one of the token's slots itself (429 if all are busy), held until its last byte.
    """
    ticket = TICKET.read(request.query_params)
    if isinstance(request.scope.get("state", {}).get("token"), Token):
        if ticket is not None:
            raise BadParameter(
                TICKET.name, "'ticket' stands in for the Authorization header: send one or the other, not both"
            )
        return require_token(request), GUARD_UNITS, None
    if ticket is None:
        return require_token(request), GUARD_UNITS, None
    tickets: ExportTickets = request.app.state.export_tickets
    token = tickets.redeem(ticket, query_of(request.query_params))
    if token is None:
        raise Unauthorized("this export link has expired or was used already; start the export again")
    slot = request.app.state.slots.acquire(slot_key(token), token.limits.concurrency)
    if slot is None:
        raise TooManyRequests(
            f"at most {token.limits.concurrency} queries or downloads may run at once per token;"
            " this link is spent: start the export again when one has finished",
            1,
        )
    return token, 0, slot


def prepared(params: QueryParams, store: Store) -> tuple[ExportFormat, Filters, int]:
    """The format, the filters and the current number of matches; NoResults (204) when nothing matches."""
    export = FORMAT.read(params)
    dataset = DATASET.read(params)
    filters = Selection.read(params, dataset, every_selector=True).as_filters(known_types(store), dataset)
    total = store.search(filters, offset=0, limit=1).total
    if total == 0:
        raise NoResults()
    return export, filters, total


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def searched(params: QueryParams) -> str:
    """What an export selects, in words for its file name: the expression (or free text) and the address range."""
    return " ".join(params.get(name, "") for name in ("expression", "query", "ip")).strip()


def export_cost(total: int) -> int:
    """Units an export of ``total`` reports costs: one per started EXPORT_UNIT."""
    return max(1, -(-total // EXPORT_UNIT))


# response_class: a Response has no media type of its own, so the 200's are only the export's (not also JSON)
@router.get(
    EXPORT_PATH,
    response_class=Response,
    openapi_extra=declare(*EXPORT, TICKET) | answers(*QUERY, media_types=EXPORT_MEDIA_TYPES),
)
async def export_reports(request: Request) -> Response:
    token, charged, slot = export_token(request)
    gate: ExportGate = request.app.state.export_gate

    def release() -> None:
        if slot is not None:
            slot.release()

    try:
        place = gate.enter(token.token_class, client_network(request.client.host if request.client else ""))
    except BaseException:
        release()
        raise
    request.scope.setdefault("state", {})[SEND_TIMEOUT_SHARE] = STALL_SHARE  # read when the client stops reading

    def end() -> None:
        release()
        gate.leave(place, executor_of(request))

    try:
        store: Store = request.app.state.store
        export, filters, total = await run_query(request, prepared, request.query_params, store)
        cost = export_cost(total)
        if cost > charged:
            usage: UsageBook = request.app.state.usage
            usage.charge(token.id, "api", cost - charged, token.quota_limit("api"))
    except BaseException:
        end()
        raise
    name = export_filename(DATASET.read(request.query_params), searched(request.query_params), export, today())
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Result-Count": str(total),
        "Cache-Control": "no-store",
    }
    chunks = Chunks(encode(store.iter_matches(filters), export), executor_of(request))
    return ExportResponse(chunks, end, media_type=MEDIA_TYPES[export], headers=headers)


@dataclass(frozen=True, slots=True)
class Place:
    """One export's place in the gate: whose it is counted against."""

    token_class: str
    client: str


class ExportGate:
    """At most ``capacity`` exports stream at once in one server process (each holds a block of up to 10,000
    matches, about 1.4 MB: 32 of them bound the memory all exports take), shared: each token class at most its
    ``CLASS_SHARES`` of them, each client address at most ``CLIENT_SHARE``. Past any: 429, retry in a moment.
    When the last one ends, freed memory is handed back to the system (glibc's ``malloc_trim``)."""

    def __init__(self, capacity: int = MAX_EXPORTS) -> None:
        self.capacity = capacity
        self.running = 0
        self.per_class: Counter[str] = Counter()
        self.per_client: Counter[str] = Counter()

    def enter(self, token_class: str, client: str) -> Place:
        if self.running >= self.capacity:
            raise TooManyRequests(
                f"{self.capacity} exports are streaming from this server process already; retry in a moment", 1
            )
        share = CLASS_SHARES.get(token_class)
        if share is not None and self.per_class[token_class] >= self.share(share):
            who = "anonymous clients" if token_class == "anon" else f"{token_class} tokens"
            raise TooManyRequests(
                f"{who} stream at most {self.share(share)} of this server process's {self.capacity} exports at once,"
                " and those are taken; retry in a moment",
                1,
            )
        if self.per_client[client] >= self.share(CLIENT_SHARE):
            raise TooManyRequests(
                f"one client address streams at most {self.share(CLIENT_SHARE)} exports at once from this server"
                " process; retry when one has finished",
                1,
            )
        self.running += 1
        self.per_class[token_class] += 1
        self.per_client[client] += 1
        return Place(token_class, client)

    def share(self, fraction: float) -> int:
        return max(1, int(self.capacity * fraction))

    def leave(self, place: Place, executor: Executor) -> None:
        self.running -= 1
        self.per_class[place.token_class] -= 1
        self.per_client[place.client] -= 1
        if self.per_client[place.client] <= 0:
            del self.per_client[place.client]
        if self.running == 0 and TRIM is not None:
            executor.submit(TRIM, 0)


def malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


TRIM = malloc_trim()


class Chunks:
    """The body's chunks, each made on the query pool; closed (its reports and searcher freed) as it ends.

    One lock orders the steps: a chunk still being made when the client goes away is finished, then the
    generator is closed on the pool, never while it runs.
    """

    def __init__(self, chunks: Iterator[bytes], executor: Executor) -> None:
        self.chunks, self.executor = chunks, executor
        self._lock = threading.Lock()

    def _next(self) -> bytes | None:
        with self._lock:
            return next(self.chunks, None)

    def _close(self) -> None:
        with self._lock:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        try:
            while (chunk := await loop.run_in_executor(self.executor, self._next)) is not None:
                yield chunk
        finally:
            self.executor.submit(self._close)


class ExportResponse(StreamingResponse):
    """The streamed export; however it ends (complete, cut off by the send timeout, the client gone), ``end``
    runs: the slot taken for a link download and the process's export place are freed."""

    def __init__(self, chunks: Chunks, end: Callable[[], None], media_type: str, headers: dict[str, str]) -> None:
        super().__init__(chunks.__aiter__(), media_type=media_type, headers=headers)
        self.end = end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.end()


@router.post(f"{EXPORT_PATH}/link", openapi_extra=declare(*EXPORT) | answers(*QUERY))
async def export_link(request: Request) -> Response:
    token = require_token(request)
    _, _, total = await run_query(request, prepared, request.query_params, request.app.state.store)
    query = query_of(request.query_params)
    tickets: ExportTickets = request.app.state.export_tickets
    ticket = tickets.issue(token, query)
    url = f"{EXPORT_PATH}?{QueryParams([*query, ('ticket', ticket)])}"
    return json_response({"url": url, "result_count": total, "expires_in": TICKET_SECONDS})
