"""Services and hosts, not report-days (issue 23, item 2): on a store where one service has many dated
reports, ``count`` and ``stats`` give services and hosts by default and reports with ``--history``, each equal to
a plain-Python recount of the reports."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.model import Item, Report
from shoal.request.hosts import port_of
from shoal.store.embedded import EmbeddedStore

FIRST_DAY = dt.date(2026, 9, 1)


def reports() -> list[Report]:
    """192.0.2.1:22 seen on 30 days (its country moved from GB to US on the last), 192.0.2.1:80 twice,
    192.0.2.2:22 once, 192.0.2.3:443 three times."""
    made = []
    for ip, port, days, country in (
        ("192.0.2.1", 22, 30, "GB"),
        ("192.0.2.1", 80, 2, "DE"),
        ("192.0.2.2", 22, 1, "FR"),
        ("192.0.2.3", 443, 3, "US"),
    ):
        for day in range(days):
            newest = day == days - 1
            items = (
                Item("ip", ip, "", True),
                Item("port-tcp", str(port), "", True),
                Item("geo-country", "US" if newest and days == 30 else country, "", True),
            )
            made.append(Report(FIRST_DAY + dt.timedelta(days=day), items, f"{ip}-{port}-{day}"))
    return made


REPORTS = reports()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("counting")
    store = EmbeddedStore(folder)
    store.ingest(REPORTS)
    store.close()
    return folder


def run(data: Path, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--data", str(data)], env={"SHOAL_CONFIG": str(data / "none.toml")})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def newest_of_each_service(matching: list[Report]) -> list[Report]:
    newest: dict[tuple[str | None, tuple[int | None, str]], Report] = {}
    for report in sorted(matching, key=lambda report: report.date):
        newest[report.ip, port_of(report)] = report
    return list(newest.values())


def tally(reports: list[Report], item_type: str) -> dict[str, int]:
    return dict(Counter(item.value for report in reports for item in report.items if item.type == item_type))


@pytest.mark.parametrize("query", ["", "port-tcp:22", "192.0.2.1", "geo-country=US"])
def test_count_is_hosts_and_services_or_reports(data: Path, query: str) -> None:
    if query == "192.0.2.1":  # free text: a bare address searches every type
        matching = [report for report in REPORTS if report.ip == query]
    elif query:
        name, _, value = query.replace("=", ":").partition(":")
        matching = [report for report in REPORTS if any(i.type == name and i.value == value for i in report.items)]
    else:
        matching = REPORTS
    services = newest_of_each_service(matching)
    hosts = len({report.ip for report in matching})
    counted = orjson.loads(run(data, "count", query, "--json"))
    assert counted == {"hosts": hosts, "services": len(services)}
    assert orjson.loads(run(data, "count", query, "--history", "--json")) == {"hosts": hosts, "reports": len(matching)}
    assert run(data, "count", query).startswith(f"{hosts} host")


def test_stats_counts_services_unless_history(data: Path) -> None:
    services = newest_of_each_service(REPORTS)
    assert len(services) == 4 and len(REPORTS) == 36
    for args, counted in (((), services), (("--history",), REPORTS)):
        body = orjson.loads(run(data, "stats", "--facets", "geo-country,port-tcp", "--json", *args))
        assert {name: summary["values"] for name, summary in body.items()} == {
            "geo-country": tally(counted, "geo-country"),
            "port-tcp": tally(counted, "port-tcp"),
        }
    # the newest report of 192.0.2.1:22 says US: by default GB is gone, with --history it dominates
    assert tally(services, "geo-country") == {"US": 2, "DE": 1, "FR": 1}


def test_search_pages_say_services_or_reports(data: Path) -> None:
    result = CliRunner().invoke(app, ["search", "port-tcp:22", "--data", str(data)])
    assert result.stderr == "2 services (page 1 of 1)\n"
    result = CliRunner().invoke(app, ["search", "port-tcp:22", "--history", "--data", str(data), "--limit", "5"])
    assert result.stderr == "31 reports (page 1 of 1)\n" and len(result.stdout.splitlines()) == 5
