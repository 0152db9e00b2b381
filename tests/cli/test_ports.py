"""``shoal import`` of masscan output and ``shoal ports``, run as the installed command."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import orjson
import pytest

from tests.cli.test_end_to_end import shoal

NOW = int(time.time())  # the command's default window is the last 30 days (UTC)
HONEYPOT = "203.0.113.7"


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scans")
    records = [
        f'{{   "ip": "192.0.2.1",   "timestamp": "{NOW - 86400 * day}", "ports": [ {{"port": {port}, "proto": "tcp", '
        f'"status": "open", "reason": "syn-ack", "ttl": 64}} ] }}'
        for day in range(3)
        for port in (22, 443)
    ]
    as_json = folder / "scan.json"
    as_json.write_text("[\n" + "\n,\n".join([*records, "{not json"]) + "\n]\n")
    lines = ["#masscan", *(f"open tcp {port} {HONEYPOT} {NOW}" for port in range(1000, 1200)), "open tcp x y z"]
    as_list = folder / "scan.txt.gz"
    as_list.write_bytes(gzip.compress(("\n".join([*lines, "# end"]) + "\n").encode()))
    return {"json": as_json, "list": as_list}


@pytest.fixture(scope="module")
def data(scans: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    result = shoal("import", str(scans["json"]), str(scans["list"]), data=folder)
    assert result.returncode == 0, result.stderr
    assert "imported 206, duplicate 0, rejected 2" in result.stdout
    assert "scan.json:14: not valid JSON: the record never closes" in result.stderr
    assert "scan.txt.gz:202: the port must be a number" in result.stderr
    return folder


def test_reimport_adds_nothing(data: Path, scans: dict[str, Path]) -> None:
    result = shoal("import", str(scans["list"]), str(scans["json"]), data=data)
    assert "imported 0, duplicate 206, rejected 2" in result.stdout


def test_ports_json_and_table(data: Path) -> None:
    body = orjson.loads(shoal("ports", "192.0.2.0/24", "--json", data=data).stdout)
    assert body == {"other": 0, "values": {"22": 3, "443": 3}}
    per_ip = orjson.loads(shoal("ports", "192.0.2.1", "--per-ip", "--json", data=data).stdout)
    assert per_ip == {"other": 0, "values": {"192.0.2.1": {"other": 0, "values": {"22": 3, "443": 3}}}}
    table = shoal("ports", "192.0.2.1", data=data)
    assert table.returncode == 0, table.stderr
    assert "443" in table.stdout and "22" in table.stdout and "honeypot" not in table.stdout


def test_explain_says_why(data: Path) -> None:
    result = shoal("ports", "203.0.113.0/24", "--explain", data=data)
    assert result.returncode == 0, result.stderr
    assert "honeypot: true" in result.stdout
    assert f"{HONEYPOT} (200 observations)" in result.stdout
    assert "YES many ports: 200 distinct open ports (flagged above 100)" in result.stdout
    calm = shoal("ports", "192.0.2.1", "--explain", data=data)
    assert "honeypot: not set" in calm.stdout and "no  many ports: 2 distinct open ports" in calm.stdout


def test_bad_input_is_an_error_not_a_traceback(data: Path) -> None:
    for args in (("1.0.0.0/7",), ("example.com",), ("192.0.2.1", "--from", "someday")):
        result = shoal("ports", *args, data=data)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error:") and "Traceback" not in result.stderr
    nothing = shoal("ports", "198.51.100.0/24", data=data)
    assert nothing.returncode == 1 and "no open-port observations" in nothing.stderr


def test_udp_ports_are_counted_apart_with_transport_udp(tmp_path: Path) -> None:
    scan = tmp_path / "udp.txt"
    scan.write_text(f"open udp 53 192.0.2.9 {NOW}\nopen udp 161 192.0.2.9 {NOW}\nopen tcp 53 192.0.2.9 {NOW}\n")
    assert shoal("import", str(scan), data=tmp_path / "data").returncode == 0
    udp = orjson.loads(shoal("ports", "192.0.2.9", "--transport", "udp", "--json", data=tmp_path / "data").stdout)
    assert udp == {"other": 0, "values": {"53": 1, "161": 1}}
    tcp = orjson.loads(shoal("ports", "192.0.2.9", "--json", data=tmp_path / "data").stdout)
    assert tcp == {"other": 0, "values": {"53": 1}}
    table = shoal("ports", "192.0.2.9", "--transport", "UDP", "--explain", data=tmp_path / "data")
    assert table.returncode == 0 and "192.0.2.9 (UDP)" in table.stderr and "161\t1" in table.stdout
