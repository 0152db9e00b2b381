"""shoal.client against a real ``shoal serve`` subprocess, and against canned Driftnet-shaped answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from shoal.client import ApiError, Client, ConnectionFailed, IpPortCounts, PortCounts, ValueCounts, error_of
from shoal.errors import (
    BadParameter,
    Forbidden,
    QueryError,
    QuotaExceeded,
    ShoalError,
    TooManyRequests,
    Unauthorized,
)
from shoal.model import Report
from tests.web.server import PAGING_REPORTS, Served, free_port, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("client")) as running:
        yield running


@pytest.fixture
def client(served: Served) -> Iterator[Client]:
    with Client(served.base, served.token) as connected:
        yield connected


def test_search_returns_reports(client: Client) -> None:
    page = client.search("protocol=ssh")
    assert (page.page, page.pages, page.result_count) == (0, 1, 2)
    assert all(isinstance(report, Report) for report in page.results)
    assert [report.id for report in page.results] == ["r05", "r04"]
    assert page.results[0].ip == "10.1.2.4" and page.results[0].port == 2222


def test_search_options_reach_the_server(client: Client) -> None:
    found = client.search(ip="8.8.8.0/24", date_from=dt.date(2026, 11, 2), date_to="2026-11-03")
    assert [report.id for report in found.results] == ["r03", "r02"]
    assert [r.id for r in client.search("title:university", filters=["geo-country=US", "geo-country=GB"]).results] == [
        "r02",
        "r01",
    ]
    assert client.search('title:"university london"', slop=1).result_count == 2
    assert client.search(ip="8.8.4.4", indirect=True).result_count == 1
    assert client.search(ip="8.8.8.8", most_recent=True).result_count == 2


def test_free_text_first_and_expression_strict(client: Client) -> None:
    """The first argument is what a person types (the API's query=); expression= keeps the strict syntax."""
    assert [report.id for report in client.search("pratchett").results] == ["r01"]  # a word of a header value
    assert client.search("university london", ip="8.8.8.8").result_count == 2
    assert client.search(expression='title:"university london"', slop=1).result_count == 2
    with pytest.raises(QueryError):
        client.search(expression="university")


def test_count_is_services_and_hosts_unless_history(client: Client, served: Served) -> None:
    """8.8.8.8 has two reports on 443 and one on 53: two services on one host, three dated reports. A normal
    token gets the hosts too (the API's host_count, a Shoal extension)."""
    counted = client.count(ip="8.8.8.8")
    assert (int(counted), counted.unit, counted.hosts) == (2, "service", 1)
    assert counted.text() == "1 host · 2 services"
    assert client.count("ip:8.8.8.8", history=True).body() == {"hosts": 1, "reports": 3}
    assert client.count("title:zzzz").text() == "0 hosts · 0 services"
    assert client.count("port-tcp:443", history=True).text() == "3 hosts · 4 reports"
    assert client.count(dataset="ct").hosts is None  # certificates are not about addresses
    page = client.search("protocol=ssh", host_count=True)
    assert (page.host_count, page.result_count) == (2, 2) and client.search("protocol=ssh").host_count is None
    assert page.body()["host_count"] == 2


def test_host_leads_with_what_shodan_shows(client: Client) -> None:
    host = client.host("8.8.8.8")
    assert (host.country, host.ports, host.tags) == ("US", ["53", "443"], ["nginx"])
    assert (host.first_seen, host.last_seen) == (dt.date(2026, 11, 1), dt.date(2026, 11, 3))
    assert [report.id for report in host.services] == ["r03", "r02"]  # the newest report of each port
    assert list(host.body())[:3] == ["ip", "country", "organisation"]
    newest = host.services[1]
    assert (newest.ip, newest.port, newest.country, newest.title) == ("8.8.8.8", 443, "US", newest.first_of("title"))


def test_a_client_with_no_arguments_reads_the_environment_or_the_login(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOAL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.delenv("SHOAL_URL", raising=False)
    monkeypatch.delenv("SHOAL_TOKEN", raising=False)
    with pytest.raises(ShoalError, match="no server"):
        Client()
    (tmp_path / "config.toml").write_text(f'server = "{served.base}"\ntoken = "{served.token}"\n')
    with Client() as saved:  # what 'shoal login' saved
        assert saved.base_url == served.base and saved.user()["name"] == "web"
    monkeypatch.setenv("SHOAL_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SHOAL_TOKEN", "from-the-environment")
    with Client() as environment:  # $SHOAL_URL and $SHOAL_TOKEN come first
        assert environment.base_url == "http://127.0.0.1:9"
        assert environment._http.headers["authorization"] == "Bearer from-the-environment"


def test_no_results_is_empty_not_an_error(client: Client) -> None:
    page = client.search("title:zzzz")
    assert (page.result_count, page.pages, page.results) == (0, 0, [])
    assert list(client.iter_search("title:zzzz")) == []
    assert client.summarize("port-tcp", "title:zzzz") == ValueCounts({}, 0)
    assert client.ports("203.0.113.0/24", "2026-11-01") == PortCounts({}, 0)
    assert list(client.export("title:zzzz")) == []


def test_iter_search_walks_every_page(client: Client) -> None:
    ids = [report.id for report in client.iter_search("title:paging")]
    assert len(ids) == PAGING_REPORTS and len(set(ids)) == PAGING_REPORTS
    assert ids[0] == "p139"


def test_summaries(client: Client, served: Served) -> None:
    summary = client.summarize("port-tcp", "title:paging", limit=2)
    assert summary == ValueCounts({"8080": 50, "8081": 50}, 50, None)
    assert list(summary.values) == ["8080", "8081"]  # highest counts first
    with pytest.raises(Forbidden):
        client.summarize("port-tcp", cardinality=True)
    with Client(served.base, served.enterprise_token) as enterprise:
        assert enterprise.summarize("geo-country", "product-tag:nginx", cardinality=True) == ValueCounts(
            {"GB": 1, "US": 1}, 0, 2
        )
    servers = client.summarize("http-header", contexts=["Server"], limit=3)
    assert servers == ValueCounts({"NimPlant C2 Server": 1, "cloudflare": 1, "nginx/1.18.0": 1}, 2)
    assert "vsftpd" not in client.summarize("http-header", excluded_contexts=["Server", "X-Backend"]).values


def test_open_ports(client: Client) -> None:
    ports = client.ports("8.8.8.8", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert ports == PortCounts({443: 2, 53: 1}, 0, False)
    grid = client.ipports("10.9.0.0/24", "2026-11-01")
    assert grid == IpPortCounts(
        {
            "10.9.0.1": PortCounts({502: 1}, 0),
            "10.9.0.2": PortCounts({37777: 1}, 0),
            "10.9.0.3": PortCounts({37777: 1}, 0),
            "10.9.0.4": PortCounts({8000: 1}, 0),
        },
        0,
    )


def test_export_streams_every_match(client: Client) -> None:
    reports = list(client.export("title:paging"))
    assert len(reports) == PAGING_REPORTS
    assert reports == list(client.iter_search("title:paging"))
    csv = b"".join(client.export_bytes("protocol=ssh", export_format="csv")).decode().splitlines()
    assert csv[0].startswith("date,id,ip,port,protocol")
    assert [line.split(",")[1] for line in csv[1:]] == ["r05", "r04"]


def test_user(client: Client) -> None:
    user = client.user()
    assert user["name"] == "web" and user["quota"]["api_usage"] >= 1


def test_errors_are_the_servers_exceptions(client: Client, served: Served) -> None:
    with pytest.raises(QueryError) as syntax:
        client.search("title:london and (port-tcp:80")  # free text, sent as query=
    assert (syntax.value.start, syntax.value.end, syntax.value.parameter) == (17, 18, "query")
    assert syntax.value.hint == "add the missing ')'"
    with pytest.raises(QueryError) as strict:
        client.count(expression="nginx")  # the strict syntax wants type:value
    assert strict.value.parameter == "expression"
    with pytest.raises(BadParameter) as bad:
        client.search(ip="not-an-ip")
    assert bad.value.parameter == "ip"
    with pytest.raises(BadParameter) as bad_export:
        list(client.export(slop=99))
    assert bad_export.value.parameter == "slop"
    with Client(served.base, "wrong") as stranger, pytest.raises(Unauthorized):
        stranger.search("title:london")
    with pytest.raises(TypeError):
        client.search(colour="blue")  # type: ignore[call-arg]


def test_no_server_is_connection_failed() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", "token", timeout=2) as nowhere, pytest.raises(ConnectionFailed):
        nowhere.search("title:london")


# -- canned answers: what Driftnet (or a proxy in front of it) may send ------------------------------------------


def canned(answer: httpx.Response, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    return httpx.MockTransport(handle)


def test_driftnet_paths_and_parameters() -> None:
    seen: list[httpx.Request] = []
    body = {
        "page": 1,
        "pages": 22,
        "result_count": 2174,
        "results": [{"date": "2019-05-13", "id": "hJgz", "items": []}],
    }
    body["results"][0]["items"] = [{"context": "", "is_metadata": True, "type": "ip", "value": "8.8.8.8"}]
    transport = canned(httpx.Response(200, content=orjson.dumps(body)), seen)
    with Client("https://api.driftnet.io/", "secret", transport=transport) as driftnet:
        page = driftnet.search(
            expression="ip;:8.8.8.8", page=1, most_recent=True, filters=["port-tcp:443", "port-tcp:80"]
        )
    assert page.result_count == 2174 and page.results[0].ip == "8.8.8.8"
    with Client("https://api.driftnet.io/", "secret", transport=transport) as driftnet:
        counted = driftnet.count("port-tcp:443")  # Driftnet has no host_count: the services alone
    assert (int(counted), counted.hosts, counted.text()) == (2174, None, "2,174 services")
    request = seen[0]
    assert request.url.path == "/v1/scan/protocols"
    assert request.headers["authorization"] == "Bearer secret"
    assert sorted(request.url.params.multi_items()) == [  # the order of parameters means nothing to a server
        ("expression", "ip;:8.8.8.8"),
        ("filter", "port-tcp:443"),
        ("filter", "port-tcp:80"),
        ("most_recent", "true"),
        ("page", "1"),
    ]


def test_prioritize() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(200, json={"ip": "8.8.8.8", "port": 443, "status": "queued"})
    with Client("http://shoal", "t", transport=canned(answer, seen)) as client:
        assert client.prioritize("8.8.8.8", 443)["status"] == "queued"
    assert str(seen[0].url) == "http://shoal/v1/scan/protocols/prioritize?ip=8.8.8.8&port=443"


@pytest.mark.parametrize(
    ("answer", "kind", "status"),
    [
        (httpx.Response(404, text="Not Found"), ApiError, 404),
        (httpx.Response(502, text="<html>bad gateway</html>"), ApiError, 502),
        (httpx.Response(401, json={"detail": "Invalid token"}), Unauthorized, 401),
        (httpx.Response(400, json={"message": "bad"}), BadParameter, 400),
        (httpx.Response(429, headers={"Retry-After": "7"}, text="slow down"), TooManyRequests, 429),
    ],
)
def test_other_error_bodies(answer: httpx.Response, kind: type[Exception], status: int) -> None:
    error = error_of(answer)
    assert type(error) is kind
    assert getattr(error, "status", None) == status


def test_quota_errors_keep_their_fields() -> None:
    body = {
        "error": "used up",
        "code": "quota_exceeded",
        "detail": [
            {"message": "used up", "quota": "api_limit", "limit": 10, "usage": 10, "cost": 1, "next_reset": "x"}
        ],
    }
    error = error_of(httpx.Response(429, headers={"Retry-After": "60"}, json=body))
    assert isinstance(error, QuotaExceeded)
    assert (error.quota, error.limit, error.usage, error.retry_after) == ("api", 10, 10, 60)
