"""Alerts evaluated over what is new: each committed batch of reports, never the whole store again.

The one ingest path (``shoal.ingest.pipeline``) hands every batch it committed to the store's ``AlertWatcher``
(``Store.watcher``, set where a store is opened on a data directory), whatever stored it: an import, a scan,
the server's collector, ``ct follow``, ``dns``. For each report, the alerts that could match are found through an
index of the words, values and types their queries need (``anchors``), and only those are tested, in Python, on
the plan the engines search with (``shoal.store.matching``). Then, per alert and service (the dataset's
identity):

- ``new``: the report matches and the service was not watched (one that matched when the alert was made is);
- ``changed``: the service was watched and the watched fields of this report differ from its last one's
  (``shoal.changes``); a service that no longer matches is reported so and no longer watched;
- ``gone``: the collector found a watched service's port closed on a rescan (``AlertWatcher.gone``).

The events of a batch are queued in the alert book in one transaction with the new state, one per alert and
kind (at most ``MAX_SERVICES`` services each); ``shoal serve`` posts them (``shoal.alerts.deliver``).

An engine that numbers its commits (``NumberedCommits``: the embedded one) gets a watermark per dataset, written in
that transaction: the last commit evaluated. Each evaluation first evaluates, one commit at a time and each in a
transaction of its own, the commits after it that no process evaluated (read back from the store), and ``shoal
serve`` catches up when it starts (``catch_up``); an alert is evaluated over the commits after its ``since`` only.
"""

from __future__ import annotations

import ipaddress
import logging
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shoal.alerts.book import ALERTS_FILE, Alert, AlertBook, Service, Tracked, identity_key, watched_report
from shoal.alerts.making import filters_of
from shoal.changes import field_changes, watched_fields
from shoal.errors import ShoalError
from shoal.model import DATASET_TABLE, IPNetwork, Report, ipv4_of_mapped, report_dict
from shoal.store.base import Commit, NumberedCommits, Store
from shoal.store.matching import holds, words_of
from shoal.store.plan import (
    AllOf,
    AnyOf,
    DayRange,
    Exact,
    HasContext,
    HostName,
    IpRange,
    NumberRange,
    Plan,
    Words,
    item_host,
    lower,
)

log = logging.getLogger(__name__)
MAX_SERVICES = 1_000  # services in one event; more make several events
# ("t", type) | ("v", type, value) | ("w", type, word) | ("h", type, host name) | ("n", version, bits, block)
Key = tuple[object, ...]
# A scanned address is indexed by its blocks: an IPv4 /16 and /24, an IPv6 /32 and /48. A watched network is
# indexed by the finest that holds it, or by the coarse blocks it spans if there are at most MAX_BLOCKS (a wider
# one is tested on every report).
BLOCK_BITS = {4: (16, 24), 6: (32, 48)}
MAX_BLOCKS = 256


@dataclass(frozen=True, slots=True)
class Compiled:
    alert: Alert
    plan: Plan


def anchors(plan: Plan, frequency: Mapping[Key, int]) -> frozenset[Key] | None:
    """Keys of which a report meeting ``plan`` holds at least one (None: no such set, test every report). Where
    there is a choice (the words of a phrase, the terms of an AND), the keys fewest reports of the batch hold
    (``frequency``: how many hold each key; a key none holds means the plan matches none)."""
    match plan:
        case Words(str(item_type), _, words, _, prefix):
            whole_words = words[:-1] if prefix else words  # each is a whole word of the item
            if not whole_words:
                return frozenset({("t", item_type)})
            return frozenset({min((("w", item_type, word) for word in whole_words), key=lambda k: frequency.get(k, 0))})
        case Exact(str(item_type), _, value, prefix):
            return frozenset({("t", item_type) if prefix else ("v", item_type, value)})
        case HostName(item_type, _, name, _):
            return frozenset({("h", item_type, name)})
        case HasContext(item_type, _, _) | NumberRange(item_type) | DayRange(item_type):
            return frozenset({("t", item_type)})
        case IpRange(network, ""):
            return blocks(ipv4_of_mapped(network))
        case AllOf(children):
            found = [keys for child in children if (keys := anchors(child, frequency)) is not None]
            return min(found, key=lambda keys: sum(frequency.get(key, 0) for key in keys), default=None)
        case AnyOf(children):
            parts = [anchors(child, frequency) for child in children]
            return None if any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    return None


