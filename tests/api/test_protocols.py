"""GET /v1/scan/protocols: Driftnet's shapes, statuses and parameters, and an error for every bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error

URL = "/v1/scan/protocols"


def ids(response) -> list[str]:
    return [result["id"] for result in response.json()["results"]]


def test_search_shape_is_driftnets(client: TestClient) -> None:
    response = client.get(URL, params={"ip": "8.8.8.8"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["page", "pages", "result_count", "results"]
    assert (body["page"], body["pages"], body["result_count"]) == (0, 1, 3)
    first = body["results"][0]
    assert list(first) == ["date", "id", "items"]
    assert first["date"] == "2026-11-03"
    assert list(first["items"][0]) == ["context", "is_metadata", "type", "value"]
    assert first["items"][0] == {"context": "", "is_metadata": True, "type": "ip", "value": "8.8.8.8"}
    assert first["items"][1] == {"context": "", "is_metadata": True, "type": "port-tcp", "value": "53"}


def test_raw_body_has_no_spaces_and_sorted_keys(client: TestClient) -> None:
    raw = client.get(URL, params={"expression": "protocol=modbus"}).content
    assert raw.startswith(b'{"page":0,"pages":1,"result_count":1,"results":[{"date":"2026-11-04","id":"r07","items":[')


def test_no_results_is_204_with_empty_body(client: TestClient) -> None:
    response = client.get(URL, params={"expression": "title:nothing-here-at-all"})
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"expression": 'title:"university london"', "slop": "1"}, ["r02", "r01"]),
        ({"ip": "10.1.2.0/24", "expression": "not port-tcp:22"}, ["r06", "r05"]),
        ({"ip": "8.8.4.4", "indirect": "true"}, ["r01"]),
        ({"expression": "host:example.com", "host_in_url": "true"}, ["r11", "r02"]),
        ({"ip": "8.8.8.8", "most_recent": "true"}, ["r03", "r02"]),
        ({"from": "2026-11-02", "to": "2026-11-02"}, ["r05", "r02"]),
        ({"field": "protocol=ssh", "keyword": "7.4"}, ["r05"]),
        ({"query": "title:london", "expression": "port-tcp:80"}, ["r06"]),
        ({"filter": ["port-tcp:22", "port-tcp:2222"]}, ["r05", "r04"]),
        ({"filter": ["port-tcp:22", "port-tcp:80"], "expression": 'entity:"Tencent Cloud Computing"'}, ["r06", "r04"]),
        ({"expression": "protocol=ssh", "unknown_parameter": "ignored"}, ["r05", "r04"]),
        ({"expression": "protocol=ssh", "slop": "", "page": ""}, ["r05", "r04"]),
    ],
)
def test_parameters(client: TestClient, params: dict, expected: list[str]) -> None:
    response = client.get(URL, params=params)
    assert response.status_code == 200, response.text
    assert ids(response) == expected
    assert response.json()["result_count"] == len(expected)


def test_page_past_the_end_is_204(client: TestClient) -> None:
    assert client.get(URL, params={"ip": "8.8.8.8", "page": "1"}).status_code == 204


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": "100"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "99999999999999999999999"}, "page"),
        ({"slop": "11"}, "slop"),
        ({"slop": "x"}, "slop"),
        ({"ip": "8.8.8.256"}, "ip"),
        ({"ip": "8.8.8.0/33"}, "ip"),
        ({"ip": "example.com"}, "ip"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "from"),
        ({"most_recent": "maybe"}, "most_recent"),
        ({"indirect": "2"}, "indirect"),
        ({"host_in_url": "yes please"}, "host_in_url"),
        ({"expression": "title:(london"}, "expression"),
        ({"filter": "port-tcp:99999"}, "filter"),
        ({"field": "titel:london"}, "field"),
        ({"query": "and"}, "query"),
        ({"ip": ["8.8.8.8", "8.8.4.4"]}, "ip"),
        ({"summarize": "port-tcp", "summary_limit": "0"}, "summary_limit"),
        ({"summarize": "port-tcp", "summary_limit": "10001"}, "summary_limit"),
        ({"summarize": "no-such-type"}, "summarize"),
        ({"expression": "x" * 5000}, "expression"),
        ({"summarize": "http-header", "summary_context": "x" * 4097}, "summary_context"),
        ({"summarize": "http-header", "summary_nocontext": ["Server", "x" * 4097]}, "summary_nocontext"),
        ({"filter": ["port-tcp:443", "x" * 4097]}, "filter"),
        ({"from": ""}, "from"),
        ({"to": " "}, "to"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client: TestClient, params: dict, parameter: str) -> None:
    assert_error(client.get(URL, params=params), 400, parameter)


def test_syntax_error_gives_the_offset(client: TestClient) -> None:
    body = assert_error(client.get(URL, params={"expression": "title:london and (port-tcp:80"}), 400, "expression")
    problem = body["detail"][0]
    assert problem["start"] == 17
    assert problem["end"] >= problem["start"]
    assert problem["hint"]


def test_unknown_type_suggests_the_right_one(client: TestClient) -> None:
    body = assert_error(client.get(URL, params={"expression": "titel:london"}), 400, "expression")
    assert "title" in body["detail"][0]["hint"]
    assert body["detail"][0]["start"] == 0
    assert body["detail"][0]["end"] == 5


@pytest.mark.parametrize("parameter", ["expression", "query"])
def test_a_shodan_filter_name_is_a_400_naming_the_shoal_type(client: TestClient, parameter: str) -> None:
    body = assert_error(client.get(URL, params={parameter: "port-tcp:443 and org:Google"}), 400, parameter)
    problem = body["detail"][0]
    assert problem["message"] == "'org' is Shodan's name; in Shoal it is 'entity'"
    assert (problem["start"], problem["end"], problem["hint"]) == (17, 20, "write entity:Google")


def test_ranges_and_case_folding_answer_over_the_api(client: TestClient) -> None:
    assert ids(client.get(URL, params={"expression": "port-tcp:>8000"})) == ["r12", "r09", "r08"]
    assert ids(client.get(URL, params={"query": "nginx geo-country=us port-tcp:[1 TO 1024]"})) == ["r02"]
    body = assert_error(client.get(URL, params={"expression": "port-tcp:[10 TO 1]"}), 400, "expression")
    assert (body["detail"][0]["start"], body["detail"][0]["end"]) == (9, 18)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}],
)
def test_token_required(client: TestClient, headers: dict) -> None:
    response = client.get(URL, params={"ip": "8.8.8.8"}, headers={"Authorization": ""} | headers)
    assert_error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_route_is_json_404_listing_the_endpoints(client: TestClient) -> None:
    body = assert_error(client.get("/v1/no/such/thing"), 404)
    assert body["code"] == "unknown_endpoint" and body["detail"][0]["path"] == "/v1/no/such/thing"
    documented = {path for path in client.get("/openapi.json").json()["paths"] if path.startswith("/v1/")}
    assert set(body["endpoints"]) == documented and {"/v1/scan/protocols", "/v1/ip/summary"} <= documented
    outside = client.get("/no/such/page")  # outside the API: the web's HTML 404 page
    assert outside.status_code == 404 and outside.headers["content-type"].startswith("text/html")


def test_summary_shape_and_exact_counts(client: TestClient) -> None:
    response = client.get(URL, params={"summarize": "port-tcp", "summary_limit": "2"})
    assert response.status_code == 200
    assert response.json() == {"summary": {"other": 9, "values": {"443": 4, "80": 3}}}


def test_summary_values_are_sorted_by_key_in_the_body(client: TestClient) -> None:
    raw = client.get(URL, params={"summarize": "port-tcp", "summary_limit": "3"}).content
    assert raw == b'{"summary":{"other":7,"values":{"37777":2,"443":4,"80":3}}}'


def test_summary_contexts(client: TestClient) -> None:
    params = {"summarize": "http-header", "summary_context": ["Server", "X-Backend"], "expression": "port-tcp:21"}
    assert client.get(URL, params=params).json() == {"summary": {"other": 0, "values": {"vsftpd": 1}}}
    params = {"summarize": "http-header", "summary_nocontext": "Server", "expression": "port-tcp:21"}
    assert client.get(URL, params=params).json() == {"summary": {"other": 0, "values": {"vsftpd": 1}}}


def test_empty_summary_is_204(client: TestClient) -> None:
    response = client.get(URL, params={"summarize": "port-tcp", "expression": "title:nothing-here-at-all"})
    assert (response.status_code, response.content) == (204, b"")


def test_cardinality_needs_an_enterprise_token(client: TestClient, enterprise_token: str) -> None:
    params = {"summarize": "geo-country", "summary_cardinality": "true", "summary_limit": "1"}
    assert_error(client.get(URL, params=params), 403)
    response = client.get(URL, params=params, headers={"Authorization": f"Bearer {enterprise_token}"})
    assert response.json() == {"summary": {"cardinality": 5, "other": 7, "values": {"CN": 2}}}


def test_enterprise_summary_limit(client: TestClient, enterprise_token: str) -> None:
    headers = {"Authorization": f"Bearer {enterprise_token}"}
    assert (
        client.get(URL, params={"summarize": "port-tcp", "summary_limit": "1000000"}, headers=headers).status_code
        == 200
    )
    response = client.get(URL, params={"summarize": "port-tcp", "summary_limit": "1000001"}, headers=headers)
    assert_error(response, 400, "summary_limit")
