"""``GET /v1/admin/user`` and the quota rules behind it: what costs units, 429 when a quota is used up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.api.limits import ServerSettings
from shoal.store.base import Store
from shoal.tokens import CLASS_LIMITS, ID_LENGTH, TokenStore, hash_token
from shoal.usage import UsageBook, iso, month_of, next_reset
from tests.api.asgi import raw_get
from tests.api.conftest import assert_error

URL = "/v1/scan/protocols"
USER = "/v1/admin/user"


@dataclass
class Api:
    client: TestClient
    tokens: TokenStore
    folder: Path
    secret: str

    def usage(self, secret: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {secret or self.secret}"}
        return self.client.get(USER, headers=headers).json()["quota"]["api_usage"]


@pytest.fixture
def api(api_store: Store, tmp_path: Path) -> Iterator[Api]:
    tokens = TokenStore(tmp_path)
    secret = tokens.create("alice")
    with TestClient(create_app(api_store, tokens), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield Api(client, tokens, tmp_path, secret)


def test_user_shape(api: Api) -> None:
    response = api.client.get(USER)
    assert response.status_code == 200
    body = response.json()
    # sorted keys, like every Shoal body; Driftnet's (user_class, token, paid, additional_quota) beside Shoal's
    assert list(body) == ["additional_quota", "class", "created", "id", "name", "paid", "quota", "token", "user_class"]
    now = dt.datetime.now(dt.UTC)
    assert body["quota"] == {
        "api_limit": CLASS_LIMITS["normal"].api_limit,
        "api_usage": 0,
        "concurrency_limit": 5,
        "lifetime_usage": 0,
        "next_reset": iso(next_reset(now)),
        "period": month_of(now),
        "priority_limit": CLASS_LIMITS["normal"].priority_limit,
        "priority_usage": 0,
        "reset": iso(next_reset(now)),
    }
    assert (body["name"], body["class"], body["id"]) == ("alice", "normal", hash_token(api.secret)[:ID_LENGTH])
    assert (body["token"], body["user_class"], body["paid"], body["additional_quota"]) == ("alice", "normal", False, 0)
    assert api.secret not in response.text
    assert body["created"].startswith(str(now.year))


def test_lifetime_usage_counts_every_month_and_additional_quota_the_grant_above_the_class(api: Api) -> None:
    last_month = dt.datetime.now(dt.UTC).replace(day=1) - dt.timedelta(days=1)
    token_id = hash_token(api.secret)[:ID_LENGTH]
    UsageBook(api.folder).charge(token_id, "api", 7, 100, now=last_month)
    assert api.client.get(URL, params={"ip": "8.8.8.8"}).status_code == 200
    api.tokens.set_quota("alice", api_limit=CLASS_LIMITS["normal"].api_limit + 500)
    body = api.client.get(USER).json()
    assert (body["quota"]["api_usage"], body["quota"]["lifetime_usage"]) == (1, 8)
    assert body["additional_quota"] == 500
    secret = api.tokens.create("big", enterprise=True)
    assert api.client.get(USER, headers={"Authorization": f"Bearer {secret}"}).json()["paid"] is True


def test_enterprise_class(api: Api) -> None:
    secret = api.tokens.create("big", enterprise=True)
    body = api.client.get(USER, headers={"Authorization": f"Bearer {secret}"}).json()
    assert body["class"] == "enterprise"
    assert body["quota"]["api_limit"] == CLASS_LIMITS["enterprise"].api_limit


def test_user_needs_a_token(api: Api) -> None:
    assert_error(api.client.get(USER, headers={"Authorization": ""}), 401)


def test_answered_calls_cost_one_unit_and_rejected_calls_nothing(api: Api) -> None:
    assert api.client.get(URL, params={"ip": "8.8.8.8"}).status_code == 200
    assert api.client.get(URL, params={"expression": "title:nothing-at-all"}).status_code == 204
    assert api.usage() == 2
    assert_error(api.client.get(URL, params={"page": "100"}), 400, "page")
    assert_error(api.client.get(URL, params={"summarize": "geo-country", "summary_cardinality": "true"}), 403)
    assert_error(api.client.get("/v1/no/such/route"), 404)
    assert_error(api.client.get(URL, params={"expression": "%"}), 400, "expression")
    api.client.get(USER)
    assert api.usage() == 2


def test_summaries_cost_one_unit_per_started_ten_thousand_values(api: Api) -> None:
    secret = api.tokens.create("big", enterprise=True)
    headers = {"Authorization": f"Bearer {secret}"}
    for limit, total in (("100", 1), ("10000", 2), ("10001", 4), ("1000000", 104)):
        response = api.client.get(URL, params={"summarize": "port-tcp", "summary_limit": limit}, headers=headers)
        assert response.status_code == 200
        assert api.usage(secret) == total


def test_a_used_up_quota_is_429_naming_the_quota_and_its_reset(api: Api) -> None:
    api.tokens.set_quota("alice", api_limit=2)  # takes effect in the running server
    assert api.client.get(URL, params={"ip": "8.8.8.8"}).status_code == 200
    summary = {"summarize": "port-tcp", "summary_limit": "10001"}  # costs 2 units: more than the 1 left
    body = assert_error(api.client.get(URL, params=summary), 429)
    assert api.client.get(URL, params={"ip": "8.8.8.8"}).status_code == 200
    response = api.client.get(URL, params={"ip": "8.8.8.8"})
    body = assert_error(response, 429)
    reset = next_reset(dt.datetime.now(dt.UTC))
    assert body["code"] == "quota_exceeded"
    assert body["detail"][0] == {
        "message": body["error"],
        "quota": "api_limit",
        "limit": 2,
        "usage": 2,
        "cost": 1,
        "next_reset": iso(reset),
    }
    assert "api_limit" in body["error"] and iso(reset) in body["error"]
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= (reset - dt.datetime.now(dt.UTC)).total_seconds() + 2
    assert api.usage() == 2
    api.tokens.set_quota("alice", api_limit=3)
    assert api.client.get(URL, params={"ip": "8.8.8.8"}).status_code == 200


def test_usage_survives_a_restart(api: Api, api_store: Store) -> None:
    for _ in range(3):
        api.client.get(URL, params={"ip": "8.8.8.8"})
    with TestClient(create_app(api_store, TokenStore(api.folder))) as restarted:
        restarted.headers["Authorization"] = f"Bearer {api.secret}"
        assert restarted.get(USER).json()["quota"]["api_usage"] == 3


def test_a_revoked_token_stops_at_once(api: Api) -> None:
    api.tokens.revoke("alice")
    assert_error(api.client.get(URL, params={"ip": "8.8.8.8"}), 401)


def test_anonymous_access_is_off_by_default(api: Api) -> None:
    body = assert_error(api.client.get(URL, params={"ip": "8.8.8.8"}, headers={"Authorization": "Bearer anon"}), 401)
    assert "anonymous access is off" in body["error"]


def test_anonymous_access_when_allowed_is_counted_per_address(api_store: Store, tmp_path: Path) -> None:
    app = create_app(api_store, TokenStore(tmp_path), ServerSettings(allow_anon=True))
    anon = [(b"authorization", b"Bearer anon")]
    assert raw_get(app, URL, b"ip=8.8.8.8", anon, client=("198.51.100.1", 1000)).status == 200
    assert raw_get(app, URL, b"ip=8.8.8.8", anon, client=("198.51.100.1", 1001)).status == 200
    here = raw_get(app, USER, b"", anon, client=("198.51.100.1", 1002)).json()
    assert here["class"] == "anon" and here["created"] is None and here["name"] == "anon"
    assert here["quota"]["api_usage"] == 2
    assert here["quota"]["api_limit"] == CLASS_LIMITS["anon"].api_limit
    assert here["quota"]["concurrency_limit"] == 1
    elsewhere = raw_get(app, USER, b"", anon, client=("198.51.100.2", 1000)).json()
    assert elsewhere["quota"]["api_usage"] == 0 and elsewhere["id"] != here["id"]
    # One IPv6 site (/64) is one anonymous client, whatever its addresses.
    first = raw_get(app, USER, b"", anon, client=("2001:db8:1:2::1", 1)).json()["id"]
    assert raw_get(app, USER, b"", anon, client=("2001:db8:1:2:ffff::9", 1)).json()["id"] == first
    enterprise_only = raw_get(app, URL, b"summarize=port-tcp&summary_cardinality=true", anon)
    assert enterprise_only.status == 403
