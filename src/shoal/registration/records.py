"""What the registration readers yield: whole records, checked before anything is written (a record that fails
its checks is a ``Rejected`` with its position instead)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from shoal.model import IPNetwork

ISO_DAY = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


@dataclass(frozen=True, slots=True)
class NetRecord:
    """Networks (one registration, or one announced prefix) of one context."""

    feed: str
    context: str
    networks: tuple[IPNetwork, ...]
    names: list[str]
    org: str = ""
    email: str = ""
    asn: int | None = None
    country: str = ""
    date: str = ""


@dataclass(frozen=True, slots=True)
class OrgRecord:
    feed: str
    handle: str
    name: str
    email: str
    date: str = ""


@dataclass(frozen=True, slots=True)
class AutnumRecord:
    feed: str
    asn: int
    name: str
    org: str = ""
    date: str = ""


RegistrationRecord = NetRecord | OrgRecord | AutnumRecord


def day_of(text: str) -> str:
    """The calendar day at the start of ``text`` (``2026-11-30T…``, ``20261130``) as YYYY-MM-DD, or ""."""
    match = ISO_DAY.match(text.strip())
    if match is None:
        return ""
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return ""
