"""A small store holding all four datasets, about one domain (example.org), dated relative to today so that
clients' "last 30 days" calls find it whatever day the tests run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shoal.model import BODY_SHA256, CT, DOMAINS, PROTOCOLS, RDNS, SUPERSEDES, Body, Item, Report

TODAY = dt.datetime.now(dt.UTC).date()
METADATA = {"ip", "port-tcp", "geo-country", "product-tag", SUPERSEDES, BODY_SHA256, "ct-log", "ct-index"}
WELCOME = Body.capped(b"<html><title>Example Org</title>hello</html>", "text/html; charset=utf-8")
BINARY = Body.capped(b"\x00\xffSSH-2.0-x\x80")


def report(
    report_id: str, days_ago: int, dataset: str, items: Iterable[tuple[str, str, str]], bodies: tuple[Body, ...] = ()
) -> Report:
    built = tuple(Item(t, v, c, t in METADATA) for t, c, v in items)
    return Report(TODAY - dt.timedelta(days=days_ago), built, report_id, dataset, bodies)


WEB = [("ip", "", "192.0.2.10"), ("port-tcp", "", "443")]
SHOP = [("ip", "", "192.0.2.11"), ("port-tcp", "", "80")]
CERT_A = [
    ("cert-sha256", "", "aa" * 32),
    ("host", "cert-dns-name", "www.example.org"),
    ("host", "cert-dns-name", "dev.example.org"),
    ("subject", "", "CN=www.example.org"),
    ("issuer", "", "CN=Test CA"),
]
JIRA = [*SHOP, ("server-banner", "http", "HTTP/1.1 200 OK"), ("title", "", "Jira Login"), ("geo-country", "", "GB")]

DATASET_CORPUS: list[Report] = [
    # protocols: p04 supersedes p02 (a re-enrichment), so p02 matches nothing but its id
    report(
        "p01",
        3,
        PROTOCOLS,
        [
            *WEB,
            ("host", "cert-dns-name", "www.example.org"),
            ("host", "cert-dns-name", "api.example.org"),
            ("subject", "", "CN=www.example.org"),
            ("title", "", "Example Org"),
            ("server-banner", "https", "HTTP/1.1 200 OK"),
            ("http-header", "Server", "nginx/1.24.0"),
            ("product-tag", "", "nginx"),
            ("geo-country", "", "US"),
            (BODY_SHA256, "https", WELCOME.sha256),
        ],
        (WELCOME,),
    ),
    report("p02", 4, PROTOCOLS, [*JIRA, ("product-tag", "", "jira")]),
    report(
        "p03",
        5,
        PROTOCOLS,
        [
            ("ip", "", "198.51.100.7"),
            ("port-tcp", "", "22"),
            ("server-banner", "ssh", "SSH-2.0-x"),
            (BODY_SHA256, "ssh", BINARY.sha256),
        ],
        (BINARY,),
    ),
    report("p04", 4, PROTOCOLS, [*JIRA, ("product-tag", "", "atlassian jira"), (SUPERSEDES, "", "p02")]),
    # domains: d02 is a newer visit of d01's {host, ip, port}
    report("d01", 6, DOMAINS, [("host", "", "www.example.org"), *WEB, ("title", "", "Example Org"), *CERT_A[1:3]]),
    report("d02", 2, DOMAINS, [("host", "", "www.example.org"), *WEB, ("title", "", "Example Org v2"), *CERT_A[1:3]]),
    report(
        "d03",
        3,
        DOMAINS,
        [("host", "", "shop.example.org"), *SHOP, ("title", "", "Shop"), ("product-tag", "", "nginx")],
    ),
    report("d04", 2, DOMAINS, [("host", "", "mail.example.com"), ("ip", "", "8.8.8.8"), ("port-tcp", "", "443")]),
    # ct: c03 is c01's certificate seen again, in another log
    report("c01", 7, CT, [*CERT_A, ("ct-log", "", "test-log-1"), ("ct-index", "", "17")]),
    report(
        "c02",
        5,
        CT,
        [
            ("cert-sha256", "", "bb" * 32),
            ("host", "cert-dns-name", "*.example.org"),
            ("ip", "cert-ip-address", "192.0.2.10"),
            ("subject", "", "CN=*.example.org"),
            ("ct-log", "", "test-log-1"),
            ("ct-index", "", "18"),
        ],
    ),
    report("c03", 1, CT, [*CERT_A, ("ct-log", "", "test-log-2"), ("ct-index", "", "4")]),
    report("c04", 2, CT, [("cert-sha256", "", "cc" * 32), ("host", "cert-dns-name", "example.net")]),
    # rdns: n03 is a newer lookup of n01's address
    report(
        "n01",
        6,
        RDNS,
        [("ip", "", "192.0.2.10"), ("host", "dns-ptr", "web1.example.org"), ("host", "dns-ns", "ns1.example.org")],
    ),
    report(
        "n02",
        3,
        RDNS,
        [("ip", "", "192.0.2.11"), ("host", "dns-ptr", "shop.example.org"), ("host", "dns-ns", "ns2.example.net")],
    ),
    report(
        "n03",
        1,
        RDNS,
        [("ip", "", "192.0.2.10"), ("host", "dns-ptr", "web1-new.example.org"), ("host", "dns-ns", "ns1.example.org")],
    ),
    report(
        "n04", 8, RDNS, [("ip", "", "8.8.8.8"), ("host", "dns-ns", "ns4.google.com"), ("host", "dns-ptr", "dns.google")]
    ),
]
