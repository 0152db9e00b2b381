"""The fingerprint rules: every rule's own examples and negatives, the rule-file checks, real daemon banners."""

from __future__ import annotations

import pytest

from shoal.enrich.products import shared_rules
from shoal.enrich.rules import Rule, RuleError, RuleSet, load_rules, rule_files

RULES = load_rules()
BY_ID = {rule.id: rule for rule in RULES}
ALL = RuleSet(RULES)


def test_rule_files_load_and_are_big_enough() -> None:
    products = {tag for rule in RULES for tag in rule.tags}
    honeypots = {rule.honeypot for rule in RULES if rule.honeypot}
    assert len(RULES) >= 100
    assert len(products) >= 60, sorted(products)
    assert {"cowrie", "dionaea", "conpot"} <= honeypots
    assert {name for name, _ in rule_files()} >= {"web.toml", "remote.toml", "honeypots.toml", "c2.toml"}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_every_example_of_every_rule(rule: Rule) -> None:
    for example in rule.examples:
        assert example.on in rule.on or (example.on[0], "*") in rule.on, example
        found = rule.apply(example.value)
        assert found is not None, f"{rule.id} does not match its example {example.value!r}"
        assert found.tags == example.tags
        assert tuple(value for _, value in found.info) == example.info, example.value
        assert found.honeypot == example.honeypot
        # and through the whole rule set, dispatched by the example's item type and context
        outcome = ALL.outcome(example.on[0], example.on[1], example.value)
        tags = {item.value for item in outcome.products if item.type == "product-tag"}
        assert set(example.tags) <= tags
        assert example.honeypot is None or example.honeypot in {item.value for item in outcome.honeypots}
    for negative in rule.negative:
        assert rule.apply(negative) is None, f"{rule.id} matches its negative example {negative!r}"


def test_info_items_name_their_product() -> None:
    outcome = ALL.outcome("http-header", "Server", "Apache/2.4.6 (CentOS) OpenSSL/1.0.2k-fips")
    assert [(item.type, item.context, item.value) for item in outcome.products] == [
        ("product-tag", "", "apache"),
        ("product-tag", "", "openssl"),
        ("product-info", "apache", "2.4.6"),
        ("product-info", "apache", "(CentOS)"),
        ("product-info", "openssl", "1.0.2k-fips"),
    ]
    assert all(item.is_metadata for item in outcome.products)


def test_header_contexts_compare_case_insensitively() -> None:
    for name in ("Server", "server", "SERVER"):
        assert [item.value for item in ALL.outcome("http-header", name, "nginx").products] == ["nginx"]


def test_a_rule_sees_only_its_selectors() -> None:
    assert not ALL.outcome("title", "", "nginx/1.18.0").products  # a Server-header rule, not a title rule
    assert not ALL.outcome("server-banner", "ftp", "SSH-2.0-OpenSSH_8.9p1").products


