"""``/v1/alerts`` (a Shoal extension): a token makes, lists, shows, tests and deletes its own alerts only; bad
input is a 400 naming the parameter with nothing stored; a token's webhook may reach only public addresses or
the networks ``shoal serve --webhook-allow`` names."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.store.base import Store
from shoal.tokens import TokenStore
from tests.api.conftest import assert_error

LOOPBACK_HOOK = "http://127.0.0.1:9/hook"
PUBLIC_HOOK = "http://192.0.2.1/hook"  # TEST-NET-1: not global, so allowed only with --webhook-allow below


@pytest.fixture
def alerts_client(api_store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    tokens = TokenStore(tmp_path)
    mine, theirs = tokens.create("mine"), tokens.create("theirs")
    app = create_app(api_store, tokens, webhook_allow=[ipaddress.ip_network("192.0.2.0/24")])
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {mine}"
        yield client, mine, theirs


def test_a_token_manages_its_own_alerts(alerts_client: tuple[TestClient, str, str]) -> None:
    client, _, theirs = alerts_client
    made = client.post(
        "/v1/alerts",
        params={"name": "web", "query": "port-tcp:80", "webhook": PUBLIC_HOOK, "trigger": "new,gone", "secret": "k"},
    )
    assert made.status_code == 200, made.text
    alert = made.json()
    assert alert["triggers"] == ["new", "gone"] and alert["signed"] is True and "secret" not in alert
    assert client.get("/v1/alerts").json()["alerts"] == [alert]
    shown = client.get(f"/v1/alerts/{alert['id']}").json()
    assert shown["watched"] > 0 and shown["deliveries"] == []
    queued = client.post(f"/v1/alerts/{alert['id']}/test").json()["queued"]
    assert [delivery["id"] for delivery in client.get(f"/v1/alerts/{alert['id']}").json()["deliveries"]] == [queued]

    other = {"Authorization": f"Bearer {theirs}"}
    assert client.get("/v1/alerts", headers=other).json() == {"alerts": []}
    assert_error(client.get(f"/v1/alerts/{alert['id']}", headers=other), 404)
    assert_error(client.delete(f"/v1/alerts/{alert['id']}", headers=other), 404)

    assert client.delete(f"/v1/alerts/{alert['id']}").json() == {"deleted": alert["id"]}
    assert client.get("/v1/alerts").json() == {"alerts": []}
    assert_error(client.get(f"/v1/alerts/{alert['id']}"), 404)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"name": "x", "query": "port-tcp:(", "webhook": PUBLIC_HOOK}, "query"),
        ({"name": "x", "query": "port-tcp:80", "webhook": "ftp://192.0.2.1/"}, "webhook"),
        ({"name": "x", "query": "port-tcp:80", "webhook": LOOPBACK_HOOK}, "webhook"),
        ({"name": "x", "query": "port-tcp:80", "webhook": "http://169.254.169.254/"}, "webhook"),
        ({"name": "x", "query": "port-tcp:80", "webhook": "http://10.0.0.1/"}, "webhook"),
        ({"name": "x", "query": "port-tcp:80"}, "webhook"),
        ({"query": "port-tcp:80", "webhook": PUBLIC_HOOK}, "name"),
        ({"name": "x", "webhook": PUBLIC_HOOK, "trigger": "new,born"}, "trigger"),
        ({"name": "x", "webhook": PUBLIC_HOOK, "dataset": "nope"}, "dataset"),
        ({"name": "x", "webhook": PUBLIC_HOOK, "ip": "300.1.1.1"}, "ip"),
    ],
)
def test_bad_alerts_are_400_and_not_stored(
    alerts_client: tuple[TestClient, str, str], params: dict[str, str], parameter: str
) -> None:
    client, _, _ = alerts_client
    assert_error(client.post("/v1/alerts", params=params), 400, parameter)
    assert client.get("/v1/alerts").json() == {"alerts": []}


def test_alerts_need_a_token(alerts_client: tuple[TestClient, str, str]) -> None:
    client, _, _ = alerts_client
    assert client.get("/v1/alerts", headers={"Authorization": ""}).status_code == 401
