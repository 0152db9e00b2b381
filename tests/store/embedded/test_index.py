"""The embedded engine itself: its export cursor on the sort key, writer locks and type cache across processes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shoal.store.base import Filters, Store


def test_iter_matches_walks_past_chunks_and_tied_keys(empty_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Export pages by a cursor on the sort key: every report once, newest first, across chunk borders and ties."""
    from shoal.model import Item, Report
    from shoal.store.embedded import index

    monkeypatch.setattr(index, "SCAN_CHUNK", 3)
    target = (Item("ip", "192.0.2.9", "", True), Item("port-tcp", "80", "", True))
    reports = [Report(date=dt.date(2026, 11, 1 + n % 3), id=f"same-prefix-{n:02d}", items=target) for n in range(10)]
    empty_store.ingest(reports)
    walked = [report.id for report in empty_store.iter_matches(Filters())]
    assert sorted(walked) == sorted(report.id for report in reports)
    assert len(walked) == len(set(walked)) == 10
    days = [int(report_id[-2:]) % 3 for report_id in walked]
    assert days == sorted(days, reverse=True)


def test_a_store_that_does_not_hold_the_writer_lets_others_write(tmp_path: Path) -> None:
    from shoal.store.embedded import EmbeddedStore
    from tests.corpus import CORPUS

    serving = EmbeddedStore(tmp_path, hold_writer=False)
    serving.ingest(CORPUS[:5])
    importing = EmbeddedStore(tmp_path)
    assert importing.ingest(CORPUS[5:]).imported == 11
    importing.close()
    serving.refresh()
    assert serving.count() == 16


def test_known_types_follow_imports_by_another_process(tmp_path: Path) -> None:
    """A serving store sees the types another writer adds once its reader reloads, with no refresh() call."""
    from shoal.model import Item, Report
    from shoal.store.embedded import EmbeddedStore
    from tests.corpus import CORPUS

    serving = EmbeddedStore(tmp_path, hold_writer=False)
    serving.ingest(CORPUS[:1])
    assert "favicon-mmh3" not in serving.known_types()
    importing = EmbeddedStore(tmp_path)
    extra = Item("favicon-mmh3", "116323821", "", False)
    importing.ingest([Report(date=dt.date(2026, 11, 9), id="fav", items=(*CORPUS[1].items, extra))])
    importing.close()
    serving.refresh()
    assert "favicon-mmh3" in serving.known_types()
