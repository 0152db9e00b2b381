"""``host_count=true`` (a Shoal extension on the search endpoints): a page says how many distinct hosts all its
matches are on, for every token, charged as a page and a summary; without it the answer is Driftnet's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shoal.tokens import TokenStore
from tests.api.conftest import assert_error
from tests.corpus import CORPUS

URL = "/v1/scan/protocols"


def hosts_of(report_ids: list[str]) -> int:
    addresses = {report.id: report.ip for report in CORPUS}
    return len({addresses[report_id] for report_id in report_ids})


def test_a_normal_token_gets_the_hosts_of_every_match_first_in_the_page(client: TestClient) -> None:
    asked = {"expression": "port-tcp:[1 TO 1024]", "host_count": "true"}
    body = client.get(URL, params=asked).json()
    assert list(body) == ["host_count", "page", "pages", "result_count", "results"]  # keys sorted, as Driftnet's
    every = [result["id"] for result in body["results"]]
    assert body["host_count"] == hosts_of(every) and body["host_count"] < body["result_count"]
    newest = client.get(URL, params={**asked, "most_recent": "true"}).json()
    assert newest["host_count"] == body["host_count"] and newest["result_count"] < body["result_count"]
    assert "host_count" not in client.get(URL, params={"expression": "port-tcp:[1 TO 1024]"}).json()


def test_the_hosts_are_of_every_page_not_one(client: TestClient) -> None:
    """A page past the first still counts every match; past the last page it is a 204, as without hosts."""
    body = client.get(URL, params={"host_count": "true", "ip": "8.8.8.8"}).json()
    assert (body["host_count"], body["result_count"]) == (1, 3)
    gone = client.get(URL, params={"host_count": "true", "page": "1"})
    assert (gone.status_code, gone.content) == (204, b"")
    nothing = client.get(URL, params={"host_count": "true", "expression": "title:nothing-here-at-all"})
    assert (nothing.status_code, nothing.content) == (204, b"")


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/v1/ct/log", {}, "/v1/ct/log are not about addresses"),
        (URL, {"summarize": "port-tcp"}, "does not combine with 'summarize'"),
        (URL, {"summary_interval": "week"}, "does not combine with 'summary_interval'"),
        (URL, {"host_count": "maybe"}, "must be true or false"),
    ],
)
def test_where_hosts_mean_nothing_it_says_so(client: TestClient, path: str, params: dict, says: str) -> None:
    body = assert_error(client.get(path, params={"host_count": "true", **params}), 400, "host_count")
    assert says in body["error"]


def test_hosts_cost_a_summary_more(client: TestClient, token_store: TokenStore) -> None:
    headers = {"Authorization": f"Bearer {token_store.create('hosts-quota')}"}
    client.get(URL, params={"ip": "8.8.8.8"}, headers=headers)
    assert client.get("/v1/admin/user", headers=headers).json()["quota"]["api_usage"] == 1
    client.get(URL, params={"ip": "8.8.8.8", "host_count": "true"}, headers=headers)
    assert client.get("/v1/admin/user", headers=headers).json()["quota"]["api_usage"] == 3
    client.get("/v1/scan/ports", params={"ip": "8.8.8.8", "host_count": "true"}, headers=headers)  # not taken there
    client.get(URL, params={"summarize": "port-tcp", "host_count": "true"}, headers=headers)  # a 400: refunded
    assert client.get("/v1/admin/user", headers=headers).json()["quota"]["api_usage"] == 4
