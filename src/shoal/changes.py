"""What changed between two reports of one service, in what a person cares about.

``changes_between(old, new)`` compares two reports in the API's shape (``{"date", "id", "items": [{"context",
"is_metadata", "type", "value"}]}``) field by field and lists each field that differs as ``{"field", "old",
"new"}``, in the order of ``FIELDS``. A field's value is the distinct values of its items in the order they
appear, joined with `` | `` (``None`` when the report has none). Dates and ids are not compared: a rescan that
sees the same service is no change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JOIN = " | "
Item = dict[str, Any]


def of_type(*types: str) -> Callable[[Item], str | None]:
    """The value of an item of one of ``types`` (any context)."""
    wanted = frozenset(types)
    return lambda item: item.get("value") if item.get("type") in wanted else None


def labelled_banner(item: Item) -> str | None:
    """A banner with its protocol: ``ssh: SSH-2.0-OpenSSH_9.6``."""
    if item.get("type") != "server-banner":
        return None
    context, value = item.get("context") or "", item.get("value")
    return f"{context}: {value}" if context else value


def http_status(item: Item) -> str | None:
    """The status code of an HTTP(S) banner (its status line, ``HTTP/1.1 200 OK`` → ``200``)."""
    if item.get("type") != "server-banner" or item.get("context") not in ("http", "https"):
        return None
    parts = str(item.get("value", "")).split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        return None
    return parts[1]


FIELDS: dict[str, Callable[[Item], str | None]] = {
    "banner": labelled_banner,
    "http-status": http_status,
    "title": of_type("title"),
    "product-tag": of_type("product-tag"),
    "certificate": of_type("cert-sha256"),
    "jarm": of_type("jarm"),
    "ja4s": of_type("ja4s-hash"),
    "ja4x": of_type("ja4x-hash"),
}


def field_value(report: dict[str, Any], read: Callable[[Item], str | None]) -> str | None:
    values = (read(item) for item in report.get("items", ()))
    distinct = dict.fromkeys(value for value in values if value is not None)
    return JOIN.join(distinct) if distinct else None


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field of ``FIELDS`` whose value differs from ``old`` to ``new``: ``{"field", "old", "new"}``."""
    changes = []
    for name, read in FIELDS.items():
        before, after = field_value(old, read), field_value(new, read)
        if before != after:
            changes.append({"field": name, "old": before, "new": after})
    return changes
