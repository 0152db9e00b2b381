"""The data model: Driftnet's report shape, validated on the way in."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from shoal.model import InvalidReport, Item, Report, new_report_id

GOOD = {
    "date": "2026-11-01",
    "id": "abc",
    "items": [
        {"context": "", "is_metadata": True, "type": "ip", "value": "192.0.2.1"},
        {"context": "", "is_metadata": True, "type": "port-tcp", "value": "443"},
        {"context": "Server", "is_metadata": False, "type": "http-header", "value": "nginx"},
    ],
}


def test_round_trip_keeps_shape_and_key_order() -> None:
    report = Report.from_dict(GOOD)
    assert report.as_dict() == GOOD
    assert list(report.as_dict()) == ["date", "id", "items"]
    assert list(report.as_dict()["items"][0]) == ["context", "is_metadata", "type", "value"]
    assert (report.ip, report.port) == ("192.0.2.1", 443)


def test_new_ids_are_22_url_safe_characters_and_random() -> None:
    ids = {new_report_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", report_id) for report_id in ids)


def test_missing_id_is_derived_from_content_so_reimport_is_idempotent() -> None:
    without_id = {key: value for key, value in GOOD.items() if key != "id"}
    first, second = Report.from_dict(without_id), Report.from_dict(dict(without_id))
    assert first.id == second.id and re.fullmatch(r"[A-Za-z0-9_-]{22}", first.id)
    changed = {**without_id, "date": "2026-11-02"}
    assert Report.from_dict(changed).id != first.id


def test_defaults_for_optional_item_fields() -> None:
    report = Report.from_dict({"date": "2026-11-01", "items": [{"type": "title", "value": "x"}]})
    assert report.items == (Item("title", "x", "", False),)
    assert report.date == dt.date(2026, 11, 1)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "JSON object"),
        ({"items": GOOD["items"]}, "'date'"),
        ({**GOOD, "date": "2026-02-30"}, "'date'"),
        ({**GOOD, "items": []}, "'items'"),
        ({**GOOD, "items": "x"}, "'items'"),
        ({**GOOD, "id": 5}, "'id'"),
        ({**GOOD, "id": ""}, "'id'"),
        ({**GOOD, "items": [{"type": "", "value": "x"}]}, "'type'"),
        ({**GOOD, "items": [{"type": "t", "value": None}]}, "'value'"),
        ({**GOOD, "items": [{"type": "t", "value": "v", "context": 3}]}, "'context'"),
        ({**GOOD, "items": [{"type": "t", "value": "v", "is_metadata": "yes"}]}, "'is_metadata'"),
        ({**GOOD, "items": [{"type": "ip", "value": "999.1.1.1"}]}, "IP address"),
        ({**GOOD, "items": [{"type": "port-tcp", "value": "70000"}]}, "port"),
        ({**GOOD, "items": [["ip", "1.2.3.4"]]}, "JSON object"),
    ],
)
def test_invalid_reports_say_what_is_wrong(data: object, reason: str) -> None:
    with pytest.raises(InvalidReport, match=re.escape(reason)):
        Report.from_dict(data)
