"""shoal.client speaks every dataset endpoint, against a real ``shoal serve`` holding all four datasets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoal.client import Client
from shoal.model import CT, DOMAINS, PROTOCOLS, RDNS
from tests.corpus import BINARY, DATASET_CORPUS, WELCOME
from tests.web.server import Served, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("client-datasets"), DATASET_CORPUS) as running:
        yield running


@pytest.fixture
def client(served: Served) -> Iterator[Client]:
    with Client(served.base, served.enterprise_token) as connected:
        yield connected


def ids(reports: object) -> list[str]:
    return [report.id for report in reports]  # type: ignore[attr-defined]


def test_search_every_dataset(client: Client) -> None:
    assert ids(client.search("host:www.example.org", dataset=DOMAINS).results) == ["d02", "d01"]
    assert ids(client.search("host:www.example.org", dataset=DOMAINS, most_recent=True).results) == ["d02"]
    found = client.search("", dataset=CT, ip="192.0.2.10", indirect=True)
    assert ids(found.results) == ["c02"] and found.results[0].dataset == CT
    assert ids(client.search(dataset=RDNS, ip="192.0.2.10").results) == ["n03", "n01"]
    assert ids(client.search(dataset=RDNS, host="example.org").results) == ["n03", "n02", "n01"]
    assert ids(client.search(dataset=RDNS, nameserver="example.net").results) == ["n02"]
    assert client.search(dataset=RDNS, host="nothing.example").result_count == 0
    assert ids(client.search(query="jira").results) == ["p04"]
    assert ids(client.search(report_id="p02").results) == ["p02"]  # superseded, found by id
    assert all(report.dataset == PROTOCOLS for report in client.iter_search("host:example.org"))


def test_selectors_of_rdns_are_never_sent_elsewhere(client: Client) -> None:
    with pytest.raises(TypeError, match="rdns, fdns and mx datasets only"):
        client.search(dataset=DOMAINS, host="example.org")
    with pytest.raises(ValueError, match="unknown dataset"):
        client.search(dataset="whois")


def test_summaries_of_every_dataset(client: Client) -> None:
    names = client.summarize("host", "host:example.org", dataset=CT, contexts=["cert-dns-name"], limit=10_000)
    assert names.values == {"dev.example.org": 2, "www.example.org": 2, "*.example.org": 1}
    ptr = client.summarize("host", dataset=RDNS, host="example.org", contexts=["dns-ptr"], cardinality=True)
    assert ptr.values == {"shop.example.org": 1, "web1-new.example.org": 1, "web1.example.org": 1}
    assert ptr.cardinality == 3


def test_multi_summary(client: Client) -> None:
    multi = client.multi_summary("host:example.org", limit=10)
    assert multi.counts("port-tcp", DOMAINS).values == {"443": 2, "80": 1}
    assert multi.counts("port-tcp", PROTOCOLS).values == {"443": 1}
    assert multi.counts("product-tag", DOMAINS).values == {"nginx": 1}  # an enrichment
    assert "product-tag" in multi.enrichments and "subject;cert" in multi.observations
    assert multi.counts("no-such-type", DOMAINS).values == {}
    nothing = client.multi_summary("title:zzzz")
    assert (nothing.observations, nothing.enrichments) == ({}, {})


def test_bodies(client: Client) -> None:
    page = client.bodies("protocol=https")
    assert page.result_count == 1 and page.results[0].id == "p01" and page.results[0].port == 443
    body = page.results[0].bodies[0]
    assert (body.data, body.sha256, body.content_type) == (WELCOME.data, WELCOME.sha256, WELCOME.content_type)
    binary = client.bodies(report_id="p03").results[0].bodies[0]
    assert binary.data == BINARY.data and binary.length == len(BINARY.data)
    assert client.bodies("title:zzzz").results == []