# What the daemons the collector scans actually send (the collector stores the text of the first answer).
DAEMON_BANNERS = [
    ("http-header", "Server", "nginx/1.22.1", {"nginx"}, {"1.22.1"}),
    ("http-header", "Server", "nginx/1.18.0 (Ubuntu)", {"nginx"}, {"1.18.0", "(Ubuntu)"}),
    ("server-banner", "ssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", {"openssh"}, {"9.2p1", "Debian-2+deb12u3"}),
    (
        "server-banner",
        "ssh",
        "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n",
        {"openssh"},
        {"8.9p1", "Ubuntu-3ubuntu0.10"},
    ),
    ("server-banner", "ftp", "220 (vsFTPd 3.0.3)\r\n", {"vsftpd"}, {"3.0.3"}),
    ("server-banner", "redis", "-NOAUTH Authentication required.\r\n", {"redis"}, set()),
    ("server-banner", "redis", "+PONG\r\n", {"redis"}, set()),
    (
        "server-banner",
        "redis",
        "$5580\r\n# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n",
        {"redis"},
        {"7.0.15"},
    ),
    (
        "server-banner",
        "postgres",
        "FATAL:  unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0",
        {"postgresql"},
        set(),
    ),
    (
        "server-banner",
        "postgres",
        "E\x00\x00\x00\x88SFATAL\x00VFATAL\x00C0A000\x00Munsupported frontend protocol 1234.5679: server supports "
        "3.0 to 3.0\x00Fpostmaster.c\x00L2136\x00RProcessStartupPacket\x00\x00",
        {"postgresql"},
        set(),
    ),
    ("server-banner", "mqtt", "MQTT Connection Code: 0", {"mqtt"}, set()),  # Mosquitto's CONNACK: no name in it
    (
        "server-banner",
        "mqtt",
        "MQTT Connection Code: 0\n$SYS/broker/version: mosquitto version 2.0.11",
        {"mqtt", "mosquitto"},
        {"2.0.11"},
    ),
    ("server-banner", "smtp", "220 localhost.localdomain Python SMTP 1.4.6", {"aiosmtpd"}, {"1.4.6"}),
    ("server-banner", "telnet", "Debian GNU/Linux 12\r\nshoal-test login: ", {"debian"}, {"12"}),
    ("server-banner", "mysql", "8.0.40-0ubuntu0.24.04.1", {"mysql"}, {"8.0.40-0ubuntu0.24.04.1"}),
]


@pytest.mark.parametrize(("item_type", "context", "value", "tags", "info"), DAEMON_BANNERS)
def test_real_daemon_answers(item_type: str, context: str, value: str, tags: set[str], info: set[str]) -> None:
    outcome = shared_rules().outcome(item_type, context, value)
    assert {item.value for item in outcome.products if item.type == "product-tag"} == tags
    assert {item.value for item in outcome.products if item.type == "product-info"} == info


def test_values_are_cached_and_long_values_are_cut() -> None:
    rules = RuleSet(RULES)
    first = rules.outcome("http-header", "Server", "nginx/1.24.0")
    assert rules.outcome("http-header", "Server", "nginx/1.24.0") is first
    long_value = "x" * 10_000 + "redis_version:7.2.4"
    assert not rules.outcome("server-banner", "redis", long_value).products


GOOD = """
[[rule]]
id = "demo"
on = ["http-header;Server"]
pattern = '^demo/(?P<version>[\\d.]+)'
tags = ["demo"]
info = ["{version}"]
examples = [{ value = "demo/1.0", info = ["1.0"] }]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('tags = ["demo"]', 'tags = ["Demo"]'), "lowercase"),
        (('info = ["{version}"]', 'info = ["{release}"]'), "lacks"),
        (("pattern = '^demo", "pattern = '(^demo"), "does not compile"),
        (('examples = [{ value = "demo/1.0", info = ["1.0"] }]', ""), "at least one example"),
        (('tags = ["demo"]', 'tags = ["demo"]\ntag = "x"'), "unknown keys"),
        (('on = ["http-header;Server"]', "on = []"), "non-empty"),
        (('tags = ["demo"]', 'tags = ["demo"]\nhoneypot = "x"'), "either"),
    ],
)
def test_malformed_rules_are_refused_with_their_id(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    with pytest.raises(RuleError, match=message) as raised:
        load_rules([("demo.toml", text)])
    assert "demo.toml" in raised.value.message


def test_duplicate_ids_and_bad_toml_are_refused() -> None:
    assert len(load_rules([("demo.toml", GOOD)])) == 1
    with pytest.raises(RuleError, match="duplicate"):
        load_rules([("a.toml", GOOD), ("b.toml", GOOD)])
    with pytest.raises(RuleError, match="TOML"):
        load_rules([("bad.toml", "[[rule]\n")])


def test_no_nmap_data_is_shipped_or_read() -> None:
    for name, text in rule_files():
        assert "nmap" not in name.lower()
        assert "match " not in text  # nmap-service-probes' line syntax; our rules are TOML tables
