from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.store.base import Store
from shoal.tokens import TokenStore


@pytest.fixture(scope="session")
def token_store(tmp_path_factory: pytest.TempPathFactory) -> TokenStore:
    return TokenStore(tmp_path_factory.mktemp("tokens"))


@pytest.fixture(scope="session")
def normal_token(token_store: TokenStore) -> str:
    return token_store.create("tester")


@pytest.fixture(scope="session")
def enterprise_token(token_store: TokenStore) -> str:
    return token_store.create("big", enterprise=True)


@pytest.fixture(scope="session")
def client(corpus_store: Store, token_store: TokenStore, normal_token: str) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_store, token_store), raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {normal_token}"
        yield test_client


def assert_error(response, status: int, parameter: str | None = None) -> dict:
    """Every error: the status, a JSON body with a message, and the parameter it is about."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert body["detail"] and all("message" in entry for entry in body["detail"])
    if parameter is not None:
        assert body["detail"][0]["parameter"] == parameter
    return body


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path
