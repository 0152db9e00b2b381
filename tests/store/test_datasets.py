"""Datasets in one store: each report in its own dataset, searched on its own (its identity for most_recent:
test_identity.py); superseded reports hidden whichever order they arrive in; bodies kept beside the reports."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import replace

import pytest

from shoal.errors import StoreError
from shoal.model import BODY_SHA256, CT, DOMAINS, PROTOCOLS, RDNS, SUPERSEDES, Body, Item, Report
from shoal.store.base import Filters, PortQuery, Store, SummaryRequest


def report(report_id: str, day: int, dataset: str, *items: tuple[str, str, str]) -> Report:
    built = tuple(Item(t, v, c, t in ("ip", "port-tcp")) for t, c, v in items)
    return Report(date=dt.date(2026, 11, day), items=built, id=report_id, dataset=dataset)


def ids(store: Store, **filters: object) -> list[str]:
    return [r.id for r in store.search(Filters(**filters)).reports]  # type: ignore[arg-type]


def test_each_dataset_is_searched_on_its_own(any_store: Store) -> None:
    any_store.ingest(
        [
            report("p1", 1, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "443"), ("host", "", "a.example")),
            report("d1", 1, DOMAINS, ("host", "", "a.example"), ("ip", "", "192.0.2.1"), ("port-tcp", "", "443")),
            report("c1", 1, CT, ("host", "cert-dns-name", "a.example"), ("cert-sha256", "", "ab" * 32)),
            report("n1", 1, RDNS, ("ip", "", "192.0.2.1"), ("host", "dns-ptr", "a.example")),
        ]
    )
    for dataset, expected in ((PROTOCOLS, ["p1"]), (DOMAINS, ["d1"]), (CT, ["c1"]), (RDNS, ["n1"])):
        assert ids(any_store, dataset=dataset) == expected
        assert [r.dataset for r in any_store.search(Filters(dataset=dataset)).reports] == [dataset]
        assert any_store.count(dataset) == 1
    assert any_store.count() == 4
    assert "cert-sha256" in any_store.known_types(CT)
    assert "cert-sha256" not in any_store.known_types(PROTOCOLS)
    assert "cert-sha256" in any_store.known_types()
    summary = any_store.summarize(Filters(dataset=RDNS), SummaryRequest("host", contexts=("dns-ptr",)))
    assert summary.values == [("a.example", 1)]


def test_the_same_id_in_two_datasets_is_two_reports(any_store: Store) -> None:
    first = report("same", 1, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "80"))
    result = any_store.ingest([first, report("same", 1, RDNS, ("ip", "", "192.0.2.1"))])
    assert (result.imported, result.duplicates) == (2, 0)
    assert any_store.ingest([first]).duplicates == 1


def test_unknown_dataset_is_refused(any_store: Store) -> None:
    with pytest.raises(StoreError, match="unknown dataset"):
        any_store.ingest([report("x", 1, "nope", ("ip", "", "192.0.2.1"))])
    with pytest.raises(StoreError, match="unknown dataset"):
        any_store.search(Filters(dataset="nope"))


def test_domain_reports_are_observations_of_their_port_and_rdns_reports_are_not(any_store: Store) -> None:
    any_store.ingest(
        [
            report("d1", 1, DOMAINS, ("host", "", "a.example"), ("ip", "", "192.0.2.1"), ("port-tcp", "", "443")),
            report("n1", 1, RDNS, ("ip", "", "192.0.2.2"), ("port-tcp", "", "22")),
        ]
    )
    ports = any_store.open_ports(PortQuery(ipaddress.ip_network("192.0.2.0/24")))
    assert [(ports.host_text(h), int(p)) for h, p in zip(ports.hosts, ports.ports, strict=True)] == [("192.0.2.1", 443)]


def successor_of(predecessor: Report, report_id: str) -> Report:
    items = (*predecessor.items, Item("product-tag", "nginx", "", True), Item(SUPERSEDES, predecessor.id, "", True))
    return Report(date=predecessor.date, items=items, id=report_id, dataset=predecessor.dataset)


OLD = report("old", 1, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "80"), ("title", "", "welcome"))
NEW = successor_of(OLD, "new")


@pytest.mark.parametrize("order", ["predecessor first", "successor first", "one batch"])
def test_a_superseded_report_matches_nothing_but_its_id_and_history(any_store: Store, order: str) -> None:
    if order == "predecessor first":
        any_store.ingest([OLD])
        any_store.ingest([NEW])
    elif order == "successor first":
        any_store.ingest([NEW])
        any_store.ingest([OLD])
    else:
        any_store.ingest([OLD, NEW])
    assert ids(any_store) == ["new"]
    assert ids(any_store, expression=None, history=True) == sorted(["new", "old"], reverse=True)
    assert ids(any_store, report_id="old") == ["old"]
    assert [r.id for r in any_store.iter_matches(Filters())] == ["new"]
    assert any_store.summarize(Filters(), SummaryRequest("title")).values == [("welcome", 1)]
    assert any_store.search(Filters(most_recent=True)).total == 1
    assert any_store.count() == 2
    assert any_store.ingest([OLD, NEW]).duplicates == 2  # flagged, and still stored once


def test_bodies_are_kept_once_by_digest(any_store: Store) -> None:
    body = Body.capped(b"<html>hello</html>", "text/html")
    big = Body.capped(b"x" * 300_000)
    assert big.truncated and len(big.data) == 256 * 1024
    first = report(
        "b1", 1, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "80"), (BODY_SHA256, "http", body.sha256)
    )
    second = report(
        "b2", 2, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "80"), (BODY_SHA256, "http", body.sha256)
    )
    any_store.ingest([replace(first, bodies=(body,)), replace(second, bodies=(body, big))])
    found = any_store.bodies([body.sha256, big.sha256, "0" * 64])
    assert found == {body.sha256: body, big.sha256: big}
