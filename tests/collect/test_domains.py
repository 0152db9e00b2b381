"""Domain scans and ``shoal dns`` for real: Debian's unbound serves the test zone, nginx its name-based virtual
hosts with SNI certificates; ``shoal scan --names`` and ``shoal dns`` fill the ``domains`` and ``rdns``
datasets, and a name resolving outside the allow-list is never contacted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.model import DOMAINS, FDNS, MX, RDNS, Report
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.collect.conftest import (
    DNS_IP,
    NGINX_IP,
    OUTSIDE_IP,
    VHOST_NAMES,
    VHOST_TITLES,
    VHOSTS_IP,
    ZONE,
    Target,
)
from tests.collect.fakes import answers, fake_server
from tests.collect.test_cli import shoal

WWW, SHOP = VHOST_NAMES


@contextmanager
def api(data: Path) -> Iterator[TestClient]:
    """The API over the data directory a command filled, with a token."""
    store, tokens = EmbeddedStore(data), TokenStore(data)
    try:
        with TestClient(create_app(store, tokens)) as client:
            client.headers["Authorization"] = f"Bearer {tokens.create('tester')}"
            yield client
    finally:
        store.close()


def stored(data: Path, dataset: str) -> list[Report]:
    store = EmbeddedStore(data)
    try:
        return list(store.iter_matches(Filters(dataset=dataset)))
    finally:
        store.close()


def triples(report: Report) -> set[tuple[str, str, str]]:
    return {(item.type, item.context, item.value) for item in report.items}


def by_visit(reports: list[Report]) -> dict[tuple[str, int], Report]:
    return {(next(i.value for i in r.items if i.type == "host" and i.context == ""), r.port or 0): r for r in reports}


@pytest.mark.daemon
def test_scan_by_name(unbound: Target, vhosts: Target, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text(f"{WWW}\n{SHOP}\noutside.{ZONE}\nmissing.{ZONE}\n")
    resolver = f"{DNS_IP}:53"
    with fake_server(OUTSIDE_IP, 80, answers(b"\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n")) as outside_clients:
        result = shoal(
            "scan", "--names", str(names), "--resolver", resolver, "--allow", f"{VHOSTS_IP}/32", "--no-jarm",
            data=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "visited 4 names (3 resolved): 4 name:address:ports tried, 4 answered" in result.stdout
    assert "1 addresses outside the allow-list not contacted" in result.stdout
    assert outside_clients == []
    visits = by_visit(stored(tmp_path, DOMAINS))
    assert set(visits) == {(WWW, 80), (WWW, 443), (SHOP, 80), (SHOP, 443)}
    for name in VHOST_NAMES:
        secure = triples(visits[(name, 443)])
        assert ("title", "", VHOST_TITLES[name]) in secure
        assert ("subject", "", f"CN={name}, O=Shoal Tests, C=GB") in secure  # the SNI certificate of that name
        assert ("url", "", f"https://{name}/") in secure and ("ip", "", VHOSTS_IP) in secure
        assert ("server-banner", "https", "HTTP/1.1 200 OK") in secure
    assert ("title", "", VHOST_TITLES[WWW]) in triples(visits[(WWW, 80)])
    redirect = triples(visits[(SHOP, 80)])
    assert ("server-banner", "http", "HTTP/1.1 301 Moved Permanently") in redirect
    assert {("url", "redirect", f"https://{WWW}/from-shop"), ("host", "redirect", WWW)} <= redirect
    body_digest = next(i.value for i in visits[(WWW, 443)].items if i.type == "body-sha256")
    store = EmbeddedStore(tmp_path)
    try:
        assert VHOST_TITLES[WWW].encode() in store.bodies([body_digest])[body_digest].data
        assert store.known_addresses()[WWW] == [VHOSTS_IP]
        assert store.known_addresses()[f"outside.{ZONE}"] == [OUTSIDE_IP]
    finally:
        store.close()
    again = shoal("scan", "--names", "known", "--allow", f"{VHOSTS_IP}/32", "--no-jarm", data=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "visited 3 names (3 resolved): 4 name:address:ports tried, 4 answered" in again.stdout
    with api(tmp_path) as client:
        found = client.get("/v1/scan/domains", params={"field": f"host:{SHOP}", "most_recent": "true"})
        assert found.status_code == 200, found.text
        assert found.json()["result_count"] == 2  # shop on 80 and 443, the newest visit of each
        body = client.get("/v1/scan/protocols/body", params={"id": visits[(WWW, 443)].id, "dataset": "domains"})
        assert body.status_code == 200 and VHOST_TITLES[WWW] in body.text


@pytest.mark.daemon
def test_shoal_dns_fills_rdns(unbound: Target, tmp_path: Path) -> None:
    result = shoal("dns", VHOSTS_IP, NGINX_IP, f"{OUTSIDE_IP}/31", SHOP, "--resolver", DNS_IP, data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "looked up 4 addresses (2 with PTR names) and 1 name (1 resolved)" in result.stdout
    reports = {report.ip: report for report in stored(tmp_path, RDNS)}
    assert set(reports) == {VHOSTS_IP, NGINX_IP}
    assert triples(reports[VHOSTS_IP]) == {
        ("ip", "", VHOSTS_IP),
        ("host", "dns-ptr", WWW),
        ("host", "dns-ns", f"ns1.{ZONE}"),
        ("host", "dns-ns", f"ns2.{ZONE}"),
    }
    again = shoal("dns", VHOSTS_IP, "--resolver", DNS_IP, data=tmp_path)
    assert "stored 1 rdns, fdns and mx report and 0 new answers" in again.stdout  # a new report per lookup
    with api(tmp_path) as client:
        page = client.get("/v1/domain/rdns", params={"ip": VHOSTS_IP, "most_recent": "true"})
        assert page.status_code == 200, page.text
        assert [item["value"] for item in page.json()["results"][0]["items"] if item["context"] == "dns-ptr"] == [WWW]
        names = client.get("/v1/domain/rdns", params={"host": ZONE, "summarize": "host", "summary_context": "dns-ptr"})
        assert names.json()["summary"]["values"] == {WWW: 2, f"nginx.{ZONE}": 1}
        assert client.get("/v1/domain/rdns", params={"nameserver": f"ns2.{ZONE}", "ip": NGINX_IP}).status_code == 200


@pytest.mark.daemon
def test_shoal_dns_names_fills_fdns_and_mx(unbound: Target, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text(f"{SHOP}\n{ZONE}\nnothing.{ZONE}\n")
    result = shoal("dns", "--names", str(names), "--resolver", DNS_IP, data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "and 3 names (2 resolved): stored 3 rdns, fdns and mx reports" in result.stdout
    forward = {report.value_of("host"): triples(report) for report in stored(tmp_path, FDNS)}
    assert forward == {
        SHOP: {("host", "", SHOP), ("host", "dns-cname", WWW), ("ip", "dns-a", VHOSTS_IP)},
        ZONE: {("host", "", ZONE), ("host", "dns-ns", f"ns1.{ZONE}"), ("host", "dns-ns", f"ns2.{ZONE}")},
    }
    [mail] = stored(tmp_path, MX)
    assert triples(mail) == {
        ("host", "", ZONE),
        ("host", "dns-mx", f"mail.{ZONE}"),
        ("host", "dns-mx", f"backup-mx.{ZONE}"),
        ("dns-mx", "", f"10 mail.{ZONE}"),
        ("dns-mx", "", f"20 backup-mx.{ZONE}"),
        ("dns-txt", "spf", "v=spf1 mx -all"),  # two character-strings, joined
        ("dns-txt", "dmarc", "v=DMARC1; p=reject"),  # _dmarc.NAME's TXT is NAME's
    }


@pytest.mark.daemon
def test_scan_adds_rdns_of_the_scanned_addresses(unbound: Target, nginx: dict[str, Target], tmp_path: Path) -> None:
    result = shoal(
        "scan", NGINX_IP, "--ports", "443", "--allow", f"{NGINX_IP}/32", "--no-jarm", "--resolver", DNS_IP,
        data=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    servers = {("host", "dns-ns", f"ns1.{ZONE}"), ("host", "dns-ns", f"ns2.{ZONE}")}
    expected = {("ip", "", NGINX_IP), ("host", "dns-ptr", f"nginx.{ZONE}"), *servers}
    assert [triples(report) for report in stored(tmp_path, RDNS)] == [expected]


def test_names_with_an_empty_allow_list_are_refused_before_any_query(tmp_path: Path) -> None:
    result = shoal("scan", WWW, "--resolver", "127.0.0.1:9", data=tmp_path)
    assert result.returncode == 2 and "allow-list permits, and it is empty" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["192.0.2.1", "--resolver", "nowhere"], "IP[:PORT]"),
        (["10.0.0.0/8", "--resolver", "127.0.0.1"], "split the range"),
        (["--resolver", "127.0.0.1"], "give addresses"),
        (["bad!name", "--resolver", "127.0.0.1"], "not an IP address or CIDR"),
    ],
)
def test_bad_dns_arguments(args: list[str], message: str, tmp_path: Path) -> None:
    result = shoal("dns", *args, data=tmp_path)
    assert result.returncode == 2 and message in result.stderr
