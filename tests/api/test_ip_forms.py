"""Bad and surprising IP forms (issue 14, item 9): a zone id is a 400 on every endpoint, ``ip=::/0`` matches IPv6
reports only, and an IPv4-mapped address is the IPv4 address. (The same in expressions, on every engine:
tests/store/cases/search.txt.)"""

from __future__ import annotations

import ipaddress

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error
from tests.corpus import CORPUS

ENDPOINTS = [
    ("get", "/v1/scan/protocols"),
    ("get", "/v1/scan/protocols/export"),
    ("post", "/v1/scan/protocols/export/link"),
    ("get", "/v1/scan/ports"),
    ("get", "/v1/scan/ipports"),
    ("get", "/v1/scan/protocols/prioritize"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("value", ["fe80::1%eth0", "fe80::1%25eth0", "fe80::%1/64", "::ffff:8.8.8.8%lo"])
def test_a_zone_id_is_a_400_naming_ip(client: TestClient, method: str, path: str, value: str) -> None:
    response = client.request(method, path, params={"ip": value, "port": "80"})
    assert "zone id" in assert_error(response, 400, "ip")["error"]


def v6_reports() -> set[str]:
    return {r.id for r in CORPUS if r.ip and ipaddress.ip_address(r.ip).version == 6}


def test_the_whole_ipv6_space_holds_ipv6_reports_only(client: TestClient) -> None:
    assert v6_reports()  # the corpus has some, and many more IPv4 ones
    found = {result["id"] for result in client.get("/v1/scan/protocols", params={"ip": "::/0"}).json()["results"]}
    assert found == v6_reports()
    summary = client.get("/v1/scan/protocols", params={"ip": "::/0", "summarize": "port-tcp"}).json()["summary"]
    assert sum(summary["values"].values()) + summary["other"] == len(v6_reports())
    export = client.get("/v1/scan/protocols/export", params={"ip": "::/1"})
    assert int(export.headers["x-result-count"]) == len(v6_reports())


def test_an_ipv4_mapped_address_is_the_ipv4_address(client: TestClient) -> None:
    plain = client.get("/v1/scan/protocols", params={"ip": "8.8.8.8"}).json()
    assert client.get("/v1/scan/protocols", params={"ip": "::ffff:8.8.8.8"}).json() == plain
    assert (
        client.get("/v1/scan/protocols", params={"ip": "::ffff:808:800/120"}).json()
        == client.get("/v1/scan/protocols", params={"ip": "8.8.8.0/24"}).json()
    )


@pytest.mark.parametrize("value", ["a<b", "<a>", "a>b.com", "x\\<y"])
def test_angle_brackets_in_host_values_are_literal_not_regex_word_boundaries(client: TestClient, value: str) -> None:
    """Found by the fuzzers: tantivy's regex reads an escaped ``<``/``>`` as a word boundary (a 500)."""
    assert client.get("/v1/domain/rdns", params={"host": value}).status_code in (200, 204, 400)
