"""Adding an engine is one package and one registry line: a toy engine (``tests/store/toy``, every report in
memory, the plan evaluated in Python) registered by the line below passes the conformance suite's structural
checks, and its query semantics are the conformance cases' too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shoal.model import DATASETS
from shoal.store.base import Store
from shoal.store.registry import ENGINES, engine_of, open_store
from tests.corpus import CORPUS
from tests.store.structure import check_structure
from tests.store.test_conformance import SEARCH_CASES, SUMMARY_CASES, filters_for


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Store]:
    monkeypatch.setitem(ENGINES, "toy", "tests.store.toy")  # the one registry line
    store = open_store(f"toy://{tmp_path}", tmp_path)
    yield store
    store.close()


def test_the_toy_engine_is_opened_by_its_url(toy: Store) -> None:
    assert type(toy) is engine_of("toy:///anywhere") and type(toy).__name__ == "ToyStore"


def test_the_toy_engine_has_the_structure(toy: Store) -> None:
    check_structure(toy)


def test_the_toy_engine_meets_the_conformance_cases(toy: Store) -> None:
    toy.ingest([replace(report, dataset=dataset) for dataset in DATASETS for report in CORPUS])
    for expression, options, expected in SEARCH_CASES:
        found: Any = toy.search(filters_for(expression, options, toy))
        assert [report.id for report in found.reports] == expected, (expression, options)
    for expression, options, request, values, other, cardinality in SUMMARY_CASES:
        summary = toy.summarize(filters_for(expression, options, toy), request)
        assert (summary.values, summary.other, summary.cardinality) == (values, other, cardinality), expression
