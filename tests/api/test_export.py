"""GET /v1/scan/protocols/export: every match (past 10,000), streamed as NDJSON or CSV; one-use download links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.model import Item, Report
from shoal.request.export import CHUNK_BYTES, csv_row, encode, export_filename
from shoal.tokens import TokenStore
from tests.api.conftest import assert_error
from tests.corpus import CORPUS
from tests.engines import ENGINE_NAMES, drop, open_engine

URL = "/v1/scan/protocols/export"
BIG = 10_050  # more than the 10,000 results scan/protocols can page through


@contextmanager
def without_token(client: TestClient) -> Iterator[TestClient]:
    """The same client, sending no Authorization header (as a browser following a download link)."""
    secret = client.headers.pop("Authorization")
    try:
        yield client
    finally:
        client.headers["Authorization"] = secret


def dated(name: str) -> set[str]:
    """The Content-Disposition of a download named ``name`` with today's date (UTC; either side of midnight)."""
    days = {dt.datetime.now(dt.UTC).date() + dt.timedelta(days=n) for n in (-1, 0)}
    return {f'attachment; filename="{name.format(day.isoformat())}"' for day in days}


@pytest.mark.parametrize(
    ("dataset", "search", "name"),
    [
        ("protocols", "", "shoal-protocols-all-2026-12-06.ndjson"),
        ("protocols", "product-tag:nginx", "shoal-protocols-product-tag-nginx-2026-12-06.ndjson"),
        ("rdns", 'host:"Example.ORG" 10.0.0.0/8', "shoal-rdns-host-example.org-10.0.0.0-8-2026-12-06.ndjson"),
        ("ct", '"/../etc/passwd" ; \r\n', "shoal-ct-etc-passwd-2026-12-06.ndjson"),
        ("protocols", "ü" * 5, "shoal-protocols-all-2026-12-06.ndjson"),
        ("protocols", "a" * 100, f"shoal-protocols-{'a' * 40}-2026-12-06.ndjson"),
    ],
)
def test_an_export_is_named_after_its_dataset_search_and_day(dataset: str, search: str, name: str) -> None:
    assert export_filename(dataset, search, "ndjson", dt.date(2026, 12, 6)) == name


def test_the_download_carries_that_name(client: TestClient) -> None:
    response = client.get(URL, params={"query": "University London", "format": "csv"})
    assert response.headers["content-disposition"] in dated("shoal-protocols-university-london-{}.csv")


def lines(response) -> list[dict]:
    return [orjson.loads(line) for line in response.content.splitlines()]


def test_ndjson_is_every_match_newest_first(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] in dated("shoal-protocols-all-{}.ndjson")
    assert response.headers["x-result-count"] == str(len(CORPUS))
    exported = lines(response)
    assert exported == client.get("/v1/scan/protocols").json()["results"]
    assert sorted(Report.from_dict(raw).id for raw in exported) == sorted(report.id for report in CORPUS)
    assert response.content.splitlines()[0].startswith(b'{"date":"2026-11-08","id":"r16","items":[{"context":""')


@pytest.mark.parametrize(
    "params",
    [
        {"expression": "protocol=ssh"},
        {"ip": "8.8.8.0/24", "from": "2026-11-02"},
        {"ip": "8.8.8.8", "most_recent": "true"},
        {"expression": "title:university", "filter": ["geo-country=US", "geo-country=GB"]},
        {"query": "product-tag:dahua", "to": "2026-11-04"},
    ],
)
def test_the_parameters_are_scan_protocols(client: TestClient, params: dict) -> None:
    exported = [raw["id"] for raw in lines(client.get(URL, params=params))]
    searched = [raw["id"] for raw in client.get("/v1/scan/protocols", params=params).json()["results"]]
    assert exported == searched


