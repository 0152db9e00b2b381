"""Remote mode against a real ``shoal serve``: every read command prints the same as on the local store.

Each command runs twice on the same data: once with ``--data`` (the store), once with ``$SHOAL_URL`` and
``$SHOAL_TOKEN`` (the server, through ``shoal.client``); stdout, stderr and the exit code must be equal.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from tests.corpus import DATASET_CORPUS
from tests.web.server import Served, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("remote")) as running:
        yield running


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("remote-datasets"), DATASET_CORPUS) as running:
        yield running


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def invoke(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", **env}, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def local(served: Served, config: Path, *args: str) -> tuple[int, str, str]:
    return invoke([*args, "--data", str(served.data)], {"SHOAL_CONFIG": str(config)})


def remote(served: Served, config: Path, *args: str, token: str | None = None) -> tuple[int, str, str]:
    env = {"SHOAL_CONFIG": str(config), "SHOAL_URL": served.base, "SHOAL_TOKEN": token or served.enterprise_token}
    return invoke(list(args), env)


SAME_OUTPUT = [
    ("search", "protocol=ssh"),
    ("search", "protocol=ssh", "--table"),
    ("search", "title:paging", "--page", "1", "--json"),
    ("search", "title:university", "--ndjson"),
    ("search", "--fields", "ip,port-tcp,title,http-header;Server", "--separator", ","),
    ("search", "title:zzzz"),
    ("search", "--summarize", "port-tcp", "--table"),
    ("search", "--summarize", "geo-country", "--json"),
    ("search", "--summarize", "product-tag", "--summary-limit", "2"),
    ("count", "port-tcp:443"),
    ("count", "ip:8.8.8.8", "--most-recent"),
    ("stats", "--facets", "port-tcp,geo-country:2,protocol"),
    ("stats", "--facets", "port-tcp,product-tag", "--table"),
    ("stats", "--facets", "port-tcp,protocol:3", "--json"),
    ("host", "8.8.8.8"),
    ("host", "8.8.8.8", "--table"),
    ("host", "8.8.8.8", "--json", "--limit", "0"),
    ("host", "203.0.113.7"),
    ("host", "8.8.8.8", "--since", "2026-11-02"),
    ("diff", "8.8.8.0/24", "--between", "2026-11-02", "2026-11-03", "--json"),
    ("stats", "port-tcp:443", "--over", "week", "--from", "2026-10-31", "--to", "2026-11-08", "--facets", "title"),
    ("stats", "--over", "day", "--from", "2026-11-01", "--to", "2026-11-03", "--json"),
    ("export", "protocol=ssh"),
    ("export", "--csv", "--ip", "8.8.8.0/24"),
    ("ports", "8.8.8.8", "--from", "2026-11-01"),
    ("ports", "198.51.100.0/24", "--per-ip", "--from", "2026-10-01"),
    ("ports", "198.51.100.0/24", "--per-ip", "--from", "2026-10-01", "--json"),
    ("ports", "8.8.8.0/24", "--table", "--from", "2026-11-01"),
    ("search", "title:london and (port-tcp:80"),  # the caret under the error, in both modes
    ("search", "--summarize", "port"),  # the did-you-mean hint, in both modes
    ("search", "--ip", "8.8.8.999"),
]


@pytest.mark.parametrize("args", SAME_OUTPUT, ids=" ".join)
def test_remote_output_equals_local(served: Served, config: Path, args: tuple[str, ...]) -> None:
    expected = local(served, config, *args)
    assert remote(served, config, *args) == expected
    assert expected[0] in (0, 1, 2)


SAME_OUTPUT_DATASETS = [
    ("search", "--dataset", "domains", "host:example.org"),
    ("search", "--dataset", "ct", "--table"),
    ("search", "--dataset", "rdns", "--json"),
    ("search", "--dataset", "rdns", "--summarize", "host"),
    ("search", "query:jira"),
    ("count", "--dataset", "domains", "--most-recent"),
    ("stats", "--dataset", "ct", "--facets", "host,issuer"),
    ("host", "192.0.2.10"),
    ("host", "192.0.2.10", "--json"),
    ("host", "192.0.2.10", "--dataset", "domains", "--table"),
    ("host", "8.8.8.8", "--dataset", "rdns"),
    ("export", "--dataset", "ct"),
    ("export", "--dataset", "rdns", "--csv"),
    ("export", "--dataset", "domains", "--most-recent", "host:example.org"),
]


@pytest.mark.parametrize("args", SAME_OUTPUT_DATASETS, ids=" ".join)
def test_remote_output_equals_local_in_every_dataset(datasets: Served, config: Path, args: tuple[str, ...]) -> None:
    expected = local(datasets, config, *args)
    assert remote(datasets, config, *args) == expected
    assert expected[0] in (0, 1, 2)


def test_host_shows_ptr_names_and_ct_certificates(datasets: Served, config: Path) -> None:
    code, out, _ = remote(datasets, config, "host", "192.0.2.10")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("ip\t192.0.2.10\t1")
    assert [line for line in lines if line.startswith("ptr\t")] == [
        "ptr\tweb1-new.example.org",
        "ptr\tweb1.example.org",
    ]
    assert any(line.startswith("ct-certificate\tCN=*.example.org\t\t*.example.org, 192.0.2.10\t") for line in lines)
    body = orjson.loads(remote(datasets, config, "host", "192.0.2.10", "--json")[1])
    assert body["ptr_names"] == ["web1-new.example.org", "web1.example.org"]
    assert [c["sha256"] for c in body["ct_certificates"]] == ["bb" * 32]


def test_a_host_history_keeps_superseded_reports(datasets: Served, config: Path) -> None:
    """p04 superseded p02 (a re-enrichment): searches see p04 only, the history both, local or remote (the
    API's history=true)."""
    body = orjson.loads(local(datasets, config, "host", "192.0.2.11", "--json", "--limit", "0")[1])
    assert [report["id"] for report in body["newest"]] == ["p04", "p02"]
    body = orjson.loads(remote(datasets, config, "host", "192.0.2.11", "--json", "--limit", "0")[1])
    assert [report["id"] for report in body["newest"]] == ["p04", "p02"]
    assert local(datasets, config, "count", "ip:192.0.2.11")[1] == "1 host · 1 service\n"


def test_remote_output_is_what_it_should_be(served: Served, config: Path) -> None:
    """Spot checks that the equal outputs are the right ones (not, say, both empty)."""
    code, out, _ = remote(served, config, "search", "protocol=ssh")
    assert code == 0 and out.splitlines() == [
        "2026-11-02\t10.1.2.4:2222\tssh\tSSH-2.0-OpenSSH_7.4\tr05",
        "2026-11-01\t10.1.2.3:22\tssh\tSSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\tr04",
    ]
    assert remote(served, config, "count", "port-tcp:443", "--history")[1] == "3 hosts · 4 reports\n"
    code, out, _ = remote(served, config, "export", "protocol=ssh")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == ["r05", "r04"]
    code, out, err = remote(served, config, "search", "title:london and (port-tcp:80")
    assert code == 2 and "^" in err


def test_a_normal_token_gets_summaries_without_cardinality(served: Served, config: Path) -> None:
    code, out, err = remote(
        served, config, "search", "--summarize", "port-tcp", "--json", "--history", token=served.token
    )
    assert code == 0, err
    summary = orjson.loads(out)["summary"]
    assert "cardinality" not in summary and summary["values"]["443"] == 4
    code, out, _ = remote(served, config, "search", "--summarize", "port-tcp", "--table", token=served.token)
    assert "(distinct values: enterprise tokens only)" in out


def test_explain_needs_a_local_store(served: Served, config: Path) -> None:
    code, _, err = remote(served, config, "ports", "8.8.8.8", "--explain")
    assert code == 2 and "--explain reads the observations themselves" in err


def test_login_saves_the_server_and_then_commands_use_it(served: Served, config: Path, tmp_path: Path) -> None:
    env = {"SHOAL_CONFIG": str(config)}
    code, out, err = invoke(["login", served.base, "not-a-token"], env)
    assert code == 2 and "refused the login" in err and not config.exists()
    code, out, err = invoke(["login", served.base + "/"], env, stdin=served.token + "\n")  # the token from stdin
    assert code == 0, err
    assert f"logged in to {served.base} as web (normal token)" in out
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    code, out, err = invoke(["count", "protocol=ssh"], {**env, "SHOAL_DATA": ""})
    assert (code, out) == (0, "2 hosts · 2 services\n"), err  # a normal token gets the hosts (host_count)
    code, out, _ = invoke(["config", "show"], env)
    assert f"server: {served.base}" in out and served.token not in out and f"read commands ask {served.base}" in out
    # --data still means a local store; an empty one says so
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = invoke(["count", "protocol=ssh", "--data", str(empty)], env)
    assert (code, out) == (0, "0 hosts · 0 services\n") and "holds no reports yet" in err
    code, out, _ = invoke(["logout"], env)
    assert code == 0 and not config.exists()
    code, _, err = invoke(["count", "protocol=ssh"], {**env, "SHOAL_DATA": str(tmp_path / "nowhere")})
    assert code == 2 and "there is no Shoal data in" in err


def test_config_set_and_unset(served: Served, config: Path) -> None:
    env = {"SHOAL_CONFIG": str(config)}
    assert invoke(["config", "set", "server", "ftp://x"], env)[0] == 2
    assert invoke(["config", "set", "colour", "blue"], env)[0] == 2
    assert invoke(["config", "set", "server", served.base], env)[0] == 0
    code, _, err = invoke(["count"], env)
    assert code == 2 and "no token for" in err
    assert invoke(["config", "set", "token", "--", served.token], env)[0] == 0  # a token may start with -
    assert invoke(["count", "title:paging"], env)[1] == "50 hosts · 150 services\n"
    assert invoke(["config", "unset", "server"], env)[0] == 0
    assert "read commands use the local store" in invoke(["config", "show"], env)[1]


def test_a_server_that_does_not_answer(config: Path) -> None:
    env = {"SHOAL_CONFIG": str(config), "SHOAL_URL": "http://127.0.0.1:9", "SHOAL_TOKEN": "x"}
    code, _, err = invoke(["count", "protocol=ssh"], env)
    assert code == 2 and "no answer from http://127.0.0.1:9" in err
