"""``changes_between``: the watched fields that differ between two API-shaped reports, old → new."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.changes import changes_between


def report(*items: tuple[str, str, str]) -> dict[str, Any]:
    listed = [{"type": "ip", "context": "", "value": "192.0.2.1", "is_metadata": True}]
    listed += [{"type": t, "context": c, "value": v, "is_metadata": False} for t, c, v in items]
    return {"date": "2026-12-01", "id": "x", "items": listed}


BASE = (
    ("server-banner", "http", "HTTP/1.1 200 OK"),
    ("title", "", "Welcome"),
    ("product-tag", "", "nginx"),
    ("cert-sha256", "", "aa"),
    ("jarm", "", "j1"),
    ("ja4s-hash", "", "s1"),
    ("ja4x-hash", "", "x1"),
)


def altered(item_type: str, value: str | None) -> tuple[tuple[str, str, str], ...]:
    kept = tuple(item for item in BASE if item[0] != item_type)
    return kept if value is None else (*kept, (item_type, "", value))


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (BASE, []),
        (
            altered("server-banner", "HTTP/1.1 503 Service Unavailable"),
            [
                {"field": "banner", "old": "HTTP/1.1 200 OK", "new": "HTTP/1.1 503 Service Unavailable"},
                {"field": "http-status", "old": "200", "new": "503"},
            ],
        ),
        (altered("title", "Hello"), [{"field": "title", "old": "Welcome", "new": "Hello"}]),
        (altered("title", None), [{"field": "title", "old": "Welcome", "new": None}]),
        (
            (*BASE, ("product-tag", "", "php")),
            [{"field": "product-tag", "old": "nginx", "new": ["nginx", "php"]}],
        ),
        (altered("cert-sha256", "bb"), [{"field": "certificate", "old": "aa", "new": "bb"}]),
        (altered("jarm", "j2"), [{"field": "jarm", "old": "j1", "new": "j2"}]),
        (altered("ja4s-hash", "s2"), [{"field": "ja4s", "old": "s1", "new": "s2"}]),
        (altered("ja4x-hash", "x2"), [{"field": "ja4x", "old": "x1", "new": "x2"}]),
        ((*BASE, ("http-header", "date", "Tue")), []),  # not a watched field
    ],
)
def test_changes_name_each_watched_field_old_and_new(new: tuple[tuple[str, str, str], ...], expected: list) -> None:
    assert changes_between(report(*BASE), report(*new)) == expected


def test_a_report_with_nothing_watched_changes_from_none() -> None:
    assert changes_between({"items": []}, report(("title", "", "T"))) == [{"field": "title", "old": None, "new": "T"}]
