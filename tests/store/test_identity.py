"""``most_recent`` keeps the newest report of each identity, and an identity is what the dataset's row says
(``shoal.model.DATASET_TABLE``): the cases are data (``cases/identities.jsonl``: a dataset, its reports, the ids
kept), run on every engine; a new dataset brings its own."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path

import pytest

from shoal.model import DATASETS, Item, Report, identity_of
from shoal.store.base import Filters, Store
from shoal.store.clickhouse.schema import identity
from shoal.store.embedded.schema import identity_key

CASES = [json.loads(line) for line in (Path(__file__).parent / "cases" / "identities.jsonl").read_text().splitlines()]
METADATA = {"ip", "port-tcp", "port-udp"}


def reports_of(case: dict) -> list[Report]:
    return [
        Report(
            dt.date(2026, 11, day),
            tuple(Item(t, v, c, t in METADATA) for t, c, v in items),
            report_id,
            case["dataset"],
        )
        for report_id, day, items in case["reports"]
    ]


def test_every_dataset_has_its_cases() -> None:
    assert {case["dataset"] for case in CASES} == set(DATASETS)


@pytest.mark.parametrize("case", CASES, ids=[case["dataset"] for case in CASES])
def test_most_recent_keeps_the_newest_report_of_each_identity(any_store: Store, case: dict) -> None:
    any_store.ingest(reports_of(case))
    newest = Filters(dataset=case["dataset"], most_recent=True)
    assert [report.id for report in any_store.search(newest).reports] == case["newest"], case["why"]
    assert any_store.search(newest).total == len(case["newest"])
    assert [report.id for report in any_store.iter_matches(newest)] == case["newest"]
    addressed = {report.id for report in reports_of(case) if report.ip is not None}
    for network in ("0.0.0.0/0", "2000::/3"):  # an ip filter: the latest index answers where ip is in the identity
        within = Filters(dataset=case["dataset"], most_recent=True, ip=ipaddress.ip_network(network))
        expected = [i for i in case["newest"] if i in addressed and (":" in network) == (":" in ip_of(case, i))]
        assert [report.id for report in any_store.search(within).reports] == expected


def ip_of(case: dict, report_id: str) -> str:
    return next(report.ip or "" for report in reports_of(case) if report.id == report_id)


# Stored keys must not change: an index or a table written before holds them (embedded: the ``target`` fast
# field and the latest index; ClickHouse: the ``identity`` column).
STORED_KEYS = [
    ("protocols", [("ip", "192.0.2.1"), ("port-tcp", "443")], 211106266153403, "00000000000000000000ffffc0000201:443"),
    (
        "protocols",
        [("ip", "2001:db8::1"), ("port-tcp", "0443")],
        16657944854707478042,
        "20010db8000000000000000000000001:443",
    ),
    (
        "domains",
        [("host", "A.Example."), ("ip", "192.0.2.1"), ("port-tcp", "443")],
        17719600044668565581,
        "a.example|00000000000000000000ffffc0000201:443",
    ),
    ("rdns", [("ip", "192.0.2.1")], 12039855333707388148, "00000000000000000000ffffc0000201"),
    ("ct", [("cert-sha256", " ABcd ")], 10601869037369895453, "abcd"),
    ("protocols", [("ip", "192.0.2.1")], 16767085748202336898, "\0x1"),  # no port: the report's own
]


@pytest.mark.parametrize(("dataset", "items", "embedded", "clickhouse"), STORED_KEYS)
def test_identity_keys_of_stored_reports_are_unchanged(
    dataset: str, items: list[tuple[str, str]], embedded: int, clickhouse: str
) -> None:
    report = Report(dt.date(2026, 11, 1), tuple(Item(t, v, "", True) for t, v in items), "x1", dataset)
    assert identity_key(report) == embedded
    assert identity(report) == clickhouse


def test_a_udp_service_is_not_the_tcp_service_of_the_same_number() -> None:
    def service(transport: str) -> Report:
        items = (Item("ip", "192.0.2.1", "", True), Item(f"port-{transport}", "53", "", True))
        return Report(dt.date(2026, 11, 1), items, transport)

    tcp, udp = service("tcp"), service("udp")
    assert identity_of(tcp) == (bytes([192, 0, 2, 1]), 53)
    assert identity_of(udp) == (bytes([192, 0, 2, 1]), ("port-udp", 53))
    assert identity_key(tcp) != identity_key(udp)
    assert identity(tcp) != identity(udp)
