"""``shoal host IP --since`` and ``shoal diff CIDR --since/--between`` against a plain-Python recount of the
history they read: a generated history of rescans (services appearing, vanishing, changing banners and titles,
superseded reports), imported into a store, then every answer compared with a count made here by hand."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from shoal.model import Item, Report
from tests.cli.local import no_saved_server, run, stored  # noqa: F401 (an autouse fixture)

DAY0 = dt.date(2026, 1, 1)
ADDRESSES = [f"198.51.100.{n}" for n in range(1, 9)]
PORTS = (22, 80, 443)
FIELDS = ("banner", "title")  # what the generated history varies (and so what can change)


def service_report(ip: str, port: int, day: dt.date, banner: str, title: str, n: int) -> Report:
    items = [Item("ip", ip, "", True), Item("port-tcp", str(port), "", True), Item("server-banner", banner, "http")]
    if title:
        items.append(Item("title", title))
    return Report(day, tuple(items), id=f"r{n:05d}")


def generated_history() -> list[Report]:
    """Ten weekly rescans of eight addresses: each service is up or down each week, and now and then its banner or
    title changes; a few reports are superseded by a successor holding the same values."""
    chance = random.Random(24)
    reports: list[Report] = []
    for week in range(10):
        day = DAY0 + dt.timedelta(days=7 * week)
        for ip in ADDRESSES:
            for port in PORTS:
                if chance.random() < 0.3:
                    continue
                banner = f"HTTP/1.1 {chance.choice((200, 200, 200, 403))} OK"
                title = chance.choice(("", "home", "home", "login"))
                reports.append(service_report(ip, port, day, banner, title, len(reports)))
                if chance.random() < 0.05:
                    old = reports[-1]
                    reports.append(Report(day, (*old.items, Item("supersedes", old.id)), id=f"s{len(reports):05d}"))
    return reports


HISTORY = generated_history()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored(tmp_path_factory.mktemp("diff"), HISTORY)


def values(report: Report) -> dict[str, str | None]:
    banner = next((i.value for i in report.items if i.type == "server-banner"), None)
    return {"banner": banner, "title": next((i.value for i in report.items if i.type == "title"), None)}


def recount(network: str, since: dt.date, until: dt.date | None) -> dict[str, Any]:
    """The diff by hand: every current report of the network, grouped by service, sorted by (date, id)."""
    superseded = {i.value for r in HISTORY for i in r.items if i.type == "supersedes"}
    by_service: dict[tuple[str, int], list[Report]] = {}
    for report in HISTORY:
        inside = network == report.ip or (network.endswith("/29") and report.ip in ADDRESSES[:7])
        if report.id in superseded or not inside or (until is not None and report.date > until):
            continue
        by_service.setdefault((report.ip or "", report.port or 0), []).append(report)
    opened, closed, changed = [], [], []
    for (ip, port), reports in sorted(by_service.items(), key=lambda pair: (int(pair[0][0].split(".")[3]), pair[0][1])):
        reports.sort(key=lambda report: (report.date, report.id))
        before = [report for report in reports if report.date < since]
        during = [report for report in reports if report.date >= since]
        if during and not before:
            opened.append((ip, port, during[-1].id))
        elif before and not during:
            closed.append((ip, port, before[-1].date.isoformat()))
        elif before and during:
            old, new = values(before[-1]), values(during[-1])
            changes = [{"field": name, "old": old[name], "new": new[name]} for name in FIELDS if old[name] != new[name]]
            if "banner" in {c["field"] for c in changes}:  # an HTTP status line: its status, listed last
                status = {"field": "http-status", "old": old["banner"][9:12], "new": new["banner"][9:12]}
                changes.append(status)  # type: ignore[arg-type]
            if changes:
                changed.append((ip, port, changes))
    return {"opened": opened, "closed": closed, "changed": changed}


def answered(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "opened": [(s["ip"], s["port"], s["report"]["id"]) for s in body["opened"]],
        "closed": [(s["ip"], s["port"], s["last_seen"]) for s in body["closed"]],
        "changed": [(s["ip"], s["port"], s["changes"]) for s in body["changed"]],
    }


@pytest.mark.parametrize("week", [1, 4, 9])
def test_diff_of_a_network_is_the_recount(data: Path, week: int) -> None:
    since = DAY0 + dt.timedelta(days=7 * week)
    code, out, err = run("diff", "198.51.100.0/29", "--since", since.isoformat(), "--json", "--data", str(data))
    assert code == 0, err
    body = orjson.loads(out)
    expected = recount("198.51.100.0/29", since, None)
    assert answered(body) == expected
    assert body["since"] == since.isoformat() and body["until"] is None
    assert expected["opened"] or expected["closed"] or expected["changed"]


def test_host_between_two_days_is_the_recount(data: Path) -> None:
    first, last = DAY0 + dt.timedelta(days=14), DAY0 + dt.timedelta(days=35)
    for ip in ADDRESSES[:3]:
        code, out, err = run(
            "host", ip, "--between", first.isoformat(), last.isoformat(), "--json", "--data", str(data)
        )
        assert code == 0, err
        assert answered(orjson.loads(out)) == recount(ip, first, last)


def test_host_since_prints_each_change_old_and_new(data: Path) -> None:
    since = DAY0 + dt.timedelta(days=63)
    expected = recount(ADDRESSES[0], since, None)
    code, out, _ = run("host", ADDRESSES[0], "--since", since.isoformat(), "--data", str(data))
    assert code == 0
    lines = [line.split("\t") for line in out.splitlines()]
    changed = [(ip, int(port), field, old, new) for _, ip, port, _, field, old, new in changed_lines(lines)]
    assert changed == [
        (ip, port, c["field"], c["old"] or "-", c["new"] or "-") for ip, port, cs in expected["changed"] for c in cs
    ]
    assert [line[:3] for line in lines if line[0] == "closed"] == [
        ["closed", ip, str(port)] for ip, port, _ in expected["closed"]
    ]


def changed_lines(lines: list[list[str]]) -> list[list[str]]:
    return [line for line in lines if line[0] == "changed"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["diff", "198.51.100.0/29"], "--since DATE or --between A B"),
        (["diff", "198.51.100.0/29", "--since", "last week"], "'since' must be a date YYYY-MM-DD"),
        (["diff", "not-a-network", "--since", "2026-01-01"], "'ip' must be an IP address or CIDR"),
        (["diff", "198.51.100.0/29", "--between", "2026-02-01", "2026-01-01"], "the second day is before the first"),
        (["host", "198.51.100.1", "--since", "2026-01-01", "--between", "2026-01-01", "2026-02-01"], "either"),
    ],
)
def test_bad_spans_exit_2_saying_why(data: Path, args: list[str], message: str) -> None:
    code, _, err = run(*args, "--data", str(data))
    assert code == 2
    assert message in " ".join(err.split())
