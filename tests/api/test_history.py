"""Shoal's history extensions over HTTP: ``GET /v1/scan/protocols/diff`` and ``summary_interval`` on a search
endpoint (their semantics are pinned elsewhere: tests/cli/test_diff.py, tests/store/test_trends.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error

DIFF = "/v1/scan/protocols/diff"


def test_diff_of_one_address(client: TestClient) -> None:
    body = client.get(DIFF, params={"ip": "8.8.8.8", "since": "2026-11-02"}).json()
    assert (body["ip"], body["since"], body["until"]) == ("8.8.8.8", "2026-11-02", None)
    assert [(s["port"], s["report"]["id"]) for s in body["opened"]] == [(53, "r03")]
    assert body["closed"] == []
    assert body["changed"] == [
        {
            "ip": "8.8.8.8",
            "port": 443,
            "transport": "tcp",
            "old": {"date": "2026-11-01", "id": "r01"},
            "new": {"date": "2026-11-02", "id": "r02"},
            "changes": [{"field": "title", "old": "University of London", "new": "University London"}],
        }
    ]


def test_diff_until_a_day_after_the_last_and_of_nothing(client: TestClient) -> None:
    body = client.get(DIFF, params={"ip": "8.8.8.0/24", "since": "2026-11-03", "until": "2026-11-03"}).json()
    assert [s["port"] for s in body["opened"]] == [53]
    assert [(s["port"], s["last_seen"]) for s in body["closed"]] == [(443, "2026-11-02")]
    after = client.get(DIFF, params={"ip": "8.8.8.8", "since": "2026-12-01"}).json()
    assert [(s["port"], s["last_seen"]) for s in after["closed"]] == [(53, "2026-11-03"), (443, "2026-11-02")]
    assert client.get(DIFF, params={"ip": "198.18.0.0/15", "since": "2026-11-01"}).status_code == 204


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"since": "2026-11-01"}, "ip"),
        ({"ip": "8.8.8.8"}, "since"),
        ({"ip": "8.8.8.8", "since": "last week"}, "since"),
        ({"ip": "8.8.8.8", "since": "2026-11-02", "until": "2026-11-01"}, "until"),
        ({"ip": "nowhere", "since": "2026-11-02"}, "ip"),
    ],
)
def test_diff_bad_parameters(client: TestClient, params: dict[str, str], parameter: str) -> None:
    assert_error(client.get(DIFF, params=params), 400, parameter)


def test_summary_interval_counts_and_summarises_per_period(client: TestClient) -> None:
    params = {"from": "2026-10-31", "to": "2026-11-08", "summary_interval": "week", "expression": "port-tcp:443"}
    body = client.get("/v1/scan/protocols", params=params).json()
    assert body == {
        "intervals": [
            {"from": "2026-10-31", "to": "2026-11-01", "result_count": 1},
            {"from": "2026-11-02", "to": "2026-11-08", "result_count": 3},
        ]
    }
    params |= {"summarize": "title", "summary_limit": "1"}
    first, second = client.get("/v1/scan/protocols", params=params).json()["intervals"]
    assert first["summary"] == {"other": 0, "values": {"University of London": 1}}
    assert second["result_count"] == 3 and sum(second["summary"]["values"].values()) == 1


def test_summary_interval_bad_values(client: TestClient) -> None:
    assert_error(client.get("/v1/scan/protocols", params={"summary_interval": "year"}), 400, "summary_interval")
    many = {"summary_interval": "day", "from": "2000-01-01", "to": "2026-01-01"}
    assert_error(client.get("/v1/scan/protocols", params=many), 400, "summary_interval")
