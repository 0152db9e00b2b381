"""The installed ``shoal`` command, for real: import files, create a token, serve over HTTP, search."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.corpus import CORPUS

SHOAL = [sys.executable, "-m", "shoal"]


def shoal(*args: str, data: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHOAL, *args, "--data", str(data)],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("input")
    lines = [orjson.dumps(report.as_dict()) for report in CORPUS]
    plain = folder / "corpus.jsonl"
    plain.write_bytes(b"\n".join(lines[:10]) + b"\n")
    zipped = folder / "more.jsonl.gz"
    with gzip.open(zipped, "wb") as out:
        out.write(b"\n".join(lines[10:]) + b"\n")
    broken = folder / "broken.jsonl"
    broken.write_bytes(
        lines[0]
        + b"\n"
        + b"{not json\n"
        + b'{"date": "2026-11-01", "items": []}\n'
        + b'{"date": "yesterday", "items": [{"type": "ip", "value": "1.2.3.4"}]}\n'
        + b'{"date": "2026-11-01", "id": "new1", "items": [{"type": "ip", "value": "1.2.3.4"}]}\n'
    )
    return {"plain": plain, "zipped": zipped, "broken": broken}


@pytest.fixture(scope="module")
def data(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    result = shoal("import", str(files["plain"]), str(files["zipped"]), data=folder)
    assert result.returncode == 0, result.stderr
    assert "imported 16, duplicate 0, rejected 0" in result.stdout
    return folder


def test_reimport_adds_nothing(data: Path, files: dict[str, Path]) -> None:
    result = shoal("import", str(files["plain"]), str(files["zipped"]), data=data)
    assert "imported 0, duplicate 16, rejected 0" in result.stdout


def test_bad_lines_are_reported_and_never_abort(files: dict[str, Path], tmp_path: Path) -> None:
    result = shoal("import", str(files["broken"]), data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 2, duplicate 0, rejected 3" in result.stdout
    assert "broken.jsonl:2: not valid JSON" in result.stderr
    assert "broken.jsonl:3: 'items' must be a non-empty list" in result.stderr
    assert "broken.jsonl:4: 'date'" in result.stderr


def test_search_prints_a_table_and_json(data: Path) -> None:
    table = shoal("search", "protocol=ssh", data=data)
    assert table.returncode == 0, table.stderr
    assert "r05" in table.stdout and "r04" in table.stdout and "10.1.2.3:22" in table.stdout
    as_json = orjson.loads(shoal("search", "protocol=ssh", "--json", data=data).stdout)
    assert [r["id"] for r in as_json["results"]] == ["r05", "r04"]
    summary = orjson.loads(
        shoal("search", "--summarize", "port-tcp", "--summary-limit", "1", "--json", "--history", data=data).stdout
    )
    assert summary == {"summary": {"cardinality": 10, "other": 12, "values": {"443": 4}}}


def test_search_error_points_at_the_problem(data: Path) -> None:
    result = shoal("search", "title:london and (port-tcp:80", data=data)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    caret = next(line for line in lines if line.strip().startswith("^"))
    assert caret.index("^") == len("title:london and ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(data: Path) -> Iterator[tuple[str, str]]:
    token = shoal("token", "create", "e2e", data=data).stdout.strip()
    port = free_port()
    process = subprocess.Popen([*SHOAL, "serve", "--data", str(data), "--port", str(port)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/v1/scan/protocols", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield base, token
    process.terminate()
    process.wait(timeout=10)


def test_token_is_printed_alone(data: Path) -> None:
    output = shoal("token", "create", "another", data=data).stdout
    assert len(output.strip().splitlines()) == 1 and len(output.strip()) >= 32


def test_served_api(server: tuple[str, str]) -> None:
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.get(f"{base}/v1/scan/protocols", params={"expression": "protocol=ssh"}, headers=headers)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == ["r05", "r04"]
    assert httpx.get(f"{base}/v1/scan/protocols", params={"ip": "8.8.8.8"}).status_code == 401
    empty = httpx.get(f"{base}/v1/scan/protocols", params={"expression": "title:zzzz"}, headers=headers)
    assert (empty.status_code, empty.content) == (204, b"")


def test_import_while_serving_becomes_searchable(server: tuple[str, str], data: Path, tmp_path: Path) -> None:
    base, token = server
    late = tmp_path / "late.jsonl"
    late.write_bytes(
        orjson.dumps(
            {
                "date": "2026-11-20",
                "id": "late1",
                "items": [
                    {"context": "", "is_metadata": True, "type": "ip", "value": "203.0.113.9"},
                    {"context": "", "is_metadata": True, "type": "port-tcp", "value": "8443"},
                    {"context": "", "is_metadata": False, "type": "title", "value": "arrived late"},
                ],
            }
        )
        + b"\n"
    )
    assert "imported 1," in shoal("import", str(late), data=data).stdout
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/v1/scan/protocols", params={"expression": "title:late"}, headers=headers)
        if response.status_code == 200:
            break
        time.sleep(0.2)
    assert [r["id"] for r in response.json()["results"]] == ["late1"]


def test_import_with_enrich_adds_metadata(tmp_path: Path) -> None:
    bare = tmp_path / "bare.jsonl"
    bare.write_bytes(
        orjson.dumps(
            {
                "date": "2026-11-20",
                "id": "bare1",
                "items": [
                    {"context": "", "is_metadata": True, "type": "ip", "value": "8.8.8.8"},
                    {"context": "", "is_metadata": True, "type": "port-tcp", "value": "22"},
                    {"context": "ssh", "is_metadata": False, "type": "server-banner", "value": "SSH-2.0-OpenSSH_8.9p1"},
                ],
            }
        )
        + b"\n"
    )
    assert "imported 1," in shoal("import", "--enrich", str(bare), data=tmp_path).stdout
    found = orjson.loads(shoal("search", "geo-country=US and product-tag=openssh", "--json", data=tmp_path).stdout)
    assert [r["id"] for r in found["results"]] == ["bare1"]
    plain = tmp_path / "plain"
    assert "imported 1," in shoal("import", str(bare), data=plain).stdout
    unenriched = orjson.loads(shoal("search", "ip:8.8.8.8", "--json", data=plain).stdout)
    assert {item["type"] for item in unenriched["results"][0]["items"]} == {"ip", "port-tcp", "server-banner"}


def test_import_into_a_dataset(files: dict[str, Path], tmp_path: Path) -> None:
    from shoal.store.base import Filters
    from shoal.store.embedded import EmbeddedStore

    data = tmp_path / "data"
    result = shoal("import", "--dataset", "domains", str(files["plain"]), data=data)
    assert result.returncode == 0, result.stderr
    assert "imported 10, duplicate 0, rejected 0" in result.stdout
    again = shoal("import", "--dataset", "rdns", str(files["plain"]), data=data)
    assert "imported 10, duplicate 0, rejected 0" in again.stdout  # the same reports, in another dataset
    store = EmbeddedStore(data)
    assert (store.count("domains"), store.count("rdns"), store.count("protocols")) == (10, 10, 0)
    assert {report.dataset for report in store.iter_matches(Filters(dataset="domains"))} == {"domains"}
    wrong = shoal("import", "--dataset", "nope", str(files["plain"]), data=data)
    assert wrong.returncode == 2 and "nope" in wrong.stderr
