"""No input makes the API answer 500: random expressions and parameter values (bounded budget)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

URL = "/v1/scan/protocols"
PARAMETERS = [
    "ip",
    "indirect",
    "expression",
    "field",
    "keyword",
    "query",
    "filter",
    "slop",
    "from",
    "to",
    "most_recent",
    "host_in_url",
    "page",
    "summarize",
    "summary_context",
    "summary_nocontext",
    "summary_limit",
    "summary_cardinality",
]
SYNTAX = st.sampled_from(
    [
        "title",
        ":",
        "=",
        ";",
        "(",
        ")",
        '"',
        "\\",
        "*",
        " and ",
        " or ",
        " not ",
        "ip",
        "8.8.8.0/24",
        "port-tcp",
        "443",
        "host",
        "example.com",
        "protocol",
        "ssh",
        "search-term",
        "x",
        " ",
    ]
)
EXPRESSIONS = st.one_of(st.text(max_size=60), st.lists(SYNTAX, max_size=14).map("".join))
VALUES = st.one_of(st.text(max_size=20), st.sampled_from(["true", "false", "0", "99", "-1", "2026-11-01", "8.8.8.8"]))
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(expression=EXPRESSIONS)
def test_any_expression_is_answered_without_a_500(client: TestClient, expression: str) -> None:
    response = client.get(URL, params={"expression": expression})
    assert response.status_code in (200, 204, 400), response.text
    if response.status_code == 400:
        problem = response.json()["detail"][0]
        assert 0 <= problem["start"] <= problem["end"] <= len(expression)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, max_size=5))
def test_any_parameters_are_answered_without_a_500(client: TestClient, params: dict[str, str]) -> None:
    response = client.get(URL, params=params)
    assert response.status_code in (200, 204, 400, 403), response.text
    if response.status_code >= 400:
        assert response.json()["detail"][0]["message"]
