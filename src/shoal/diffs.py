"""Host and network diffs: which services opened, closed and changed over a span of days.

A service is one (ip, port, transport) of the protocols dataset. Over the span ``[since, until]`` (both days
inclusive; ``until`` None: up to the newest report), against what was known before ``since``:

- **opened**: reported in the span, never before it;
- **closed**: reported before the span, not in it (its newest report says when it was last seen);
- **changed**: reported both before and in the span, and its newest report in the span differs from its newest
  report before it in what ``shoal.changes`` compares (banner, title, product tags, certificate…).

A report that a successor supersedes (``shoal enrich``) is not one of the reports read: the successor stands
for it. One pass over the reports in any order; memory grows with the services, at most ``MAX_SERVICES``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shoal.changes import changes_between
from shoal.errors import BadParameter
from shoal.model import Report, report_dict

MAX_SERVICES = 200_000  # services one diff may hold (a /16 with three services an address)
Key = tuple[str, int, str]  # ip, port, transport


@dataclass(slots=True)
class Sides:
    """A service's newest report before the span and its newest in it."""

    before: Report | None = None
    during: Report | None = None


@dataclass(slots=True)
class Diff:
    since: dt.date
    until: dt.date | None
    services: dict[Key, Sides] = field(default_factory=dict)

    def opened(self) -> list[tuple[Key, Report]]:
        return [(key, s.during) for key, s in self.sorted() if s.before is None and s.during is not None]

    def closed(self) -> list[tuple[Key, Report]]:
        return [(key, s.before) for key, s in self.sorted() if s.during is None and s.before is not None]

    def changed(self) -> list[tuple[Key, Report, Report, list[dict[str, Any]]]]:
        found = []
        for key, sides in self.sorted():
            if sides.before is None or sides.during is None:
                continue
            changes = changes_between(report_dict(sides.before), report_dict(sides.during))
            if changes:
                found.append((key, sides.before, sides.during, changes))
        return found

    def sorted(self) -> list[tuple[Key, Sides]]:
        return sorted(self.services.items(), key=lambda pair: service_order(pair[0]))


def service_order(key: Key) -> tuple[int, bytes, int, str]:
    address = ipaddress.ip_address(key[0])
    return address.version, address.packed, key[1], key[2]


def service_of(report: Report) -> Key | None:
    """The (ip, port, transport) a report is about; None for a report without an address or a port."""
    ip = report.ip
    if ip is None:
        return None
    if report.port is not None:
        return ip, report.port, "tcp"
    udp = report.udp_port
    return None if udp is None else (ip, udp, "udp")


def newer(report: Report, than: Report | None) -> bool:
    """Reports are ordered by day, then by id (the search order's, newest first)."""
    return than is None or (report.date, report.id) > (than.date, than.id)


def diff_of(reports: Iterable[Report], since: dt.date, until: dt.date | None) -> Diff:
    """The diff over ``[since, until]`` of these reports (those after ``until`` are passed over)."""
    if until is not None and until < since:
        raise BadParameter("until", f"'until' ({until}) is before 'since' ({since})")
    diff = Diff(since, until)
    for report in reports:
        if until is not None and report.date > until:
            continue
        key = service_of(report)
        if key is None:
            continue
        sides = diff.services.get(key)
        if sides is None:
            if len(diff.services) >= MAX_SERVICES:
                raise BadParameter("ip", f"more than {MAX_SERVICES:,} services in the network: ask for a narrower one")
            sides = diff.services[key] = Sides()
        if report.date < since:
            if newer(report, sides.before):
                sides.before = report
        elif newer(report, sides.during):
            sides.during = report
    return diff


def service_body(key: Key) -> dict[str, Any]:
    return {"ip": key[0], "port": key[1], "transport": key[2]}


def diff_body(diff: Diff, network: str) -> dict[str, Any]:
    """The diff as JSON (the API's answer, ``shoal host --since --json``, ``shoal diff --json``)."""
    return {
        "ip": network,
        "since": diff.since.isoformat(),
        "until": diff.until.isoformat() if diff.until else None,
        "opened": [service_body(key) | {"report": report_dict(report)} for key, report in diff.opened()],
        "closed": [
            service_body(key) | {"last_seen": report.date.isoformat(), "report": report_dict(report)}
            for key, report in diff.closed()
        ],
        "changed": [
            service_body(key) | {"old": short(old), "new": short(new), "changes": changes}
            for key, old, new, changes in diff.changed()
        ],
    }


def short(report: Report) -> dict[str, str]:
    return {"date": report.date.isoformat(), "id": report.id}


def is_empty(body: dict[str, Any]) -> bool:
    return not (body["opened"] or body["closed"] or body["changed"])