def key_types(plan: Plan) -> set[tuple[str, str | None]]:
    """The kinds of key (``"t"``, ``"v"``, ``"w"``, ``"h"``, with their item type; ``"n"``) ``anchors`` may use."""
    match plan:
        case Words(str(item_type), _, _, _, _):
            return {("t", item_type), ("w", item_type)}
        case Exact(str(item_type), _, _, prefix):
            return {("t", item_type) if prefix else ("v", item_type)}
        case HostName(item_type, _, _, _):
            return {("h", item_type)}
        case HasContext(item_type, _, _) | NumberRange(item_type) | DayRange(item_type):
            return {("t", item_type)}
        case IpRange(_, ""):
            return {("n", None)}
        case AllOf(children) | AnyOf(children):
            return set().union(*(key_types(child) for child in children))
    return set()


def blocks(network: IPNetwork) -> frozenset[Key] | None:
    """The keys of the blocks (``BLOCK_BITS``) a network of scanned addresses is indexed by, or None."""
    version, start = network.version, int(network.network_address)
    for bits in reversed(BLOCK_BITS[version]):
        if network.prefixlen >= bits:
            return frozenset({("n", version, bits, start >> (network.max_prefixlen - bits))})
    coarse = BLOCK_BITS[version][0]
    if 1 << (coarse - network.prefixlen) > MAX_BLOCKS:
        return None
    first = start >> (network.max_prefixlen - coarse)
    return frozenset(("n", version, coarse, first + step) for step in range(1 << (coarse - network.prefixlen)))


def blocks_of(address: str) -> list[Key]:
    """The keys of a scanned address's blocks (an IPv4-mapped address's are its IPv4 address's)."""
    octets = address.split(".")
    if len(octets) == 4 and all(octet.isdigit() for octet in octets):  # the common case, without ipaddress
        number = (int(octets[0]) << 24) | (int(octets[1]) << 16) | (int(octets[2]) << 8) | int(octets[3])
        return [("n", 4, bits, number >> (32 - bits)) for bits in BLOCK_BITS[4]]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return []
    if parsed.version == 6 and parsed.ipv4_mapped is not None:  # type: ignore[union-attr]
        parsed = parsed.ipv4_mapped  # type: ignore[union-attr]
    number, version = int(parsed), parsed.version
    return [("n", version, bits, number >> (parsed.max_prefixlen - bits)) for bits in BLOCK_BITS[version]]


def host_suffixes(host: str) -> list[str]:
    """A host name and every name above it by whole labels (``a.example.com``, ``example.com``, ``com``)."""
    labels = host.split(".")
    return [".".join(labels[start:]) for start in range(len(labels))]


