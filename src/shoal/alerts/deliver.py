"""Delivering alert events: ``shoal serve`` posts the queued events of the alert book to their webhooks.

At least once: an event stays queued until its webhook answers 2xx. A failed POST (refused, a timeout, a non-2xx
answer) is tried again after ``Backoff.delay``: first within seconds, doubling up to a minute apart during the
event's first hour, then every ``later`` seconds until ``give_up`` (three days) after it was made. The queue is
the book's file: a restarted server goes on where its predecessor stopped. Each POST carries the event's id
(``X-Shoal-Event``; the body's ``id`` too) for the receiver to drop duplicates, and with a secret an HMAC-SHA256
of the body (``X-Shoal-Signature: sha256=<hex>``). The target policy (``shoal.alerts.targets``) is checked on
the addresses the webhook's name resolves to before every POST; a refused target fails the event at once.
Alerts are posted side by side (up to ``POSTING_ALERTS`` at once, each alert's events in order by one thread), so
a receiver that is slow or hangs until the time-out holds back its own alert's events only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from shoal.alerts.book import ALERTS_FILE, DELIVERED, FAILED, OPERATOR, PENDING, Alert, AlertBook, Event
from shoal.alerts.targets import refused, resolved, url_target
from shoal.errors import ShoalError
from shoal.model import IPNetwork

log = logging.getLogger(__name__)
BACKOFF_VARIABLE = "SHOAL_ALERT_BACKOFF"  # "FIRST,CEILING" seconds (tests shorten the waits)
POLL_SECONDS = 1.0  # how often the queue is looked at (events of other processes' imports appear there)
POST_TIMEOUT = 10.0
BATCH = 50  # events taken per look at the queue
POSTING_ALERTS = 8  # alerts whose events are being posted at once (a thread each)
SIGNATURE_HEADER = "X-Shoal-Signature"
EVENT_HEADER = "X-Shoal-Event"


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float = 2.0  # seconds before the first retry
    ceiling: float = 60.0  # the longest wait during an event's first hour
    hour: float = 3600.0
    later: float = 300.0  # the wait after the first hour
    give_up: float = 3 * 86400.0  # an event older than this is failed

    def delay(self, attempts: int, age: float) -> float:
        """Seconds until the next try after ``attempts`` failed ones, of an event ``age`` seconds old."""
        if age >= self.hour:
            return self.later
        return min(self.ceiling, self.first * 2 ** max(0, attempts - 1))

    @classmethod
    def from_environment(cls) -> Backoff:
        text = os.environ.get(BACKOFF_VARIABLE, "")
        if not text:
            return cls()
        first, ceiling = (float(part) for part in text.split(","))
        return cls(first=first, ceiling=ceiling)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(alert: Alert, event_id: str, body: bytes, allowed: Sequence[IPNetwork]) -> tuple[bool, str]:
    """One POST of an event's body to the alert's webhook: whether it was taken (2xx), and what happened."""
    try:
        host, port = url_target(alert.webhook)
        for address in resolved(host, port):
            why = refused(address, None if alert.owner == OPERATOR else allowed)
            if why:
                return False, f"refused: {address} is {why}"
    except ShoalError as exc:
        return False, exc.message
    headers = {"Content-Type": "application/json", "User-Agent": "shoal-alerts", EVENT_HEADER: event_id}
    if alert.secret:
        headers[SIGNATURE_HEADER] = signature(alert.secret, body)
    try:
        answer = httpx.post(alert.webhook, content=body, headers=headers, timeout=POST_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"[:300]
    return answer.is_success, f"HTTP {answer.status_code}"


def deliver(book: AlertBook, event: Event, allowed: Sequence[IPNetwork], backoff: Backoff) -> bool:
    """Post one event and record the attempt; whether it was delivered."""
    try:
        alert = book.get(event.alert)
    except ShoalError:
        return False  # deleted meanwhile: its events went with it
    taken, outcome = post(alert, event.id, event.body, allowed)
    now = time.time()
    if taken:
        book.attempted(event, DELIVERED, outcome, now)
    elif outcome.startswith("refused") or now - event.created >= backoff.give_up:
        book.attempted(event, FAILED, outcome, now)
    else:
        book.attempted(event, PENDING, outcome, now + backoff.delay(event.attempts + 1, now - event.created))
    return taken


class Deliverer:
    """The server's thread that posts due events until ``stop``."""

    def __init__(self, data_dir: Path, allowed: Sequence[IPNetwork], backoff: Backoff | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.allowed = tuple(allowed)
        self.backoff = backoff or Backoff.from_environment()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shoal-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=POST_TIMEOUT + 5)

    def _run(self) -> None:
        book: AlertBook | None = None
        posting: dict[str, Future[None]] = {}  # alert id → the thread posting its events
        with ThreadPoolExecutor(POSTING_ALERTS, thread_name_prefix="shoal-alert-post") as pool:
            while not self._stop.is_set():
                try:
                    if book is None and (self.data_dir / ALERTS_FILE).exists():
                        book = AlertBook(self.data_dir)
                    if book is not None:
                        for alert_id in [alert_id for alert_id, future in posting.items() if future.done()]:
                            del posting[alert_id]
                        due = list(by_alert(book.due(time.time(), BATCH, posting)).items())
                        for alert_id, events in due[: POSTING_ALERTS - len(posting)]:
                            posting[alert_id] = pool.submit(self._post_in_order, book, events)
                except Exception:
                    log.exception("delivering alert events failed; trying again")
                self._stop.wait(POLL_SECONDS)

    def _post_in_order(self, book: AlertBook, events: Sequence[Event]) -> None:
        """One alert's due events, oldest first, until the deliverer stops."""
        try:
            for event in events:
                if self._stop.is_set():
                    return
                deliver(book, event, self.allowed, self.backoff)
        except Exception:
            log.exception("delivering the events of alert %s failed; trying again", events[0].alert)


def by_alert(events: Sequence[Event]) -> dict[str, list[Event]]:
    """Events grouped by their alert, in the order given (each group, and the groups by their first event)."""
    grouped: dict[str, list[Event]] = {}
    for event in events:
        grouped.setdefault(event.alert, []).append(event)
    return grouped
