"""The embedded index in N shards: a report lives in the shard its id names, every answer is the one a single index
gives (counts, pages and their boundaries, the export cursor, summaries, most_recent), shards written by their own
processes store what this process stores, and a batch that not every shard committed is never seen and is deleted
by the next writer."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import orjson
import pytest

from shoal.model import SUPERSEDES, Item, Report
from shoal.store import deadline
from shoal.store.base import Filters, SummaryRequest
from shoal.store.embedded import EmbeddedStore, shards
from shoal.store.embedded.index import stored
from shoal.store.embedded.schema import stored_form
from shoal.store.embedded.shards import State, read_state, shard_of, write_state
from shoal.store.embedded.writer import ShardWriter
from tests.corpus import CORPUS
from tests.generated import generated_reports
from tests.store.test_conformance import filters_for

REPORTS = generated_reports(3_000, seed=11)
EXPRESSIONS = ["", "product-tag:nginx", "http-header;Server:nginx", "port-tcp:443 or port-tcp:80", "title:univ*"]


def answers(store: EmbeddedStore) -> list[object]:
    """What a client can see of a store: counts, pages at several offsets, the export, summaries, most_recent."""
    found: list[object] = []
    for expression in EXPRESSIONS:
        for options in ({}, {"most_recent": True}, {"ip": "43.0.0.0/8"}, {"date_from": "2026-11-01"}):
            filters = filters_for(expression, options, store)
            for offset in (0, 100, 1_000):
                page = store.search(filters, offset=offset)
                found.append((expression, options, offset, page.total, [report.id for report in page.reports]))
            found.append([report.id for report in store.iter_matches(filters)])
            for request in (SummaryRequest("port-tcp"), SummaryRequest("server-banner"), SummaryRequest("protocol")):
                found.append(store.summarize(filters, request))
    return found


@pytest.fixture(scope="module")
def one_shard(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    store = EmbeddedStore(tmp_path_factory.mktemp("one"), shards=1)
    store.ingest(REPORTS)
    found = answers(store)
    store.close()
    return found


def lines_of(reports: list[Report]) -> list[bytes]:
    return [stored_form(report) for report in reports]


def test_every_answer_of_three_shards_is_the_answer_of_one(one_shard: list[object], tmp_path: Path) -> None:
    keys = [(report.date, report.id[:6]) for report in REPORTS]
    assert len(set(keys)) == len(keys)  # no two reports share a sort key: the order is total
    store = EmbeddedStore(tmp_path, shards=3)
    store.ingest(REPORTS[:1_000])
    store.ingest(REPORTS[1_000:])
    assert answers(store) == one_shard
    view = store.index("protocols").view()
    assert [searcher.num_docs for searcher in view.searchers] == [
        sum(shard_of(report.id, 3) == shard for report in REPORTS) for shard in range(3)
    ]
    store.close()


def test_shard_processes_store_what_this_process_stores(tmp_path: Path) -> None:
    """``ingest_lines`` with a process per shard, in batches: the same reports, counts and rejected lines."""
    odd = [
        b"",  # blank: skipped, not counted
        b"{not json",
        b'{"items": [{"type": "ip", "value": "192.0.2.1", "context": "", "is_metadata": true}], "date": "2026-11-01"}',
        b'{"date":"2026-11-02","id":"twice","items":[{"type":"ip","value":"192.0.2.2"}],"id":"moved"}',
        b'{"date":"2100-01-01","id":"far","items":[{"type":"ip","value":"192.0.2.3"}]}',
        b'{"date":"2026-11-03","id":"bad-ip","items":[{"type":"ip","value":"192.0.2.300"}]}',
    ]
    lines = lines_of(REPORTS)
    lines[700:700] = odd
    lines.append(lines[5])  # a duplicate in a later batch
    found = []
    store = EmbeddedStore(tmp_path, shards=3)
    chunks = [(first + 1, lines[first : first + 500]) for first in range(0, len(lines), 500)]
    store.ingest_lines("protocols", chunks, found.append, batch_size=1_000, processes=True)
    assert sum(outcome.imported for outcome in found) == len(REPORTS) + 2  # the content-id and the two-id reports
    assert sum(outcome.duplicates for outcome in found) == 1
    rejected = sorted(rejection for outcome in found for rejection in outcome.rejected)
    assert [number for number, _ in rejected] == [702, 705, 706]
    assert (
        "not valid JSON" in rejected[0][1] and "out of the range" in rejected[1][1] and "IP address" in rejected[2][1]
    )
    sizes = [len(outcome.rejected) + outcome.imported + outcome.duplicates for outcome in found]
    assert sizes[1:3] == [1_000, 1_000] and sum(sizes) == len(lines) - 1  # the two-id line: a later batch
    assert sizes[0] == 999
    assert store.search(Filters(report_id="moved")).total == 1  # the last id of the line, in its own shard
    for report in ("twice", "far", "bad-ip"):
        assert store.search(Filters(report_id=report)).total == 0
    assert store.ingest([report for report in REPORTS[:10]]).duplicates == 10  # found in the shard its id names
    store.close()


def test_a_batch_not_every_shard_committed_is_never_seen_and_is_deleted(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, shards=2, hold_writer=False)
    store.ingest(CORPUS)
    folder = store.index("protocols").folder
    state = read_state(folder)
    before = answers(store)
    # A crash between the shards' commits: shard 0 holds batch n + 1, the state still names n.
    extra = [report for report in REPORTS[:40] if shard_of(report.id, 2) == 0]
    crashed = ShardWriter(folder, "protocols", 0, 2, None)
    crashed.add(state.batch + 1, list(enumerate(lines_of(extra))))
    crashed.finish(state.batch + 1)
    crashed.release()
    store.refresh()
    view = store.index("protocols").view()
    assert view.torn and sum(searcher.num_docs for searcher in view.searchers) == len(CORPUS) + len(extra)
    assert answers(store) == before  # readers leave the batch out
    store.close()
    reopened = EmbeddedStore(tmp_path)  # the next writer deletes it
    assert not reopened.index("protocols").view().torn and read_state(folder).deleted
    assert answers(reopened) == before
    assert reopened.ingest(extra).imported == len(extra)  # and the import, run again, completes it
    reopened.close()


def test_flags_a_crash_left_unwritten_are_written_by_the_next_writer(tmp_path: Path) -> None:
    successor = Report(
        date=CORPUS[1].date, items=(*CORPUS[1].items, Item(SUPERSEDES, CORPUS[1].id, "", True)), id="successor"
    )
    store = EmbeddedStore(tmp_path, shards=2, hold_writer=False)
    store.ingest(CORPUS)
    folder = store.index("protocols").folder
    # The batch of the successor committed, then a crash before its predecessor was flagged.
    writer = ShardWriter(folder, "protocols", shard_of("successor", 2), 2, None)
    state = read_state(folder)
    writer.add(state.batch + 1, [(1, stored_form(successor))])
    finished = writer.finish(state.batch + 1)
    writer.release()
    write_state(folder, State(state.batch + 1, state.documents + 1, reconcile=True))
    assert CORPUS[1].id in [report.id for report in store.iter_matches(Filters())]
    store.close()
    store = EmbeddedStore(tmp_path)
    visible = [report.id for report in store.iter_matches(Filters())]
    assert CORPUS[1].id not in visible and "successor" in visible
    assert not read_state(folder).reconcile and finished.names == [CORPUS[1].id]
    newest = store.search(Filters(most_recent=True))
    assert CORPUS[1].id not in [report.id for report in newest.reports]
    store.close()


def test_a_report_dated_where_the_index_cannot_order_it_is_refused(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    old = Report(date=dt.date(1969, 12, 31), items=CORPUS[0].items, id="old")
    assert store.ingest([old]).imported == 1  # before 1970: stored (not an observation)
    late = Report(date=dt.date(2100, 1, 1), items=CORPUS[0].items, id="late")
    with pytest.raises(Exception, match="out of the range the embedded store orders"):
        store.ingest([late])
    assert [report.id for report in store.search(Filters()).reports] == ["old"]
    hit = store.index("protocols").page(store.index("protocols").view(), Filters(), 0, 1)[1][0]
    assert orjson.loads(stored(store.index("protocols").view(), hit))["id"] == "old"
    store.close()


def test_after_a_failed_batch_the_next_one_starts_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path, shards=2)
    store.ingest(CORPUS[:4])
    finish = ShardWriter.finish

    def full_disk(self: ShardWriter, batch: int) -> object:
        if self.shard == 1:
            raise OSError(28, "No space left on device")
        return finish(self, batch)

    with monkeypatch.context() as patch:
        patch.setattr(ShardWriter, "finish", full_disk)
        with pytest.raises(OSError):
            store.ingest(CORPUS[4:])
    assert store.count() == 4  # shard 0 committed its part of the batch: left out until deleted
    assert store.ingest(CORPUS).imported == len(CORPUS) - 4
    assert store.count() == len(CORPUS) and not store.index("protocols").view().torn
    store.close()


def test_writers_that_take_turns_see_what_the_other_stored(tmp_path: Path) -> None:
    serving = EmbeddedStore(tmp_path, shards=2, hold_writer=False)
    serving.ingest(CORPUS[:2])
    importing = EmbeddedStore(tmp_path, hold_writer=False)
    assert importing.ingest(CORPUS[:6]).imported == 4
    assert serving.ingest(CORPUS[:8]).duplicates == 6  # what the other one stored since is found
    assert importing.count() == serving.count() == 8
    serving.close()
    importing.close()


def test_every_shard_s_work_sees_the_query_s_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards searched on the pool's threads see the limit of the query that asked (store/deadline.py), so a
    query past its limit stops in every shard, not only in the one its own thread searches."""
    monkeypatch.setattr(shards, "PARALLEL_FROM", 0)  # the corpus is small: search its shards on the pool anyway
    store = EmbeddedStore(tmp_path, shards=3)
    store.ingest(CORPUS)
    view = store.index("protocols").view()
    limit = deadline.Deadline.after(5)
    found = deadline.run_within(limit, lambda: view.map(lambda searcher: (deadline.current(), threading.get_ident())))
    assert [seen for seen, _ in found] == [limit] * 3
    assert len({thread for _, thread in found}) > 1
    store.close()


def test_a_small_index_searches_its_shards_in_the_asking_thread(tmp_path: Path) -> None:
    """Below PARALLEL_FROM documents a shard's search costs about what handing it to another thread does."""
    store = EmbeddedStore(tmp_path, shards=3)
    store.ingest(CORPUS)
    view = store.index("protocols").view()
    assert view.state.documents < shards.PARALLEL_FROM
    assert view.map(lambda searcher: threading.get_ident()) == [threading.get_ident()] * 3
    store.close()
