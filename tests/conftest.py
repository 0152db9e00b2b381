"""Shared fixtures: the fixed corpus loaded into every engine (one conformance suite, parametrised by engine),
in every dataset (the same semantics on every dataset's endpoint); and once into the embedded engine, for the
tests of what is the same whatever the engine (the API's limits, tokens, errors, fuzzing, the web pages)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from shoal.model import DATASETS
from shoal.store.base import Store
from tests.corpus import CORPUS
from tests.engines import ENGINE_NAMES, chdb_folder, clickhouse_cluster, drop, open_engine

__all__ = ["chdb_folder", "clickhouse_cluster"]


@pytest.fixture(scope="session", params=ENGINE_NAMES)
def corpus_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_engine(request.param, request, tmp_path_factory.mktemp(f"corpus-{request.param}"))
    store.ingest([replace(report, dataset=dataset) for dataset in DATASETS for report in CORPUS])
    yield store
    drop(store)


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The corpus in every dataset of the embedded engine: what API-level tests run on, once."""
    store = open_engine("embedded", None, tmp_path_factory.mktemp("corpus-api"))  # type: ignore[arg-type]
    store.ingest([replace(report, dataset=dataset) for dataset in DATASETS for report in CORPUS])
    yield store
    store.close()


@pytest.fixture(params=ENGINE_NAMES)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of every engine in turn."""
    store = open_engine(request.param, request, tmp_path / "store")
    yield store
    drop(store)


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    """An empty embedded store (tests about the embedded engine itself)."""
    store = open_engine("embedded", None, tmp_path)  # type: ignore[arg-type]
    yield store
    store.close()
