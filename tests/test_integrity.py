"""State files checked at start (issue 14, item 6): ``shoal check --data DIR`` and ``shoal serve`` find an
empty or truncated tokens.json, a garbage SQLite file, a bad collector.toml and damaged open-port segments,
say what is wrong and how to recover, and ``--repair`` fixes what can be fixed without losing data."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shoal.api.app import create_app
from shoal.cli.main import app as cli
from shoal.integrity import check_data, repair_data
from shoal.model import PortObservation
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from shoal.usage import UsageBook
from tests.api.serving import free_port

runner = CliRunner()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    store = EmbeddedStore(tmp_path)
    day = dt.date(2026, 11, 2)
    for n in range(3):
        store.ingest_observations([PortObservation(f"192.0.2.{n}", 80, day + dt.timedelta(days=7 * n))])
    store.close()
    TokenStore(tmp_path).create("someone")
    book = UsageBook(tmp_path)
    book.charge("abc", "api", 1, 10)
    book.close()
    return tmp_path


def files(problems: list) -> list[str]:
    return [problem.file for problem in problems]


def test_a_healthy_directory_has_no_problems(data: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert check_data(data) == []
    assert check_data(tmp_path_factory.mktemp("new")) == []  # nothing yet is fine too


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "is empty"),
        (b'{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": {"name": "a', "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"short": {"name": "x"}}', "not a token digest"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_a_damaged_tokens_file_is_found(data: Path, content: bytes, said: str) -> None:
    (data / "tokens.json").write_bytes(content)
    [problem] = check_data(data)
    assert problem.file == "tokens.json" and said in problem.what
    assert "backup" in problem.fix and "shoal token create" in problem.fix and not problem.repairable


@pytest.mark.parametrize("name", ["usage.sqlite3", "tickets.sqlite3"])
def test_a_garbage_database_is_found_and_moved_aside_by_repair(data: Path, name: str) -> None:
    if name == "tickets.sqlite3":
        create_app(EmbeddedStore(data, hold_writer=False), TokenStore(data))  # makes tickets.sqlite3
    (data / name).write_bytes(b"this is not a database at all" * 100)
    [problem] = check_data(data)
    assert problem.file == name and "not a SQLite database" in problem.what and problem.repairable
    done = repair_data(data)
    assert any(name in line for line in done)
    assert check_data(data) == [] and list(data.glob(f"{name}.damaged-*"))
    UsageBook(data).charge("abc", "api", 1, 10)  # a fresh one works


def test_a_bad_collector_policy_is_found(data: Path) -> None:
    (data / "collector.toml").write_text('allow = ["not-a-network"]')
    [problem] = check_data(data)
    assert problem.file == "collector.toml" and "not an IP address or CIDR" in problem.what


def test_damaged_open_port_segments_are_found_and_repaired(data: Path) -> None:
    segment = sorted((data / "ports").glob("*.npy"))[0]
    with open(segment, "r+b") as handle:
        handle.truncate(segment.stat().st_size - 3)
    (data / "ports" / "manifest.json").unlink()
    [problem] = check_data(data)
    assert problem.file == "ports/manifest.json" and problem.repairable and "--repair" in problem.fix
    done = repair_data(data)
    assert check_data(data) == [] and any("lost 1" in line for line in done)
    store = EmbeddedStore(data)
    assert store.ports.count() == 2  # the two whole segments, and what the cut one held whole (nothing)
    store.close()


def shoal(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args), env={"COLUMNS": "300"})
    return result.exit_code, result.stdout + result.stderr


def test_shoal_check_says_ok_or_lists_the_problems(data: Path) -> None:
    code, out = shoal("check", "--data", str(data))
    assert code == 0 and "ok" in out
    (data / "usage.sqlite3").write_bytes(b"garbage" * 1000)
    (data / "tokens.json").write_bytes(b"")
    code, out = shoal("check", "--data", str(data))
    assert code == 1 and "usage.sqlite3" in out and "tokens.json" in out and "--repair" in out
    code, out = shoal("check", "--data", str(data), "--repair")
    assert code == 1 and "usage.sqlite3" in out and "tokens.json" in out  # tokens cannot be repaired
    (data / "tokens.json").unlink()
    assert shoal("check", "--data", str(data))[0] == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [("usage.sqlite3", b"garbage" * 1000), ("tokens.json", b""), ("tokens.json", b'{"abc": ')],
)
def test_serve_refuses_to_start_on_damaged_state_before_saying_listening(data: Path, name: str, content: bytes) -> None:
    (data / name).write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "shoal", "serve", "--data", str(data), "--port", str(free_port())],
        capture_output=True,
        timeout=60,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "listening" not in stderr and "Traceback" not in stderr
    assert name in stderr and "shoal check" in stderr


def test_a_tokens_file_damaged_while_serving_keeps_the_tokens_already_read(data: Path) -> None:
    secret = TokenStore(data).create("serving")
    store = EmbeddedStore(data, hold_writer=False)
    with TestClient(create_app(store, TokenStore(data)), raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/v1/admin/user", headers=headers).status_code == 200
        (data / "tokens.json").write_bytes(b'{"trunc')
        assert client.get("/v1/admin/user", headers=headers).status_code == 200
    store.close()
