"""Every command on a ClickHouse store (``SHOAL_STORE`` / ``--store``): the local 2×2 cluster holds the reports
and observations, ``--data`` keeps tokens and usage, and ``shoal serve`` answers byte for byte what it answers
over the embedded engine."""

from __future__ import annotations

import gzip
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from shoal.store.clickhouse import ClickHouseStore
from shoal.store.clickhouse.client import HttpClient
from shoal.store.clickhouse.schema import LATEST
from tests.corpus import CORPUS
from tests.engines import Cluster, _databases

SHOAL = [sys.executable, "-m", "shoal"]
pytestmark = pytest.mark.slow

# (path, parameters) the two servers must answer identically.
CALLS: list[tuple[str, dict[str, str]]] = [
    ("/v1/scan/protocols", {"expression": "title:london"}),
    ("/v1/scan/protocols", {"expression": 'title:"london university"', "slop": "10"}),
    ("/v1/scan/protocols", {"field": "host:driftnet.io", "most_recent": "true"}),
    ("/v1/scan/protocols", {"ip": "8.8.8.0/24", "summarize": "port-tcp"}),
    ("/v1/scan/protocols", {"summarize": "http-header", "summary_context": "Server", "summary_limit": "2"}),
    ("/v1/scan/protocols", {"summarize": "protocol"}),
    ("/v1/scan/protocols", {"query": "cherrypy"}),
    ("/v1/scan/protocols", {"expression": "title:nothing-like-this"}),
    ("/v1/scan/protocols", {"expression": "title:(london"}),
    ("/v1/scan/ports", {"ip": "8.8.8.0/24"}),
    ("/v1/scan/ipports", {"ip": "10.1.2.0/24"}),
    ("/v1/scan/protocols/export", {"expression": "port-tcp:443"}),
]


