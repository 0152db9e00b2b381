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
def client(api_store: Store, token_store: TokenStore, normal_token: str) -> Iterator[TestClient]:
    with TestClient(create_app(api_store, token_store), raise_server_exceptions=False) as test_client:
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


SLOW_CORPUS_SIZE = 10_000
# ~0.2 s of CPU at 10,000 reports on the CI machine (mostly Python, so concurrent ones queue for the GIL):
# it outlasts a 1 ms time limit, and a few requests made meanwhile, many times over.
SLOW_QUERY = {
    "summarize": "http-header",
    "summary_nocontext": "Server",
    "most_recent": "true",
    "summary_limit": "10000",
}


@pytest.fixture(scope="session")
def slow_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding 10,000 generated reports (its store closed: open it, or serve it)."""
    from shoal.store.embedded import EmbeddedStore
    from tests.generated import generated_reports

    folder = tmp_path_factory.mktemp("slow")
    store = EmbeddedStore(folder)
    store.ingest(generated_reports(SLOW_CORPUS_SIZE, seed=3))
    store.close()
    return folder
