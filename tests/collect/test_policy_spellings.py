"""Every spelling of an address gets the policy's answer for the address it reaches (issue 14, item 4):
IPv4-mapped, IPv4-compatible, 6to4, NAT64 and Teredo forms embed an IPv4 address; zone ids and letter case
change nothing. A denied IPv4 address is never reachable through an IPv6 spelling, whatever is allowed."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoal.collect.policy import ScanPolicy, parse_network
from shoal.errors import TargetNotAllowed

net = ipaddress.ip_network
V4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


def spellings(address: ipaddress.IPv4Address) -> list[str]:
    """IPv6 texts whose packets reach ``address`` (or a host that forwards to it)."""
    value = int(address)
    high, low = value >> 16, value & 0xFFFF
    teredo_client = value ^ 0xFFFFFFFF
    forms = [
        f"::ffff:{address}",
        f"::FFFF:{high:x}:{low:x}",
        f"0:0:0:0:0:ffff:{high:04x}:{low:04x}",
        *([f"::{address}"] if value > 1 else []),  # IPv4-compatible (deprecated); ::1 is this host itself
        f"2002:{high:x}:{low:x}::1",  # 6to4
        f"2002:{high:x}:{low:x}:5::abcd",
        f"64:ff9b::{address}",  # NAT64, well-known prefix
        f"64:ff9b:1::{high:x}:{low:x}",  # NAT64, local-use prefix
        f"2001:0:4136:e378:8000:63bf:{teredo_client >> 16:x}:{teredo_client & 0xFFFF:x}",  # Teredo client
        f"2001:0:{high:x}:{low:x}:8000:63bf:3fff:fdd2",  # Teredo server
    ]
    return [*forms, *(form + "%eth0" for form in forms)]


POLICIES = [
    ScanPolicy(allow=(net("::/0"),), deny=()),
    ScanPolicy(allow=(net("::/0"), net("0.0.0.0/0")), deny=()),
    ScanPolicy(allow=(net("::/0"), net("0.0.0.0/0")), deny=(net("127.0.0.0/8"), net("10.0.0.0/8"))),
]


@given(address=V4, policy_number=st.integers(0, len(POLICIES) - 1), deny_it=st.booleans())
def test_no_spelling_is_more_permitted_than_the_address_it_reaches(
    address: ipaddress.IPv4Address, policy_number: int, deny_it: bool
) -> None:
    policy = POLICIES[policy_number]
    if deny_it:
        policy = ScanPolicy(allow=policy.allow, deny=(*policy.deny, net(f"{address}/32")))
    for text in spellings(address):
        permitted = policy.permits(ipaddress.ip_address(text))
        if not policy.permits(address):
            assert not permitted, text
            with pytest.raises(TargetNotAllowed):
                policy.check_address(text)
        elif permitted:
            policy.check_address(text)  # the two checks agree


def test_the_reported_bypass_is_closed() -> None:
    policy = ScanPolicy(allow=(net("::/0"),), deny=(net("127.0.0.1/32"),))
    with pytest.raises(TargetNotAllowed, match=r"reaches 127\.0\.0\.1"):
        policy.check_address("::ffff:127.0.0.1")
    assert not policy.permits(ipaddress.ip_address("::ffff:7f00:1"))
    with pytest.raises(TargetNotAllowed):
        policy.check_network(net("::ffff:127.0.0.0/120"))
    with pytest.raises(TargetNotAllowed):
        policy.check_network(net("2002:7f00:1::/48"))


def test_a_deny_entry_in_a_mapped_spelling_denies_the_ipv4_address() -> None:
    policy = ScanPolicy(allow=(net("0.0.0.0/0"),), deny=(parse_network("::ffff:192.0.2.0/120"),))
    assert not policy.permits(ipaddress.ip_address("192.0.2.9"))
    assert policy.permits(ipaddress.ip_address("198.51.100.1"))


def test_mapped_targets_are_their_ipv4_network_and_zone_ids_are_refused() -> None:
    assert parse_network("::ffff:192.0.2.0/120") == net("192.0.2.0/24")
    assert parse_network("::ffff:192.0.2.1") == net("192.0.2.1/32")
    with pytest.raises(ValueError, match="zone"):
        parse_network("fe80::1%eth0")


def test_ordinary_ipv6_is_unchanged() -> None:
    policy = ScanPolicy(allow=(net("2001:db8::/32"),), deny=(net("2001:db8::7/128"),))
    assert policy.permits(ipaddress.ip_address("2001:db8::1"))
    assert not policy.permits(ipaddress.ip_address("2001:db8::7"))
    assert not policy.permits(ipaddress.ip_address("2001:db9::1"))
    assert ScanPolicy(allow=(net("::1/128"),)).permits(ipaddress.ip_address("::1"))
