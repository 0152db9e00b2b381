"""Making an alert (the CLI's ``alert create`` and ``POST /v1/alerts`` alike): every value checked, nothing stored
when one is wrong, and the services its query matches now recorded as watched, so only what appears or changes
afterwards makes an event (an engine that numbers its commits: the alert is evaluated over the commits after the
last one when it was made, ``Alert.since``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from shoal.alerts.book import OPERATOR, TRIGGERS, Alert, AlertBook, Tracked, identity_key, new_alert_id, watched_report
from shoal.alerts.targets import checked_webhook
from shoal.errors import BadParameter
from shoal.model import IPNetwork
from shoal.query.ast import And, Expr, Not, Or, Term
from shoal.query.check import BUILTIN_TYPES
from shoal.query.parser import parse
from shoal.request.params import ALERT_DATASET, network
from shoal.request.selection import parsed
from shoal.store.base import Filters, NumberedCommits, Store

MAX_NAME_LENGTH = 200
MAX_SECRET_LENGTH = 200
MAX_WATCHED = 100_000  # services a new alert's query may match now (each is kept to compare its next report)


@dataclass(frozen=True, slots=True)
class AlertRequest:
    """What makes an alert, as given (text), before it is checked."""

    name: str
    query: str
    webhook: str
    dataset: str = "protocols"
    ip: str | None = None
    triggers: Sequence[str] = TRIGGERS
    secret: str = ""


def create_alert(
    book: AlertBook,
    store: Store,
    request: AlertRequest,
    owner: str = OPERATOR,
    allowed: Sequence[IPNetwork] | None = None,
) -> Alert:
    """Check ``request`` (BadParameter naming what is wrong), record the services it matches now, store it.
    ``allowed``: None for the operator's alerts, else the networks beside public ones a token's may post to."""
    name = request.name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise BadParameter("name", f"'name' must be 1 to {MAX_NAME_LENGTH} characters")
    ALERT_DATASET.take(request.dataset)  # a BadParameter naming it, as the API's reading of it would be
    triggers = tuple(dict.fromkeys(word.strip() for word in request.triggers if word.strip()))
    if not triggers or any(word not in TRIGGERS for word in triggers):
        raise BadParameter("trigger", f"'trigger' takes {', '.join(TRIGGERS)} (comma-separated), not {triggers!r}")
    if len(request.secret) > MAX_SECRET_LENGTH:
        raise BadParameter("secret", f"'secret' is at most {MAX_SECRET_LENGTH} characters long")
    ip = "" if request.ip is None or not request.ip.strip() else str(network("ip", request.ip))
    text = request.query.strip()
    # Read before the search that records what it watches: a commit landing in between is evaluated for it too.
    start = store.last_commit(request.dataset) if isinstance(store, NumberedCommits) else None
    known = store.known_types(request.dataset) | BUILTIN_TYPES.keys()
    expression = parsed(text, "query", known, free_text=True) if text else None
    alert = Alert(
        id=new_alert_id(),
        name=name,
        query="" if expression is None else str(expression),
        dataset=request.dataset,
        ip=ip,
        triggers=triggers,
        webhook=checked_webhook(request.webhook.strip(), allowed),
        secret=request.secret,
        owner=owner,
        created=time.time(),
        since=0 if start is None else start.batch,
    )
    filters = Filters(dataset=alert.dataset, expression=expression, ip=network("ip", ip) if ip else None)
    book.add(alert, watched_now(store, alert, filters), start)
    return alert


def filters_of(alert: Alert) -> Filters:
    """What a stored alert selects, as a search's filters. Its query was read as the search box's free text
    when it was made and kept in canonical form (``search-term:nginx`` for ``nginx``), so it reads back as a
    strict expression naming only types it was checked against."""
    expression = None
    if alert.query:
        expression = parsed(alert.query, "query", types_in(parse(alert.query)))
    return Filters(dataset=alert.dataset, expression=expression, ip=network("ip", alert.ip) if alert.ip else None)


def types_in(expr: Expr) -> set[str]:
    if isinstance(expr, Term):
        return {expr.type}
    if isinstance(expr, Not):
        return types_in(expr.child)
    assert isinstance(expr, And | Or)
    return set().union(*(types_in(child) for child in expr.children))


def watched_now(store: Store, alert: Alert, filters: Filters) -> list[Tracked]:
    """The services the alert's selection matches now (their newest report), or BadParameter if there are more
    than MAX_WATCHED."""
    watched: list[Tracked] = []
    for report in store.iter_matches(replace(filters, most_recent=True)):
        key = identity_key(report)
        if key is None:
            continue
        if len(watched) >= MAX_WATCHED:
            raise BadParameter(
                "query",
                f"the query matches more than {MAX_WATCHED:,} services now: an alert watches at most that many;"
                " narrow it (ip=CIDR, more terms)",
            )
        port = report.port if report.port is not None else -1
        watched.append(Tracked(key, report.ip or "", port, watched_report(report), {alert.id}))
    return watched
