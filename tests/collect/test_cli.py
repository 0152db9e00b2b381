"""``shoal scan`` for real: a subprocess scanning nginx, then ``shoal search`` finding what it stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.collect.conftest import BLOCK, CERT_IPS, NGINX_IP, NGINX_TITLE, Target
from tests.collect.fakes import answers, fake_server


def shoal(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shoal", *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def found(expression: str, data: Path, *options: str) -> list[dict]:
    result = shoal("search", "--json", *options, expression, data=data)
    assert result.returncode == 0, result.stderr
    return orjson.loads(result.stdout)["results"]


@pytest.mark.daemon
def test_scan_nginx_then_search(nginx: dict[str, Target], tmp_path: Path) -> None:
    ports = ",".join(str(port) for _, port in nginx.values())
    arguments = ["--ports", ports, "--allow", f"{NGINX_IP}/32", "--wait", "1.5", "--no-dns"]
    result = shoal("scan", NGINX_IP, *arguments, data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tried 3 ip:ports" in result.stdout and "3 open, 3 identified" in result.stdout
    assert "stored 3 observations and 3 reports" in result.stdout
    https = found("protocol=https", tmp_path)
    assert len(https) == 1
    items = {(item["type"], item["context"], item["value"]) for item in https[0]["items"]}
    assert ("title", "", NGINX_TITLE) in items
    assert ("subject", "", "CN=shoal-test.example, O=Shoal Tests, C=GB") in items
    assert any(item_type == "jarm" for item_type, _, _ in items)
    assert any(item_type == "body-sha256" and context == "https" for item_type, context, _ in items)  # body kept
    assert len(found("protocol=http", tmp_path)) == 2
    assert found("", tmp_path, "--ip", CERT_IPS[1], "--indirect") == https  # the certificate's IP SAN


def test_a_refused_target_fails_before_any_packet(tmp_path: Path) -> None:
    with fake_server(f"127.{BLOCK}.4.1", 4201, answers(b"\n", b"")) as clients:
        result = shoal("scan", f"127.{BLOCK}.4.1", "--ports", "4201", data=tmp_path)
        (tmp_path / "collector.toml").write_text(f'allow = ["127.{BLOCK}.4.0/24"]\ndeny = ["127.{BLOCK}.4.1"]\n')
        denied = shoal("scan", f"127.{BLOCK}.4.1", "--ports", "4201", data=tmp_path)
    assert result.returncode == 2 and "allow-list is empty" in result.stderr
    assert denied.returncode == 2 and "deny-list" in denied.stderr
    assert clients == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["300.1.2.3"], "not an IP address or CIDR"),
        ([f"127.{BLOCK}.4.1", "--ports", "http"], "not a port"),
        ([f"127.{BLOCK}.4.1", "--rate", "fast"], "a rate is a number per second"),
        ([f"127.{BLOCK}.4.1", "--allow", "nowhere"], "not an IP address or CIDR"),
    ],
)
def test_bad_arguments_say_what_is_wrong(args: list[str], message: str, tmp_path: Path) -> None:
    result = shoal("scan", *args, data=tmp_path)
    assert result.returncode == 2 and message in result.stderr
