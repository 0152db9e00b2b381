"""``ip/summary``, ``ip/reverse``, ``admin/user`` and the client-friendly limits against a real ``shoal serve`` whose
registration data came in through ``shoal import`` (an RPSL dump, delegation statistics, an MRT RIB dump, rdns
reports): statuses, shapes and values."""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator

import httpx
import orjson
import pytest

from shoal.client import Client
from shoal.errors import BadParameter
from shoal.tokens import TokenStore
from tests.api.serving import Running, running_server
from tests.cli.test_end_to_end import shoal
from tests.registration import dumps

QUERY_TIMEOUT = "5"
PTR = "host-7.dsl.example.co.uk"
RDNS_REPORT = {
    "date": "2026-03-01",
    "items": [
        {"type": "ip", "value": "198.51.100.7", "context": ""},
        {"type": "host", "value": PTR, "context": "dns-ptr"},
    ],
}
BROKEN_ORGANISATION = "organisation: ORG-BAD-TEST\nsource: TEST\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, str]]:
    data = tmp_path_factory.mktemp("registration")
    whois = dumps.rpsl(dumps.ORGANISATION, dumps.INETNUM, dumps.INET6NUM, dumps.AUTNUM, BROKEN_ORGANISATION)
    (data / "test.db.gz").write_bytes(gzip.compress(whois))
    (data / "delegated-testnic-extended-latest").write_bytes(dumps.delegated())
    (data / "rib.20260305.0800.bz2").write_bytes(bz2.compress(dumps.rib_dump()))
    (data / "rdns.jsonl").write_bytes(orjson.dumps(RDNS_REPORT) + b"\n")
    files = ["test.db.gz", "delegated-testnic-extended-latest", "rib.20260305.0800.bz2", "rdns.jsonl"]
    result = shoal("import", "--dataset", "rdns", *(str(data / name) for name in files), data=data)  # one call
    assert result.returncode == 0, result.stderr
    assert "imported 12, duplicate 0, rejected 1" in result.stdout  # 4 objects, 3 delegations, 4 prefixes, 1 report
    lines = whois.decode().splitlines()
    assert f"test.db.gz:{lines.index('organisation: ORG-BAD-TEST') + 1}: organisation 'ORG-BAD-TEST'" in result.stderr
    secret = TokenStore(data).create("alice")
    with running_server(data, "--query-timeout", QUERY_TIMEOUT) as running:
        yield running, secret


