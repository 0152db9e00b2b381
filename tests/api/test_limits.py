"""Limits on input and on time: long or broken query strings, hostile headers, ``timeout`` and the 504."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import QueryParams

from shoal.api.app import create_app
from shoal.api.errors import render_error
from shoal.api.limits import MAX_QUERY_STRING, ServerSettings, timeout_of
from shoal.errors import QuotaExceeded, ShoalError, TooManyConnections, TooManyRequests
from shoal.store import deadline
from shoal.store.base import PAGE_SIZE, Filters, Store, Summary, SummaryRequest
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import ID_LENGTH, TokenStore, hash_token
from tests.api.asgi import raw_get
from tests.api.conftest import SLOW_QUERY, assert_error

URL = "/v1/scan/protocols"


@pytest.fixture
def app(api_store: Store, tmp_path: Path) -> FastAPI:
    return create_app(api_store, TokenStore(tmp_path), ServerSettings(query_timeout=20))


@pytest.fixture
def bearer(app: FastAPI) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {app.state.tokens.create('limits')}".encode())]


# -- the query string -----------------------------------------------------------------------------------


def test_a_query_string_at_the_limit_is_served_and_one_byte_more_is_414(app: FastAPI, bearer: list) -> None:
    head = b"ip=8.8.8.8&padding="
    exact = head + b"x" * (MAX_QUERY_STRING - len(head))
    assert raw_get(app, URL, exact, bearer).status == 200
    response = raw_get(app, URL, exact + b"x", bearer)
    assert response.status == 414
    body = response.json()
    assert body["code"] == "request_too_long" and "8,192" in body["error"] and body["detail"][0]["message"]


def test_the_length_limit_applies_before_the_token_is_checked(app: FastAPI) -> None:
    assert raw_get(app, URL, b"x=" + b"y" * MAX_QUERY_STRING).status == 414


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        (b"expression=%zz", "expression", "broken %-escape"),
        (b"expression=title%3", "expression", "broken %-escape"),
        (b"ip=%", "ip", "broken %-escape"),
        (b"expression=%e9t%e9", "expression", "not valid UTF-8"),  # Latin-1, not UTF-8
        (b"expression=%ed%a0%80", "expression", "not valid UTF-8"),  # an encoded surrogate
        (b"expression=%c3", "expression", "not valid UTF-8"),  # a truncated sequence
        (b"expression=title:caf\xe9", "expression", "not valid UTF-8"),  # a raw Latin-1 byte
        (b"%ff=1", "\ufffd", "not valid UTF-8"),  # a broken parameter name
        (b"ip=8.8.8.8&sl%zzop=1", "sl%zzop", "broken %-escape"),
    ],
)
def test_broken_encodings_are_400_naming_the_parameter(
    app: FastAPI, bearer: list, query: bytes, parameter: str, words: str
) -> None:
    response = raw_get(app, URL, query, bearer)
    assert response.status == 400, response.body
    body = response.json()
    assert body["code"] == "bad_parameter" and words in body["error"]
    assert body["detail"][0]["parameter"] == parameter


def test_raw_utf8_in_the_query_string_is_read_as_utf8(app: FastAPI, bearer: list) -> None:
    escaped = raw_get(app, URL, b"expression=%E6%97%A5%E6%9C%AC:x", bearer)
    raw = raw_get(app, URL, "expression=日本:x".encode(), bearer)
    assert escaped.status == raw.status == 400
    assert raw.body == escaped.body
    assert "日本" in raw.json()["error"]  # an unknown type, named as sent (not as Latin-1 mojibake)


# -- headers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"authorization", b"")],
        [(b"authorization", b"Bearer")],
        [(b"authorization", b"Bearer    ")],
        [(b"authorization", b"Basic dXNlcjpwYXNz")],
        [(b"authorization", b"Bearer " + b"A" * 100_000)],
        [(b"authorization", b"Bearer \xff\xfe\x00\x01")],
        [(b"authorization", b"Bearer \xc3\xa9t\xc3\xa9")],
        [(b"authorization", b"\x00\x00")],
        [(b"authorization", b"Bearer anon")],
    ],
)
def test_hostile_authorization_headers_are_401(app: FastAPI, headers: list) -> None:
    response = raw_get(app, URL, b"ip=8.8.8.8", headers)
    assert response.status == 401 and response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_two_authorization_headers_are_401_even_if_one_is_good(app: FastAPI, bearer: list) -> None:
    response = raw_get(app, URL, b"ip=8.8.8.8", [*bearer, (b"authorization", b"Bearer other")])
    assert response.status == 401 and "one Authorization header" in response.json()["error"]


def test_odd_other_headers_change_nothing(app: FastAPI, bearer: list) -> None:
    odd = [(b"x-" + bytes([n]) * 10, bytes(range(128, 256))) for n in range(97, 123)] + [
        (b"content-length", b"-1"),
        (b"host", b"\xff" * 5000),
        (b"accept-encoding", b"\x00"),
    ]
    assert raw_get(app, URL, b"ip=8.8.8.8", [*bearer, *odd]).status == 200


# -- time limit ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "0", "0.0001", "-1", "1e3", "nan", "inf", "1,5", " ", "0x10", "١"])
def test_bad_timeouts_are_400(app: FastAPI, value: str) -> None:
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {app.state.tokens.create('t')}"
        if value.strip():
            assert_error(client.get(URL, params={"ip": "8.8.8.8", "timeout": value}), 400, "timeout")
        else:
            assert client.get(URL, params={"ip": "8.8.8.8", "timeout": value}).status_code == 200


@pytest.mark.parametrize("value", ["0.001", "1", "2.5", "20", "20.5", "30", "9999999"])
def test_good_timeouts_change_nothing_for_a_quick_query(app: FastAPI, bearer: list, value: str) -> None:
    response = raw_get(app, URL, f"ip=8.8.8.8&timeout={value}".encode(), bearer)
    assert response.status in (200, 504)  # 1 ms may be too little even for the test corpus
    if value != "0.001":
        assert response.status == 200


@pytest.fixture
def slow_app(slow_data: Path) -> Iterator[FastAPI]:
    store = EmbeddedStore(slow_data)
    tokens = TokenStore(slow_data / "limits")
    yield create_app(store, tokens, ServerSettings(query_timeout=20))
    store.close()


@pytest.mark.slow
def test_a_query_past_its_time_limit_is_504_and_billed(slow_app: FastAPI) -> None:
    with TestClient(slow_app) as client:
        client.headers["Authorization"] = f"Bearer {slow_app.state.tokens.create('slow')}"
        assert client.get(URL, params=SLOW_QUERY).status_code == 200  # the query itself works
        response = client.get(URL, params={**SLOW_QUERY, "timeout": "0.001"})
        body = assert_error(response, 504, "timeout")
        assert body["code"] == "query_timeout" and body["detail"][0]["timeout"] == 0.001
        assert "0.001 s" in body["error"]
        assert client.get("/v1/admin/user").json()["quota"]["api_usage"] == 2


@pytest.mark.slow
def test_the_server_time_limit_applies_without_a_timeout_parameter(slow_data: Path, tmp_path: Path) -> None:
    store = EmbeddedStore(slow_data)
    app = create_app(store, TokenStore(tmp_path), ServerSettings(query_timeout=0.001))
    try:
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {app.state.tokens.create('slow')}"
            assert_error(client.get(URL, params=SLOW_QUERY), 504, "timeout")
            # above the server's limit: lowered to it (a client that hard-codes timeout=30 still gets answers)
            body = assert_error(client.get(URL, params={**SLOW_QUERY, "timeout": "30"}), 504, "timeout")
            assert body["detail"][0]["timeout"] == 0.001
    finally:
        store.close()


def test_a_timeout_above_the_server_limit_is_lowered_to_it() -> None:
    assert timeout_of(QueryParams("timeout=30"), 10.0) == 10.0
    assert timeout_of(QueryParams("timeout=2.5"), 10.0) == 2.5
    assert timeout_of(QueryParams(""), 10.0) == 10.0


def test_every_429_carries_retry_after() -> None:
    def subclasses(cls: type[ShoalError]) -> list[type[ShoalError]]:
        return [cls, *(below for sub in cls.__subclasses__() for below in subclasses(sub))]

    too_many = [cls for cls in subclasses(ShoalError) if cls.status == 429]
    assert TooManyRequests in too_many and len(too_many) >= 3
    errors = [TooManyRequests("busy", 0), QuotaExceeded("api", 1, 1, 1, "2026-12-01T00:00:00Z", 5)]
    errors.append(TooManyConnections("too many"))
    assert {type(error) for error in errors} == set(too_many)
    for error in errors:
        assert int(render_error(error).headers["retry-after"]) >= 1


def busy_slots(folder: Path, token_id: str, capacity: int = 5) -> int:
    """How many of a token's concurrency slots are held, seen from outside as another process would."""
    busy = 0
    for number in range(capacity):
        path = folder / "slots" / f"{token_id}.{number}"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy += 1
    return busy


