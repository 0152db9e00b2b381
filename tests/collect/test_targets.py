"""TARGETS and --ports."""

from __future__ import annotations

import ipaddress

import pytest

from shoal.collect.policy import ScanPolicy
from shoal.collect.targets import TOP_100_PORTS, count_targets, iterate_targets, parse_ports, parse_targets


def test_ports() -> None:
    assert parse_ports("22, 80,8000-8002,80") == (22, 80, 8000, 8001, 8002)
    assert parse_ports("top100") == TOP_100_PORTS and len(set(TOP_100_PORTS)) == 100
    assert len(parse_ports("all")) == 65535


@pytest.mark.parametrize("text", ["0", "65536", "90-80", "http", "1-", ""])
def test_bad_ports(text: str) -> None:
    with pytest.raises(ValueError, match="port"):
        parse_ports(text)


def test_targets_are_addresses_and_networks() -> None:
    assert parse_targets(["192.0.2.1", "192.0.2.9/29", "2001:db8::1"]) == [
        ipaddress.ip_network("192.0.2.1/32"),
        ipaddress.ip_network("192.0.2.8/29"),
        ipaddress.ip_network("2001:db8::1/128"),
    ]
    with pytest.raises(ValueError, match=r"example\.com"):
        parse_targets(["example.com"])
    with pytest.raises(ValueError, match="at least one"):
        parse_targets([])


def test_iteration_goes_port_by_port_and_skips_denied_addresses() -> None:
    network = ipaddress.ip_network("192.0.2.0/30")
    policy = ScanPolicy(allow=(network,), deny=(ipaddress.ip_network("192.0.2.1/32"),))
    pairs = list(iterate_targets([network], [22, 80], policy))
    assert pairs[:3] == [("192.0.2.0", 22), ("192.0.2.2", 22), ("192.0.2.3", 22)]
    assert len(pairs) == count_targets([network], [22, 80], policy) == 6
