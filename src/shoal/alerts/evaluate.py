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
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shoal.alerts.book import ALERTS_FILE, Alert, AlertBook, Service, Watched, identity_key, watched_report
from shoal.alerts.making import filters_of
from shoal.changes import field_changes, watched_fields
from shoal.errors import ShoalError
from shoal.model import DATASET_TABLE, IPNetwork, Report, ipv4_of_mapped, report_dict
from shoal.store.matching import holds, words_of
from shoal.store.plan import AllOf, AnyOf, Exact, HasContext, HostName, IpRange, Plan, Words, item_host, lower

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


def anchors(plan: Plan) -> frozenset[Key] | None:
    """Keys of which a report meeting ``plan`` holds at least one (None: no such set, test every report)."""
    match plan:
        case Words(str(item_type), _, words, _, prefix):
            whole_words = words[:-1] if prefix else words  # each in the item; the longest is the rarest, likely
            if not whole_words:
                return frozenset({("t", item_type)})
            return frozenset({("w", item_type, max(whole_words, key=len))})
        case Exact(str(item_type), _, value, prefix):
            return frozenset({("t", item_type) if prefix else ("v", item_type, value)})
        case HostName(item_type, _, name, _):
            return frozenset({("h", item_type, name)})
        case HasContext(item_type, _, _):
            return frozenset({("t", item_type)})
        case IpRange(network, ""):
            return blocks(ipv4_of_mapped(network))
        case AllOf(children):
            found = [keys for keys in map(anchors, children) if keys is not None]
            return min(found, key=lambda keys: (any(key[0] == "t" for key in keys), len(keys)), default=None)
        case AnyOf(children):
            parts = [anchors(child) for child in children]
            return None if any(part is None for part in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
    return None


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
    """The compiled alerts by the keys their plans need, and those that need none."""

    def __init__(self, compiled: Sequence[Compiled]) -> None:
        self.always: list[Compiled] = []
        self.by_key: dict[Key, list[Compiled]] = defaultdict(list)
        for one in compiled:
            keys = anchors(one.plan)
            if keys is None:
                self.always.append(one)
            for key in keys or ():
                self.by_key[key].append(one)
        self.typed = {key[1] for key in self.by_key if key[0] == "t"}
        self.valued = {key[1] for key in self.by_key if key[0] == "v"}
        self.worded = {key[1] for key in self.by_key if key[0] == "w"}
        self.hosted = {key[1] for key in self.by_key if key[0] == "h"}
        self.wanted = self.typed | self.valued | self.worded | self.hosted
        self.networks = any(key[0] == "n" for key in self.by_key)

    def candidates(self, report: Report) -> list[Compiled]:
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
        found = {id(one): one for key in keys if key in self.by_key for one in self.by_key[key]}
        return [*self.always, *found.values()]


def render(report: Report) -> bytes:
    return orjson.dumps(report_dict(report))


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
        index = self.index()
        return bool(index.always or index.by_key)

    def committed(self, reports: Sequence[Report]) -> int:
        """Evaluate the alerts over a committed batch; the number of events queued. A failure is logged: the
        batch stays stored whatever happens here."""
        try:
            return self._evaluate(reports)
        except Exception:
            log.exception("evaluating the alerts over a batch of %d reports failed", len(reports))
            return 0

    def _evaluate(self, reports: Sequence[Report]) -> int:
        index = self.index()
        book = self.book()
        if book is None or not (index.always or index.by_key) or not reports:
            return 0
        matched: list[tuple[Report, str, set[str]]] = []
        for report in reports:
            key = identity_key(report)
            if key is None:
                continue
            hits = {
                one.alert.id
                for one in index.candidates(report)
                if one.alert.dataset == report.dataset and holds(one.plan, report)
            }
            matched.append((report, key, hits))
        alerts = {one.alert.id: one.alert for one in [*index.always, *(c for cs in index.by_key.values() for c in cs)]}
        state: dict[str, dict[str, Watched]] = defaultdict(dict)
        for one in book.watched_by_identity({key for _, key, _ in matched}):
            if one.alert in alerts:
                state[one.identity][one.alert] = one
        events: dict[tuple[str, str], list[Service]] = defaultdict(list)
        kept: dict[tuple[str, str], Watched] = {}
        dropped: set[tuple[str, str]] = set()
        fields: dict[str, dict[str, Any]] = {}  # watched fields by report id: each computed once
        for report, key, hits in sorted(matched, key=lambda entry: entry[0].date):
            watching = state.get(key, {})
            if not hits and not watching:
                continue
            now = watched_report(report)
            now_fields = fields[report.id] = watched_fields(now)
            ip, port = report.ip or "", report.port if report.port is not None else -1
            rendered = functools.cache(functools.partial(render, report))  # once, however many alerts it is in
            for alert_id in hits | watching.keys():
                before = watching.get(alert_id)
                if before is not None and now["date"] < before.fields["date"]:
                    continue  # an older report of the service (history imported late)
                if before is None:
                    events[alert_id, "new"].append(Service(ip, port, rendered(), []))
                elif changes := field_changes(self._fields_of(before.fields, fields), now_fields):
                    events[alert_id, "changed"].append(Service(ip, port, rendered(), changes))
                if alert_id in hits:
                    watching[alert_id] = kept[alert_id, key] = Watched(alert_id, key, ip, port, now)
                    state[key] = watching
                    dropped.discard((alert_id, key))
                else:
                    del watching[alert_id]
                    kept.pop((alert_id, key), None)
                    dropped.add((alert_id, key))
        return self._record(book, alerts, events, kept.values(), dropped)

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
            events: dict[tuple[str, str], list[Service]] = defaultdict(list)
            dropped: set[tuple[str, str]] = set()
            for one in book.watched_among(targets):
                alert = alerts.get(one.alert)
                if alert is None or not DATASET_TABLE[alert.dataset].observations:
                    continue
                events[one.alert, "gone"].append(Service(one.ip, one.port, orjson.dumps(one.fields), []))
                dropped.add((one.alert, one.identity))
            return self._record(book, alerts, events, (), dropped)
        except Exception:
            log.exception("recording the services gone failed")
            return 0

    @staticmethod
    def _record(
        book: AlertBook,
        alerts: dict[str, Alert],
        events: dict[tuple[str, str], list[Service]],
        kept: Iterable[Watched],
        dropped: Iterable[tuple[str, str]],
    ) -> int:
        queued = 0
        with book.transaction() as db:
            book.put_watched(db, kept)
            book.drop_watched(db, dropped)
            for (alert_id, kind), services in events.items():
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
