"""Every protocol of the lab (tests/collect/lab.py DAEMONS: real daemons, about half on a port that is not
their protocol's) is named, and carries what a researcher filters on."""

from __future__ import annotations

import re

import pytest

from shoal.enrich.products import Products
from shoal.model import Item, Report
from tests.collect.conftest import Target, collect_one, items_of, lab_address
from tests.collect.lab import DAEMON_NAMED, DAEMONS
from tests.collect.launchers import epmd_port

pytestmark = pytest.mark.daemon

CERTIFICATE = ("subject", "", r"CN=\w+\.shoal\.test, O=Shoal Tests, C=GB")
JA4S = ("ja4s-hash", "", r"t1[23]\d{4}_[0-9a-f]{4}_[0-9a-f]{12}")
# daemon → (type, context, a pattern one such item's value must match in full)
DEPTH: dict[str, list[tuple[str, str, str]]] = {
    "vsftpd": [("capability", "ftp", "EPSV")],
    "exim": [("capability", "smtp", "PIPELINING"), ("starttls", "smtp", "offered"), CERTIFICATE],
    "dovecot-imap": [("capability", "imap", "IMAP4rev1"), ("starttls", "imap", "offered"), CERTIFICATE],
    "dovecot-pop3": [("capability", "pop3", "UIDL"), ("starttls", "pop3", "offered"), CERTIFICATE],
    "slapd": [
        ("naming-context", "ldap", "dc=shoal,dc=test"),
        ("protocol-version", "ldap", "3"),
        ("auth-method", "ldap", "SCRAM-SHA-256"),
        ("starttls", "ldap", "offered"),
        CERTIFICATE,
    ],
    "samba": [
        ("protocol-version", "smb", "3.1.1"),
        ("signing", "smb", "required"),
        ("guid", "smb", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        ("capability", "smb", "LARGE_MTU"),
    ],
    "xrdp": [("auth-method", "rdp", "TLS"), CERTIFICATE],
    "tigervnc": [("protocol-version", "vnc", "3.8"), ("auth-method", "vnc", "VNC Authentication")],
    "xvfb": [("product", "x11", "The X.Org Foundation"), ("version", "x11", r"1\.\d+\.\d+(\.\d+)?")],
    "cups": [("http-header", "Server", r"CUPS/\d\.\d IPP/\d\.\d")],
    "squid": [("http-header", "X-Squid-Error", "ERR_ACCESS_DENIED 0")],
    "unbound": [("version", "dns", r"unbound \d+\.\d+\.\d+")],
    "rsync": [("protocol-version", "rsync", r"\d+\.\d+"), ("share", "rsync", "files")],
    "prosody": [
        ("server-name", "xmpp", r"127\.\d+\.30\.\d+"),
        ("starttls", "xmpp", "offered|required"),
        CERTIFICATE,
    ],
    "ngircd": [("server-name", "irc", "irc.shoal.test")],
    "beanstalkd": [("version", "beanstalkd", r"\d+\.\d+")],
    "zookeeper": [("version", "zookeeper", r"3\.\d+\.\d+.*"), ("capability", "zookeeper", "mode: standalone")],
    "nut-upsd": [
        ("version", "nut", r"2\.\d+\.\d+"),
        ("protocol-version", "nut", r"\d+\.\d+"),
        ("share", "nut", "shoal"),
    ],
    "svnserve": [("protocol-version", "svn", r"\d+-\d+"), ("capability", "svn", "edit-pipeline")],
    "memcached": [("version", "memcached", r"1\.\d+\.\d+")],
    "mariadb": [("auth-method", "mysql", "mysql_native_password"), ("starttls", "mysql", "offered"), CERTIFICATE],
    "rabbitmq": [
        ("product", "amqp", "RabbitMQ"),
        ("version", "amqp", r"3\.\d+\.\d+"),
        ("protocol-version", "amqp", "0-9"),
        ("auth-method", "amqp", "PLAIN"),
        ("capability", "amqp", "publisher_confirms"),
    ],
    "nats": [("version", "nats", r"2\.\d+\.\d+"), ("capability", "nats", "headers")],
    "etcd": [("version", "etcd", r"3\.\d+\.\d+")],
    "dockerd": [
        ("version", "docker", r"\d+\.\d+\.\d+\S*"),
        ("protocol-version", "docker", r"API 1\.\d+"),
        ("capability", "docker", "Os: linux"),
    ],
    "clickhouse": [("version", "clickhouse", r"\d+\.\d+")],
    "gst-rtsp-server": [("capability", "rtsp", "PLAY"), ("http-header", "Server", "GStreamer RTSP server")],
    "kamailio": [("capability", "sip", "OPTIONS"), ("http-header", "Server", r"kamailio \(.*\)")],
    "dante": [("protocol-version", "socks", "5"), ("auth-method", "socks", "none")],
    # Inside TLS: the protocol's own items (their context the protocol spoken inside), then the TLS session's
    "nginx-https": [("title", "", "Shoal test page"), ("url", "", r"https://127\.\d+\.\d+\.\d+:4433/"), CERTIFICATE],
    "dovecot-imaps": [("capability", "imap", "IMAP4rev1"), CERTIFICATE, JA4S],
    "dovecot-pop3s": [("capability", "pop3", "UIDL"), CERTIFICATE],
    "exim-smtps": [("capability", "smtp", "PIPELINING"), CERTIFICATE],
    "slapd-ldaps": [("naming-context", "ldap", "dc=shoal,dc=test"), CERTIFICATE],
    "vsftpd-ftps": [("capability", "ftp", "EPSV"), CERTIFICATE],
    "ngircd-ircs": [("server-name", "irc", "irc.shoal.test"), CERTIFICATE],
    "prosody-xmpps": [("server-name", "xmpp", r"127\.\d+\.3\d\.\d+"), CERTIFICATE],
    "mosquitto-mqtts": [CERTIFICATE, ("cert-self-signed", "", "true")],
    "redis-tls": [CERTIFICATE],
    "etcd-tls": [("version", "etcd", r"3\.\d+\.\d+"), CERTIFICATE, JA4S],
}


def lab_report(lab: dict[str, Report | BaseException | None], name: str) -> Report:
    outcome = lab[name]
    if isinstance(outcome, BaseException):
        raise outcome  # the daemon did not start: skipped (missing) or failed, as the launcher decided
    assert outcome is not None, f"nothing identified on {name}"
    return outcome


TCP_DAEMONS = [daemon for daemon in DAEMONS if daemon.transport == "tcp"]


@pytest.mark.parametrize("daemon", TCP_DAEMONS, ids=[daemon.name for daemon in TCP_DAEMONS])
def test_every_lab_daemon_is_named(lab: dict[str, Report | BaseException | None], daemon: object) -> None:
    name = daemon.name  # type: ignore[attr-defined]
    report = lab_report(lab, name)
    index = DAEMONS.index(DAEMON_NAMED[name])
    assert report.items[:2] == (
        Item("ip", lab_address(index), "", True),
        Item("port-tcp", str(DAEMON_NAMED[name].port), "", True),
    )
    assert report.items[2].type == "server-banner"
    assert report.items[2].context == DAEMON_NAMED[name].protocol, report.items[2]


@pytest.mark.parametrize("name", sorted(DEPTH))
def test_what_each_protocol_announces_is_recorded(lab: dict[str, Report | BaseException | None], name: str) -> None:
    report = lab_report(lab, name)
    for item_type, context, pattern in DEPTH[name]:
        values = [value for found_context, value in items_of(report, item_type) if found_context == context]
        assert any(re.fullmatch(pattern, value) for value in values), (item_type, context, pattern, values)


def test_half_the_lab_is_on_ports_that_are_not_its_protocols() -> None:
    unusual = [daemon.name for daemon in TCP_DAEMONS if not daemon.usual]
    assert len(unusual) * 2 >= len(TCP_DAEMONS) - 2, unusual


def test_the_erlang_port_mapper_beside_rabbitmq(lab: dict[str, Report | BaseException | None]) -> None:
    lab_report(lab, "rabbitmq")
    index = DAEMONS.index(DAEMON_NAMED["rabbitmq"])
    target: Target = (lab_address(index), epmd_port(lab_address(index)))
    report = collect_one(*target)
    assert report is not None
    assert report.items[2].context == "epmd"
    assert ("epmd", f"shoal{DAEMON_NAMED['rabbitmq'].port}") in items_of(report, "server-name")


def test_no_daemon_is_asked_for_a_login(lab: dict[str, Report | BaseException | None]) -> None:
    """The lab's daemons all run with no account anyone could use; what the probes send never names one
    (the ClickHouse probe sends no Hello at all, the IRC probe never registers a nick)."""
    from shoal.collect.probes import clickhouse, irc

    assert clickhouse.PING == 4
    assert b"NICK" not in b"CAP LS 302\r\nVERSION\r\n" and irc.run is not None


# daemon → the product tag the bundled rules (src/shoal/enrich/rules) give its report
PRODUCT_TAGS = {
    "exim": "exim",
    "dovecot-imap": "dovecot",
    "dovecot-pop3": "dovecot",
    "slapd": "openldap",
    "xvfb": "x.org server",
    "cups": "cups",
    "squid": "squid",
    "unbound": "unbound",
    "rsync": "rsync",
    "git-daemon": "git daemon",
    "svnserve": "svnserve",
    "beanstalkd": "beanstalkd",
    "zookeeper": "zookeeper",
    "nut-upsd": "network ups tools",
    "memcached": "memcached",
    "mariadb": "mariadb",
    "rabbitmq": "rabbitmq",
    "nats": "nats-server",
    "etcd": "etcd",
    "clickhouse": "clickhouse",
    "gst-rtsp-server": "gstreamer rtsp server",
    "kamailio": "kamailio",
    "nginx-https": "nginx",
    "dovecot-imaps": "dovecot",
    "dovecot-pop3s": "dovecot",
    "exim-smtps": "exim",
    "vsftpd-ftps": "vsftpd",
    "redis-tls": "redis",
    "etcd-tls": "etcd",
    "dockerd": "docker",
}


@pytest.mark.parametrize("name", sorted(PRODUCT_TAGS))
def test_the_enrichment_rules_name_the_product(lab: dict[str, Report | BaseException | None], name: str) -> None:
    report = lab_report(lab, name)
    tags = [item.value for item in Products().enrich(report, None) if item.type == "product-tag"]
    assert PRODUCT_TAGS[name] in tags, tags
