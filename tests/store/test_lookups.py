"""The lookup datasets' own selectors (``scan/favicons``: each hash; ``domain/fdns``: host, ip, nameserver;
``domain/mx``: host, mx), ANDed with everything ``scan/protocols`` takes: the cases are data
(``cases/lookups.jsonl``: a dataset, its reports, then request parameters and the ids they give, newest first),
read as the API reads a request (``Selection``) and run on every engine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from shoal.errors import BadParameter
from shoal.model import DATASET_TABLE, Item, Report
from shoal.request.reading import known_types
from shoal.request.selection import Selection
from shoal.store.base import Store

CASES = [json.loads(line) for line in (Path(__file__).parent / "cases" / "lookups.jsonl").read_text().splitlines()]
METADATA = {"ip", "port-tcp", "url"}


def reports_of(case: dict[str, Any]) -> list[Report]:
    return [
        Report(
            dt.date(2026, 11, day),
            tuple(Item(t, v, c, c == "" and (t in METADATA or t == "host")) for t, c, v in items),
            report_id,
            case["dataset"],
        )
        for report_id, day, items in case["reports"]
    ]


def test_every_dataset_with_selectors_of_its_own_but_rdns_has_cases() -> None:
    with_selectors = {row.name for row in DATASET_TABLE.values() if row.selectors} - {"rdns"}
    assert {case["dataset"] for case in CASES} == with_selectors


@pytest.mark.parametrize("case", CASES, ids=[case["dataset"] for case in CASES])
def test_selectors_select_what_the_cases_say(any_store: Store, case: dict[str, Any]) -> None:
    any_store.ingest(reports_of(case))
    known = known_types(any_store)
    for params, expected in case["cases"]:
        filters = Selection.of(**params).as_filters(known, case["dataset"])
        found = any_store.search(filters)
        assert [report.id for report in found.reports] == expected, (params, case["why"])
        assert found.total == len(expected)


@pytest.mark.parametrize(
    ("dataset", "params", "message"),
    [
        ("fdns", {"host": "..."}, "'host' must be a domain name"),
        ("mx", {"mx": "..."}, "'mx' must be a domain name"),
        ("favicons", {"murmur3": ""}, None),
        ("protocols", {"murmur3": "-1"}, "favicons dataset only"),
        ("fdns", {"mx": "example.org"}, "mx dataset only"),
        ("favicons", {"md5": "d41d8cd98f00b204e9800998ecf8427"}, "'md5' must be 32 hexadecimal digits"),
        ("favicons", {"sha256": "sha256:ab"}, "'sha256' must be 64 hexadecimal digits"),
        ("favicons", {"murmur3": "0x1234"}, "'murmur3' must be a signed 32-bit whole number"),
    ],
)
def test_a_bad_or_misplaced_selector_is_a_bad_parameter(dataset: str, params: dict[str, str], message: str) -> None:
    selection = Selection.of(**params)
    if message is None:  # an empty value is a selector not given
        assert selection.selectors == ()
        return
    with pytest.raises(BadParameter, match=message):
        selection.as_filters(frozenset({"host", "obj-murmur3"}), dataset)
