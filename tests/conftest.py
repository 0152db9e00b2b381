"""Shared fixtures: the fixed corpus loaded into every engine (one conformance suite, parametrised by engine),
in every dataset (the same semantics on every dataset's endpoint)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from shoal.model import DATASETS
from shoal.store.base import Store
from shoal.store.embedded import EmbeddedStore
from tests.corpus import CORPUS

ENGINES: dict[str, Callable[[Path], Store]] = {"embedded": EmbeddedStore}


@pytest.fixture(scope="session", params=sorted(ENGINES))
def corpus_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = ENGINES[request.param](tmp_path_factory.mktemp(f"corpus-{request.param}"))
    store.ingest([replace(report, dataset=dataset) for dataset in DATASETS for report in CORPUS])
    yield store
    store.close()


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    store = EmbeddedStore(tmp_path)
    yield store
    store.close()
