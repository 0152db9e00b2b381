"""``shoal scan`` over UDP for real: nmap's port syntax and --udp-ports, results in the store (UDP observations,
``port-udp`` reports found by search and shown by ``shoal host``), and bad port lists refused before a packet."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.collect.conftest import BLOCK, UdpDaemons
from tests.collect.test_cli import found, shoal


@pytest.mark.daemon
def test_scan_udp_then_search(udp_daemons: UdpDaemons, tmp_path: Path) -> None:
    snmp_ip, snmp_port = udp_daemons.start("snmp")
    memcached_ip, memcached_port = udp_daemons.start("memcached")
    arguments = ["--ports", f"U:{snmp_port},{memcached_port}", "--wait", "1", "--no-dns"]
    arguments += ["--allow", f"{snmp_ip}/32", "--allow", f"{memcached_ip}/32"]
    result = shoal("scan", snmp_ip, memcached_ip, *arguments, data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tried 4 ip:ports" in result.stdout and "2 open, 2 identified" in result.stdout
    assert "UDP: 2 ports answered, 0 silent" in result.stdout
    assert "stored 0 observations (and 2 of UDP ports) and 2 reports" in result.stdout
    [snmp] = found(f"port-udp:{snmp_port}", tmp_path)
    assert {"type": "snmp-enterprise", "context": "", "value": "8072", "is_metadata": False} in snmp["items"]
    assert {"type": "product-tag", "context": "", "value": "net-snmp", "is_metadata": True} in snmp["items"]
    assert [report["id"] for report in found("protocol=memcached", tmp_path)] != []
    host = shoal("host", snmp_ip, "--json", data=tmp_path)
    services = orjson.loads(host.stdout)["services"]
    assert [(s["port"], s["transport"], s["protocol"]) for s in services] == [(snmp_port, "udp", "snmp")]


@pytest.mark.daemon
def test_udp_ports_beside_tcp_ports(udp_daemons: UdpDaemons, tmp_path: Path) -> None:
    ip, port = udp_daemons.start("tftp")
    arguments = ["--ports", "4601", "--udp-ports", str(port), "--allow", f"{ip}/32", "--wait", "1", "--no-dns"]
    result = shoal("scan", ip, *arguments, data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tried 2 ip:ports" in result.stdout and "1 open, 1 identified" in result.stdout
    [tftp] = found("protocol=tftp", tmp_path)
    assert tftp["items"][1] == {"type": "port-udp", "context": "", "value": str(port), "is_metadata": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ports", "22,U:"], "'U:' names no port"),
        (["--udp-ports", "top100"], "one of known, all"),
        (["--ports", "U:53,T:http"], "not a port"),
        (["--udp-retries", "9"], "udp-retries"),
    ],
)
def test_bad_udp_port_lists_say_what_is_wrong(args: list[str], message: str, tmp_path: Path) -> None:
    result = shoal("scan", f"127.{BLOCK}.46.1", "--allow", f"127.{BLOCK}.46.1/32", *args, data=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
