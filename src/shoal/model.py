"""The one data model: a Report is a dated set of Items about one ip:port.

Shapes are exactly Driftnet's: ``{"date", "id", "items": [{"context", "is_metadata", "type", "value"}]}``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any

ID_LENGTH = 22


def new_report_id() -> str:
    """A 22-character URL-safe random id (128 bits of randomness, like Driftnet's)."""
    return secrets.token_urlsafe(16)[:ID_LENGTH]


class InvalidReport(ValueError):
    """A report (or a line holding one) does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Item:
    type: str
    value: str
    context: str = ""
    is_metadata: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"context": self.context, "is_metadata": self.is_metadata, "type": self.type, "value": self.value}


@dataclass(frozen=True, slots=True)
class Report:
    date: dt.date
    items: tuple[Item, ...]
    id: str = field(default_factory=new_report_id)

    @property
    def ip(self) -> str | None:
        """The scanned address: the first ``ip`` item with an empty context."""
        for item in self.items:
            if item.type == "ip" and item.context == "":
                return item.value
        return None

    @property
    def port(self) -> int | None:
        """The scanned TCP port: the first ``port-tcp`` item with an empty context."""
        for item in self.items:
            if item.type == "port-tcp" and item.context == "":
                try:
                    return int(item.value)
                except ValueError:
                    return None
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "id": self.id, "items": [item.as_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """Validate and build a report from its JSON shape; raises InvalidReport saying what is wrong."""
        if not isinstance(data, dict):
            raise InvalidReport("a report must be a JSON object")
        date = _parse_date(data.get("date"))
        report_id = data.get("id")
        if report_id is None:
            report_id = new_report_id()
        elif not isinstance(report_id, str) or not report_id or len(report_id) > 128:
            raise InvalidReport("'id' must be a non-empty string of at most 128 characters")
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise InvalidReport("'items' must be a non-empty list")
        items = tuple(_parse_item(raw, n) for n, raw in enumerate(raw_items))
        report = cls(date=date, items=items, id=report_id)
        _check_target(report)
        return report


def _parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise InvalidReport("'date' must be a string YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidReport(f"'date' is not a valid YYYY-MM-DD date: {value!r}") from exc


def _parse_item(raw: Any, n: int) -> Item:
    if not isinstance(raw, dict):
        raise InvalidReport(f"item {n} must be a JSON object")
    item_type, value, context = raw.get("type"), raw.get("value"), raw.get("context", "")
    is_metadata = raw.get("is_metadata", False)
    if not isinstance(item_type, str) or not item_type:
        raise InvalidReport(f"item {n}: 'type' must be a non-empty string")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidReport(f"item {n}: 'value' must be a string")
    if context is None:
        context = ""
    if not isinstance(context, str):
        raise InvalidReport(f"item {n}: 'context' must be a string")
    if not isinstance(is_metadata, bool):
        raise InvalidReport(f"item {n}: 'is_metadata' must be true or false")
    return Item(type=item_type, value=value, context=context, is_metadata=is_metadata)


def _check_target(report: Report) -> None:
    for item in report.items:
        if item.type == "ip":
            try:
                ipaddress.ip_address(item.value)
            except ValueError as exc:
                raise InvalidReport(f"'ip' item value is not an IP address: {item.value!r}") from exc
        elif item.type == "port-tcp" and item.context == "" and not _is_port(item.value):
            raise InvalidReport(f"'port-tcp' item value is not a port number: {item.value!r}")


def _is_port(value: str) -> bool:
    return value.isascii() and value.isdigit() and 0 <= int(value) <= 65535
