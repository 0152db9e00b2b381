"""The command line as a Shodan user meets it (issue 23, item 4): --version and -h, shoal info, remote scans
that the server collects (never a store nobody named), -o FILE.gz, --limit, plurals, shoal dns's exit status
when no resolver answers, shoal enrichers --data. Remote parts run against a real ``shoal serve``."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.store.embedded import EmbeddedStore
from tests.collect import udp_daemons
from tests.collect.fakes import answers, fake_server
from tests.corpus import CORPUS
from tests.web.server import Served, free_port, serve

HTTP_OK = b"HTTP/1.1 200 OK\r\nServer: asked-for\r\nContent-Length: 0\r\n\r\n"


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", **env})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def collecting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server whose collector may visit 127.0.0.1 (only ports the tests open there)."""
    with serve(tmp_path_factory.mktemp("collecting"), CORPUS, ["--allow", "127.0.0.1"]) as running:
        yield running


@pytest.fixture
def remote(collecting: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Logged in to the collecting server, working in an empty directory (where ./shoal-data would go)."""
    monkeypatch.chdir(tmp_path)
    return {
        "SHOAL_CONFIG": str(tmp_path / "config" / "config.toml"),
        "SHOAL_URL": collecting.base,
        "SHOAL_TOKEN": collecting.token,
        "SHOAL_DATA": "",
    }


def test_version_and_short_help() -> None:
    code, out, _ = invoke(["--version"], {})
    assert code == 0 and out.startswith("shoal 0.")
    for args in (["-h"], ["count", "-h"], ["token", "list", "-h"]):
        code, out, _ = invoke(args, {})
        assert code == 0 and "Usage: shoal" in out, args


def test_info_says_the_tokens_class_quotas_and_usage(remote: dict[str, str]) -> None:
    code, out, err = invoke(["info"], remote)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Token:       web (normal) at http://127.0.0.1:")
    assert lines[1].startswith("API calls:   ") and "this month" in lines[1]
    assert orjson.loads(invoke(["info", "--json"], remote)[1])["class"] == "normal"
    code, _, err = invoke(["info"], {"SHOAL_CONFIG": remote["SHOAL_CONFIG"], "SHOAL_DATA": "here"})
    assert code == 2 and "no server" in err


def test_a_remote_scan_is_the_servers_and_is_followed(remote: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    with fake_server("127.0.0.1", port, answers(b"\r\n\r\n", HTTP_OK)):
        code, out, err = invoke(["scan", f"127.0.0.1:{port}"], remote)
        assert code == 0, err
        assert out.splitlines()[0] == f"queued 127.0.0.1:{port} at {remote['SHOAL_URL']}"
        deadline = time.monotonic() + 20
        while "collected: report" not in (status := invoke(["scan", "status"], remote)[1]):
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
    assert status.startswith(f"127.0.0.1:{port}\tsubmitted ")
    assert invoke(["scan", "list"], remote)[1].startswith(f"127.0.0.1:{port}\tsubmitted ")
    assert not (tmp_path / "shoal-data").exists()  # nothing written to a store nobody named
    code, _, err = invoke(["scan", "192.0.2.0/24"], remote)
    assert code == 2 and "one address at a time" in err
    code, _, err = invoke(["scan", "192.0.2.1:80"], remote)  # outside the server's allow-list: its 403, one line
    assert code == 2 and "refused" in err and "--data DIR" in err and len(err.strip().splitlines()) == 1
    code, _, err = invoke(["scan", "status"], {"SHOAL_CONFIG": remote["SHOAL_CONFIG"], "SHOAL_DATA": "x"})
    assert code == 2 and "'shoal login URL' first" in err


def test_a_remote_udp_scan_is_the_servers_and_its_port_is_counted_as_udp(
    remote: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    with udp_daemons.unbound("127.0.0.1", port, tmp_path):
        code, out, err = invoke(["scan", f"127.0.0.1:{port}/udp"], remote)
        assert code == 0, err
        assert out.splitlines()[0] == f"queued 127.0.0.1:{port}/udp at {remote['SHOAL_URL']}"
        deadline = time.monotonic() + 20
        while "collected: report" not in (status := invoke(["scan", "status"], remote)[1]):
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
    assert f"127.0.0.1:{port}/udp\tsubmitted " in status
    code, out, err = invoke(["ports", "127.0.0.1", "--transport", "udp", "--json"], remote)
    assert code == 0, err
    assert orjson.loads(out)["values"] == {str(port): 1}
    code, _, err = invoke(["ports", "127.0.0.1", "--transport", "sctp"], remote)
    assert code == 2 and "'transport' must be one of tcp, udp" in err
    code, _, err = invoke(["scan", "127.0.0.1", "--ports", "22,U:x"], remote)
    assert code == 2 and "U:53,161" in err


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ux")
    store = EmbeddedStore(folder)
    store.ingest(CORPUS)
    store.close()
    return folder


def test_export_limit_and_gzip(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "three.ndjson.gz"
    code, _, err = invoke(["export", "--limit", "3", "-o", str(out), "--data", str(data)], {})
    assert code == 0, err
    assert err.strip().endswith(f"exported 3 reports to {out}")
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert len(lines) == 3 and all(orjson.loads(line)["id"] for line in lines)
    code, csv, _ = invoke(["export", "--csv", "--limit", "1", "--data", str(data)], {})
    assert code == 0 and len(csv.splitlines()) == 2  # the header and one report


def test_plurals_say_one(data: Path) -> None:
    invoke(["token", "create", "alone", "--data", str(data)], {})
    code, out, _ = invoke(["token", "list", "--data", str(data)], {})
    assert code == 0 and out.splitlines()[0].strip() == "1 token"


def test_dns_fails_when_no_resolver_answers(tmp_path: Path) -> None:
    args = ["dns", "127.0.0.1", "--resolver", f"127.0.0.1:{free_port()}", "--dns-timeout", "0.2", "--dns-retries", "0"]
    code, _, err = invoke([*args, "--data", str(tmp_path)], {})
    assert code == 1 and "answered none of 1 query" in err


def test_enrichers_say_what_a_store_holds(data: Path) -> None:
    code, out, err = invoke(["enrichers", "--json", "--data", str(data)], {})
    assert code == 0, err
    stored = {row["name"]: row["stored"] for row in orjson.loads(out)}
    held = sum(1 for report in CORPUS for item in report.items if item.type == "geo-country")
    assert stored["geo-country"] == {"geo-country": held}
