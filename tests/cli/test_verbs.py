"""Shodan's verbs (count, stats --facets, search --fields, parse), plain lines in a pipe and tables on a
terminal, and no silent empty store."""

from __future__ import annotations

import gzip
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from shoal.request.hosts import port_of
from shoal.store.embedded import EmbeddedStore
from tests.cli.local import no_saved_server, run, stored  # noqa: F401 (an autouse fixture)
from tests.corpus import CORPUS

SHOAL = [sys.executable, "-m", "shoal"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored(tmp_path_factory.mktemp("verbs"), CORPUS)


def test_count_says_hosts_and_services_or_with_history_reports(data: Path) -> None:
    on_443 = [report for report in CORPUS if any(i.type == "port-tcp" and i.value == "443" for i in report.items)]
    hosts, services = {r.ip for r in on_443}, {(r.ip, port_of(r)) for r in on_443}
    expected = f"{len(hosts)} hosts · {len(services)} services\n"
    assert run("count", "port-tcp:443", "--data", str(data)) == (0, expected, "")
    assert run("count", "port-tcp:443", "--history", "--data", str(data))[1] == f"{len(hosts)} hosts · 4 reports\n"
    assert orjson.loads(run("count", "port-tcp:443", "--json", "--data", str(data))[1]) == {
        "hosts": len(hosts),
        "services": len(services),
    }
    assert run("count", "--history", "--data", str(data))[1].endswith(f" · {len(CORPUS)} reports\n")
    assert run("count", "title:zzzz", "--data", str(data))[1] == "0 hosts · 0 services\n"


def test_stats_prints_facet_value_count_lines_in_a_pipe(data: Path) -> None:
    code, out, err = run(
        "stats", "--facets", "port-tcp:2,geo-country", "--limit", "3", "--history", "--data", str(data)
    )
    assert code == 0, err
    assert out.splitlines() == [
        "port-tcp\t443\t4",
        "port-tcp\t80\t3",
        "geo-country\tCN\t2",
        "geo-country\tIR\t2",
        "geo-country\tRU\t2",
    ]
    code, out, _ = run("stats", "--facets", "port-tcp:1,protocol:1", "--json", "--history", "--data", str(data))
    assert orjson.loads(out) == {
        "port-tcp": {"cardinality": 10, "other": 12, "values": {"443": 4}},
        "protocol": {"cardinality": 6, "other": 7, "values": {"http": 3}},
    }


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("stats", "--facets", "port,geo-country"), "did you mean 'port-tcp'?"),
        (("search", "--summarize", "geo-contry"), "did you mean 'geo-country'?"),
        (("search", "--fields", "ip,titel"), "did you mean 'title'?"),
    ],
)
def test_names_get_did_you_mean_hints(data: Path, args: tuple[str, ...], hint: str) -> None:
    code, _, err = run(*args, "--data", str(data))
    assert code == 2 and f"hint: {hint}" in err


def test_facet_limits_must_be_numbers(data: Path) -> None:
    code, _, err = run("stats", "--facets", "port-tcp:many", "--data", str(data))
    assert code == 2 and "a facet's limit is a whole number" in err


def test_search_fields_and_separator(data: Path) -> None:
    code, out, _ = run(
        "search",
        "ip:8.8.8.8",
        "--fields",
        "ip,port-tcp,title,ip;cert-ip-address",
        "-s",
        ",",
        "--history",
        "--data",
        str(data),
    )
    assert code == 0
    assert out.splitlines() == [
        "8.8.8.8,53,,",
        "8.8.8.8,443,University London,",
        "8.8.8.8,443,University of London,8.8.4.4",
    ]
    code, out, _ = run("search", "protocol=ssh", "--fields", "id,http-header;Server,protocol", "--data", str(data))
    assert out.splitlines() == ["r05\t\tssh", "r04\t\tssh"]


def test_plain_lines_hold_one_row_each(tmp_path: Path) -> None:
    from shoal.model import Item, Report

    store = EmbeddedStore(tmp_path / "d")
    weird = Report(CORPUS[0].date, (Item("ip", "192.0.2.9", "", True), Item("title", "two\tlines\nhere")), "w1")
    store.ingest([weird])
    store.close()
    _, out, _ = run("search", "--fields", "id,title", "--data", str(tmp_path / "d"))
    assert out == "w1\ttwo lines here\n"


def test_tables_on_a_terminal_plain_lines_in_a_pipe(data: Path) -> None:
    piped = subprocess.run([*SHOAL, "search", "protocol=ssh", "--data", str(data)], capture_output=True, text=True)
    assert piped.returncode == 0 and "│" not in piped.stdout and piped.stdout.count("\n") == 2
    assert piped.stderr == "2 services (page 1 of 1)\n"
    terminal = on_a_terminal([*SHOAL, "search", "protocol=ssh", "--data", str(data)])
    assert "┃ date" in terminal and "2 services (page 1 of 1)" in terminal and "│ 2026-11-02 │" in terminal


def on_a_terminal(command: list[str]) -> str:
    """What ``command`` prints when its stdout and stderr are a terminal (a pseudo-terminal here)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(leader)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace"))


def test_parse_prints_fields_of_an_export(data: Path, tmp_path: Path) -> None:
    code, exported, _ = run("export", "protocol=ssh", "--data", str(data))
    path = tmp_path / "ssh.ndjson.gz"
    with gzip.open(path, "wt") as out:
        out.write(exported + "not json\n")
    code, out, err = run("parse", "--fields", "ip,port-tcp,summary", "--separator", ";", str(path))
    assert out.splitlines() == [
        "10.1.2.4;2222;SSH-2.0-OpenSSH_7.4",
        "10.1.2.3;22;SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6",
    ]
    assert code == 1 and f"skipped {path}:3: " in err and "1 lines were not reports" in err
    code, out, _ = run("parse", "--fields", "id", "-")
    assert code == 0 and out == ""


def test_a_missing_store_is_an_error_but_import_creates_one(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    for command in (["search"], ["count"], ["stats"], ["host", "8.8.8.8"], ["export"], ["ports", "8.8.8.8"]):
        code, out, err = run(*command, "--data", str(missing))
        assert (code, out) == (2, ""), command
        assert f"there is no Shoal data in {missing}" in err
    for command in (["token", "create", "x"], ["token", "list"], ["enrich"]):
        assert run(*command, "--data", str(missing))[0] == 2, command
    assert not missing.exists()
    source = tmp_path / "one.jsonl"
    source.write_bytes(orjson.dumps(CORPUS[0].as_dict()) + b"\n")
    code, out, err = run("import", str(source), "--data", str(missing))
    assert code == 0 and f"created a new store in {missing}" in err and "imported 1" in out
    assert run("count", "--data", str(missing))[1] == "1 host · 1 service\n"


def test_serve_needs_init_for_a_new_store(tmp_path: Path) -> None:
    code, _, err = run("serve", "--data", str(tmp_path / "new"), "--port", "1")
    assert code == 2 and "there is no Shoal data in" in err


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    EmbeddedStore(tmp_path / "empty").close()
    code, _, err = run("search", "--data", str(tmp_path / "empty"))
    assert code == 1 and "holds no reports yet: add some with 'shoal import FILE'" in err