@pytest.fixture
def client(server: tuple[Running, str]) -> Iterator[httpx.Client]:
    running, secret = server
    with httpx.Client(base_url=running.base, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as opened:
        yield opened


def summary(client: httpx.Client, ip: str, restrict: str | None = None) -> httpx.Response:
    return client.get("/v1/ip/summary", params={"ip": ip} | ({"restrict": restrict} if restrict else {}))


WHOIS_DOMAIN = {"apex_domain": "example.nl", "cidr": "198.51.100.0/24", "context": "net"}
WHOIS_ENTITY = {"cidr": "198.51.100.0/24", "context": "net", "name": "Example Networks B.V."}
RDNS_DOMAIN = {"apex_domain": "example.co.uk", "cidr": "198.51.100.7/32", "context": "rdns"}
BGP_ENTITY = {"cidr": "198.51.100.0/24", "context": "bgpasn", "name": "Example Networks B.V."}


@pytest.mark.parametrize(
    ("restrict", "expected"),
    [
        (None, {"domain": RDNS_DOMAIN, "entity": BGP_ENTITY}),  # Driftnet's defaults: rdns, else whois; bgp, else whois
        ("whois", {"domain": WHOIS_DOMAIN, "entity": WHOIS_ENTITY}),
        ("bgp", {"entity": BGP_ENTITY}),
        ("rdns", {"domain": RDNS_DOMAIN}),
    ],
)
def test_ip_summary_with_each_restrict(client: httpx.Client, restrict: str | None, expected: dict) -> None:
    response = summary(client, "198.51.100.7", restrict)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == expected


def test_ip_summary_falls_back_to_whois_and_answers_ipv6(client: httpx.Client) -> None:
    assert summary(client, "2001:db8:100::5").json() == {
        "domain": {"apex_domain": "example.com", "cidr": "2001:db8:100::/48", "context": "net"},  # its abuse-mailbox
        "entity": {"cidr": "2001:db8:100::/40", "context": "bgpasn", "name": "Example Networks B.V."},
    }
    delegated = summary(client, "192.0.2.10", "whois").json()  # a delegation: named by its holder's AS
    assert delegated == {"entity": {"cidr": "192.0.2.0/24", "context": "net", "name": "Example Networks B.V."}}


def test_ip_summary_without_imports_uses_the_bundled_asn_table(client: httpx.Client) -> None:
    assert summary(client, "8.8.8.8").json() == {
        "entity": {"cidr": "8.8.8.0/24", "context": "bgpasn", "name": "Google LLC"}
    }


@pytest.mark.parametrize(
    ("ip", "restrict"), [("198.51.100.7", "rwhois"), ("100.100.100.100", None), ("8.8.8.8", "whois")]
)
def test_ip_summary_is_204_when_nothing_is_known(client: httpx.Client, ip: str, restrict: str | None) -> None:
    response = summary(client, ip, restrict)
    assert (response.status_code, response.content) == (204, b"")


@pytest.mark.parametrize(
    ("params", "parameter", "said"),
    [
        ({"ip": "198.51.100.0/24"}, "ip", "not a CIDR"),
        ({"ip": "198.51.100.7/32"}, "ip", "not a CIDR"),
        ({"ip": "example.com"}, "ip", "must be an IP address"),
        ({}, "ip", "'ip' is required"),
        ({"ip": "198.51.100.7", "restrict": "geo"}, "restrict", "must be one of whois, bgp, rwhois, rdns"),
        ({"ip": "198.51.100.7", "restrict": ["bgp", "rdns"]}, "restrict", "only once"),
    ],
)
def test_ip_summary_bad_input_is_400_naming_the_parameter(
    client: httpx.Client, params: dict, parameter: str, said: str
) -> None:
    response = client.get("/v1/ip/summary", params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"][0]["parameter"] == parameter and said in body["error"]


def test_ip_reverse_finds_networks_by_every_word_of_their_names(client: httpx.Client) -> None:
    response = client.get("/v1/ip/reverse", params={"phrase": "EXAMPLE networks!"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["page"], body["pages"], body["result_count"]) == (0, 1, 1)
    assert body["results"] == [
        {
            "cidr": "198.51.100.0/24",
            "contexts": ["net"],
            "matches": ["Example Networks hosting", "EXAMPLE-NET", "Example Networks B.V."],
        }
    ]
    six = client.get("/v1/ip/reverse", params={"phrase": "six hosting"}).json()
    assert [(found["cidr"], found["contexts"]) for found in six["results"]] == [("2001:db8:100::/48", ["net"])]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"phrase": "example networks", "page": "1"}, 204), ({"phrase": "no such words"}, 204), ({"phrase": "!!"}, 204)],
)
def test_ip_reverse_is_204_past_the_results(client: httpx.Client, params: dict, status: int) -> None:
    assert client.get("/v1/ip/reverse", params=params).status_code == status


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({}, "phrase"), ({"phrase": "x", "page": "100"}, "page"), ({"phrase": "a," * 17}, "phrase")],
)
def test_ip_reverse_bad_input_is_400(client: httpx.Client, params: dict, parameter: str) -> None:
    response = client.get("/v1/ip/reverse", params=params)
    assert response.status_code == 400 and response.json()["detail"][0]["parameter"] == parameter


def test_admin_user_carries_driftnets_fields(client: httpx.Client) -> None:
    client.get("/v1/ip/summary", params={"ip": "8.8.8.8"})
    body = client.get("/v1/admin/user").json()
    assert (body["user_class"], body["token"], body["paid"], body["additional_quota"]) == ("normal", "alice", False, 0)
    assert body["quota"]["lifetime_usage"] >= 1 and body["quota"]["reset"] == body["quota"]["next_reset"]


def test_a_timeout_above_the_servers_limit_is_lowered_not_refused(client: httpx.Client) -> None:
    response = client.get("/v1/ip/summary", params={"ip": "8.8.8.8", "timeout": "30"})
    assert response.status_code == 200, response.text


def test_an_unknown_path_is_404_listing_the_endpoints(client: httpx.Client) -> None:
    response = client.get("/v1/ip/summaries", params={"ip": "8.8.8.8"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_endpoint"
    assert {"/v1/ip/summary", "/v1/ip/reverse", "/v1/scan/protocols", "/v1/admin/user"} <= set(body["endpoints"])


def test_the_python_client_has_a_method_per_endpoint(server: tuple[Running, str]) -> None:
    running, secret = server
    with Client(running.base, secret) as client:
        assert client.ip_summary("198.51.100.7", restrict="bgp") == {"entity": BGP_ENTITY}
        assert client.ip_summary("198.51.100.7", restrict="rwhois") == {}  # 204: nothing known
        found = client.ip_reverse("example networks")
        assert (found.result_count, found.results[0].cidr, found.results[0].contexts) == (1, "198.51.100.0/24", ["net"])
        assert client.ip_reverse("no such words").results == []
        with pytest.raises(BadParameter) as refused:
            client.ip_summary("198.51.100.0/24")
        assert refused.value.parameter == "ip"
        assert client.user()["user_class"] == "normal"
