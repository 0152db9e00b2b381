"""``shoal ct follow`` against the test log (tests/ct/log_server.py, a protocol fixture): every entry imported
once, resumed from its position, unharmed by ``kill -9`` and by a hostile log."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from shoal.ct.follow import LogClient, follow, log_base, position_path, read_position
from shoal.model import CT, Report
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from tests.collect.conftest import BLOCK
from tests.ct.log_server import FIRST_ENTRY, FixtureLog, serving

LOG_IP = f"127.{BLOCK}.24.1"
SHOAL = [sys.executable, "-m", "shoal"]


def reports(data: Path) -> list[Report]:
    store = EmbeddedStore(data)
    try:
        return list(store.iter_matches(Filters(dataset=CT)))
    finally:
        store.close()


def indexes(data: Path) -> list[int]:
    return sorted(int(next(i.value for i in r.items if i.type == "ct-index")) for r in reports(data))


def ct_follow(url: str, data: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [*SHOAL, "ct", "follow", url, "--once", "--rate", "1000/s", *options, "--data", str(data)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_every_entry_once_then_nothing_new(tmp_path: Path) -> None:
    log = FixtureLog(150)
    with serving(log, LOG_IP) as url:
        first = ct_follow(url, tmp_path, "--batch", "100")
        assert first.returncode == 0, first.stderr
        assert "imported 150, duplicate 0, rejected 0; next index 150 of tree size 150" in first.stdout
        again = ct_follow(url, tmp_path)
        assert "imported 0, duplicate 0, rejected 0; next index 150 of tree size 150" in again.stdout
        log.grow(10)  # the log grew: the next run reads only the new entries
        grown = ct_follow(url, tmp_path)
        assert "imported 10, duplicate 0, rejected 0; next index 160 of tree size 160" in grown.stdout
    assert indexes(tmp_path) == list(range(160))
    stored = {int(next(i.value for i in r.items if i.type == "ct-index")): r for r in reports(tmp_path)}
    for logged in (log.certificates[0], log.certificates[1], log.certificates[155]):
        items = {(item.type, item.context, item.value) for item in stored[logged.index].items}
        assert ("cert-sha256", "", hashlib.sha256(logged.der).hexdigest()) in items
        assert {("host", "cert-dns-name", name) for name in logged.names} <= items
        assert {("ip", "cert-ip-address", address) for address in logged.addresses} <= items
        assert ("ct-entry-type", "", "precert" if logged.precert else "x509") in items
        assert ("ct-log", "", log_base(url)) in items
        assert stored[logged.index].date == (FIRST_ENTRY + dt.timedelta(hours=logged.index)).date()  # its timestamp


def test_from_index(tmp_path: Path) -> None:
    with serving(FixtureLog(40), LOG_IP) as url:
        result = ct_follow(url, tmp_path, "--from-index", "30")
    assert "imported 10, duplicate 0" in result.stdout
    assert indexes(tmp_path) == list(range(30, 40))


@pytest.mark.slow
def test_kill_9_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    with serving(FixtureLog(200), LOG_IP) as url:
        command = [*SHOAL, "ct", "follow", url, "--once", "--batch", "10", "--rate", "10/s", "--data", str(tmp_path)]
        follower = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        position = position_path(tmp_path, log_base(url))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if position.exists() and orjson.loads(position.read_bytes())["next_index"] >= 60:
                break
            time.sleep(0.02)
        os.kill(follower.pid, signal.SIGKILL)
        follower.wait()
        killed_at = read_position(tmp_path, log_base(url))
        assert killed_at is not None and 60 <= killed_at.next_index < 200
        assert indexes(tmp_path)[: killed_at.next_index] == list(range(killed_at.next_index))  # nothing lost
        resumed = ct_follow(url, tmp_path)
        assert resumed.returncode == 0, resumed.stderr
    assert indexes(tmp_path) == list(range(200))  # every entry, each once


def test_a_hostile_log_is_retried_and_bad_entries_are_rejected(tmp_path: Path) -> None:
    log = FixtureLog(50, hostile=True)
    with serving(log, LOG_IP) as url:
        store = EmbeddedStore(tmp_path)
        client = LogClient(log_base(url), rate=1000.0, sleep=lambda _: None)
        try:
            result = follow(store, tmp_path, client, batch=8)
        finally:
            client.close()
            store.close()
    garbage = [index for index in range(50) if index % 7 == 3]
    assert [rejected.line for rejected in result.totals.rejected] == garbage
    assert result.totals.imported == 50 - len(garbage) and result.next_index == 50
    assert indexes(tmp_path) == [index for index in range(50) if index not in garbage]


def test_a_log_that_is_not_there_is_an_error_and_keeps_the_position(tmp_path: Path) -> None:
    result = ct_follow(f"http://{LOG_IP}:9/nothing/", tmp_path)
    assert result.returncode == 2 and "cannot read" in result.stderr
    bad = ct_follow("ftp://log.example/", tmp_path)
    assert bad.returncode == 2 and "http:// or https://" in bad.stderr
