"""The page shells and assets, without a browser: status, headers, escaping, and the API left as it was."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from shoal.model import DATASET_TABLE
from shoal.web.pages import WEB_DIR


def test_pages_are_public_shells_with_a_strict_policy(client: TestClient) -> None:
    response = client.get("/")  # no token: the page holds no data
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    html = response.text
    assert '<script type="module" src="/static/search.js?v=' in html
    assert '<option value="port-tcp">the TCP port scanned, 0-65535</option>' in html
    assert 'option value="search-term"' not in html  # not a type a summary can be drawn for
    assert "<dt><code>search-term</code></dt>" in html  # but listed in the syntax help
    # the syntax help names the ranges and the switchers' names (from the checker's table), and where to read on
    assert '<button type="button" class="example">port-tcp:[1 TO 1024]</button>' in html
    assert '<button type="button" class="example">cert-not-after&lt;2027-01-01</button>' in html
    assert "<code>org:</code> → <code>entity:</code>" in html and "<code>asn:AS15169</code>" in html
    assert "docs/query-language.md" in html


def test_host_and_network_pages_take_canonical_addresses(client: TestClient) -> None:
    assert 'data-ip="2001:db8::10"' in client.get("/host/2001:0db8::0010").text
    assert 'value="10.9.0.0/24"' in client.get("/cidr/10.9.0.7/24").text
    assert 'value=""' in client.get("/cidr").text


def test_bad_addresses_are_404_pages_with_the_input_escaped(client: TestClient) -> None:
    response = client.get("/host/<img src=x onerror=alert(1)>")
    assert response.status_code == 404
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text and "<img" not in response.text
    assert client.get("/cidr/10.9.0.0/33").status_code == 404


def test_assets_are_served_with_their_types(client: TestClient) -> None:
    for name in sorted(path.name for path in (WEB_DIR / "static").iterdir()):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        expected = "text/css" if name.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(expected)


def test_the_api_is_unchanged_around_the_pages(client: TestClient) -> None:
    for path in ("/v1/nowhere", "/v1", "/v1/scan/nowhere"):  # the API's paths answer in JSON, as Driftnet's
        response = client.get(path, headers={"Accept": "text/html"})
        assert (response.status_code, response.headers["content-type"]) == (404, "application/json"), path
    assert client.post("/").status_code == 405
    assert client.get("/v1/scan/protocols", params={"ip": "8.8.8.8"}).json()["result_count"] == 3


def test_every_other_unknown_path_is_the_html_404_page(client: TestClient) -> None:
    for path in ("/nowhere", "/host", "/docs/x", "/static/nothing.js", "/v1x", "/%3Cb%3E"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "text/html; charset=utf-8", path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert '<script type="module" src="/static/message.js' in response.text  # the header works
    assert "<h1>Nothing at /&lt;b&gt;.</h1>" in client.get("/%3Cb%3E").text


def test_every_page_carries_the_table_of_datasets_and_no_script_copies_it(client: TestClient) -> None:
    html = client.get("/host/8.8.8.8").text
    block = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html)
    assert block is not None
    table = json.loads(block.group(1))["datasets"]
    assert list(table) == list(DATASET_TABLE)
    for name, row in DATASET_TABLE.items():
        assert table[name]["path"] == row.path and table[name]["label"] == row.label
        assert table[name]["facets"] == [[facet.type, facet.context, facet.title] for facet in row.facets]
    scripts = "".join(path.read_text() for path in (WEB_DIR / "static").glob("*.js"))
    for row in DATASET_TABLE.values():
        assert f'"{row.path}"' not in scripts and f'"{row.label}"' not in scripts