def shoal(*args: str, data: Path, store: str | None, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "SHOAL_STORE"}
    if store is not None:
        environment["SHOAL_STORE"] = store
    return subprocess.run(
        [*SHOAL, *args, "--data", str(data)],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=180,
        env={**environment, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "corpus.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(report.as_dict()) for report in CORPUS) + b"\n")
    return path


@pytest.fixture(scope="module")
def cluster_url(clickhouse_cluster: Cluster) -> Iterator[str]:
    database = f"shoal_cli_{next(_databases)}"
    yield f"clickhouse://{clickhouse_cluster.hosts[0]}/{database}?cluster=shoal"
    ClickHouseStore(HttpClient(clickhouse_cluster.hosts), database, cluster="shoal").drop_database()


def import_into(folder: Path, store: str | None, corpus_file: Path) -> None:
    if store is not None:
        created = shoal("db", "init", data=folder, store=store)
        assert created.returncode == 0, created.stderr
        assert f"schema version {LATEST} (latest)" in created.stdout
    imported = shoal("import", str(corpus_file), data=folder, store=store)
    assert imported.returncode == 0, imported.stderr
    assert "imported 16, duplicate 0, rejected 0" in imported.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(folder: Path, store: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key != "SHOAL_STORE"}
    arguments = [*SHOAL] + (["--store", store] if store else []) + ["serve", "--data", str(folder)]
    process = subprocess.Popen(
        [*arguments, "--port", str(port), "--workers", "2"], stderr=subprocess.PIPE, env=environment
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/v1/admin/user", timeout=1)
            return process, base
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "shoal serve did not start"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def stores(
    cluster_url: str, corpus_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, str | None]]:
    folders = {
        "embedded": (tmp_path_factory.mktemp("embedded"), None),
        "cluster": (tmp_path_factory.mktemp("cluster"), cluster_url),
    }
    for folder, store in folders.values():
        import_into(folder, store, corpus_file)
    return folders


def test_import_again_adds_nothing_and_search_prints_the_same(
    stores: dict[str, tuple[Path, str | None]], corpus_file: Path
) -> None:
    folder, store = stores["cluster"]
    again = shoal("import", str(corpus_file), data=folder, store=store)
    assert "imported 0, duplicate 16, rejected 0" in again.stdout
    printed = {
        name: shoal("search", "--json", "title:london or protocol=ssh", data=folder, store=store).stdout
        for name, (folder, store) in stores.items()
    }
    assert printed["cluster"] == printed["embedded"] and '"r06"' in printed["cluster"]
    status = shoal("db", "status", data=folder, store=store)
    assert status.returncode == 0 and "latest" in status.stdout


def test_serve_answers_byte_for_byte_as_over_the_embedded_engine(stores: dict[str, tuple[Path, str | None]]) -> None:
    answers: dict[str, list[tuple[int, bytes]]] = {}
    for name, (folder, store) in stores.items():
        token = shoal("token", "create", "alice", "--enterprise", data=folder, store=store).stdout.strip()
        process, base = serve(folder, store)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            answers[name] = []
            for path, params in CALLS:
                response = httpx.get(
                    f"{base}{path}", params={**params, "to": "2026-11-30"}, headers=headers, timeout=60
                )
                answers[name].append((response.status_code, response.content))
        finally:
            process.terminate()
            process.wait(timeout=15)
    for call, embedded, cluster in zip(CALLS, answers["embedded"], answers["cluster"], strict=True):
        assert cluster == embedded, call
    assert {status for status, _ in answers["cluster"]} == {200, 204, 400}


def test_a_store_url_with_an_unknown_scheme_is_an_error(tmp_path: Path) -> None:
    result = shoal("search", "title:x", data=tmp_path, store="mysql://localhost/shoal")
    assert result.returncode == 2
    assert "unknown store 'mysql://localhost/shoal'" in result.stderr


DOCS = Path(__file__).parents[2] / "docs" / "clickhouse.md"
DOCS_URL = "clickhouse://ch1:8123,ch2:8123/shoal?cluster=shoal"


def documented_commands() -> list[str]:
    """The commands of docs/clickhouse.md's first sh block, as written (comments dropped, the last line's
    ``…`` commands, which the user completes, left out)."""
    text = DOCS.read_text()
    block = text[text.index("```sh\n") + len("```sh\n") :]
    block = block[: block.index("```")]
    commands = []
    for line in block.splitlines():
        for command in line.split("#", 1)[0].split(";"):
            if command.strip() and "…" not in command:
                commands.append(command.strip())
    return commands


def test_the_documented_sequence_runs_as_written_on_the_cluster(
    clickhouse_cluster: Cluster, corpus_file: Path, tmp_path: Path
) -> None:
    """docs/clickhouse.md's set-up (issue 22, item 10): DIR does not exist before; the import creates it (the
    reports go to the cluster, the tokens stay in DIR), so ``token create --data DIR`` and serve work."""
    database = f"shoal_docs_{next(_databases)}"
    url = f"clickhouse://{clickhouse_cluster.hosts[0]}/{database}?cluster=shoal"
    folder = tmp_path / "not-yet" / "DIR"
    zipped = tmp_path / "reports.jsonl.gz"
    zipped.write_bytes(gzip.compress(corpus_file.read_bytes()))
    masscan = tmp_path / "masscan.json"
    masscan.write_text('[\n{"ip": "192.0.2.9", "timestamp": "1764115200", "ports": [{"port": 22, "proto": "tcp",'
                       ' "status": "open"}]}\n]\n')  # fmt: skip
    files = {"DIR": str(folder), "reports.jsonl.gz": str(zipped), "masscan.json": str(masscan)}
    environment = {key: value for key, value in os.environ.items() if key != "SHOAL_STORE"}
    outputs: dict[str, str] = {}
    server: subprocess.Popen[bytes] | None = None
    try:
        for command in documented_commands():
            words = [files.get(word, word) for word in shlex.split(command)]
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                assert value == DOCS_URL
                environment[name] = url
                continue
            assert words[0] == "shoal", command
            if words[1] == "serve":
                port = free_port()
                server = subprocess.Popen([*SHOAL, *words[1:], "--port", str(port)], env=environment)
                continue
            done = subprocess.run([*SHOAL, *words[1:]], capture_output=True, text=True, timeout=180, env=environment)
            assert done.returncode == 0, f"{command}: {done.stderr}"
            outputs[words[1]] = done.stdout
        assert "imported 17, duplicate 0, rejected 0" in outputs["import"]
        assert server is not None
        token = outputs["token"].strip()
        answer = None
        deadline = time.monotonic() + 90
        while answer is None:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/v1/scan/protocols",
                    params={"expression": "title:london"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "shoal serve did not start"
                time.sleep(0.2)
        assert answer.status_code == 200 and answer.json()["result_count"] > 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        ClickHouseStore(HttpClient(clickhouse_cluster.hosts), database, cluster="shoal").drop_database()
