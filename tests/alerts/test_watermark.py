"""The evaluation watermark (embedded engine): a commit no process evaluated — its process killed between the
commit and the evaluation — is evaluated by the next one (an import, ``shoal serve``'s start, a running server's
periodic catch-up) exactly once; a new alert is never evaluated over commits before it; an index rewritten by
``shoal db migrate`` (commits numbered anew) is neither evaluated again nor skipped."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from shoal.alerts.book import ALERTS_FILE, AlertBook
from shoal.alerts.evaluate import AlertWatcher
from shoal.alerts.making import AlertRequest, create_alert
from shoal.ingest.pipeline import ingest_stream
from shoal.store.embedded import EmbeddedStore, migrate
from shoal.store.embedded.shards import read_state
from shoal.store.registry import open_store
from tests.alerts.receiver import Receiver
from tests.alerts.test_delivery import shoal
from tests.alerts.test_evaluate import DAY, HOOK, events, service
from tests.api.serving import running_server
from tests.engines import chdb_store, drop

WAIT = 60.0


def lines(*reports: tuple[str, str]) -> bytes:
    return b"".join(orjson.dumps(service(ip, "HTTP/1.1 200 OK", tag).as_dict()) + b"\n" for ip, tag in reports)


def new_ips(folder: Path) -> list[str]:
    return sorted(one["ip"] for event in events(folder) if event["event"] == "new" for one in event["services"])


def test_an_import_killed_after_its_commit_is_evaluated_by_the_next_import_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(None, data)
    ingest_stream(store, [service("192.0.2.1", "HTTP/1.1 200 OK")])
    create_alert(AlertBook(data), store, AlertRequest("web", "product-tag:nginx", HOOK))
    store.close()
    killed, following = tmp_path / "killed.jsonl", tmp_path / "following.jsonl"
    killed.write_bytes(lines(("192.0.2.2", "nginx"), ("192.0.2.3", "nginx"), ("192.0.2.9", "apache")))
    following.write_bytes(lines(("192.0.2.4", "nginx")))
    # The book held by this test: the import commits, then waits to evaluate; it is killed once its commit is on disk.
    holder = sqlite3.connect(data / ALERTS_FILE, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    command = [sys.executable, "-m", "shoal", "import", str(killed), "--data", str(data), "--workers", "0"]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + WAIT
        while read_state(data / "index").batch < 2:
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            assert time.monotonic() < deadline, "the import did not commit"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        holder.execute("ROLLBACK")
        holder.close()
    assert process.returncode == -signal.SIGKILL
    assert events(data) == []

    ran = shoal(data, "import", str(following), "--workers", "0")
    assert ran.returncode == 0, ran.stderr
    assert [event["event"] for event in events(data)] == ["new", "new"]  # one per commit, the missed one first
    assert new_ips(data) == ["192.0.2.2", "192.0.2.3", "192.0.2.4"]
    store = open_store(None, data)
    assert AlertWatcher(data).catch_up(store) == 0
    store.close()
    assert len(events(data)) == 2


def test_the_server_catches_up_at_start_and_a_newer_alert_not_over_its_past(tmp_path: Path) -> None:
    receiver = Receiver().start()
    data = tmp_path / "data"
    store = open_store(None, data)
    ingest_stream(store, [service("192.0.2.1", "HTTP/1.1 200 OK")])
    older = create_alert(AlertBook(data), store, AlertRequest("older", "product-tag:nginx", receiver.url))
    watcher, store.watcher = store.watcher, None  # commits no process evaluates (each as if killed after it)
    ingest_stream(store, [service("192.0.2.5", "HTTP/1.1 200 OK")])
    ingest_stream(store, [service("192.0.2.5", "HTTP/1.1 200 OK", tag="apache", day=DAY + dt.timedelta(1))])
    # Made after both: 192.0.2.5 no longer matches, and its nginx past is not new to this alert.
    create_alert(AlertBook(data), store, AlertRequest("newer", "product-tag:nginx", receiver.url))
    store.watcher = watcher
    store.close()
    try:
        with running_server(data):  # it answers once it listens: after its catch-up
            queued = [(event["alert"]["id"], event["event"], event["services"][0]["ip"]) for event in events(data)]
    finally:
        receiver.stop()
    assert queued == [(older.id, "new", "192.0.2.5"), (older.id, "changed", "192.0.2.5")]


def test_a_running_server_catches_up_on_a_commit_no_process_evaluated_once(tmp_path: Path) -> None:
    receiver = Receiver().start()
    data = tmp_path / "data"
    store = open_store(None, data)
    ingest_stream(store, [service("192.0.2.1", "HTTP/1.1 200 OK")])
    create_alert(AlertBook(data), store, AlertRequest("web", "product-tag:nginx", receiver.url))
    store.close()
    try:
        with running_server(data, "--alerts-catch-up", "1"):
            store = open_store(None, data)
            store.watcher = None  # a commit no process evaluates (as if killed after it), made while the server runs
            ingest_stream(store, [service("192.0.2.6", "HTTP/1.1 200 OK")])
            store.close()
            deadline = time.monotonic() + WAIT
            while not events(data):
                assert time.monotonic() < deadline, "the running server did not catch up"
                time.sleep(0.1)
            time.sleep(2.5)  # two more catch-ups at least: nothing is evaluated twice
            queued = events(data)
    finally:
        receiver.stop()
    assert [event["event"] for event in queued] == ["new"] and new_ips(data) == ["192.0.2.6"]


def test_an_index_rewritten_by_migrate_is_not_evaluated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(None, tmp_path)
    history = [service("192.0.2.1", "HTTP/1.1 200 OK")]
    for ip in ("192.0.2.5", "192.0.2.6", "192.0.2.7"):  # nginx once: an event if evaluated again
        history += [service(ip, "a"), service(ip, "a", tag="apache", day=DAY + dt.timedelta(1))]
    ingest_stream(store, history)
    create_alert(AlertBook(tmp_path), store, AlertRequest("web", "product-tag:nginx", HOOK))
    store.close()
    monkeypatch.setattr(migrate, "BATCH", 1)  # one commit a report: more commits than the old index had
    EmbeddedStore.migrate_schema("embedded:", tmp_path, lambda _: None, shards=1)
    store = open_store(None, tmp_path)
    assert store.last_commit("protocols").batch == len(history)  # type: ignore[attr-defined]
    ingest_stream(store, [service("192.0.2.3", "HTTP/1.1 200 OK")])
    store.close()
    assert [one["ip"] for event in events(tmp_path) for one in event["services"]] == ["192.0.2.3"]


def test_clickhouse_numbers_no_commits_and_evaluates_each_batch_as_it_is_stored(
    tmp_path: Path, chdb_folder: Path
) -> None:
    store = chdb_store(chdb_folder)
    store.watcher = AlertWatcher(tmp_path)
    try:
        create_alert(AlertBook(tmp_path), store, AlertRequest("web", "product-tag:nginx", HOOK))
        ingest_stream(store, [service("192.0.2.2", "HTTP/1.1 200 OK")])
    finally:
        drop(store)
    assert new_ips(tmp_path) == ["192.0.2.2"]
    assert AlertBook(tmp_path).db.execute("SELECT count(*) FROM evaluated").fetchone() == (0,)
