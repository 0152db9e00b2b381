"""Query semantics, pinned for every engine: the cases are data (``cases/search.txt``, ``cases/summaries.jsonl``,
one a line), run on the corpus beside them (``cases/corpus.jsonl``, loaded by ``tests/corpus.py``) by each engine
in turn (``corpus_store``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from shoal.model import DATASET_TABLE, DATASETS, PROTOCOLS
from shoal.query.check import BUILTIN_TYPES, check
from shoal.query.parser import parse
from shoal.store.base import Filters, Store, SummaryRequest
from tests.corpus import CORPUS

CASES = Path(__file__).parent / "cases"


def read_search_cases() -> list[tuple[str, dict[str, Any], list[str]]]:
    """``cases/search.txt``: one case a line, ``expression | options | expected ids`` (no "|" in an expression)."""
    cases = []
    for line in (CASES / "search.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        expression, options, expected = (part.strip() for part in line.rsplit("|", 2))
        cases.append((expression, parse_options(options), expected.split()))
    return cases


def parse_options(text: str) -> dict[str, Any]:
    """``name=value`` pairs: booleans, whole numbers and text (dates and networks are converted by filters_for)."""
    options: dict[str, Any] = {}
    for pair in text.split():
        name, value = pair.split("=", 1)
        options[name] = {"true": True, "false": False}.get(value, int(value) if value.isdigit() else value)
    return options


def read_summary_cases() -> list[tuple[str, dict[str, Any], SummaryRequest, list[tuple[str, int]], int, int]]:
    """``cases/summaries.jsonl``: one JSON object a line."""
    cases = []
    for line in (CASES / "summaries.jsonl").read_text().splitlines():
        case = json.loads(line)
        request = SummaryRequest(
            case["summarize"],
            tuple(case.get("contexts", ())),
            tuple(case.get("excluded_contexts", ())),
            case.get("limit", 100),
        )
        values = [(value, count) for value, count in case["values"]]
        cases.append((case["expression"], case["options"], request, values, case["other"], case["cardinality"]))
    return cases


SEARCH_CASES = read_search_cases()
SUMMARY_CASES = read_summary_cases()


def filters_for(expression: str, options: dict[str, Any], store: Store, dataset: str = PROTOCOLS) -> Filters:
    fields = dict(options)
    if "ip" in fields:
        fields["ip"] = ipaddress.ip_network(fields["ip"])
    for name in ("date_from", "date_to"):
        if name in fields:
            fields[name] = dt.date.fromisoformat(fields[name])
    known = set(BUILTIN_TYPES) | store.known_types()
    return Filters(dataset=dataset, expression=check(parse(expression), known) if expression else None, **fields)


def on_protocols_and_one_more(cases: list[Any]) -> list[Any]:
    """Each case on protocols and on one other dataset, the others taken in turn (case i on the i-th modulo their
    number): every dataset answers its share of the cases, and every case is shown to answer the same in a second
    dataset of the same store (running each case on all seven datasets took most of CI's conformance time). A
    most_recent case goes only where the dataset's identity is the protocols one ({ip, port}), which its ids
    assume (every dataset's own identity: cases/identities.jsonl)."""
    services = DATASET_TABLE[PROTOCOLS].identity
    params = []
    for index, case in enumerate(cases):
        others = [
            dataset
            for dataset in DATASETS
            if dataset != PROTOCOLS and (DATASET_TABLE[dataset].identity == services or not case[1].get("most_recent"))
        ]
        for dataset in [PROTOCOLS, *others[index % len(others) : index % len(others) + 1]] if others else [PROTOCOLS]:
            params.append(pytest.param(dataset, *case, id=f"{dataset}-{index}"))
    return params


@pytest.mark.parametrize(("dataset", "expression", "options", "expected"), on_protocols_and_one_more(SEARCH_CASES))
def test_search(
    corpus_store: Store, dataset: str, expression: str, options: dict[str, Any], expected: list[str]
) -> None:
    page = corpus_store.search(filters_for(expression, options, corpus_store, dataset))
    assert [report.id for report in page.reports] == expected
    assert page.total == len(expected)
    assert {report.dataset for report in page.reports} <= {dataset}


# Host counts on the search cases with options (addresses, days, most_recent: each engine's other paths) and on
# every eighth of the rest: enough to cover each way a selection is counted, at a fraction of the cost.
HOST_CASES = [case for index, case in enumerate(SEARCH_CASES) if case[1] or index % 8 == 0]


@pytest.mark.parametrize(
    ("expression", "options", "expected"),
    [pytest.param(*case, id=f"hosts-{index}") for index, case in enumerate(HOST_CASES)],
)
def test_host_count_is_the_distinct_scanned_addresses_of_the_matches(
    corpus_store: Store, expression: str, options: dict[str, Any], expected: list[str]
) -> None:
    """``Store.host_count`` (the API's ``host_count``, ``shoal count``'s hosts) on every search case: the distinct
    scanned addresses of the reports the case finds, recounted here in Python."""
    addresses = {report.id: report.ip for report in CORPUS}
    filters = filters_for(expression, options, corpus_store)
    assert corpus_store.host_count(filters) == len({addresses[report_id] for report_id in expected})


def test_all_reports_newest_first_ties_by_id_descending(corpus_store: Store) -> None:
    ids = [report.id for report in corpus_store.search(Filters()).reports]
    assert ids == [
        "r16",
        "r15",
        "r14",
        "r13",
        "r12",
        "r11",
        "r10",
        "r09",
        "r08",
        "r07",
        "r06",
        "r03",
        "r05",
        "r02",
        "r04",
        "r01",
    ]


def test_paging_walks_every_report_once(corpus_store: Store) -> None:
    everything = [report.id for report in corpus_store.search(Filters()).reports]
    paged = [r.id for offset in range(0, 16, 5) for r in corpus_store.search(Filters(), offset=offset, limit=5).reports]
    assert paged == everything


def test_iter_matches_is_search_without_pages(corpus_store: Store) -> None:
    filters = filters_for("title:london", {}, corpus_store)
    assert [r.id for r in corpus_store.iter_matches(filters)] == ["r06", "r02", "r01"]


def test_reports_come_back_exactly_as_stored(corpus_store: Store) -> None:
    stored = {report.id: report for report in corpus_store.search(Filters()).reports}
    assert stored == {report.id: report for report in CORPUS}


@pytest.mark.parametrize(
    ("dataset", "expression", "options", "request_", "values", "other", "cardinality"),
    on_protocols_and_one_more(SUMMARY_CASES),
)
def test_summarize(
    corpus_store: Store,
    dataset: str,
    expression: str,
    options: dict[str, Any],
    request_: SummaryRequest,
    values: list[tuple[str, int]],
    other: int,
    cardinality: int,
) -> None:
    summary = corpus_store.summarize(filters_for(expression, options, corpus_store, dataset), request_)
    assert summary.values == values
    assert summary.other == other
    assert summary.cardinality == cardinality
