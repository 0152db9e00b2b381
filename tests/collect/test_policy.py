"""The allow-list, the deny-list that wins, and DATA/collector.toml."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from shoal.collect.policy import DEFAULT_MAX_RATE, PolicyFileError, ScanPolicy, load_policy, uncovered
from shoal.errors import TargetNotAllowed

net = ipaddress.ip_network


def test_the_default_policy_allows_nothing(tmp_path: Path) -> None:
    policy = load_policy(tmp_path)
    assert policy.allow == () and policy.max_rate == DEFAULT_MAX_RATE
    with pytest.raises(TargetNotAllowed, match="allow-list is empty") as refused:
        policy.check_address("192.0.2.1")
    assert refused.value.status == 403 and refused.value.target == "192.0.2.1"
    assert "collector.toml" in refused.value.message


def test_deny_wins_over_allow() -> None:
    policy = ScanPolicy(allow=(net("192.0.2.0/24"),), deny=(net("192.0.2.7/32"),))
    assert policy.permits(ipaddress.ip_address("192.0.2.6"))
    assert not policy.permits(ipaddress.ip_address("192.0.2.7"))
    with pytest.raises(TargetNotAllowed, match="deny-list"):
        policy.check_address("192.0.2.7")
    policy.check_network(net("192.0.2.0/28"))  # allowed; its denied address is skipped when scanning
    with pytest.raises(TargetNotAllowed, match="deny-list"):
        policy.check_network(net("192.0.2.7/32"))


def test_a_network_must_be_wholly_allowed() -> None:
    policy = ScanPolicy(allow=(net("192.0.2.0/25"), net("192.0.2.128/26")))
    policy.check_network(net("192.0.2.0/25"))
    with pytest.raises(TargetNotAllowed, match=r"e\.g\. 192\.0\.2\.192/26"):
        policy.check_network(net("192.0.2.0/24"))
    with pytest.raises(TargetNotAllowed):
        policy.check_network(net("2001:db8::/64"))


def test_uncovered_parts() -> None:
    assert uncovered(net("10.0.0.0/30"), [net("10.0.0.0/31")]) == [net("10.0.0.2/31")]
    assert uncovered(net("10.0.0.0/30"), [net("10.0.0.0/8")]) == []
    assert uncovered(net("10.0.0.0/30"), [net("::/0")]) == [net("10.0.0.0/30")]


def test_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / "collector.toml").write_text(
        'allow = ["192.0.2.0/24", "2001:db8::/48"]\ndeny = ["192.0.2.1"]\nmax_rate = 50\n'
    )
    policy = load_policy(tmp_path)
    assert policy.allow == (net("192.0.2.0/24"), net("2001:db8::/48"))
    assert policy.deny == (net("192.0.2.1/32"),)
    assert policy.max_rate == 50
    assert policy.with_allowed([net("198.51.100.0/24")]).allow[-1] == net("198.51.100.0/24")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allow = [", "collector.toml"),
        ('allow = ["not-a-network"]', "allow: not an IP address or CIDR"),
        ("allow = 3", "'allow' must be a list"),
        ("max_rate = 0", "'max_rate' must be a positive number"),
        ("max_rate = true", "'max_rate' must be a positive number"),
        ('alow = ["192.0.2.0/24"]', "unknown key 'alow'"),
    ],
)
def test_a_bad_policy_file_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "collector.toml").write_text(text)
    with pytest.raises(PolicyFileError, match=message):
        load_policy(tmp_path)
