"""Alerts evaluated over what each commit adds, on a real embedded store through the one ingest path: new,
changed (old → new), unchanged (nothing), gone, triggers; and the anchor index never hides a match."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from shoal.alerts.book import AlertBook
from shoal.alerts.evaluate import AnchorIndex, Compiled
from shoal.alerts.making import AlertRequest, create_alert
from shoal.errors import BadParameter, QueryError
from shoal.ingest.jsonl import LineChunk, decode_chunk
from shoal.ingest.pipeline import ingest_chunks, ingest_stream
from shoal.model import Item, Report
from shoal.request.params import network
from shoal.store.base import Store
from shoal.store.matching import holds
from shoal.store.plan import lower
from shoal.store.registry import open_store
from tests.corpus import CORPUS
from tests.store.test_conformance import SEARCH_CASES, filters_for

HOOK = "http://127.0.0.1:9/hook"
DAY = dt.date(2026, 12, 1)


def service(ip: str, banner: str, tag: str = "nginx", day: dt.date = DAY) -> Report:
    items = (
        Item("ip", ip, "", True),
        Item("port-tcp", "80", "", True),
        Item("server-banner", banner, "http"),
        Item("product-tag", tag, "", True),
    )
    return Report(date=day, items=items)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(None, tmp_path)
    yield opened
    opened.close()


def events(folder: Path) -> list[dict[str, Any]]:
    book = AlertBook(folder)
    return [orjson.loads(event.body) for alert in book.alerts() for event in reversed(book.history(alert.id))]


def test_new_changed_unchanged_and_gone(store: Store, tmp_path: Path) -> None:
    ingest_stream(store, [service("192.0.2.1", "HTTP/1.1 200 OK")])  # there before the alert: not new
    book = AlertBook(tmp_path)
    alert = create_alert(book, store, AlertRequest("web", "product-tag:nginx", HOOK))
    assert book.watched_count(alert.id) == 1
    ingest_stream(store, [service("192.0.2.2", "HTTP/1.1 200 OK"), service("192.0.2.3", "x", tag="apache")])
    (new,) = events(tmp_path)
    assert new["event"] == "new" and new["alert"] == {"id": alert.id, "name": "web", "query": "product-tag:nginx"}
    assert [(one["ip"], one["port"], one["changes"]) for one in new["services"]] == [("192.0.2.2", 80, [])]
    assert new["services"][0]["report"]["items"][2]["value"] == "HTTP/1.1 200 OK"

    ingest_stream(store, [service("192.0.2.2", "HTTP/1.1 200 OK", day=DAY + dt.timedelta(1))])  # same fields
    assert len(events(tmp_path)) == 1

    ingest_stream(store, [service("192.0.2.1", "HTTP/1.1 503 Busy", day=DAY + dt.timedelta(2))])
    changed = events(tmp_path)[-1]
    assert changed["event"] == "changed" and [one["ip"] for one in changed["services"]] == ["192.0.2.1"]
    assert changed["services"][0]["changes"] == [
        {"field": "banner", "old": "HTTP/1.1 200 OK", "new": "HTTP/1.1 503 Busy"},
        {"field": "http-status", "old": "200", "new": "503"},
    ]
    ingest_stream(store, [service("192.0.2.1", "HTTP/1.1 200 OK", day=DAY)])  # older history: nothing
    assert len(events(tmp_path)) == 2

    ingest_stream(store, [service("192.0.2.2", "HTTP/1.1 200 OK", "apache", DAY + dt.timedelta(3))])
    stopped = events(tmp_path)[-1]  # no longer matches: said as a change, and no longer watched
    assert stopped["services"][0]["changes"] == [{"field": "product-tag", "old": "nginx", "new": "apache"}]
    assert book.watched_count(alert.id) == 1

    assert store.watcher is not None and store.watcher.gone([("192.0.2.1", 80), ("192.0.2.9", 80)]) == 1
    gone = events(tmp_path)[-1]
    assert gone["event"] == "gone" and [(one["ip"], one["port"]) for one in gone["services"]] == [("192.0.2.1", 80)]
    assert book.watched_count(alert.id) == 0
    assert len({event["id"] for event in events(tmp_path)}) == 4


def test_the_query_reads_as_the_search_box_and_is_kept_canonical(store: Store, tmp_path: Path) -> None:
    alert = create_alert(AlertBook(tmp_path), store, AlertRequest("free", "nginx  and port-tcp:80", HOOK))
    assert alert.query == "search-term:nginx and port-tcp:80"
    ingest_stream(store, [service("192.0.2.7", "nginx/1.2")])
    assert [(event["event"], event["alert"]["query"]) for event in events(tmp_path)] == [("new", alert.query)]


def test_json_lines_go_to_the_shards_and_their_new_reports_to_the_watcher(store: Store, tmp_path: Path) -> None:
    stored = service("192.0.2.1", "HTTP/1.1 200 OK")
    ingest_stream(store, [stored])
    create_alert(AlertBook(tmp_path), store, AlertRequest("web", "product-tag:nginx", HOOK))
    known, new = (orjson.dumps(report.as_dict()) for report in (stored, service("192.0.2.2", "HTTP/1.1 200 OK")))
    lines = [known, new, new, b"{", orjson.dumps(service("192.0.2.3", "x", tag="apache").as_dict())]
    calls: list[int] = []
    read_back = store.committed_reports  # type: ignore[attr-defined]
    store.committed_reports = lambda dataset, batch: calls.append(batch) or read_back(dataset, batch)  # type: ignore[attr-defined]
    totals = ingest_chunks(store, [LineChunk("lines", 1, lines)], decode_chunk, workers=0)
    assert (totals.imported, totals.duplicates, [one.line for one in totals.rejected]) == (2, 2, [4])
    assert len(calls) == 1  # the lines took the store's own path, read back once committed
    (event,) = events(tmp_path)
    assert event["event"] == "new" and [one["ip"] for one in event["services"]] == ["192.0.2.2"]


def tagged(report: Report) -> Report:
    """An enrichment (a transform of the ingest path) adding a product tag."""
    return replace(report, items=(*report.items, Item("product-tag", "added", "", True)))


def test_alerts_see_reports_as_enriched(store: Store, tmp_path: Path) -> None:
    create_alert(AlertBook(tmp_path), store, AlertRequest("enriched", "product-tag:added", HOOK))
    ingest_stream(store, [service("192.0.2.8", "x", tag="other")], transform=tagged)
    assert [event["event"] for event in events(tmp_path)] == ["new"]


def test_only_the_chosen_triggers_make_events(store: Store, tmp_path: Path) -> None:
    book = AlertBook(tmp_path)
    create_alert(book, store, AlertRequest("changes", "port-tcp:80", HOOK, triggers=("changed",), ip="192.0.2.0/24"))
    ingest_stream(store, [service("192.0.2.5", "a"), service("198.51.100.5", "a")])
    assert events(tmp_path) == []
    ingest_stream(store, [service("192.0.2.5", "b", day=DAY + dt.timedelta(1))])
    assert [event["event"] for event in events(tmp_path)] == ["changed"]


@pytest.mark.parametrize(
    ("request_", "error", "parameter"),
    [
        (AlertRequest("bad", "port-tcp:(", HOOK), QueryError, "query"),
        (AlertRequest("bad", "port-tcp:80 and (title:x", HOOK), QueryError, "query"),
        (AlertRequest("bad", "port-tcp:80", "gopher://x/"), BadParameter, "webhook"),
        (AlertRequest("bad", "port-tcp:80", "http://169.254.169.254/"), BadParameter, "webhook"),
        (AlertRequest("bad", "port-tcp:80", HOOK, triggers=("born",)), BadParameter, "trigger"),
        (AlertRequest("bad", "port-tcp:80", HOOK, dataset="nope"), BadParameter, "dataset"),
        (AlertRequest("bad", "port-tcp:80", HOOK, ip="10.0.0.0/33"), BadParameter, "ip"),
        (AlertRequest(" ", "port-tcp:80", HOOK), BadParameter, "name"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    store: Store, tmp_path: Path, request_: AlertRequest, error: type[Exception], parameter: str
) -> None:
    book = AlertBook(tmp_path)
    with pytest.raises(error) as raised:
        create_alert(book, store, request_)
    assert raised.value.parameter == parameter  # type: ignore[attr-defined]
    assert book.alerts() == []


def test_the_anchor_index_finds_every_match_of_the_conformance_cases(store: Store) -> None:
    cases = [(expression, options) for expression, options, _ in SEARCH_CASES if "report_id" not in options]
    ingest_stream(store, CORPUS)
    compiled = [
        Compiled(alert, lower(filters_for(expression, options, store)))  # type: ignore[arg-type]
        for alert, (expression, options) in enumerate(cases)
    ]
    networks = ["0.0.0.0/0", "8.0.0.0/8", "8.8.0.0/12", "8.8.8.0/24", "1.1.1.1/32", "::ffff:8.8.8.0/120"]
    networks += ["2001:db8::/48", "2001:db8::/20", "::/0"]
    for expression, cidr in itertools.product(["", "port-tcp:443"], networks):
        filters = replace(filters_for(expression, {}, store), ip=network("ip", cidr))
        compiled.append(Compiled(len(compiled), lower(filters)))  # type: ignore[arg-type]
    index = AnchorIndex(compiled)
    keys = [index.keys_of(report) for report in CORPUS]
    batch = index.batch(keys)
    assert {key[0] for key in batch.by_key} == {"t", "v", "w", "h", "n"}, "every kind of anchor is tried"
    for report, held in zip(CORPUS, keys, strict=True):
        by_index = {one.alert for one in batch.candidates(held) if holds(one.plan, report)}
        everywhere = {one.alert for one in compiled if holds(one.plan, report)}
        assert by_index == everywhere, report.id
