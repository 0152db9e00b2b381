"""Which engine holds the reports: one store URL, from ``--store`` or ``$SHOAL_STORE``, whose scheme names the
engine. Each engine is a package whose ``ENGINE`` (a ``Store`` subclass) opens its URLs; ``ENGINES`` is the one
list of them, one line each, imported only when a store is opened (the CLI starts fast):

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

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shoal.errors import BadParameter

if TYPE_CHECKING:  # the engines, and numpy, are imported when a store is opened: the CLI starts fast
    from shoal.store.base import Store

STORE_VARIABLE = "SHOAL_STORE"
ENGINES: dict[str, str] = {  # a store URL's scheme → the package of the engine that opens it
    "embedded": "shoal.store.embedded",
    "chdb": "shoal.store.clickhouse",
    "clickhouse": "shoal.store.clickhouse",
}
DEFAULT_URL = "embedded:"  # the embedded engine, in the data directory


def store_url(explicit: str | None = None) -> str | None:
    """The store URL in force: ``explicit``, else ``$SHOAL_STORE``, else None (embedded in the data directory)."""
    return explicit or os.environ.get(STORE_VARIABLE) or None


def engine_of(url: str | None) -> type[Store]:
    """The engine that opens ``url`` (None: the default one)."""
    scheme = urlsplit(url or DEFAULT_URL).scheme
    package = ENGINES.get(scheme)
    if package is None:
        raise BadParameter("store", f"unknown store {url!r}: the scheme must be one of {', '.join(ENGINES)}")
    engine: type[Store] = importlib.import_module(package).ENGINE
    return engine


def open_store(url: str | None, data_dir: Path, *, server: bool = False) -> Store:
    """The store ``url`` names (None: embedded in ``data_dir``). ``server``: opened by a long-running process
    (``shoal serve``), which must let other processes write meanwhile. Its watcher is the data directory's
    alerts: what the ingest path stores is evaluated against them."""
    from shoal.alerts.evaluate import AlertWatcher

    store = engine_of(url).open(url or DEFAULT_URL, data_dir, server)
    store.watcher = AlertWatcher(data_dir)
    return store
