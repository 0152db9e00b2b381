"""The page renderer's inlined report dictionary is exactly ``Report.as_dict`` (the API's bytes depend on it)."""

from __future__ import annotations

import orjson

from shoal.api.render import report_dict
from tests.corpus import CORPUS
from tests.generated import generated_reports


def test_report_dict_is_as_dict() -> None:
    for report in [*CORPUS, *generated_reports(500, seed=9)]:
        assert report_dict(report) == report.as_dict()
        option = orjson.OPT_SORT_KEYS
        assert orjson.dumps(report_dict(report), option=option) == orjson.dumps(report.as_dict(), option=option)
