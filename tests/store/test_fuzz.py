"""No expression and no request parameters make an engine fail with anything but Shoal's own errors: the API
fuzzer's random expressions and parameters (tests/api/test_fuzz.py, which sends them over HTTP once), read by the
request layer, then searched, paged and summarised on every engine."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from shoal.errors import ShoalError
from shoal.model import DATASETS
from shoal.request.params import PAGE
from shoal.request.reading import known_types, summary_of
from shoal.request.selection import Selection
from shoal.store.base import PAGE_SIZE, Store, SummaryRequest
from tests.api.test_fuzz import EXPRESSIONS, PARAMETERS, VALUES

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(expression=EXPRESSIONS, dataset=st.sampled_from(DATASETS), most_recent=st.booleans())
def test_any_expression_runs_on_every_engine(
    corpus_store: Store, expression: str, dataset: str, most_recent: bool
) -> None:
    try:
        selection = Selection.of(expression=expression, most_recent=most_recent)
        filters = selection.as_filters(known_types(corpus_store), dataset)
    except ShoalError:
        return  # a 400: the request layer's, the same whatever the engine
    page = corpus_store.search(filters)
    assert page.total >= len(page.reports)
    corpus_store.summarize(filters, SummaryRequest("port-tcp"))


@FUZZ
@given(params=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, max_size=5), dataset=st.sampled_from(DATASETS))
def test_any_parameters_run_on_every_engine(corpus_store: Store, params: dict[str, str], dataset: str) -> None:
    values = QueryParams(params)
    types = known_types(corpus_store)
    try:
        filters = Selection.read(values, dataset).as_filters(types, dataset)
        summary = summary_of(values, types, enterprise=True)
        page = PAGE.read(values)
    except ShoalError:
        return
    try:
        if summary is None:
            corpus_store.search_rendered(filters, offset=page * PAGE_SIZE)
        else:
            corpus_store.summarize(filters, summary)
    except ShoalError as exc:
        assert exc.status < 500, exc.message  # an engine may refuse (e.g. a query too complex), never fail
