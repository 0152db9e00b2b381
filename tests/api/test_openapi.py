"""The OpenAPI document declares every parameter of every route, /docs and /redoc need no third-party origin,
a wrong method is a 405 naming the allowed ones, and a schema-driven fuzzer (schemathesis) finds no 5xx."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.test_docs import parameters_declared

SELECTION = {
    "ip",
    "indirect",
    "expression",
    "field",
    "query",
    "keyword",
    "filter",
    "slop",
    "from",
    "to",
    "most_recent",
    "host_in_url",
    "id",
    "history",
}
SEARCH = SELECTION | {
    "page",
    "summarize",
    "summary_context",
    "summary_nocontext",
    "summary_limit",
    "summary_cardinality",
    "timeout",
}
EXPORT = SELECTION | {"dataset", "host", "nameserver", "format", "timeout"}
ROUTES = {
    ("get", "/v1/scan/protocols"): SEARCH,
    ("get", "/v1/scan/domains"): SEARCH,
    ("get", "/v1/ct/log"): SEARCH,
    ("get", "/v1/domain/rdns"): SEARCH | {"host", "nameserver"},
    ("get", "/v1/multi/summary"): SELECTION | {"summary_limit", "timeout"},
    ("get", "/v1/scan/protocols/body"): SELECTION | {"dataset", "page", "timeout"},
    ("get", "/v1/scan/ports"): {"ip", "from", "to", "timeout"},
    ("get", "/v1/scan/ipports"): {"ip", "from", "to", "timeout"},
    ("get", "/v1/scan/protocols/prioritize"): {"ip", "port"},
    ("get", "/v1/scan/protocols/export"): EXPORT | {"ticket"},
    ("post", "/v1/scan/protocols/export/link"): EXPORT,
    ("get", "/v1/admin/user"): set(),
}  # fmt: skip


def declared(document: dict, method: str, path: str) -> dict[str, dict]:
    operation = document["paths"][path][method]
    return {entry["name"]: entry for entry in operation.get("parameters", [])}


def test_every_route_declares_every_parameter_it_reads(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    routes = {(method, path) for path, item in document["paths"].items() for method in item}
    assert routes == set(ROUTES)
    for (method, path), names in ROUTES.items():
        parameters = declared(document, method, path)
        assert set(parameters) == names, path
        for entry in parameters.values():
            assert entry["in"] == "query" and entry["description"] and "schema" in entry, entry
    every = set().union(*ROUTES.values())
    assert parameters_declared() <= every  # every parameter record is read by a route, and declared there


def test_parameters_carry_types_limits_and_repetition(client: TestClient) -> None:
    parameters = declared(client.get("/openapi.json").json(), "get", "/v1/scan/protocols")
    assert parameters["slop"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 10, "default": 0}
    assert parameters["page"]["schema"]["maximum"] == 99
    assert parameters["most_recent"]["schema"]["type"] == "boolean"
    assert parameters["from"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["filter"]["schema"]["type"] == "array" and parameters["filter"]["explode"] is True
    prioritize = declared(client.get("/openapi.json").json(), "get", "/v1/scan/protocols/prioritize")
    assert prioritize["ip"]["required"] and prioritize["port"]["required"]
    assert prioritize["port"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 65535}


def test_v1_routes_declare_bearer_authentication(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert document["paths"]["/v1/scan/protocols"]["get"]["security"] == [{"bearer": []}]


def test_a_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.post("/v1/scan/protocols")
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "GET"
    assert response.json()["code"] == "http"
    assert client.delete("/v1/scan/protocols/export/link").headers["allow"] == "POST"


EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_docs_pages_load_nothing_from_another_origin(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert not EXTERNAL.search(response.text), response.text
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "<script>" not in response.text  # no inline script: the policy would block it
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', response.text):
            assert client.get(asset).status_code == 200, asset
