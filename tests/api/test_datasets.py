"""The endpoints of every dataset: scan/domains, ct/log, domain/rdns, multi/summary, scan/protocols/body, and
free text in ``query=`` — shapes, exact values and statuses, over a store holding all four datasets. What each
engine answers (``client``) runs on every engine; what the API alone decides (``api_client``: shapes, 400s,
tokens, charges) on the embedded one."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.api.conftest import assert_error
from tests.corpus import BINARY, DATASET_CORPUS, TODAY, WELCOME
from tests.engines import ENGINE_NAMES, drop, open_engine


def served(engine: str, request: pytest.FixtureRequest, folder: Path) -> Iterator[TestClient]:
    store = open_engine(engine, request, folder / "store")
    store.ingest(DATASET_CORPUS)
    tokens = TokenStore(folder)
    with TestClient(create_app(store, tokens), raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {tokens.create('tester')}"
        yield test_client
    drop(store)


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from served(request.param, request, tmp_path_factory.mktemp("datasets"))


@pytest.fixture(scope="module")
def api_client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from served("embedded", request, tmp_path_factory.mktemp("datasets-api"))


def ids(client: TestClient, path: str, **params: str) -> list[str]:
    response = client.get(path, params=params)
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result_count"] == len(body["results"])
    return [result["id"] for result in body["results"]]


def values(client: TestClient, path: str, **params: str) -> dict[str, int]:
    response = client.get(path, params=params)
    if response.status_code == 204:
        return {}
    assert response.status_code == 200, response.text
    return response.json()["summary"]["values"]


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/v1/scan/protocols", {}, ["p01", "p04", "p03"]),  # p02 is superseded by p04
        ("/v1/scan/protocols", {"id": "p02"}, ["p02"]),  # … but history keeps it
        ("/v1/scan/domains", {}, ["d04", "d02", "d03", "d01"]),
        ("/v1/scan/domains", {"most_recent": "true"}, ["d04", "d02", "d03"]),  # one per {host, ip, port}
        ("/v1/scan/domains", {"field": "host:example.org"}, ["d02", "d03", "d01"]),
        ("/v1/scan/domains", {"expression": "host;=shop.example.org"}, ["d03"]),
        ("/v1/scan/domains", {"ip": "192.0.2.10"}, ["d02", "d01"]),
        ("/v1/scan/domains", {"query": "shop"}, ["d03"]),
        ("/v1/ct/log", {}, ["c03", "c04", "c02", "c01"]),
        ("/v1/ct/log", {"most_recent": "true"}, ["c03", "c04", "c02"]),  # one per certificate
        ("/v1/ct/log", {"field": "host:dev.example.org"}, ["c03", "c01"]),
        ("/v1/ct/log", {"ip": "192.0.2.10", "indirect": "true"}, ["c02"]),
        ("/v1/ct/log", {"expression": "ct-log=test-log-2"}, ["c03"]),
        ("/v1/domain/rdns", {"ip": "192.0.2.10"}, ["n03", "n01"]),  # forward: ip → names
        ("/v1/domain/rdns", {"ip": "192.0.2.10", "most_recent": "true"}, ["n03"]),
        ("/v1/domain/rdns", {"host": "example.org"}, ["n03", "n02", "n01"]),  # reverse: names → ips
        ("/v1/domain/rdns", {"host": "shop.example.org"}, ["n02"]),
        ("/v1/domain/rdns", {"host": "Example.ORG."}, ["n03", "n02", "n01"]),
        ("/v1/domain/rdns", {"host": "nothing.example"}, []),  # a selector is never ignored: 204
        ("/v1/domain/rdns", {"host": "ample.org"}, []),  # whole labels only
        ("/v1/domain/rdns", {"nameserver": "example.net"}, ["n02"]),
        ("/v1/domain/rdns", {"nameserver": "ns1.example.org", "ip": "192.0.2.0/24"}, ["n03", "n01"]),
        ("/v1/domain/rdns", {"host": "example.org", "nameserver": "google.com"}, []),  # selectors are ANDed
        ("/v1/domain/rdns", {"host": "google", "expression": "host;dns-ptr:dns.google"}, ["n04"]),
    ],
)
def test_each_dataset_answers_on_its_own_endpoint(
    client: TestClient, path: str, params: dict[str, str], expected: list[str]
) -> None:
    assert ids(client, path, **params) == expected


def test_results_have_the_scan_protocols_shape(api_client: TestClient) -> None:
    body = api_client.get("/v1/domain/rdns", params={"ip": "8.8.8.8"}).json()
    assert body == {
        "page": 0,
        "pages": 1,
        "result_count": 1,
        "results": [
            {
                "date": body["results"][0]["date"],
                "id": "n04",
                "items": [
                    {"context": "", "is_metadata": True, "type": "ip", "value": "8.8.8.8"},
                    {"context": "dns-ns", "is_metadata": False, "type": "host", "value": "ns4.google.com"},
                    {"context": "dns-ptr", "is_metadata": False, "type": "host", "value": "dns.google"},
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        (
            "/v1/ct/log",
            {"field": "host:example.org", "summary_context": "cert-dns-name"},
            {"www.example.org": 2, "dev.example.org": 2, "*.example.org": 1},
        ),
        (
            "/v1/scan/protocols",
            {"field": "host:example.org", "summary_context": "cert-dns-name"},
            {"www.example.org": 1, "api.example.org": 1},
        ),
        (
            "/v1/scan/domains",
            {"field": "host:example.org", "summary_context": "cert-dns-name"},
            {"www.example.org": 2, "dev.example.org": 2},
        ),
        (
            "/v1/domain/rdns",
            {"host": "example.org", "summary_context": "dns-ptr"},
            {"web1.example.org": 1, "web1-new.example.org": 1, "shop.example.org": 1},
        ),
        (
            "/v1/domain/rdns",
            {"host": "example.org", "summary_context": "dns-ns"},
            {"ns1.example.org": 2, "ns2.example.net": 1},
        ),
        ("/v1/domain/rdns", {"host": "nothing.example", "summary_context": "dns-ptr"}, {}),
    ],
)
def test_summaries_per_dataset(client: TestClient, path: str, params: dict[str, str], expected: dict[str, int]) -> None:
    assert values(client, path, summarize="host", summary_limit="10000", **params) == expected


def test_free_text_in_query_searches_every_type(client: TestClient) -> None:
    assert ids(client, "/v1/scan/protocols", query="jira") == ["p04"]
    assert ids(client, "/v1/scan/protocols", query="nginx") == ["p01"]
    assert ids(client, "/v1/scan/protocols", query="jira login") == ["p04"]  # words ANDed
    assert ids(client, "/v1/scan/protocols", query="http port-tcp:80") == ["p04"]  # beside ordinary terms
    assert ids(client, "/v1/scan/protocols", query="jira", expression="geo-country=GB") == ["p04"]
    assert ids(client, "/v1/scan/protocols", keyword="nginx") == ["p01"]
    error = assert_error(client.get("/v1/scan/protocols", params={"expression": "jira"}), 400, "expression")
    assert error["detail"][0]["start"] == 0  # an explicit expression keeps its strict syntax
    error = assert_error(client.get("/v1/scan/protocols", params={"query": 'jira "open'}), 400, "query")
    assert error["detail"][0]["start"] == 5


def test_multi_summary_shape_and_exact_counts(client: TestClient) -> None:
    response = client.get(
        "/v1/multi/summary",
        params={
            "summary_limit": "10",
            "timeout": "30",
            "from": str(TODAY.replace(year=TODAY.year - 1)),
            "to": str(TODAY),
            "field": "host:example.org",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"observations", "enrichments"}
    host = body["observations"]["host"]
    assert host == {
        "cardinality": {"domains": 3, "protocols": 2},
        "other": {"domains": 0, "protocols": 0},
        "values": {  # a report counts once per value, whatever the contexts holding it
            "domains": {"www.example.org": 2, "dev.example.org": 2, "shop.example.org": 1},
            "protocols": {"www.example.org": 1, "api.example.org": 1},
        },
    }
    assert body["observations"]["port-tcp"]["values"] == {"domains": {"443": 2, "80": 1}, "protocols": {"443": 1}}
    assert body["observations"]["title"] == body["observations"]["title;html"]
    assert body["observations"]["subject;cert"]["values"]["protocols"] == {"CN=www.example.org": 1}
    assert body["enrichments"]["product-tag"]["values"] == {"domains": {"nginx": 1}, "protocols": {"nginx": 1}}
    assert body["observations"]["geo-country"]["values"] == {"domains": {}, "protocols": {"US": 1}}
    assert "product-tag" not in body["observations"] and "body-sha256" not in body["observations"]
    for key in ("host", "ip", "port-tcp", "server-banner", "title", "subject", "geo-country"):
        assert key in body["observations"], key


def test_multi_summary_limit_other_and_statuses(client: TestClient) -> None:
    body = client.get("/v1/multi/summary", params={"summary_limit": "1"}).json()
    host = body["observations"]["host"]
    assert host["values"]["domains"] == {"dev.example.org": 2}  # ties: by value
    assert host["other"]["domains"] == 4 and host["cardinality"]["domains"] == 4
    assert body["observations"]["ip"]["cardinality"] == {"domains": 3, "protocols": 3}
    assert client.get("/v1/multi/summary", params={"field": "host:nothing.example"}).status_code == 204
    assert_error(client.get("/v1/multi/summary", params={"summary_limit": "0"}), 400, "summary_limit")
    assert_error(client.get("/v1/multi/summary", params={"field": "host:"}), 400, "field")
    assert_error(client.get("/v1/multi/summary", params={"timeout": "x"}), 400, "timeout")


def test_body_by_id_and_by_selection(client: TestClient) -> None:
    body = client.get("/v1/scan/protocols/body", params={"id": "p01"}).json()
    assert body["result_count"] == 1
    [result] = body["results"]
    assert (result["id"], result["ip"], result["port"]) == ("p01", "192.0.2.10", 443)
    assert result["bodies"] == [
        {
            "content_type": "text/html; charset=utf-8",
            "context": "https",
            "data": WELCOME.data.decode(),
            "encoding": "utf-8",
            "length": len(WELCOME.data),
            "sha256": WELCOME.sha256,
            "truncated": False,
        }
    ]
    binary = client.get("/v1/scan/protocols/body", params={"expression": "protocol=ssh"}).json()["results"][0][
        "bodies"
    ][0]
    assert binary["encoding"] == "base64" and base64.b64decode(binary["data"]) == BINARY.data
    everything = client.get("/v1/scan/protocols/body").json()
    assert [result["id"] for result in everything["results"]] == ["p01", "p03"]  # only reports with a body
    assert client.get("/v1/scan/protocols/body", params={"id": "p04"}).status_code == 204  # no body
    assert client.get("/v1/scan/protocols/body", params={"id": "nope"}).status_code == 204
    assert_error(client.get("/v1/scan/protocols/body", params={"dataset": "ct"}), 400, "dataset")


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/v1/domain/rdns", {"host": "..."}, "host"),
        ("/v1/domain/rdns", {"nameserver": "-"}, "nameserver"),
        ("/v1/domain/rdns", {"host": ["a.example", "b.example"]}, "host"),
        ("/v1/scan/domains", {"expression": "host:("}, "expression"),
        ("/v1/ct/log", {"page": "100"}, "page"),
        ("/v1/ct/log", {"summarize": "nope"}, "summarize"),
        ("/v1/scan/protocols", {"id": "x" * 200}, "id"),
    ],
)
def test_bad_parameters_are_400_naming_them(api_client: TestClient, path: str, params: dict, parameter: str) -> None:
    assert_error(api_client.get(path, params=params), 400, parameter)


@pytest.mark.parametrize(
    ("path", "params", "units"),
    [
        ("/v1/scan/domains", {}, 1),
        ("/v1/ct/log", {"summarize": "host", "summary_limit": "10000"}, 1),
        ("/v1/domain/rdns", {"host": "example.org", "summarize": "host", "summary_limit": "20000"}, 2),
        ("/v1/multi/summary", {}, 1),
        ("/v1/multi/summary", {"summary_limit": "25000"}, 3),  # like a summary: per started 10,000 values
        ("/v1/scan/protocols/body", {"id": "p01"}, 1),
        ("/v1/domain/rdns", {"host": "..."}, 0),  # a 400 costs nothing
    ],
)
def test_new_routes_are_charged_like_searches(tmp_path: Path, path: str, params: dict[str, str], units: int) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(DATASET_CORPUS)
    tokens = TokenStore(tmp_path)
    with TestClient(create_app(store, tokens), raise_server_exceptions=False) as fresh:
        fresh.headers["Authorization"] = f"Bearer {tokens.create('metered', enterprise=True)}"
        fresh.get(path, params=params)
        assert fresh.get("/v1/admin/user").json()["quota"]["api_usage"] == units


def test_new_routes_need_a_token_and_honour_the_time_limit(api_client: TestClient) -> None:
    for path in ("/v1/scan/domains", "/v1/ct/log", "/v1/domain/rdns", "/v1/multi/summary", "/v1/scan/protocols/body"):
        assert_error(api_client.get(path, headers={"Authorization": ""}), 401)
        assert_error(api_client.get(path, params={"timeout": "0"}), 400, "timeout")


def test_export_of_any_dataset_without_superseded_reports(client: TestClient) -> None:
    def exported(**params: str) -> list[str]:
        response = client.get("/v1/scan/protocols/export", params=params)
        if response.status_code == 204:
            return []
        assert response.status_code == 200, response.text
        return [line.split('"id":"')[1].split('"')[0] for line in response.text.splitlines()]

    assert exported() == ["p01", "p04", "p03"]  # p02 is superseded
    assert exported(dataset="rdns", host="example.org") == ["n03", "n02", "n01"]
    assert exported(dataset="ct", most_recent="true") == ["c03", "c04", "c02"]
    assert exported(dataset="domains", id="d01") == ["d01"]
    assert_error(client.get("/v1/scan/protocols/export", params={"dataset": "nope"}), 400, "dataset")


def test_history_lets_superseded_reports_match(client: TestClient) -> None:
    assert ids(client, "/v1/scan/protocols", history="true") == ["p01", "p04", "p02", "p03"]
    assert ids(client, "/v1/scan/protocols", history="true", query="jira") == ["p04", "p02"]
    assert values(client, "/v1/scan/protocols", history="true", summarize="product-tag") == {
        "atlassian jira": 1,
        "jira": 1,
        "nginx": 1,
    }