class AnchorIndex:
    """The compiled alerts, and the keys of a report they may be indexed by (``keys_of``); ``batch`` indexes
    them for one batch of reports."""

    def __init__(self, compiled: Sequence[Compiled]) -> None:
        self.compiled = list(compiled)
        kinds = set().union(*(key_types(one.plan) for one in self.compiled))
        self.typed = {item_type for kind, item_type in kinds if kind == "t"}
        self.valued = {item_type for kind, item_type in kinds if kind == "v"}
        self.worded = {item_type for kind, item_type in kinds if kind == "w"}
        self.hosted = {item_type for kind, item_type in kinds if kind == "h"}
        self.wanted = self.typed | self.valued | self.worded | self.hosted
        self.networks = ("n", None) in kinds

    def keys_of(self, report: Report) -> set[Key]:
        keys: set[Key] = set()
        wanted = self.wanted
        for item_type, value, _, _ in report.items:
            if item_type not in wanted:
                continue
            keys.add(("t", item_type))
            if item_type in self.valued:
                keys.add(("v", item_type, value))
            if item_type in self.worded:
                keys.update(("w", item_type, word) for word in words_of(value))
            if item_type in self.hosted and (host := item_host(item_type, value)) is not None:
                keys.update(("h", item_type, name) for name in host_suffixes(host))
        if self.networks and (address := report.ip) is not None:
            keys.update(blocks_of(address))
        return keys

    def batch(self, keys: Sequence[set[Key]]) -> BatchIndex:
        """The alerts by the keys they need, chosen for a batch whose reports hold ``keys``."""
        frequency = Counter(key for held in keys for key in held)
        index = BatchIndex()
        for one in self.compiled:
            needed = anchors(one.plan, frequency)
            if needed is None:
                index.always.append(one)
            for key in needed or ():
                index.by_key[key].append(one)
        return index


@dataclass
class BatchIndex:
    always: list[Compiled] = field(default_factory=list)
    by_key: dict[Key, list[Compiled]] = field(default_factory=lambda: defaultdict(list))

    def candidates(self, keys: set[Key]) -> list[Compiled]:
        """The alerts a report holding ``keys`` may match."""
        by_key = self.by_key
        found = {id(one): one for key in keys if key in by_key for one in by_key[key]}
        return [*self.always, *found.values()]


class Rendered:
    """A report's API JSON, made when first asked for and then kept (an event of each alert it is in uses it)."""

    __slots__ = ("json", "report")

    def __init__(self, report: Report) -> None:
        self.report = report
        self.json: bytes | None = None

    def __call__(self) -> bytes:
        if self.json is None:
            self.json = orjson.dumps(report_dict(self.report))
        return self.json


