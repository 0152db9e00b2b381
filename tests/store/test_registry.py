"""The store URL names the engine: parsing, defaults, and errors that name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoal.errors import BadParameter
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import HttpClient
from shoal.store.embedded import EmbeddedStore
from shoal.store.registry import open_store, store_url


def test_no_url_is_the_embedded_engine_in_the_data_directory(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    assert isinstance(store, EmbeddedStore)
    store.close()
    assert (tmp_path / "index").is_dir()


def test_an_embedded_url_names_its_own_directory(tmp_path: Path) -> None:
    store = open_store(f"embedded://{tmp_path / 'elsewhere'}", tmp_path / "data")
    store.close()
    assert (tmp_path / "elsewhere" / "index").is_dir() and not (tmp_path / "data").exists()


def test_a_clickhouse_url_names_hosts_credentials_database_and_cluster(tmp_path: Path) -> None:
    store = open_store("clickhouse://reader:p%40ss@ch1:8123,ch2:8124/scans?cluster=main", tmp_path)
    assert isinstance(store, ClickHouseStore) and isinstance(store.client, HttpClient)
    assert store.client.hosts == ["ch1:8123", "ch2:8124"]
    assert (store.database, store.cluster) == ("scans", "main")
    assert store.client.http.auth is not None  # basic authentication as reader / p@ss
    store.close()
    plain = open_store("clickhouse://localhost:8123", tmp_path)
    assert isinstance(plain, ClickHouseStore)
    assert (plain.database, plain.cluster, plain.client.http.auth) == ("shoal", None, None)
    plain.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/shoal", "unknown store 'mysql://localhost/shoal'"),
        ("clickhouse:///shoal", "names no host"),
    ],
)
def test_bad_urls_are_bad_parameters(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message) as raised:
        open_store(url, tmp_path)
    assert raised.value.parameter == "store"


def test_the_environment_gives_the_url_unless_one_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOAL_STORE", "chdb:///x")
    assert store_url() == "chdb:///x"
    assert store_url("embedded:///y") == "embedded:///y"
    monkeypatch.delenv("SHOAL_STORE")
    assert store_url() is None
