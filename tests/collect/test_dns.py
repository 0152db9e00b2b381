"""The collector's DNS against Debian's unbound serving a test zone, and against hostile fake servers."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shoal.collect.dns import MAX_CNAMES, MAX_NAMES, DnsClient, ResolverSettings, parse_resolver, reverse_all
from shoal.collect.scanner import run_event_loop
from shoal.ingest.dnsanswers import DNS_NAME
from shoal.model import DnsAnswer
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from tests.collect.conftest import BLOCK, DNS_IP, NGINX_IP, VHOST_NAMES, VHOSTS_IP, ZONE, Target
from tests.collect.fake_dns import DEEP_NAME, hostile_dns

DAY = dt.date(2026, 12, 1)


def client(target: Target, **settings: float) -> DnsClient:
    return DnsClient(ResolverSettings(target[0], target[1], **settings))  # type: ignore[arg-type]


@pytest.mark.daemon
def test_reverse_lookup_gives_ptr_names_their_zone_servers_and_addresses(unbound: Target) -> None:
    lookup = run_event_loop(client(unbound).reverse(VHOSTS_IP, DAY))
    assert lookup.names == [VHOST_NAMES[0]]
    assert lookup.name_servers == [f"ns1.{ZONE}", f"ns2.{ZONE}"]
    assert lookup.answers == [DnsAnswer(VHOST_NAMES[0], "A", VHOSTS_IP, DAY)]
    report = lookup.report(DAY)
    assert report is not None and report.dataset == "rdns"
    assert [(item.type, item.context, item.value) for item in report.items] == [
        ("ip", "", VHOSTS_IP),
        ("host", "dns-ptr", VHOST_NAMES[0]),
        ("host", "dns-ns", f"ns1.{ZONE}"),
        ("host", "dns-ns", f"ns2.{ZONE}"),
    ]


@pytest.mark.daemon
def test_an_address_without_ptr_has_no_report(unbound: Target) -> None:
    lookups = run_event_loop(reverse_all(client(unbound), [NGINX_IP, "127.1.2.3"], DAY))
    assert [lookup.names for lookup in lookups] == [[f"nginx.{ZONE}"], []]
    assert lookups[1].report(DAY) is None


@pytest.mark.daemon
def test_forward_lookups_follow_cnames_and_stop_at_loops(unbound: Target) -> None:
    dns = client(unbound)
    addresses, answers = run_event_loop(dns.addresses(VHOST_NAMES[1], DAY))
    assert addresses == [VHOSTS_IP]
    assert answers == [
        DnsAnswer(VHOST_NAMES[1], "CNAME", VHOST_NAMES[0], DAY),
        DnsAnswer(VHOST_NAMES[0], "A", VHOSTS_IP, DAY),
    ]
    started = time.monotonic()
    loop, loop_answers = run_event_loop(dns.addresses(f"loop-a.{ZONE}", DAY))
    assert loop == [] and {answer.type for answer in loop_answers} == {"CNAME"}  # the loop is seen, and left
    assert run_event_loop(dns.addresses(f"nothing.{ZONE}", DAY)) == ([], [])
    assert time.monotonic() - started < 30  # bounded, however loaded the machine


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)), ("[::1]:53", ("::1", 53))],
)
def test_resolver_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "127.0.0.1:0", "127.0.0.1:99999", "1.2.3.4:x"])
def test_bad_resolver_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="resolver"):
        parse_resolver(text)


def test_resolver_default_is_the_systems() -> None:
    try:
        address, port = parse_resolver(None)
    except ValueError as exc:  # a machine without /etc/resolv.conf
        assert "--resolver" in str(exc)
        return
    assert port == 53 and ipaddress.ip_address(address) and address != DNS_IP


HOSTILE_IP = f"127.{BLOCK}.23.53"


def test_hostile_answers_never_hang_or_crash() -> None:
    with hostile_dns(HOSTILE_IP) as server:
        impatient = client(server, timeout=0.3, retries=1)
        started = time.monotonic()
        assert run_event_loop(impatient.query("slow.test.example", "A")) is None  # two tries of 0.3 s
        assert run_event_loop(impatient.query("garbage.test.example", "A")) is None
        assert time.monotonic() - started < 30  # bounded (a hang would never return), however loaded the machine
        assert impatient.stats.failed == 2
        dns = client(server, timeout=5.0, retries=1)  # the rest must be answered, even on a busy machine
        assert run_event_loop(dns.addresses("trunc.test.example", DAY))[0] == ["192.0.2.1"]  # again over TCP
        texts, _ = run_event_loop(dns.records("huge.test.example", "TXT"))
        assert len(texts) == 1 and len(texts[0]) > 60_000
        addresses, answers = run_event_loop(dns.addresses("cname0.test.example", DAY))
        assert addresses == [] and len(answers) == MAX_CNAMES + 1  # 8 followed, the 9th seen and left
        assert dns.stats.failed == 0 and dns.stats.truncated == 3  # trunc A and AAAA, huge TXT


def test_shoal_dns_against_a_hostile_resolver_stores_only_sane_names_in_bounded_time(tmp_path: Path) -> None:
    """Issue 22, item 11: ``shoal dns`` over addresses whose PTR answers are huge, looping, cut, slow, full of
    names that are not names, or very deep (tests/collect/fake_dns.py, REVERSE): it ends, in bounded time and
    queries, and stores at most MAX_NAMES PTR names per address, each a DNS name."""
    network = f"127.{BLOCK}.40.0/29"
    with hostile_dns(HOSTILE_IP) as (ip, port):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "shoal", "dns", network, "--resolver", f"{ip}:{port}", "--dns-timeout", "2",
             "--dns-retries", "1", "--data", str(tmp_path)],
            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "300"},
        )  # fmt: skip
        seconds = time.monotonic() - started
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert seconds < 60
    queries = int(re.search(r"([\d,]+) queries to", result.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert queries < 400, result.stdout
    store = EmbeddedStore(tmp_path)
    try:
        reports = {report.ip: report for report in store.iter_matches(Filters(dataset="rdns"))}
    finally:
        store.close()
    names = {ip: [i.value for i in report.items if i.context == "dns-ptr"] for ip, report in reports.items()}
    base = f"127.{BLOCK}.40."
    assert set(names) == {base + "1", base + "5", base + "6"}  # loop, cut, slow: nothing
    assert len(names[base + "1"]) == MAX_NAMES
    assert names[base + "5"] == ["good.test.example"]
    assert names[base + "6"] == [DEEP_NAME.rstrip(".")]
    for report in reports.values():
        for item in report.items:
            if item.type == "host":
                assert DNS_NAME.fullmatch(item.value), item
