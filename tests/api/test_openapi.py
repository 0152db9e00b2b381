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
    "host_count",
    "summarize",
    "summary_context",
    "summary_nocontext",
    "summary_limit",
    "summary_cardinality",
    "summary_interval",
    "timeout",
}
LOOKUPS = {"host", "nameserver", "md5", "sha1", "sha256", "murmur3", "mx"}  # the datasets' own selectors
EXPORT = SELECTION | LOOKUPS | {"dataset", "format", "timeout"}
ROUTES = {
    ("get", "/v1/scan/protocols"): SEARCH,
    ("get", "/v1/scan/domains"): SEARCH,
    ("get", "/v1/ct/log"): SEARCH,
    ("get", "/v1/domain/rdns"): SEARCH | {"host", "nameserver"},
    ("get", "/v1/scan/favicons"): SEARCH | {"md5", "sha1", "sha256", "murmur3"},
    ("get", "/v1/domain/fdns"): SEARCH | {"host", "nameserver"},
    ("get", "/v1/domain/mx"): SEARCH | {"host", "mx"},
    ("get", "/v1/multi/summary"): SELECTION | {"summary_limit", "timeout"},
    ("get", "/v1/scan/protocols/body"): SELECTION | {"dataset", "page", "timeout"},
    ("get", "/v1/scan/ports"): {"ip", "from", "to", "transport", "timeout"},
    ("get", "/v1/scan/ipports"): {"ip", "from", "to", "transport", "timeout"},
    ("get", "/v1/scan/protocols/prioritize"): {"ip", "port", "transport"},
    ("get", "/v1/scan/protocols/export"): EXPORT | {"ticket"},
    ("post", "/v1/scan/protocols/export/link"): EXPORT,
    ("get", "/v1/admin/user"): set(),
    ("get", "/v1/scan/protocols/diff"): {"ip", "since", "until", "timeout"},
    ("get", "/v1/ip/summary"): {"ip", "restrict", "timeout"},
    ("get", "/v1/ip/reverse"): {"phrase", "page", "timeout"},
    ("post", "/v1/alerts"): {"name", "query", "dataset", "ip", "trigger", "webhook", "secret"},
    ("get", "/v1/alerts"): set(),
    ("get", "/v1/alerts/{alert_id}"): {"alert_id"},
    ("delete", "/v1/alerts/{alert_id}"): {"alert_id"},
    ("post", "/v1/alerts/{alert_id}/test"): {"alert_id"},
}  # fmt: skip
IN_PATH = {"alert_id"}


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
            where = "path" if entry["name"] in IN_PATH else "query"
            assert entry["in"] == where and entry["description"] and "schema" in entry, entry
    every = set().union(*ROUTES.values())
    assert parameters_declared() <= every  # every parameter record is read by a route, and declared there


def test_parameters_carry_types_limits_and_repetition(client: TestClient) -> None:
    parameters = declared(client.get("/openapi.json").json(), "get", "/v1/scan/protocols")
    assert parameters["slop"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 10, "default": 0}
    assert parameters["page"]["schema"]["maximum"] == 99
    assert parameters["most_recent"]["schema"]["type"] == "boolean"
    assert parameters["from"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["filter"]["schema"]["type"] == "array" and parameters["filter"]["explode"] is True
    for name in ("expression", "query"):  # the extensions a person types are named where they read the syntax
        help_text = parameters[name]["description"]
        assert "port-tcp:[1 TO 1024]" in help_text and "cert-not-after<2027-01-01" in help_text, name
        assert "Shodan or Censys" in help_text and "docs/query-language.md" in help_text, name
    assert "every token" in parameters["host_count"]["description"]
    prioritize = declared(client.get("/openapi.json").json(), "get", "/v1/scan/protocols/prioritize")
    assert prioritize["ip"]["required"] and prioritize["port"]["required"]
    assert prioritize["port"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 65535}


EVERY_ROUTE = {400, 401, 408, 414, 429, 431, 503, 507}  # the protocol, the token check, quotas, a full disk
QUERIED = EVERY_ROUTE | {204, 504}
ANSWERS = {
    ("get", "/v1/scan/protocols"): QUERIED | {403},
    ("get", "/v1/scan/domains"): QUERIED | {403},
    ("get", "/v1/ct/log"): QUERIED | {403},
    ("get", "/v1/domain/rdns"): QUERIED | {403},
    ("get", "/v1/scan/favicons"): QUERIED | {403},
    ("get", "/v1/domain/fdns"): QUERIED | {403},
    ("get", "/v1/domain/mx"): QUERIED | {403},
    ("get", "/v1/multi/summary"): QUERIED,
    ("get", "/v1/scan/protocols/body"): QUERIED,
    ("get", "/v1/scan/ports"): QUERIED,
    ("get", "/v1/scan/ipports"): QUERIED,
    ("get", "/v1/scan/protocols/prioritize"): EVERY_ROUTE | {403},
    ("get", "/v1/scan/protocols/export"): QUERIED,
    ("post", "/v1/scan/protocols/export/link"): QUERIED,
    ("get", "/v1/admin/user"): EVERY_ROUTE,
    ("get", "/v1/scan/protocols/diff"): QUERIED,
    ("get", "/v1/ip/summary"): QUERIED,
    ("get", "/v1/ip/reverse"): QUERIED,
    ("post", "/v1/alerts"): EVERY_ROUTE,
    ("get", "/v1/alerts"): EVERY_ROUTE,
    ("get", "/v1/alerts/{alert_id}"): EVERY_ROUTE | {404},
    ("delete", "/v1/alerts/{alert_id}"): EVERY_ROUTE | {404},
    ("post", "/v1/alerts/{alert_id}/test"): EVERY_ROUTE | {404},
}  # fmt: skip


def test_every_route_lists_the_statuses_and_media_types_it_sends(client: TestClient) -> None:
    """Not FastAPI's lone JSON 200: a client generated from the document expects every answer it can get."""
    document = client.get("/openapi.json").json()
    for (method, path), statuses in ANSWERS.items():
        responses = document["paths"][path][method]["responses"]
        assert set(responses) == {str(status) for status in statuses | {200}}, path
        assert "content" not in responses.get("204", {}), path
        for status in statuses - {204}:
            assert set(responses[str(status)]["content"]) == {"application/json"}, (path, status)
            assert responses[str(status)]["content"]["application/json"]["schema"]["required"] == [
                "error",
                "code",
                "detail",
            ]
        exported = path == "/v1/scan/protocols/export"
        media_types = {"application/x-ndjson", "text/csv"} if exported else {"application/json"}
        assert set(responses["200"]["content"]) == media_types, path


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
