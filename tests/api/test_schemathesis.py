"""A schema-driven fuzzer (schemathesis) over ``/openapi.json``: every declared parameter of every route gets
generated values (fitting the schema, and breaking it), and no answer may be a 5xx (but the 504 of a query
that ran past the tiny ``timeout`` it asked for). Bounded: EXAMPLES_PER_ROUTE
requests per route and mode. Every answer must also be one the document declares for its route: its status, its
media type, and (for an error) its body's shape."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shoal.api.app import create_app
from shoal.store.base import Store
from shoal.tokens import TokenStore

ANSWER_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_ROUTE = 40  # per generation mode: values that fit the schema, and values that break it


@pytest.fixture(scope="module")
def api_schema(api_store: Store, token_store: TokenStore) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(api_store, token_store))


def operations(api_schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in api_schema.get_all_operations()]


def test_the_fuzzer_reaches_every_route(api_schema: schemathesis.BaseSchema) -> None:
    reached = {(operation.method.upper(), operation.path) for operation in operations(api_schema)}
    assert ("GET", "/v1/scan/protocols") in reached and ("POST", "/v1/scan/protocols/export/link") in reached
    assert len(reached) == 23


@pytest.mark.parametrize(
    "route",
    [
        "GET /v1/scan/protocols",
        "GET /v1/scan/domains",
        "GET /v1/ct/log",
        "GET /v1/domain/rdns",
        "GET /v1/scan/favicons",
        "GET /v1/domain/fdns",
        "GET /v1/domain/mx",
        "GET /v1/multi/summary",
        "GET /v1/scan/protocols/body",
        "GET /v1/scan/ports",
        "GET /v1/scan/ipports",
        "GET /v1/scan/protocols/prioritize",
        "GET /v1/scan/protocols/export",
        "POST /v1/scan/protocols/export/link",
        "GET /v1/admin/user",
        "GET /v1/scan/protocols/diff",
        "GET /v1/ip/summary",
        "GET /v1/ip/reverse",
        "POST /v1/alerts",
        "GET /v1/alerts",
        "GET /v1/alerts/{alert_id}",
        "DELETE /v1/alerts/{alert_id}",
        "POST /v1/alerts/{alert_id}/test",
    ],
)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_generated_request_is_a_server_error(
    api_schema: schemathesis.BaseSchema, enterprise_token: str, route: str, mode: GenerationMode
) -> None:
    method, path = route.split(" ")
    operation = next(op for op in operations(api_schema) if op.method.upper() == method and op.path == path)
    headers = {"Authorization": f"Bearer {enterprise_token}"}
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        asked_for_it = response.status_code == 504 and "timeout" in (case.query or {})  # a tiny 'timeout' ran out
        assert response.status_code < 500 or asked_for_it, f"{case.as_curl_command()}\n{response.text[:2000]}"
        case.validate_response(response, checks=ANSWER_CHECKS)  # its status, media type and error body declared

    run()
    assert statuses and all(status < 500 or status == 504 for status in statuses), statuses
