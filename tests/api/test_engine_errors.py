"""An engine's own failure inside a search is a 503 with the JSON error body, on every path of every engine: the
translation is one boundary (``Store``'s reading methods), not a wrapper each engine remembers to write. Forced
here with a real tantivy error: every search of the embedded index orders by a field its schema lacks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tantivy
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.errors import StoreError
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.index import ReportIndex
from shoal.store.embedded.shards import View
from shoal.tokens import TokenStore
from tests.api.conftest import assert_error
from tests.corpus import CORPUS


class FailingSearcher:
    """A real tantivy searcher, each of whose searches tantivy refuses (ValueError: no such field)."""

    def __init__(self, searcher: tantivy.Searcher) -> None:
        self.searcher = searcher

    def search(self, query: tantivy.Query, limit: int = 10, count: bool = True, *args: Any, **options: Any) -> Any:
        return self.searcher.search(query, limit, count, "no-such-field")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.searcher, name)


def fail_every_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shard's searcher of every embedded index fails, as tantivy does."""
    real = ReportIndex.view

    def failing_view(index: ReportIndex) -> View:
        view = real(index)
        return dataclasses.replace(view, searchers=tuple(FailingSearcher(searcher) for searcher in view.searchers))

    monkeypatch.setattr(ReportIndex, "view", failing_view)


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    store = EmbeddedStore(tmp_path / "store")
    store.ingest(CORPUS)
    fail_every_search(monkeypatch)
    app = create_app(store, TokenStore(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {app.state.tokens.create('errors')}"
        yield client
    store.close()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/scan/protocols", {"expression": "port-tcp:443"}),  # a page: the stored bytes, joined
        ("/v1/scan/domains", {"ip": "8.8.8.8"}),
        ("/v1/scan/protocols/body", {"expression": "port-tcp:443"}),
        ("/v1/scan/protocols/export", {"expression": "port-tcp:443"}),
    ],
)
def test_a_tantivy_failure_is_a_503_with_the_json_error_body(
    failing: TestClient, path: str, params: dict[str, str]
) -> None:
    body = assert_error(failing.get(path, params=params), 503)
    assert body["code"] == "store"
    assert body["error"].startswith("the embedded engine failed:") and "no-such-field" in body["error"]


def test_every_reading_method_translates_the_engines_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(CORPUS)
    fail_every_search(monkeypatch)
    for call in (
        lambda: store.search(Filters()),
        lambda: store.search_rendered(Filters()),
        lambda: list(store.iter_matches(Filters())),
    ):
        with pytest.raises(StoreError, match="the embedded engine failed") as raised:
            call()
        assert isinstance(raised.value.__cause__, ValueError)
    store.close()
