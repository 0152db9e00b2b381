"""Which engine holds the reports: one store URL, from ``--store`` or ``$SHOAL_STORE``.

    embedded:///path                       tantivy index + observation segments under path (the default,
                                           with path = the data directory)
    chdb:///path                           ClickHouse in-process (chDB) with its files under path
    clickhouse://[user[:password]@]host:port[,host:port]/db[?cluster=NAME]
                                           a ClickHouse server (HTTP interface) or, with ``cluster``, the
                                           named cluster of ReplicatedMergeTree shards behind Distributed
                                           tables; several hosts are tried in order

Local state (tokens, usage, slots, the collector's files) always stays in the data directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from shoal.errors import BadParameter

if TYPE_CHECKING:  # the engines, and numpy, are imported when a store is opened: the CLI starts fast
    from shoal.store.base import Store

STORE_VARIABLE = "SHOAL_STORE"
SCHEMES = ("embedded", "chdb", "clickhouse")


def store_url(explicit: str | None = None) -> str | None:
    """The store URL in force: ``explicit``, else ``$SHOAL_STORE``, else None (embedded in the data directory)."""
    return explicit or os.environ.get(STORE_VARIABLE) or None


def open_store(url: str | None, data_dir: Path, *, server: bool = False) -> Store:
    """The store ``url`` names (None: embedded in ``data_dir``). ``server``: opened by a long-running process
    (``shoal serve``), which must let other processes write meanwhile."""
    if url is None:
        return _open_embedded(data_dir, server)
    parts = urlsplit(url)
    opener = OPENERS.get(parts.scheme)
    if opener is None:
        raise BadParameter("store", f"unknown store {url!r}: the scheme must be one of {', '.join(SCHEMES)}")
    return opener(url, data_dir, server)


def _open_embedded(data_dir: Path, server: bool) -> Store:
    from shoal.store.embedded import EmbeddedStore

    return EmbeddedStore(data_dir, hold_writer=not server)


def _embedded(url: str, data_dir: Path, server: bool) -> Store:
    path = urlsplit(url).path
    return _open_embedded(Path(path) if path else data_dir, server)


def _chdb(url: str, data_dir: Path, server: bool) -> Store:
    from shoal.store.clickhouse import ClickHouseStore
    from shoal.store.clickhouse.client import ChdbClient

    path = urlsplit(url).path
    store = ClickHouseStore(ChdbClient(Path(path) if path else data_dir / "chdb"), database="shoal", cluster=None)
    store.migrate()  # files of this process, like the embedded index: created on first use
    return store


def _clickhouse(url: str, data_dir: Path, server: bool) -> Store:
    from shoal.store.clickhouse import ClickHouseStore
    from shoal.store.clickhouse.client import HttpClient

    parts = urlsplit(url)
    credentials, _, netloc = parts.netloc.rpartition("@")
    user, _, password = credentials.partition(":")
    hosts = [host for host in netloc.split(",") if host]
    if not hosts:
        raise BadParameter("store", f"{url!r} names no host: write clickhouse://host:8123/database")
    options = parse_qs(parts.query)
    database = parts.path.strip("/") or "shoal"
    cluster = options.get("cluster", [None])[0]
    client = HttpClient(hosts, unquote(user) or "default", unquote(password))
    return ClickHouseStore(client, database=database, cluster=cluster)


OPENERS: dict[str, Callable[[str, Path, bool], Store]] = {
    "embedded": _embedded,
    "chdb": _chdb,
    "clickhouse": _clickhouse,
}
