"""most_recent is "the newest *matching* report per identity": filter first, then keep the newest of each identity.

Filters that select whole identities (none, or ``ip``) are answered from the latest index, every other from all
matches; both must give exactly what filtering then keeping the newest gives, computed here by brute force.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest

from shoal.model import Item, Report
from shoal.query.check import BUILTIN_TYPES, check
from shoal.query.parser import parse
from shoal.store.base import Filters, Store, SummaryRequest
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.latest import LatestIndex, selects_identities
from tests.generated import generated_reports

# (expression, filters, expected ids): an older report of the identity matches while its newest does not.
OLDER_MATCHES: list[tuple[str, dict[str, object], list[str]]] = [
    # 8.8.8.8:443 has r01 (day 1, "University of London") and r02 (day 2, "University London").
    ('title:"university of"*', {}, ["r01"]),
    ("geo-country=GB", {"ip": "8.8.8.0/24"}, ["r01"]),
    ("", {"ip": "8.8.8.0/24", "date_to": "2026-11-01"}, ["r01"]),  # the newest r02 is after the window
    ("", {"ip": "8.8.4.4", "indirect": True}, ["r01"]),  # a certificate's address, not the identity's
]


def filters_of(expression: str, options: dict[str, object], store: Store) -> Filters:
    fields = dict(options)
    if "ip" in fields:
        fields["ip"] = ipaddress.ip_network(str(fields["ip"]))
    if "date_to" in fields:
        fields["date_to"] = dt.date.fromisoformat(str(fields["date_to"]))
    parsed = check(parse(expression), set(BUILTIN_TYPES) | store.known_types()) if expression else None
    return Filters(expression=parsed, most_recent=True, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("expression", "options", "expected"), OLDER_MATCHES)
def test_the_newest_matching_report_not_the_newest_report(
    corpus_store: Store, expression: str, options: dict[str, object], expected: list[str]
) -> None:
    filters = filters_of(expression, options, corpus_store)
    assert [report.id for report in corpus_store.search(filters).reports] == expected
    assert [report.id for report in corpus_store.iter_matches(filters)] == expected
    assert corpus_store.search(filters).total == len(expected)


def newest_per_identity(reports: list[Report], keep: Callable[[Report], bool]) -> list[str]:
    """Brute force: filter, then the newest per (ip, port), newest first (the index's order: day, then the
    id's first six bytes)."""
    newest: dict[object, Report] = {}
    for report in reports:
        if not keep(report):
            continue
        identity = (report.ip, report.port) if report.ip and report.port is not None else report.id
        held = newest.get(identity)
        if held is None or order(report) > order(held):
            newest[identity] = report
    return [report.id for report in sorted(newest.values(), key=order, reverse=True)]


def order(report: Report) -> tuple[dt.date, bytes]:
    return report.date, report.id.encode()[:6]


@pytest.fixture(scope="module")
def generated_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[EmbeddedStore, list[Report]]:
    reports = generated_reports(3000, seed=11)
    store = EmbeddedStore(tmp_path_factory.mktemp("most-recent"))
    for start in range(0, len(reports), 700):  # several batches: identities are updated across commits
        store.ingest(reports[start : start + 700])
    return store, reports


def busiest_networks(reports: list[Report], prefix: int, count: int) -> list[ipaddress.IPv4Network]:
    seen: dict[ipaddress.IPv4Network, int] = {}
    for report in reports:
        if report.ip and ":" not in report.ip:
            network = ipaddress.ip_network(f"{report.ip}/{prefix}", strict=False)
            seen[network] = seen.get(network, 0) + 1  # type: ignore[index]
    return sorted(seen, key=lambda network: -seen[network])[:count]  # type: ignore[return-value]


def test_most_recent_over_networks_is_the_brute_force_answer(generated_store: tuple[EmbeddedStore, list]) -> None:
    store, reports = generated_store
    networks = [None, *busiest_networks(reports, 8, 3), *busiest_networks(reports, 24, 3)]
    for network in networks:
        filters = Filters(ip=network, most_recent=True)
        assert selects_identities(filters)

        def inside(report: Report, network: ipaddress.IPv4Network | None = network) -> bool:
            return network is None or (report.ip is not None and ipaddress.ip_address(report.ip) in network)

        expected = newest_per_identity(reports, inside)
        page = store.search(filters, offset=0, limit=50)
        assert page.total == len(expected)
        assert [report.id for report in page.reports] == expected[:50]
        assert [report.id for report in store.search(filters, offset=50, limit=50).reports] == expected[50:100]
        assert [report.id for report in store.iter_matches(filters)] == expected
        summary = store.summarize(filters, SummaryRequest("port-tcp", limit=1000))
        assert sum(count for _, count in summary.values) == len(expected)


def test_an_expression_takes_the_general_path_and_agrees(generated_store: tuple[EmbeddedStore, list]) -> None:
    store, reports = generated_store
    expression = check(parse("port-tcp:443"), set(BUILTIN_TYPES) | store.known_types())
    filters = Filters(expression=expression, most_recent=True)
    assert not selects_identities(filters)
    expected = newest_per_identity(
        reports, lambda report: any(i.type == "port-tcp" and i.value == "443" for i in report.items)
    )
    assert [report.id for report in store.iter_matches(filters)] == expected


def target(report_id: str, day: int, title: str) -> Report:
    items = (Item("ip", "192.0.2.7", "", True), Item("port-tcp", "80", "", True), Item("title", title))
    return Report(date=dt.date(2026, 11, day), items=items, id=report_id)


def test_a_latest_index_that_missed_a_commit_is_not_used_and_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest([target("a", 1, "one")])

    def crash(*args: object) -> None:
        raise OSError("killed between the two commits")

    with monkeypatch.context() as patch:
        patch.setattr(LatestIndex, "update", crash)
        with pytest.raises(OSError):
            store.ingest([target("b", 2, "two")])
    index = store.index("protocols")
    assert not index.latest.is_current(index.view().state.batch)
    assert [r.id for r in store.search(Filters(most_recent=True)).reports] == ["b"]  # the general path
    store.ingest([target("c", 1, "three")])
    assert index.latest.is_current(index.view().state.batch)
    assert [r.id for r in store.search(Filters(most_recent=True)).reports] == ["b"]
    store.close()
    reopened = EmbeddedStore(tmp_path)
    assert [r.id for r in reopened.search(Filters(most_recent=True)).reports] == ["b"]
    reopened.close()


def test_identities_of_each_dataset_keep_their_own_newest(empty_store: Store) -> None:
    """An older report of an identity arriving after a newer one never replaces it."""
    empty_store.ingest([target("new", 5, "later")])
    empty_store.ingest([target("old", 1, "earlier")])
    assert [r.id for r in empty_store.search(Filters(most_recent=True)).reports] == ["new"]
    network = ipaddress.ip_network("192.0.2.0/24")
    assert [r.id for r in empty_store.search(Filters(ip=network, most_recent=True)).reports] == ["new"]


def test_an_ipv6_network_holding_the_mapped_range_means_ipv6_identities_only(empty_store: Store) -> None:
    """``ip=::/0`` with most_recent: the latest index reads the range as the plan does (IPv6 addresses only)."""
    v6 = (Item("ip", "2001:db8::7", "", True), Item("port-tcp", "80", "", True))
    empty_store.ingest([target("v4", 1, "four"), Report(date=dt.date(2026, 11, 2), items=v6, id="v6")])
    everything = ipaddress.ip_network("::/0")
    assert [r.id for r in empty_store.search(Filters(ip=everything, most_recent=True)).reports] == ["v6"]
    assert [r.id for r in empty_store.search(Filters(ip=everything)).reports] == ["v6"]
