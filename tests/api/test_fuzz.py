"""No input makes the API answer 500: random expressions, parameters, raw query strings, headers and paths.

11,000 requests in all (counted in ``REQUESTS``), each checked for a known status and, for an error,
the one JSON error shape. Raw bytes go straight to the ASGI app (``tests.api.asgi.raw_get``), past any HTTP
client's normalisation. The API is the same whatever the engine, so this runs on the embedded one; the random
expressions and parameters reach every engine in tests/store/test_fuzz.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoal.api.app import create_app
from shoal.api.limits import ServerSettings
from shoal.model import DATASETS
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from shoal.web.pages import is_api_path
from tests.api.asgi import RawResponse, raw_get
from tests.corpus import CORPUS

URL = "/v1/scan/protocols"
SEARCH_PATHS = [
    "/v1/scan/protocols",
    "/v1/scan/domains",
    "/v1/ct/log",
    "/v1/domain/rdns",
    "/v1/scan/favicons",
    "/v1/domain/fdns",
    "/v1/domain/mx",
    "/v1/multi/summary",
    "/v1/scan/protocols/body",
]
PARAMETERS = [
    "host",
    "nameserver",
    "mx",
    "md5",
    "sha1",
    "sha256",
    "murmur3",
    "id",
    "dataset",
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
    "host_count",
    "summarize",
    "summary_context",
    "summary_nocontext",
    "summary_limit",
    "summary_cardinality",
    "timeout",
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
VALUES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["true", "false", "0", "99", "-1", "2026-11-01", "8.8.8.8", "10.0.0.0/8", "::/0", "100001", "5"]),
)
ANSWERS = {200, 204, 400, 403, 414, 504}  # 504: a random ``timeout`` may be 1 ms
REQUESTS = {
    "expressions": 1000,
    "parameters": 1000,
    "raw query strings": 500 * 9,
    "headers": 1000 * 2,
    "paths": 3000,
}


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))


def test_the_budget_is_at_least_ten_thousand_requests() -> None:
    assert sum(REQUESTS.values()) >= 10_000


def assert_answer(response: RawResponse, allowed: set[int]) -> None:
    assert response.status in allowed, (response.status, response.body[:500])
    if response.status >= 400:
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert isinstance(body["error"], str) and body["error"]
        assert body["detail"] and all(entry["message"] for entry in body["detail"])
    if response.status in (200, 204):
        assert response.status == 200 or response.body == b""


# -- through an HTTP client ---------------------------------------------------------------------------


@fuzz(REQUESTS["expressions"])
@given(expression=EXPRESSIONS)
def test_any_expression_is_answered_without_a_500(client: TestClient, expression: str) -> None:
    response = client.get(URL, params={"expression": expression})
    assert response.status_code in (200, 204, 400), response.text
    if response.status_code == 400:
        problem = response.json()["detail"][0]
        assert 0 <= problem["start"] <= problem["end"] <= len(expression)


@fuzz(REQUESTS["parameters"])
@given(path=st.sampled_from(SEARCH_PATHS), params=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, max_size=5))
def test_any_parameters_are_answered_without_a_500(client: TestClient, path: str, params: dict[str, str]) -> None:
    response = client.get(path, params=params)
    assert response.status_code in ANSWERS, response.text
    if response.status_code >= 400:
        assert response.json()["detail"][0]["message"]


# -- raw bytes, straight to the app -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, bytes]]:
    """The app over the embedded engine, with a token that may do everything: raw bytes try the HTTP and
    parameter layers."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    store = EmbeddedStore(folder)
    store.ingest([replace(report, dataset=dataset) for dataset in DATASETS for report in CORPUS])
    tokens = TokenStore(folder)
    secret = tokens.create("fuzzer", enterprise=True)
    yield create_app(store, tokens, ServerSettings(allow_anon=False)), f"Bearer {secret}".encode()
    store.close()


