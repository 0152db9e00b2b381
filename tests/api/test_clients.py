"""Real Driftnet clients' calls, replayed against a real ``shoal serve`` holding all four datasets.

Each call is written exactly as the client's source builds it (path, parameters, their order and encoding,
headers), and its answer is read the way the client reads it: any status but 200 or 204 is an error to all
of them. Sources: projectdiscovery/subfinder (``sources/driftnet``; Subdominator and samoscout make the same
four calls), projectdiscovery/uncover (``sources/agent/driftnet``), hueristiq/xsubfind3r
(``sources/driftnet``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import quote_plus

import httpx
import pytest

from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.api.serving import running_server
from tests.corpus import DATASET_CORPUS

pytestmark = pytest.mark.slow
DOMAIN = "example.org"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("clients")
    store = EmbeddedStore(folder)
    store.ingest(DATASET_CORPUS)
    store.close()
    token = TokenStore(folder).create("client-replay")
    with running_server(folder, "--allow-anon") as server:
        yield server.base, token


def subfinder(base: str, token: str, domain: str) -> tuple[set[str], list[int]]:
    """subfinder's four sub-sources (Subdominator and samoscout send the same calls)."""
    endpoints = [
        ("ct/log", "field=host:", "cert-dns-name"),
        ("scan/protocols", "field=host:", "cert-dns-name"),
        ("scan/domains", "field=host:", "cert-dns-name"),
        ("domain/rdns", "host=", "dns-ptr"),
    ]
    found: set[str] = set()
    statuses = []
    for endpoint, param, context in endpoints:
        url = f"{base}/v1/{endpoint}?{param}{domain}&summarize=host&summary_context={context}&summary_limit=10000"
        response = httpx.get(url, headers={"accept": "application/json", "authorization": f"Bearer {token}"})
        statuses.append(response.status_code)
        if response.status_code == 200:
            found.update(subdomain.lower() for subdomain in response.json()["summary"]["values"])
    return found, statuses


def test_subfinder_finds_every_name_of_every_dataset(served: tuple[str, str]) -> None:
    base, token = served
    found, statuses = subfinder(base, token, DOMAIN)
    assert statuses == [200, 200, 200, 200]
    assert found == {
        "www.example.org",
        "dev.example.org",
        "*.example.org",  # ct/log
        "api.example.org",  # scan/protocols only
        "web1.example.org",
        "web1-new.example.org",
        "shop.example.org",  # domain/rdns only
    }
    nothing, statuses = subfinder(base, token, "nothing.example")
    assert nothing == set() and statuses == [204, 204, 204, 204]


def uncover(base: str, token: str, query: str) -> list[tuple[str, int, str]]:
    """uncover's search-term query: scan/protocols then scan/domains, pages until one has < 100 results."""
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=30)).isoformat()
    parts = []
    for part in query.split(","):
        part = part.strip()
        for name in ("field=", "keyword=", "filter="):
            if part.startswith(name):
                parts.append(name + quote_plus(part.removeprefix(name)))
                break
        else:
            parts.append("query=" + quote_plus(part.removeprefix("query=")))
    found = []
    for endpoint in ("scan/protocols", "scan/domains"):
        for page in range(100):
            url = f"{base}/v1/{endpoint}?from={quote_plus(since)}&most_recent=true&{'&'.join(parts)}"
            if page > 0:
                url += f"&page={page}"
            response = httpx.get(url, headers={"Accept": "application/json", "Authorization": f"Bearer {token}"})
            if response.status_code == 204:
                break
            assert response.status_code == 200, response.text  # anything else: uncover stops with an error
            results = response.json()["results"]
            for result in results:
                fields = {item["type"]: item["value"] for item in result["items"] if item["context"] == ""}
                port = next((value for kind, value in fields.items() if kind.startswith("port-")), "")
                if port and fields.get("ip"):
                    found.append((fields["ip"], int(port), fields.get("host", "")))
            if len(results) < 100:
                break
    return found


def test_uncover_pages_protocols_then_domains(served: tuple[str, str]) -> None:
    base, token = served
    assert uncover(base, token, f"field=host:{DOMAIN}") == [
        ("192.0.2.10", 443, ""),  # scan/protocols: the certificate names it
        ("192.0.2.10", 443, "www.example.org"),  # scan/domains, most recent per {host, ip, port}
        ("192.0.2.11", 80, "shop.example.org"),
    ]
    assert uncover(base, token, "jira") == [("192.0.2.11", 80, "")]  # free text, as uncover's README shows
    assert uncover(base, token, "keyword=nginx") == [("192.0.2.10", 443, ""), ("192.0.2.11", 80, "shop.example.org")]
    assert uncover(base, token, "nothing-matches-this") == []


def test_uncover_open_ports_of_a_cidr(served: tuple[str, str]) -> None:
    base, token = served
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=30)).isoformat()
    response = httpx.get(
        f"{base}/v1/scan/ipports?from={quote_plus(since)}&ip={quote_plus('192.0.2.0/24')}",
        headers={"Accept": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    values = response.json()["values"]
    assert {ip: sorted(map(int, ports["values"])) for ip, ports in values.items()} == {
        "192.0.2.10": [443],  # domain visits are observations of their ip:port too
        "192.0.2.11": [80],
    }


def test_xsubfind3r_multi_summary_with_anon(served: tuple[str, str]) -> None:
    base, _ = served
    today = dt.datetime.now(dt.UTC).date()
    params = {
        "summary_limit": "10",
        "timeout": "30",
        "from": (today - dt.timedelta(days=10)).isoformat(),
        "to": today.isoformat(),
        "field": f"host:{DOMAIN}",
    }
    response = httpx.get(f"{base}/v1/multi/summary", params=params, headers={"Authorization": "Bearer anon"})
    assert response.status_code == 200, response.text
    body = response.json()
    found = set()
    for values in body["observations"]["host"]["values"].values():  # {"domains": {…}, "protocols": {…}}
        found.update(name for name in values if name == DOMAIN or name.endswith("." + DOMAIN))
    for values in body["observations"]["subject;cert"]["values"].values():
        found.update(value.removeprefix("CN=") for value in values)
    assert found == {"www.example.org", "dev.example.org", "api.example.org", "shop.example.org"}
    assert set(body["observations"]["host"]["cardinality"]) == {"domains", "protocols"}
    assert body["enrichments"]["product-tag"]["values"]["protocols"] == {"nginx": 1}
    anonymous = httpx.get(f"{base}/v1/multi/summary", params=params, headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == 401
