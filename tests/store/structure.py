"""What every engine must be, whatever it does with expressions: the conformance suite's structural checks.

A store of any engine, opened empty, goes through them in turn (``check_structure``): it is a ``Store`` whose
reading methods carry the boundary for its failures; it holds each report in its dataset and gives it back as
stored, newest first, page after page; it counts, summarises and renders as the API needs; it keeps the newest
report of each identity the table of datasets names (UDP services included); it hides superseded reports; it keeps
bodies, open-port observations and forward DNS answers. The expression semantics are the conformance cases'
(``test_conformance.py``), run on the engines the suite knows.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from shoal.errors import StoreError
from shoal.model import (
    BODY_SHA256,
    DATASET_TABLE,
    PROTOCOLS,
    RDNS,
    SUPERSEDES,
    Body,
    DnsAnswer,
    Item,
    PortObservation,
    Report,
    report_dict,
)
from shoal.store.base import READS, Filters, IngestResult, OpenPorts, Page, PortQuery, Store, Summary, SummaryRequest

CASES = Path(__file__).parent / "cases"
DAY = dt.date(2026, 11, 1)


def report(report_id: str, day: int, dataset: str, *items: tuple[str, str, str]) -> Report:
    built = tuple(Item(t, v, c, t in ("ip", "port-tcp", "port-udp", SUPERSEDES, BODY_SHA256)) for t, c, v in items)
    return Report(DAY + dt.timedelta(days=day), built, report_id, dataset)


SERVICES = [
    report("a1", 0, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "80"), ("title", "", "one")),
    report("a2", 1, PROTOCOLS, ("ip", "", "192.0.2.1"), ("port-tcp", "", "80"), ("title", "", "two")),
    report("a3", 1, PROTOCOLS, ("ip", "", "192.0.2.2"), ("port-tcp", "", "443"), ("title", "", "two")),
    report("a4", 2, PROTOCOLS, ("ip", "", "2001:db8::1"), ("port-udp", "", "53"), ("title", "", "three")),
    report("a5", 2, PROTOCOLS, ("ip", "", "2001:db8::1"), ("port-tcp", "", "53"), ("title", "", "three")),
]
LOOKUP = report("n1", 0, RDNS, ("ip", "", "192.0.2.1"), ("host", "dns-ptr", "one.example"))


def check_structure(store: Store) -> None:
    for check in (
        its_reads_carry_the_boundary,
        empty,
        ingested_once,
        kept_by_dataset,
        given_back_as_stored,
        paged,
        summarised,
        newest_by_identity,
        superseded_hidden,
        kept_beside,
    ):
        check(store)


def its_reads_carry_the_boundary(store: Store) -> None:
    assert isinstance(store, Store)
    for name in READS:
        method = getattr(type(store), name)
        assert hasattr(method, "__wrapped__") or method is getattr(Store, name), f"{name} is not translated"


def empty(store: Store) -> None:
    assert store.count() == 0 and all(store.count(dataset) == 0 for dataset in DATASET_TABLE)
    assert store.known_types() == frozenset()
    assert store.search(Filters()) == Page(0, [])
    assert store.search_rendered(Filters()) == (0, [])
    assert list(store.iter_matches(Filters())) == []
    assert store.summarize(Filters(), SummaryRequest("title")) == Summary([], 0, 0)


def ingested_once(store: Store) -> None:
    result = store.ingest([*SERVICES, LOOKUP])
    assert isinstance(result, IngestResult)
    assert (result.imported, result.duplicates) == (6, 0) and sorted(result.imported_ids) == [
        "a1",
        "a2",
        "a3",
        "a4",
        "a5",
        "n1",
    ]
    again = store.ingest([SERVICES[0], replace(SERVICES[0], dataset=RDNS)])  # the same id in another dataset: new
    assert (again.imported, again.duplicates) == (1, 1)
    store.refresh()
    assert store.count() == 7 and store.count(PROTOCOLS) == 5 and store.count(RDNS) == 2


def kept_by_dataset(store: Store) -> None:
    assert {report.dataset for report in store.search(Filters(dataset=RDNS)).reports} == {RDNS}
    assert "port-udp" in store.known_types(PROTOCOLS) and "port-udp" not in store.known_types(RDNS)
    assert "dns-ptr" not in store.known_types() and "host" in store.known_types()
    with pytest.raises(StoreError, match="unknown dataset"):
        store.search(Filters(dataset="nope"))
    with pytest.raises(StoreError, match="unknown dataset"):
        store.ingest([replace(LOOKUP, id="x", dataset="nope")])


def given_back_as_stored(store: Store) -> None:
    page = store.search(Filters())
    assert [report.id for report in page.reports] == ["a5", "a4", "a3", "a2", "a1"]  # newest first, then id
    assert page.reports == sorted(SERVICES, key=lambda r: (r.date, r.id), reverse=True)
    total, rendered = store.search_rendered(Filters())
    assert total == 5 and [orjson.loads(raw) for raw in rendered] == [report_dict(r) for r in page.reports]
    assert list(store.iter_matches(Filters())) == page.reports
    assert [r.id for r in store.search(Filters(ip=ipaddress.ip_network("192.0.2.0/24"))).reports] == ["a3", "a2", "a1"]
    assert [r.id for r in store.search(Filters(date_from=DAY, date_to=DAY)).reports] == ["a1"]
    assert [r.id for r in store.search(Filters(report_id="a2")).reports] == ["a2"]


def paged(store: Store) -> None:
    everything = [report.id for report in store.search(Filters()).reports]
    pages = [store.search(Filters(), offset=offset, limit=2) for offset in range(0, 6, 2)]
    assert [report.id for page in pages for report in page.reports] == everything
    assert {page.total for page in pages} == {5}


def summarised(store: Store) -> None:
    summary = store.summarize(Filters(), SummaryRequest("title", limit=2))
    assert summary == Summary([("three", 2), ("two", 2)], 1, 3)  # by count, ties by value; the rest in other
    assert store.summarize(Filters(dataset=RDNS), SummaryRequest("host", ("dns-ptr",))).values == [("one.example", 1)]


def newest_by_identity(store: Store) -> None:
    """The identity is the dataset's row's: a UDP service is not the TCP one of the same number."""
    newest = Filters(most_recent=True)
    assert [report.id for report in store.search(newest).reports] == ["a5", "a4", "a3", "a2"]
    assert store.summarize(newest, SummaryRequest("title")).values == [("three", 2), ("two", 2)]
    for line in (CASES / "identities.jsonl").read_text().splitlines():
        case = json.loads(line)
        if case["dataset"] == RDNS:
            continue  # the store holds rdns reports already
        store.ingest(
            report(f"i{report_id}", day, case["dataset"], *((t, c, v) for t, c, v in items))
            for report_id, day, items in case["reports"]
        )
        kept = store.search(Filters(dataset=case["dataset"], most_recent=True)).reports
        assert [r.id for r in kept if r.id.startswith("i")] == [f"i{i}" for i in case["newest"]], case["why"]


def superseded_hidden(store: Store) -> None:
    successor = report(
        "a6", 1, PROTOCOLS, *((i.type, i.context, i.value) for i in SERVICES[2].items), (SUPERSEDES, "", "a3")
    )
    store.ingest([successor])
    ids = [report.id for report in store.search(Filters(ip=ipaddress.ip_network("192.0.2.2"))).reports]
    assert ids == ["a6"]
    history = store.search(Filters(ip=ipaddress.ip_network("192.0.2.2"), history=True)).reports
    assert [report.id for report in history] == ["a6", "a3"]
    assert [report.id for report in store.search(Filters(report_id="a3")).reports] == ["a3"]


def kept_beside(store: Store) -> None:
    body = Body.capped(b"<html>hello</html>", "text/html")
    with_body = report(
        "b1", 3, PROTOCOLS, ("ip", "", "192.0.2.9"), ("port-tcp", "", "80"), (BODY_SHA256, "http", body.sha256)
    )
    store.ingest([replace(with_body, bodies=(body,))])
    assert store.bodies([body.sha256, "0" * 64]) == {body.sha256: body}
    store.ingest_observations([PortObservation("192.0.2.9", 22, DAY)])
    found = store.open_ports(PortQuery(ipaddress.ip_network("192.0.2.9")))
    assert isinstance(found, OpenPorts)
    assert sorted((int(port), int(count)) for port, count in zip(found.ports, found.counts, strict=True)) == [
        (22, 1),
        (80, 1),
    ]
    store.ingest_answers([DnsAnswer("www.example.org", "A", "192.0.2.9", DAY)])
    assert store.known_addresses() == {"www.example.org": ["192.0.2.9"]}
