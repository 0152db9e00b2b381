"""TARGETS and --ports."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from shoal.collect.policy import ScanPolicy
from shoal.collect.targets import TOP_100_PORTS, count_targets, iterate_targets, parse_ports, read_names, split_targets


def test_ports() -> None:
    assert parse_ports("22, 80,8000-8002,80") == (22, 80, 8000, 8001, 8002)
    assert parse_ports("top100") == TOP_100_PORTS and len(set(TOP_100_PORTS)) == 100
    assert len(parse_ports("all")) == 65535


@pytest.mark.parametrize("text", ["0", "65536", "90-80", "http", "1-", ""])
def test_bad_ports(text: str) -> None:
    with pytest.raises(ValueError, match="port"):
        parse_ports(text)


def test_targets_are_addresses_networks_and_host_names() -> None:
    assert split_targets(["192.0.2.1", "192.0.2.9/29", "2001:db8::1", "WWW.Example.com.", "www.example.com"]) == (
        [
            ipaddress.ip_network("192.0.2.1/32"),
            ipaddress.ip_network("192.0.2.8/29"),
            ipaddress.ip_network("2001:db8::1/128"),
        ],
        ["www.example.com"],
    )
    for bad in ("300.1.2.3", "exa mple.com", "-x.example", "a..b"):
        with pytest.raises(ValueError, match="not an IP address or CIDR"):
            split_targets([bad])


def test_names_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("# targets\nwww.example.com\n\nAPI.example.com.  # the API\nwww.example.com\n")
    assert read_names(path) == ["www.example.com", "api.example.com"]
    path.write_text("www.example.com\nbad!name\n")
    with pytest.raises(ValueError, match=r"names.txt:2: not a host name"):
        read_names(path)


def test_iteration_goes_port_by_port_and_skips_denied_addresses() -> None:
    network = ipaddress.ip_network("192.0.2.0/30")
    policy = ScanPolicy(allow=(network,), deny=(ipaddress.ip_network("192.0.2.1/32"),))
    pairs = list(iterate_targets([network], [22, 80], policy))
    assert pairs[:3] == [("192.0.2.0", 22), ("192.0.2.2", 22), ("192.0.2.3", 22)]
    assert len(pairs) == count_targets([network], [22, 80], policy) == 6
