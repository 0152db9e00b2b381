"""Every engine the suite runs on, each opened empty: every scheme of ``shoal.store.registry.ENGINES`` (embedded
(tantivy), chDB (ClickHouse 26.9 in-process) and the local 2 shards × 2 replicas ClickHouse 18.16 cluster,
``scripts/clickhouse-cluster.sh``), a new one by its URL with a folder of its own.

The cluster is started once per test session by the ``clickhouse_cluster`` fixture and stopped at its end;
when its packages are missing it is skipped, except in CI (``CI=true``), where that is a failure. chDB holds
one directory per process, so each chDB or cluster store is a database of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.store.base import Store
from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import ChdbClient, HttpClient
from shoal.store.registry import ENGINES, open_store

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_SCRIPT = ROOT / "scripts" / "clickhouse-cluster.sh"
ENGINE_NAMES = tuple(ENGINES)
_databases = itertools.count()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"{what} is missing in CI")
    pytest.skip(f"{what} is not installed")


class Cluster:
    """The running local cluster: its store URL and the script that controls it."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.hosts = [url.split("//", 1)[1].split("/", 1)[0]]

    def control(self, *arguments: str) -> None:
        subprocess.run(["bash", str(CLUSTER_SCRIPT), *arguments], check=True, env=cluster_environment(self.folder))


# Not the script's default: a cluster started by hand keeps running beside the tests'. $SHOAL_TEST_CLUSTER_PORT moves
# it, so that two checkouts can run their suites at the same time.
TEST_PORT_BASE = os.environ.get("SHOAL_TEST_CLUSTER_PORT", "28300")


def cluster_environment(folder: Path) -> dict[str, str]:
    return {**os.environ, "SHOAL_CLUSTER_DIR": str(folder), "SHOAL_CLUSTER_PORT": TEST_PORT_BASE}


def start_cluster(folder: Path) -> Cluster:
    if shutil.which("clickhouse-server") is None and not (os.geteuid() == 0 and shutil.which("apt-get")):
        missing("clickhouse-server")
    done = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "start"], capture_output=True, text=True, env=cluster_environment(folder)
    )
    if done.returncode != 0:
        pytest.fail(f"the ClickHouse cluster did not start: {done.stderr[-2000:]}")
    return Cluster(done.stdout.strip().splitlines()[-1], folder)


def chdb_store(folder: Path) -> ClickHouseStore:
    store = ClickHouseStore(ChdbClient(folder), database=f"shoal_test_{next(_databases)}")
    store.migrate()
    return store


def cluster_store(cluster: Cluster) -> ClickHouseStore:
    store = ClickHouseStore(HttpClient(cluster.hosts), database=f"shoal_test_{next(_databases)}", cluster="shoal")
    store.migrate()
    return store


def drop(store: Store) -> None:
    if isinstance(store, ClickHouseStore):
        store.drop_database()
    store.close()


@pytest.fixture(scope="session")
def chdb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        import chdb  # noqa: F401
    except ImportError:
        missing("chdb")
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="session")
def clickhouse_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("clickhouse-cluster")
    cluster = start_cluster(folder)
    yield cluster
    cluster.control("stop")


def open_engine(engine: str, request: pytest.FixtureRequest, folder: Path) -> Store:
    """An empty store of ``engine``: a database of its own in the chDB folder of this process or in the test
    cluster (their fixtures start on first use), any other engine's at ``engine://folder``."""
    if engine == "chdb":
        return chdb_store(request.getfixturevalue("chdb_folder"))
    if engine == "clickhouse":
        return cluster_store(request.getfixturevalue("clickhouse_cluster"))
    return open_store(f"{engine}://{folder}", folder)