def test_csv_has_one_row_per_report(client: TestClient) -> None:
    response = client.get(URL, params={"format": "csv", "ip": "8.8.8.8"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] in dated("shoal-protocols-8.8.8.8-{}.csv")
    rows = response.text.split("\r\n")
    assert rows[0] == (
        "date,id,ip,port,protocol,title,server_banner,http_server,host,product_tag,geo_country,entity,asn,"
        "subject,issuer,cert_sha256"
    )
    assert rows[1] == "2026-11-03,r03,8.8.8.8,53,dns,,dnsmasq-2.80,,,,US,,,,,"
    assert rows[3] == (
        "2026-11-01,r01,8.8.8.8,443,https,University of London,HTTP/1.1 200 OK,nginx/1.18.0,,nginx,GB,,15169,"
        '"CN=www.ox.ac.uk, O=University of Oxford, C=GB",,'
    )
    assert rows[4:] == [""]


def test_csv_joins_values_and_defuses_formulas() -> None:
    report = Report(
        date=dt.date(2026, 1, 2),
        id="x",
        items=(
            Item("ip", "192.0.2.9", "", True),
            Item("port-tcp", "80", "", True),
            Item("title", '=HYPERLINK("http://evil")'),
            Item("title", "second"),
            Item("title", "second"),
            Item("host", "a.example", ""),
            Item("host", "cert.example", "cert-dns-name"),
            Item("product-tag", "-1+1", "", True),
        ),
    )
    row = dict(zip(("date", "id", "ip", "port", "protocol", "title"), csv_row(report), strict=False))
    assert row["title"] == '\'=HYPERLINK("http://evil") | second'
    assert csv_row(report)[8] == "a.example"  # host: the service's names, not the certificate's
    assert csv_row(report)[9] == "'-1+1"


def test_chunks_are_large() -> None:
    reports = [CORPUS[0]] * 2000
    chunks = list(encode(reports, "ndjson"))
    assert len(chunks) > 1
    assert all(len(chunk) >= CHUNK_BYTES for chunk in chunks[:-1])
    assert b"".join(chunks).count(b"\n") == 2000


def test_errors_come_before_any_byte(client: TestClient) -> None:
    assert_error(client.get(URL, params={"format": "xml"}), 400, "format")
    body = assert_error(client.get(URL, params={"expression": "title:london and (port-tcp:80"}), 400, "expression")
    assert (body["detail"][0]["start"], body["detail"][0]["end"]) == (17, 18)
    assert_error(client.get(URL, params={"slop": "11"}), 400, "slop")
    assert_error(client.get(URL, headers={"Authorization": "Bearer nope"}), 401)


@pytest.mark.parametrize(
    ("params", "parameter", "dataset"),
    [
        ({"host": "example.org"}, "host", "protocols"),
        ({"dataset": "domains", "nameserver": "ns1.example.org"}, "nameserver", "domains"),
        ({"dataset": "ct", "host": "example.org", "expression": "protocol=ssh"}, "host", "ct"),
    ],
)
def test_a_selector_of_another_dataset_is_400_naming_it_and_the_dataset(
    client: TestClient, params: dict, parameter: str, dataset: str
) -> None:
    """A typo must not turn a narrow export into a full one, charged as one."""
    for response in (client.get(URL, params=params), client.post(f"{URL}/link", params=params)):
        message = assert_error(response, 400, parameter)["error"]
        assert parameter in message and repr(dataset) in message


def test_a_ticket_beside_an_authorization_header_is_400(client: TestClient) -> None:
    assert_error(client.get(URL, params={"expression": "protocol=ssh", "ticket": "bogus"}), 400, "ticket")
    url = client.post(f"{URL}/link", params={"expression": "protocol=ssh"}).json()["url"]
    assert_error(client.get(url), 400, "ticket")


def test_nothing_matched_is_204(client: TestClient) -> None:
    response = client.get(URL, params={"expression": "title:nothing-at-all"})
    assert (response.status_code, response.content) == (204, b"")
    assert client.post(f"{URL}/link", params={"expression": "title:nothing-at-all"}).status_code == 204


def test_a_link_downloads_once_without_a_header(client: TestClient) -> None:
    link = client.post(f"{URL}/link", params={"expression": "protocol=ssh", "format": "csv"})
    assert link.status_code == 200
    body = link.json()
    assert body["result_count"] == 2 and body["expires_in"] == 60
    assert body["url"].startswith(f"{URL}?expression=protocol%3Dssh&format=csv&ticket=")
    with without_token(client) as browser:
        first = browser.get(body["url"])
        assert first.status_code == 200 and first.text.count("\r\n") == 3
        assert_error(browser.get(body["url"]), 401)  # used already


def test_a_link_is_for_its_own_query(client: TestClient) -> None:
    url = client.post(f"{URL}/link", params={"expression": "protocol=ssh"}).json()["url"]
    with without_token(client) as browser:
        assert_error(browser.get(url.replace("protocol%3Dssh", "protocol%3Dftp")), 401)
        assert_error(browser.get(f"{URL}?ticket=made-up"), 401)
        assert_error(browser.get(f"{URL}?expression=protocol%3Dssh"), 401)


def many_reports() -> Iterator[Report]:
    for n in range(BIG):
        yield Report(
            date=dt.date(2026, 1, 1) + dt.timedelta(days=n % 300),
            id=f"big{n:05d}",
            items=(
                Item("ip", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}", "", True),
                Item("port-tcp", "80", "", True),
            ),
        )


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def big(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, TokenStore]]:
    folder: Path = tmp_path_factory.mktemp("big")
    store = open_engine(request.param, request, folder / "store")
    store.ingest(many_reports())
    tokens = TokenStore(folder)
    with TestClient(create_app(store, tokens), raise_server_exceptions=False) as test_client:
        yield test_client, tokens
    drop(store)


def test_export_goes_past_10000_and_costs_a_unit_per_10000(big: tuple[TestClient, TokenStore]) -> None:
    client, tokens = big
    headers = {"Authorization": f"Bearer {tokens.create('exporter')}"}
    response = client.get(URL, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-result-count"] == str(BIG)
    ids = [orjson.loads(line)["id"] for line in response.content.splitlines()]
    assert len(ids) == BIG and len(set(ids)) == BIG
    usage = client.get("/v1/admin/user", headers=headers).json()["quota"]["api_usage"]
    assert usage == 2  # 10,050 reports: two blocks of 10,000


def test_export_past_the_quota_is_429_before_any_byte(big: tuple[TestClient, TokenStore]) -> None:
    client, tokens = big
    headers = {"Authorization": f"Bearer {tokens.create('frugal')}"}
    tokens.set_quota("frugal", api_limit=1)
    body = assert_error(client.get(URL, headers=headers), 429)
    assert body["code"] == "quota_exceeded"
    assert client.get("/v1/admin/user", headers=headers).json()["quota"]["api_usage"] == 0  # refunded
    assert client.get(URL, headers=headers, params={"ip": "10.0.0.0/24"}).status_code == 200  # 256: one unit