class AlertWatcher:
    """Told of every committed batch (``committed``) and of every port a rescan found closed (``gone``)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._book: AlertBook | None = None
        self._generation = -1
        self._index = AnchorIndex([])

    def book(self) -> AlertBook | None:
        """The data directory's alert book, once it exists (an alert was ever made)."""
        if self._book is None and (self.data_dir / ALERTS_FILE).exists():
            self._book = AlertBook(self.data_dir)
        return self._book

    def index(self) -> AnchorIndex:
        book = self.book()
        if book is None:
            return self._index
        generation = book.generation()
        if generation != self._generation:
            self._index = AnchorIndex([compiled for alert in book.alerts() if (compiled := compile_alert(alert))])
            self._generation = generation
        return self._index

    def active(self) -> bool:
        return bool(self.index().compiled)

    def committed(self, store: Store, commits: Mapping[str, int], reports: Sequence[Report] = ()) -> int:
        """Evaluate the alerts over a committed batch; the number of events queued. ``commits``: the number of the
        commit of each dataset the batch went to, of an engine that numbers them (``NumberedCommits``): the commits
        before it that no process evaluated are caught up first, and a dataset's ``reports`` not given are read
        back. Else ``reports`` are evaluated as they are. A failure is logged: the batch stays stored whatever
        happens here (and, numbered, is evaluated by the next evaluation)."""
        try:
            if isinstance(store, NumberedCommits):
                return sum(
                    self._catch_up(store, dataset, batch, [report for report in reports if report.dataset == dataset])
                    for dataset, batch in commits.items()
                )
            book = self.book()
            if book is None or not self.active() or not reports:
                return 0
            with book.transaction() as db:
                return self._evaluate(db, self.index(), reports)
        except Exception:
            log.exception("evaluating the alerts over a batch of %d reports failed", len(reports))
            return 0

    def catch_up(self, store: Store) -> int:
        """Evaluate the commits no process evaluated (it was killed between a commit and its evaluation), of each
        dataset an alert watches: ``shoal serve`` does when it starts. The number of events queued."""
        if not isinstance(store, NumberedCommits) or not self.active():
            return 0
        try:
            datasets = sorted({one.alert.dataset for one in self.index().compiled})
            return sum(self._catch_up(store, dataset, None, ()) for dataset in datasets)
        except Exception:
            log.exception("catching up on the commits the alerts were not evaluated over failed")
            return 0

    def _catch_up(self, store: NumberedCommits, dataset: str, batch: int | None, reports: Sequence[Report]) -> int:
        """Evaluate the commits of ``dataset`` after its watermark up to ``batch`` (None: its last commit now), one
        at a time, each in one transaction with its events and the watermark; ``reports`` are commit ``batch``'s,
        the others are read back (BATCH_READ at a time). A dataset with no watermark yet starts at ``batch``."""
        book = self.book()
        if book is None:
            return 0
        queued, now = 0, store.last_commit(dataset).batch
        end = now if batch is None else min(batch, now)
        while True:
            alerts = [one for one in self.index().compiled if one.alert.dataset == dataset]
            if not alerts:
                return queued
            last = store.last_commit(dataset)  # after every evaluation recorded so far: none is ahead of it
            mark = book.watermark(book.db, dataset, last)
            if mark is None:
                with book.transaction() as db:
                    last = store.last_commit(dataset)
                    if book.watermark(db, dataset, last) is None:
                        book.restart(db, dataset, Commit(last.instance, end if batch is None else end - 1))
                continue
            todo = max(mark, min(one.alert.since for one in alerts)) + 1  # none is evaluated over its own past
            if todo > end:
                return queued
            with book.transaction() as db:
                if book.watermark(db, dataset, last) != mark:
                    continue  # another process evaluated it meanwhile
                index = AnchorIndex([one for one in alerts if one.alert.since < todo])
                chunks = [reports] if todo == batch and reports else store.committed_reports(dataset, todo)
                for chunk in chunks:
                    queued += self._evaluate(db, index, chunk)
                book.evaluated(db, dataset, Commit(last.instance, todo))

    def _evaluate(self, db: sqlite3.Connection, index: AnchorIndex, reports: Sequence[Report]) -> int:
        """The events of the alerts of ``index`` over ``reports``, written in ``db``'s transaction; their number."""
        book = self.book()
        if book is None or not index.compiled or not reports:
            return 0
        identified = [(report, key) for report in reports if (key := identity_key(report)) is not None]
        keys = [index.keys_of(report) for report, _ in identified]
        batch = index.batch(keys)
        matched: list[tuple[Report, str, set[str]]] = []
        for (report, key), held in zip(identified, keys, strict=True):
            hits = {
                one.alert.id
                for one in batch.candidates(held)
                if one.alert.dataset == report.dataset and holds(one.plan, report)
            }
            matched.append((report, key, hits))
        alerts = {one.alert.id: one.alert for one in index.compiled}
        tracked = book.tracked({key for _, key, hits in matched})
        change = Change()
        known: dict[str, dict[str, Any]] = {}  # watched fields by report id: each computed once
        for report, key, hits in sorted(matched, key=lambda entry: entry[0].date):
            service = tracked.get(key)
            if service is None and not hits:
                continue
            now = watched_report(report)
            if service is not None and now["date"] < service.fields["date"]:
                continue  # an older report of the service (history imported late)
            ip, port = report.ip or "", report.port if report.port is not None else -1
            rendered = Rendered(report)
            watchers = service.watchers & alerts.keys() if service is not None else set()
            for alert_id in hits - watchers:
                change.events[alert_id, "new"].append(Service(ip, port, rendered(), []))
            if watchers and service is not None:
                before = self._fields_of(service.fields, known)
                if changes := field_changes(before, self._fields_of(now, known)):
                    for alert_id in watchers:
                        change.events[alert_id, "changed"].append(Service(ip, port, rendered(), changes))
            change.watching(key, watchers, hits)
            others = service.watchers - watchers if service is not None else set()  # alerts not evaluated here
            if hits or others:
                tracked[key] = change.kept[key] = Tracked(key, ip, port, now, hits | others)
                change.dropped.discard(key)
            else:
                tracked.pop(key, None)
                change.kept.pop(key, None)
                change.dropped.add(key)
        return change.record(book, db, alerts)

    @staticmethod
    def _fields_of(kept: dict[str, Any], known: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The watched fields of a kept report, computed once per batch."""
        if kept["id"] not in known:
            known[kept["id"]] = watched_fields(kept)
        return known[kept["id"]]

    def gone(self, targets: Iterable[tuple[str, int]]) -> int:
        """Ports a rescan found closed: each service watched there is gone (and no longer watched)."""
        try:
            book = self.book()
            if book is None:
                return 0
            alerts = {alert.id: alert for alert in book.alerts()}
            change = Change()
            for service in book.tracked_at(targets):
                for alert_id in service.watchers & alerts.keys():
                    if DATASET_TABLE[alerts[alert_id].dataset].observations:
                        gone = Service(service.ip, service.port, orjson.dumps(service.fields), [])
                        change.events[alert_id, "gone"].append(gone)
                change.watching(service.identity, service.watchers, set())
                change.dropped.add(service.identity)
            with book.transaction() as db:
                return change.record(book, db, alerts)
        except Exception:
            log.exception("recording the services gone failed")
            return 0


@dataclass
class Change:
    """What a batch (or a rescan) changes in the book: events, services kept or dropped, who watches what."""

    events: dict[tuple[str, str], list[Service]] = field(default_factory=lambda: defaultdict(list))
    kept: dict[str, Tracked] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    watch: set[tuple[str, str]] = field(default_factory=set)
    unwatch: set[tuple[str, str]] = field(default_factory=set)

    def watching(self, identity: str, before: set[str], after: set[str]) -> None:
        """The alerts watching a service were ``before`` and are ``after``."""
        for alert_id in after - before:
            self.watch.add((alert_id, identity))
            self.unwatch.discard((alert_id, identity))
        for alert_id in before - after:
            self.unwatch.add((alert_id, identity))
            self.watch.discard((alert_id, identity))

    def record(self, book: AlertBook, db: sqlite3.Connection, alerts: dict[str, Alert]) -> int:
        """Write it in ``db``'s transaction; the number of events queued (only the kinds each alert's triggers
        name)."""
        book.put_services(db, self.kept.values())
        book.drop_services(db, self.dropped)
        book.unwatch(db, self.unwatch)
        book.watch(db, self.watch)
        queued = 0
        for (alert_id, kind), services in self.events.items():
            alert = alerts[alert_id]
            if kind not in alert.triggers:
                continue
            for start in range(0, len(services), MAX_SERVICES):
                book.queue(db, alert, kind, services[start : start + MAX_SERVICES])
                queued += 1
        return queued


def compile_alert(alert: Alert) -> Compiled | None:
    """The alert with its plan; None (logged) if its stored query no longer reads (it was checked when made)."""
    try:
        return Compiled(alert, plan_of(alert))
    except ShoalError as exc:
        log.warning("alert %s is not evaluated: %s", alert.id, exc.message)
        return None


def plan_of(alert: Alert) -> Plan:
    """The plan an alert's reports meet (its query, dataset and ip, as a search would lower them)."""
    return lower(filters_of(alert))


class PeriodicCatchUp:
    """In a running server: every ``every`` seconds, the commits no process evaluated caught up
    (``AlertWatcher.catch_up``), so that a server running for days queues the events of an import killed after
    its commit without waiting for the next import or its own restart. A thread; ``stop`` waits for a catch-up
    under way to end."""

    def __init__(self, store: Store, every: float) -> None:
        self.store = store
        self.every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shoal-alerts-catch-up", daemon=True)

    def start(self) -> PeriodicCatchUp:
        if self.store.watcher is not None:
            self._thread.start()
        return self

    def _run(self) -> None:
        watcher = self.store.watcher
        while watcher is not None and not self._stopped.wait(self.every):
            watcher.catch_up(self.store)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
