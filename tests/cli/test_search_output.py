"""What ``shoal search``, ``shoal host`` and ``shoal export`` print, and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from tests.corpus import CORPUS
from tests.registration import dumps

SHOAL_SCRIPT = Path(sys.executable).parent / "shoal"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-data")
    store = EmbeddedStore(folder)
    store.ingest(CORPUS)
    store.close()
    return folder


def run(data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--data", str(data)], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_ndjson_prints_one_report_per_line(data: Path) -> None:
    code, out, _ = run(data, "search", "protocol=ssh", "--ndjson")
    assert code == 0
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ["r05", "r04"]
    assert lines[0] == next(r.as_dict() for r in CORPUS if r.id == "r05")


def test_ndjson_summary_is_value_and_count(data: Path) -> None:
    code, out, _ = run(data, "search", "--summarize", "geo-country", "--summary-limit", "2", "--ndjson")
    assert code == 0
    assert [orjson.loads(line) for line in out.splitlines()] == [
        {"count": 2, "value": "CN"},
        {"count": 2, "value": "IR"},
    ]


def test_the_summary_chart_stays(data: Path) -> None:
    code, out, _ = run(data, "search", "--summarize", "port-tcp", "--table")
    assert code == 0
    assert "port-tcp: 10 distinct values, other 0" in out
    row = next(line for line in out.splitlines() if "│ 443" in line)
    assert row.count("█") == 40


def test_json_and_ndjson_together_is_an_error(data: Path) -> None:
    code, _, err = run(data, "search", "protocol=ssh", "--json", "--ndjson")
    assert code == 2 and "--json or --ndjson" in err


def test_host_shows_services_certificates_and_reports(data: Path) -> None:
    code, out, _ = run(data, "host", "8.8.8.8", "--table")
    assert code == 0
    # the header leads, from the newest report of each service (r03 on 53, r02 on 443), as Shodan's host view
    assert out.splitlines()[:6] == [
        "8.8.8.8",
        "  Country       US",
        "  Tags          nginx",
        "  Open ports    53, 443",
        "  First seen    2026-11-01 · last seen 2026-11-03 · 3 reports",
        "  Observations  443 ×2 · 53 ×1",
    ]
    assert "│   53 │ dns      │       1 │ 2026-11-03 │ 2026-11-03 │ dnsmasq-2.80" in out
    assert "CN=www.ox.ac.uk, O=University of Oxford, C=GB" in out and "www.ox.ac.uk, 8.8.4.4" in out
    assert out.index("r03") < out.index("r02") < out.index("r01")
    assert "Registration  entity Google LLC (bgpasn, 8.8.8.0/24)" in out  # the bundled ASN table, no import


def test_host_json_and_limit(data: Path) -> None:
    code, out, err = run(data, "host", "8.8.8.8", "--json", "--limit", "1")
    assert code == 0, err
    body = orjson.loads(out)
    assert list(body)[:9] == [
        "ip",
        "country",
        "organisation",
        "asn",
        "tags",
        "ptr_names",
        "first_seen",
        "last_seen",
        "ports",
    ]
    assert (body["country"], body["tags"], body["ports"]) == (["US"], ["nginx"], ["53", "443"])
    assert (body["reports"], body["first_seen"], body["last_seen"]) == (3, "2026-11-01", "2026-11-03")
    assert body["open_ports"] == {"other": 0, "values": {"443": 2, "53": 1}}
    assert [(s["port"], s["protocol"], s["reports"]) for s in body["services"]] == [(53, "dns", 1), (443, "https", 2)]
    assert body["certificates"][0]["names"] == ["www.ox.ac.uk"]
    assert body["certificates"][0]["addresses"] == ["8.8.4.4"]
    assert [report["id"] for report in body["newest"]] == ["r03"]
    assert body["registration"] == {"entity": {"cidr": "8.8.8.0/24", "context": "bgpasn", "name": "Google LLC"}}
    code, _, err = run(data, "host", "8.8.8.8", "--limit", "1")
    assert "… 2 older reports" in err


def test_host_errors(data: Path) -> None:
    assert run(data, "host", "8.8.8.0/24")[0] == 2
    code, _, err = run(data, "host", "203.0.113.7")
    assert code == 1 and "nothing known about 203.0.113.7" in err


def test_host_shows_the_registration_imported(tmp_path: Path) -> None:
    (tmp_path / "test.db").write_bytes(dumps.rpsl(dumps.ORGANISATION, dumps.INETNUM))
    assert run(tmp_path, "import", str(tmp_path / "test.db"))[0] == 0
    code, out, err = run(tmp_path, "host", "198.51.100.7")
    assert code == 0, err  # nothing but its registration is known: still an answer
    assert out.splitlines() == [
        "ip\t198.51.100.7\t0\t\t",
        "registration\tdomain\tnet\t198.51.100.0/24\texample.nl",
        "registration\tentity\tnet\t198.51.100.0/24\tExample Networks B.V.",
    ]


def test_export_streams_ndjson_that_imports_back(data: Path, tmp_path: Path) -> None:
    code, out, err = run(data, "export")
    assert code == 0 and err.strip() == f"exported {len(CORPUS)} reports"
    exported = out.encode()
    (tmp_path / "all.ndjson").write_bytes(exported)
    again = CliRunner().invoke(app, ["import", str(tmp_path / "all.ndjson"), "--data", str(tmp_path / "copy")])
    assert f"imported {len(CORPUS)}, duplicate 0, rejected 0" in again.stdout
    copy = EmbeddedStore(tmp_path / "copy")
    assert sorted(r.id for r in copy.iter_matches(Filters())) == sorted(r.id for r in CORPUS)
    copy.close()


def test_export_csv_to_a_file(data: Path, tmp_path: Path) -> None:
    target = tmp_path / "ssh.csv"
    code, out, err = run(data, "export", "protocol=ssh", "--csv", "-o", str(target))
    assert code == 0 and out == "" and f"exported 2 reports to {target}" in err
    rows = target.read_text().splitlines()
    assert rows[0].startswith("date,id,ip,port,protocol,") and [row.split(",")[1] for row in rows[1:]] == ["r05", "r04"]


def test_export_points_at_a_bad_expression(data: Path) -> None:
    code, _, err = run(data, "export", "title:london and (port-tcp:80")
    assert code == 2
    caret = next(line for line in err.splitlines() if line.strip().startswith("^"))
    assert caret.index("^") == len("title:london and ")


def test_export_into_a_closed_pipe_is_quiet(data: Path) -> None:
    command = f"{SHOAL_SCRIPT} export --data {data} | head -c 10"
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
    assert result.stdout == '{"date":"2'
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def complete(words: str) -> list[str]:
    env = {**os.environ, "_SHOAL_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(words.count(" "))}
    result = subprocess.run([str(SHOAL_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    return result.stdout.split()


def test_shell_completion() -> None:
    assert {"export", "host"} <= set(complete("shoal "))
    assert complete("shoal ho") == ["host"]
    assert complete("shoal search --summarize geo") == ["geo-country"]
    # the script `--show-completion` prints for bash, asked for by name (that option finds the shell among the
    # process's ancestors, and a suite started in the background may have none)
    env = {**os.environ, "_SHOAL_COMPLETE": "source_bash"}
    script = subprocess.run([str(SHOAL_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert "complete -o default -F _shoal_completion shoal" in script.stdout