ESCAPES = st.sampled_from([b"%", b"%2", b"%zz", b"%25", b"%00", b"%ff", b"%c3", b"%c3%a9", b"%ed%a0%80", b"+", b"%20"])
RAW_PIECES = st.one_of(
    st.binary(max_size=12),
    ESCAPES,
    st.sampled_from([b"&", b"=", b"&&", b"==", b";", b"#", b"?", b"\x00", b"\xff", b"\xc3\xa9", "日本".encode()]),
    st.sampled_from([name.encode() for name in PARAMETERS]),
    VALUES.map(lambda value: value.encode("utf-8", "surrogatepass")),
)
RAW_QUERIES = st.one_of(
    st.binary(max_size=200),
    st.lists(RAW_PIECES, max_size=16).map(b"".join),
    st.lists(
        st.tuples(st.sampled_from(PARAMETERS).map(str.encode), st.lists(RAW_PIECES, max_size=4).map(b"".join)),
        max_size=6,
    ).map(lambda pairs: b"&".join(name + b"=" + value for name, value in pairs)),
    st.integers(8100, 8300).map(lambda size: b"x=" + b"y" * size),  # around the 8 KiB limit
)
RAW_PATHS = [*SEARCH_PATHS, "/v1/scan/ports", "/v1/scan/ipports", "/v1/admin/user", "/v1/ip/summary", "/v1/ip/reverse"]


@fuzz(REQUESTS["raw query strings"] // len(RAW_PATHS))
@given(query=RAW_QUERIES)
def test_any_raw_query_string_is_answered_without_a_500(fuzz_app: tuple[FastAPI, bytes], query: bytes) -> None:
    app, bearer = fuzz_app
    for path in RAW_PATHS:
        response = raw_get(app, path, query, [(b"authorization", bearer)])
        assert_answer(response, ANSWERS)
        if len(query) > 8192:
            assert response.status == 414


HEADER_NAMES = st.sampled_from(
    [b"authorization", b"host", b"content-length", b"x-forwarded-for", b"cookie", b"accept", b"transfer-encoding"]
)
HEADER_VALUES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"Bearer", b"Bearer ", b"bearer  x", b"Bearer anon", b"Basic Zm9vOmJhcg==", b"-1", b"chunked"]),
    st.integers(0, 3000).map(lambda size: b"Bearer " + b"A" * size),
)


@fuzz(REQUESTS["headers"] // 2)
@given(
    headers=st.lists(st.tuples(HEADER_NAMES | st.binary(min_size=1, max_size=10).map(bytes.lower), HEADER_VALUES)),
    keep_token=st.booleans(),
)
def test_any_headers_are_answered_without_a_500(
    fuzz_app: tuple[FastAPI, bytes], headers: list[tuple[bytes, bytes]], keep_token: bool
) -> None:
    app, bearer = fuzz_app
    sent = [*headers, (b"authorization", bearer)] if keep_token else headers
    authorizations = [value for name, value in sent if name == b"authorization"]
    for path, query in (("/v1/scan/protocols", b"ip=8.8.8.8"), ("/v1/admin/user", b"")):
        response = raw_get(app, path, query, sent)
        assert_answer(response, {200, 401})
        assert (response.status == 200) == (authorizations == [bearer])


SEGMENTS = st.sampled_from(
    ["v1", "scan", "protocols", "ports", "ipports", "admin", "user", "export", "link", "prioritize", "..", ".", ""]
)


@fuzz(REQUESTS["paths"])
@given(segments=st.lists(SEGMENTS | st.text(max_size=8), max_size=6), query=RAW_QUERIES)
def test_any_path_is_answered_without_a_500(fuzz_app: tuple[FastAPI, bytes], segments: list[str], query: bytes) -> None:
    app, bearer = fuzz_app
    path = "/" + "/".join(segments)
    response = raw_get(app, path, query, [(b"authorization", bearer)])
    if response.status == 404 and not is_api_path(path):  # a path a browser asked for: the web's 404 page
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        return
    assert_answer(response, ANSWERS | {401, 404, 405})