class UnstoppableStore(EmbeddedStore):
    """A real store whose summaries first take a second in a step nothing can stop (as one tantivy call): the
    embedded engine stops its own work at its next check once a query is answered 504, so only such a step
    still runs after the answer."""

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        time.sleep(1.0)
        return super().summarize(filters, request)


@pytest.mark.slow
def test_a_timed_out_query_keeps_its_slot_until_it_really_ends(slow_data: Path, tmp_path: Path) -> None:
    """Five queries answered 504 still run: a sixth call is refused until the engine has finished them."""
    store = UnstoppableStore(slow_data)
    tokens = TokenStore(tmp_path)
    secret = tokens.create("runaway")
    token_id = hash_token(secret)[:ID_LENGTH]
    with TestClient(create_app(store, tokens, ServerSettings(query_timeout=20))) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        for _ in range(5):
            assert client.get(URL, params={**SLOW_QUERY, "timeout": "0.001"}).status_code == 504
        refused = client.get(URL, params={"ip": "8.8.8.8"})
        body = assert_error(refused, 429)
        assert body["code"] == "too_many_requests" and refused.headers["retry-after"] == "1"
        assert "at most 5 queries" in body["error"]
        deadline = time.monotonic() + 60
        while busy_slots(tokens.path.parent, token_id):
            assert time.monotonic() < deadline, "the slots of finished queries were never given back"
            time.sleep(0.05)
        assert client.get(URL, params={"ip": "8.8.8.8"}).status_code == 204
        assert client.get("/v1/admin/user").json()["quota"]["api_usage"] == 6  # five 504s and one 204
    store.close()


class LimitSeeingStore(EmbeddedStore):
    """A real store that notes the time limit each search ran under (engines read it: ClickHouse stops a
    query past it)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.limits: list[float | None] = []

    def search_rendered(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> tuple[int, list[bytes]]:
        running = deadline.current()
        self.limits.append(None if running is None else running.seconds)
        return super().search_rendered(filters, offset, limit)


def test_the_store_runs_each_search_under_the_request_time_limit(tmp_path: Path) -> None:
    store = LimitSeeingStore(tmp_path / "store")
    app = create_app(store, TokenStore(tmp_path), ServerSettings(query_timeout=20))
    try:
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {app.state.tokens.create('limits')}"
            assert client.get(URL, params={"ip": "8.8.8.8", "timeout": "2.5"}).status_code == 204
            assert client.get(URL, params={"ip": "8.8.8.8"}).status_code == 204
        assert store.limits == [2.5, 20]
        assert deadline.current() is None
    finally:
        store.close()
