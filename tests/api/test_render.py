"""The API's bytes: the inlined report dictionary is ``Report.as_dict``, and pages joined from an engine's stored
bytes are exactly the pages rendered from its reports (``Store.search_rendered``'s default)."""

from __future__ import annotations

import orjson
import pytest

from shoal.api.render import page_response
from shoal.errors import NoResults
from shoal.model import report_dict
from shoal.store.base import MAX_PAGES, PAGE_SIZE, Filters, Page, Store
from shoal.store.embedded.schema import report_from_stored, stored_form
from tests.corpus import CORPUS
from tests.generated import generated_reports


def test_report_dict_is_as_dict() -> None:
    for report in [*CORPUS, *generated_reports(500, seed=9)]:
        assert report_dict(report) == report.as_dict()
        option = orjson.OPT_SORT_KEYS
        assert orjson.dumps(report_dict(report), option=option) == orjson.dumps(report.as_dict(), option=option)


def page_body(page: Page, number: int) -> dict[str, object]:
    """A result page as the API documents it, rendered from the Reports."""
    return {
        "page": number,
        "pages": min(-(-page.total // PAGE_SIZE), MAX_PAGES),
        "result_count": page.total,
        "results": [report_dict(report) for report in page.reports],
    }


def test_a_page_of_stored_bytes_is_the_rendered_page(corpus_store: Store) -> None:
    """``page_response`` joins the engine's API JSON (stored, or rendered by default): the same bytes as
    rendering the Reports."""
    for filters, number in [(Filters(), 0), (Filters(most_recent=True), 0)]:
        expected = orjson.dumps(page_body(corpus_store.search(filters), number), option=orjson.OPT_SORT_KEYS)
        assert page_response(corpus_store, filters, number).body == expected
        assert Store.search_rendered(corpus_store, filters) == corpus_store.search_rendered(filters)
    with pytest.raises(NoResults):
        page_response(corpus_store, Filters(), 1)


def test_stored_form_is_the_api_json() -> None:
    for report in [*CORPUS, *generated_reports(200, seed=3)]:
        assert stored_form(report) == orjson.dumps(report.as_dict(), option=orjson.OPT_SORT_KEYS)
        assert report_from_stored(stored_form(report), report.dataset) == report
