"""What changed between two reports of one service, in what a person watching it cares about.

``changes_between(old, new)`` takes two reports in the API's shape (``{"date", "id", "items": [{"type",
"context", "value", "is_metadata"}]}``) and lists the fields that differ, each ``{"field", "old", "new"}``: the
banner, the page title, the product tags, the certificate, the TLS fingerprints (JARM, JA4S, JA4X) and the HTTP
status (the number in an HTTP banner's status line). A field's value is its one value, the sorted list of its
values when it has several, or None when the report has none. Alerts (``changed``) and host diffs use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# field → the item type it is read from, in the order changes are listed
FIELDS: dict[str, str] = {
    "banner": "server-banner",
    "title": "title",
    "product-tag": "product-tag",
    "certificate": "cert-sha256",
    "jarm": "jarm",
    "ja4s": "ja4s-hash",
    "ja4x": "ja4x-hash",
}
HTTP_STATUS = "http-status"
NAMES = (*FIELDS, HTTP_STATUS)
WATCHED_TYPES = frozenset(FIELDS.values())
FieldValue = str | list[str] | None


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, FieldValue]]:
    """The watched fields whose values differ from ``old`` to ``new``, in ``FIELDS`` order, HTTP status last."""
    return field_changes(watched_fields(old), watched_fields(new))


def field_changes(before: dict[str, FieldValue], after: dict[str, FieldValue]) -> list[dict[str, FieldValue]]:
    """``changes_between`` of two reports' ``watched_fields`` (computed once when a report is compared often)."""
    if before == after:
        return []
    return [{"field": name, "old": before[name], "new": after[name]} for name in NAMES if before[name] != after[name]]


def watched_fields(report: Mapping[str, Any]) -> dict[str, FieldValue]:
    """Each watched field's value in one API-shaped report (what ``changes_between`` compares)."""
    values: dict[str, set[str]] = {item_type: set() for item_type in WATCHED_TYPES}
    statuses: set[str] = set()
    for item in report.get("items", ()):
        item_type, value = item.get("type"), item.get("value")
        if item_type in values and isinstance(value, str):
            values[item_type].add(value)
            if item_type == "server-banner":
                statuses.update(http_status(value))
    fields = {name: one_or_all(values[item_type]) for name, item_type in FIELDS.items()}
    fields[HTTP_STATUS] = one_or_all(statuses)
    return fields


def http_status(banner: str) -> list[str]:
    """The status code of an HTTP status line (``HTTP/1.1 200 OK`` → 200), as a one-element list, else none."""
    words = banner.split(None, 2)
    if len(words) >= 2 and words[0].startswith("HTTP/") and len(words[1]) == 3 and words[1].isdigit():
        return [words[1]]
    return []


def one_or_all(values: Iterable[str]) -> FieldValue:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[0] if len(ordered) == 1 else ordered
