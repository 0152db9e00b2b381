"""nmap from Debian scans the test daemons (nginx, OpenSSH) for real; ``shoal import`` of its XML finds what the
mapping table (docs/importers.md) says. The daemons are the collector tests', hence this module's place."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.collect.conftest import CERT_NAMES, NGINX_IP, NGINX_TITLE, SSHD_IP, Target
from tests.collect.daemons import unavailable
from tests.collect.test_cli import found, shoal


def run_nmap(out: Path, targets: list[Target]) -> None:
    nmap = shutil.which("nmap")
    if nmap is None:
        unavailable("nmap is not installed (scripts/install-test-daemons.sh)")
    ports = ",".join(sorted({str(port) for _, port in targets}))
    scripts = "banner,http-title,http-server-header,ssl-cert,ssh-hostkey"
    command = [
        nmap,
        "-sT",
        "-sV",
        "--version-intensity",
        "0",
        "-T4",
        "-Pn",
        "-n",
        "--script-args",
        "banner.timeout=1s",
        "--script",
        scripts,
        "-p",
        ports,
        "-oX",
        str(out),
    ]
    subprocess.run([*command, *sorted({ip for ip, _ in targets})], check=True, capture_output=True, timeout=300)


@pytest.mark.daemon
@pytest.mark.slow
def test_nmap_xml_of_the_test_daemons(nginx: dict[str, Target], sshd: Target, tmp_path: Path) -> None:
    xml = tmp_path / "scan.xml"
    run_nmap(xml, [nginx["http"], nginx["https"], sshd])
    result = shoal("import", str(xml), data=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    ssh = found("protocol=ssh", data)
    assert [report_ip(report) for report in ssh] == [SSHD_IP]
    ssh_items = items_of(ssh[0])
    assert any(kind == "server-banner" and value.startswith("SSH-2.0-OpenSSH") for kind, _, value in ssh_items)
    assert any(kind == "ssh-hostkey" and context == "ssh-ed25519" for kind, context, _ in ssh_items)
    assert any(kind == "cpe" and "openssh" in value for kind, _, value in ssh_items)
    http = found("protocol=http", data)
    assert [report_ip(report) for report in http] == [NGINX_IP]
    assert ("title", "", NGINX_TITLE) in items_of(http[0])
    assert any(
        kind == "http-header" and context == "Server" and "nginx" in value for kind, context, value in items_of(http[0])
    )
    https = found(f"host:{CERT_NAMES[0]} and port-tcp:443", data)
    assert len(https) == 1
    https_items = items_of(https[0])
    assert ("subject", "", f"CN={CERT_NAMES[0]}, O=Shoal Tests, C=GB") in https_items
    assert ("host", "cert-dns-name", CERT_NAMES[1]) in https_items
    again = shoal("import", str(xml), data=data)
    assert "imported 0, duplicate 3, rejected 0" in again.stdout


def report_ip(report: dict) -> str:
    return next(item["value"] for item in report["items"] if item["type"] == "ip" and item["context"] == "")


def items_of(report: dict) -> set[tuple[str, str, str]]:
    return {(item["type"], item["context"], item["value"]) for item in report["items"]}
