"""The web UI as a Shodan user meets it (issue 13, and the datasets' web parts of issue 10), in real Chromium:
facets beside the results, the dataset switch, free text, paging, plurals, a phone's width, the host page,
the network page, error pages, the DB-IP credit, and no token ever in a URL.

The server holds the fixed corpus, the four-dataset corpus and one more host (192.0.2.50: two reports on
port 443 with a certificate, JARM and favicon hash, a PTR name, a certificate in a CT log, and canary ports
open, so the honeypot rule holds), plus one address with 40 open ports for the network page.
Each test saves screenshots (see tests/web/browsing.py), which were looked at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import orjson
import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from shoal.model import CT, FAVICONS, FDNS, MX, RDNS, Item, PortObservation, Report
from shoal.store.embedded import EmbeddedStore
from tests.corpus import CORPUS, DATASET_CORPUS
from tests.web.browsing import (
    PHONE_WIDTH,
    card_ids,
    downloaded,
    no_script_errors,
    overflows,
    requested_urls,
    screenshot,
    texts,
    visit,
    wait,
)
from tests.web.server import Served, serve

__all__ = ["no_script_errors"]

TODAY = dt.datetime.now(dt.UTC).date()
HOST = "192.0.2.50"
JARM = "27d40d40d29d40d1dc42d43d00041d4689ee210389f4f6b4b5b1b93f92252d"
FAVICON = "-1293291467"
CERT_SHA256 = "dd" * 32
BUSY = "192.0.2.99"  # 40 open ports: more than a row of the network page holds


def host_report(report_id: str, days_ago: int, title: str) -> Report:
    items = (
        Item("ip", HOST, "", True),
        Item("port-tcp", "443", "", True),
        Item("server-banner", "HTTP/1.1 200 OK", "https"),
        Item("title", title),
        Item("subject", "CN=shop.example.net"),
        Item("issuer", "CN=Example Issuing CA"),
        Item("cert-sha256", CERT_SHA256),
        Item("host", "shop.example.net", "cert-dns-name"),
        Item("jarm", JARM),
        Item("obj-murmur3", FAVICON, "favicon"),
        Item("geo-country", "NL", "", True),
        Item("entity", "Example Hosting B.V.", "", True),
        Item("asn", "64500", "", True),
        Item("product-tag", "nginx", "", True),
        Item("honeypot", "t-pot", "", True),
    )
    return Report(TODAY - dt.timedelta(days=days_ago), items, report_id)


HOST_REPORTS = [
    host_report("h01", 10, "Shop (old)"),
    host_report("h02", 2, "Shop"),
    Report(
        TODAY - dt.timedelta(days=3),
        (
            Item("ip", HOST, "", True),
            Item("host", "shop-ptr.example.net", "dns-ptr"),
            Item("host", "ns.example.net", "dns-ns"),
        ),
        "hn1",
        RDNS,
    ),
    Report(
        TODAY - dt.timedelta(days=4),
        (
            Item("cert-sha256", "ee" * 32),
            Item("subject", "CN=logged.example.net"),
            Item("ip", HOST, "cert-ip-address"),
            Item("host", "logged.example.net", "cert-dns-name"),
            Item("ct-log", "test-log-9", "", True),
        ),
        "hc1",
        CT,
    ),
]
LOOKUP_REPORTS = [  # issue 21's datasets: the switch offers them, their facets are their rows'
    Report(
        TODAY - dt.timedelta(days=1),
        (
            Item("url", "https://shop.example.net/favicon.ico", "", True),
            Item("ip", HOST, "", True),
            Item("port-tcp", "443", "", True),
            Item("obj-murmur3", FAVICON, "favicon"),
        ),
        "fv1",
        FAVICONS,
    ),
    Report(
        TODAY - dt.timedelta(days=1),
        (
            Item("host", "shop.example.net", "", True),
            Item("ip", HOST, "dns-a"),
            Item("host", "ns.example.net", "dns-ns"),
        ),
        "fd1",
        FDNS,
    ),
    Report(
        TODAY - dt.timedelta(days=1),
        (
            Item("host", "example.net", "", True),
            Item("host", "mx.example.net", "dns-mx"),
            Item("dns-mx", "10 mx.example.net"),
        ),
        "mx1",
        MX,
    ),
]
OBSERVATIONS = [PortObservation(HOST, port, TODAY - dt.timedelta(days=5)) for port in (4, 6, 8, 10)] + [
    PortObservation(BUSY, 1000 + n, TODAY - dt.timedelta(days=1)) for n in range(40)
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("experience")
    store = EmbeddedStore(data)
    store.ingest([*CORPUS, *DATASET_CORPUS, *HOST_REPORTS, *LOOKUP_REPORTS])
    store.ingest_observations(OBSERVATIONS)
    store.close()
    with serve(data, ()) as running:
        yield running


def expression(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "expression").get_attribute("value") or ""


def facet_values(browser: WebDriver, title: str) -> list[tuple[str, str]]:
    script = """return [...document.querySelectorAll('#facets figure')]
        .filter(f => f.querySelector('figcaption strong').innerText === arguments[0])
        .flatMap(f => [...f.querySelectorAll('li:not(.other)')])
        .map(li => [li.querySelector('.label').innerText, li.querySelector('.n').innerText])"""
    return [tuple(pair) for pair in browser.execute_script(script, title)]


def facet_button(browser: WebDriver, title: str, value: str, exclude: bool = False) -> object:
    """The button of one facet value, once the facets show it: they render after the results (after a page's
    results appear, its facets may still be those of the page before, or being redrawn)."""

    def find(browser: WebDriver) -> object | None:
        for figure in browser.find_elements(By.CSS_SELECTOR, "#facets figure"):
            if figure.find_element(By.CSS_SELECTOR, "figcaption strong").text != title:
                continue
            for row in figure.find_elements(By.CSS_SELECTOR, "li:not(.other)"):
                if row.find_element(By.CSS_SELECTOR, ".label").text == value:
                    return row.find_element(By.CSS_SELECTOR, "button.exclude" if exclude else "button.bar")
        return None

    try:
        return WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(find)
    except TimeoutException:
        raise AssertionError(f"no facet value {title}: {value}") from None


# -- 7. facets by default ----------------------------------------------------------------------------------


def test_facets_beside_the_results_refine_and_exclude(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/?ip=10.0.0.0/8")
    wait(browser, lambda b: facet_values(b, "Protocols"))
    assert texts(browser, "#facets figcaption strong") == [
        "Countries",
        "Ports",
        "Products",
        "Organisations",
        "Protocols",
    ]
    assert facet_values(browser, "Countries") == [("CN", "2"), ("IR", "2"), ("RU", "2")]
    assert ("37777", "2") in facet_values(browser, "Ports")
    assert facet_values(browser, "Organisations") == [("Tencent Cloud Computing", "3")]
    screenshot(browser, "facets")
    facet_button(browser, "Countries", "CN").click()  # a click keeps only reports with the value
    wait(browser, lambda b: sorted(card_ids(b)) == ["r04", "r05"])
    assert expression(browser) == 'geo-country="CN"'
    wait(browser, lambda b: facet_values(b, "Countries") == [("CN", "2")])
    facet_button(browser, "Ports", "2222", exclude=True).click()  # ⊘ leaves it out
    wait(browser, lambda b: card_ids(b) == ["r04"])
    assert expression(browser) == 'geo-country="CN" and not port-tcp:2222'
    browser.back()
    wait(browser, lambda b: sorted(card_ids(b)) == ["r04", "r05"])
    alt_click(browser, facet_button(browser, "Ports", "22"))  # Alt+click also leaves it out
    wait(browser, lambda b: card_ids(b) == ["r05"])
    assert expression(browser) == 'geo-country="CN" and not port-tcp:22'


def alt_click(browser: WebDriver, element: object) -> None:
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, altKey: true}))", element
    )


def test_the_chart_behaves_as_the_facets(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/?ip=10.0.0.0/8&summarize=protocol", site.enterprise_token)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#summary .bars li"))
    bar = next(b for b in browser.find_elements(By.CSS_SELECTOR, "#summary button.bar") if b.text.startswith("modbus"))
    alt_click(browser, bar)
    wait(browser, lambda b: expression(b) == 'not protocol="modbus"')
    wait(browser, lambda b: "modbus" not in " ".join(texts(b, "#summary .label")))
    exclude = browser.find_elements(By.CSS_SELECTOR, "#summary button.exclude")[0]
    assert exclude.get_attribute("aria-label").startswith("Leave out ")
    screenshot(browser, "chart-exclude")


# -- issue 10: the dataset switch ------------------------------------------------------------------------------


def test_the_dataset_switch(browser: WebDriver, site: Served, tmp_path: Path) -> None:
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    visit(browser, site, "/?most_recent=false&expression=" + quote("host:example.org"))  # every dated report
    wait(browser, lambda b: card_ids(b) == ["p01"])
    browser.find_element(By.CSS_SELECTOR, "#dataset option[value='rdns']").click()
    wait(browser, lambda b: card_ids(b) == ["n03", "n02", "n01"])
    assert "dataset=rdns" in browser.current_url
    wait(browser, lambda b: facet_values(b, "Name servers") == [("ns1.example.org", "2"), ("ns2.example.net", "1")])
    screenshot(browser, "dataset-rdns")
    browser.find_element(By.CSS_SELECTOR, "#export button[data-format='ndjson']").click()  # every dataset exports
    exported = wait(browser, downloaded(tmp_path, "shoal-rdns-host-example.org-{day}.ndjson"))  # named after all
    assert [orjson.loads(line)["id"] for line in exported.read_bytes().splitlines()] == ["n03", "n02", "n01"]
    visit(browser, site, "/?dataset=ct&most_recent=false&expression=" + quote("host:example.org"))
    wait(browser, lambda b: card_ids(b) == ["c03", "c02", "c01"])
    assert texts(browser, "#results .card .target")[0] == "www.example.org"  # a logged certificate's first name
    wait(browser, lambda b: facet_values(b, "Issuers") == [("CN=Test CA", "2")])
    visit(browser, site, "/?dataset=domains&most_recent=true&expression=" + quote("host:www.example.org"))
    wait(browser, lambda b: card_ids(b) == ["d02"])


def test_the_lookup_datasets_in_the_switch(browser: WebDriver, site: Served) -> None:
    for dataset, expression, expected, facet, values in (
        ("favicons", "url:example.net", ["fv1"], "Favicon hashes", [(FAVICON, "1")]),
        ("fdns", "host:example.net", ["fd1"], "Addresses", [(HOST, "1")]),
        ("mx", "host:example.net", ["mx1"], "Mail exchangers", [("mx.example.net", "1")]),
    ):
        visit(browser, site, "/?expression=" + quote(expression) + f"&dataset={dataset}")
        wait(browser, lambda b, expected=expected: card_ids(b) == expected)
        wait(browser, lambda b, facet=facet, values=values: facet_values(b, facet) == values)
        screenshot(browser, f"dataset-{dataset}")


# -- 11. free text, paging, plurals, a phone -------------------------------------------------------------------


def test_bare_words_search_every_type(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/")
    box = browser.find_element(By.ID, "expression")
    box.send_keys("pratchett", Keys.ENTER)  # a word of an http-header value, no type named
    wait(browser, lambda b: card_ids(b) == ["r01"])
    assert texts(browser, "#results .count") == ["1 host · 1 service · page 1 of 1"]
    box = browser.find_element(By.ID, "expression")
    box.clear()
    box.send_keys("jira login", Keys.ENTER)  # two words: both, anywhere
    wait(browser, lambda b: card_ids(b) == ["p04"])
    box = browser.find_element(By.ID, "expression")
    box.clear()
    box.send_keys('title:"university london" and titel:x', Keys.ENTER)  # a name that is no type is words
    wait(browser, lambda b: texts(b, "#results .empty") == ["No report matches."])
    note = browser.find_element(By.ID, "words-note").text
    assert note == "titel is not a type, so it was searched as words: did you mean title?"
    box = browser.find_element(By.ID, "expression")
    box.clear()
    box.send_keys("title:(london", Keys.ENTER)  # a term keeps its strict syntax, and its error points at it
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#query-error mark"))
    assert browser.find_element(By.CSS_SELECTOR, "#query-error mark").text == "("
    assert not browser.find_element(By.ID, "words-note").is_displayed()


def test_plurals_say_one(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/?expression=protocol%3Dmodbus&summarize=port-tcp", site.enterprise_token)
    wait(browser, lambda b: texts(b, "#results .count"))
    wait(browser, lambda b: texts(b, "#results .count") == ["1 host · 1 service · page 1 of 1"])
    wait(browser, lambda b: texts(b, "#summary figcaption"))
    assert texts(browser, "#summary figcaption") == ["port-tcp · 1 value · other 0 · cardinality 1"]


PHONE_PAGES = {
    "search": ("/?ip=10.0.0.0/8&summarize=port-tcp", ".card"),
    "host": (f"/host/{HOST}", "#services .card"),
    "network": ("/cidr/192.0.2.0/24", "table.heat"),
    "error": ("/host/not-an-ip", "h1"),
}


@pytest.mark.parametrize("page", sorted(PHONE_PAGES))
def test_a_phone_is_390_pixels_wide(browser: WebDriver, site: Served, page: str) -> None:
    path, drawn = PHONE_PAGES[page]
    browser.set_window_size(PHONE_WIDTH, 844)
    visit(browser, site, path, site.enterprise_token)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, drawn))
    assert overflows(browser) == []  # nothing wider than the screen: no sideways scrolling
    screenshot(browser, f"phone-{page}", full_page=False)


# -- 8. the host page ----------------------------------------------------------------------------------------


def test_the_host_page_as_shodans(browser: WebDriver, site: Served) -> None:
    visit(browser, site, f"/host/{HOST}")
    wait(browser, lambda b: texts(b, "#host-summary dt"))
    summary = dict(zip(texts(browser, "#host-summary dt"), texts(browser, "#host-summary dd"), strict=True))
    assert summary["Country"] == "NL"
    assert summary["Organisation"].startswith("Example Hosting B.V.") and "DB-IP" in summary["Organisation"]
    assert summary["AS"] == "64500" and summary["Tags"] == "nginx"
    assert summary["Honeypot"].startswith("likely")
    assert texts(browser, "#host-names a") == ["shop-ptr.example.net"]
    wait(browser, lambda b: card_ids(b, "#services > .card") == ["h02"])  # one card for port 443: its newest
    history = browser.find_element(By.CSS_SELECTOR, "#services .history")
    assert history.find_element(By.TAG_NAME, "summary").text == "1 older report on port 443"
    history.find_element(By.TAG_NAME, "summary").click()
    wait(browser, lambda b: card_ids(b, "#services .history .card") == ["h01"])
    card = browser.find_element(By.CSS_SELECTOR, "#services > .card")
    hrefs = {
        link.text: unquote(link.get_attribute("href")) for link in card.find_elements(By.CSS_SELECTOR, ".key-items a")
    }
    assert hrefs[JARM].endswith(f'expression=jarm="{JARM}"')
    assert hrefs[FAVICON].endswith(f'expression=obj-murmur3;favicon="{FAVICON}"')
    certificate = browser.find_element(By.CSS_SELECTOR, "#certificates .certificate")
    links = {link.text: unquote(link.get_attribute("href")) for link in certificate.find_elements(By.TAG_NAME, "a")}
    assert links[CERT_SHA256].endswith(f'expression=cert-sha256="{CERT_SHA256}"')
    assert links["CN=shop.example.net"].endswith('expression=subject="CN=shop.example.net"')
    assert links["shop.example.net"].endswith('expression=host;cert-dns-name="shop.example.net"')
    logged = browser.find_element(By.ID, "ct-certificates").text
    assert "CN=logged.example.net" in logged and "test-log-9" in logged
    assert "This IP behaves like a scan honeypot" in browser.find_element(By.ID, "ports-source").text
    screenshot(browser, "host-shodan")
    browser.find_element(By.LINK_TEXT, JARM).click()
    wait(browser, lambda b: card_ids(b) == ["h02"])  # the service's newest report (both carry the JARM)


def test_a_host_with_only_dns_and_ct_facts(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/host/192.0.2.10")
    wait(browser, lambda b: texts(b, "#host-names a"))
    assert texts(browser, "#host-names a") == ["web1-new.example.org", "web1.example.org"]
    wait(browser, lambda b: "CN=*.example.org" in b.find_element(By.ID, "ct-certificates").text)


# -- 9. the network page -----------------------------------------------------------------------------------


def test_the_network_page_fits_the_width(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/cidr/192.0.2.0/24")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr"))
    scroll = browser.find_element(By.CSS_SELECTOR, "#heatmap .heat-scroll")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", scroll)
    headers = texts(browser, "#heatmap thead th")
    assert headers[0] == "IP" and headers[-1] == "other ports" and 10 < len(headers) < 40
    rows = browser.execute_script(
        """return [...document.querySelectorAll('#heatmap tbody tr')]
             .map(tr => [tr.dataset.ip, [...tr.cells].some(td => td.innerText.trim())])"""
    )
    assert {HOST, BUSY} <= dict(rows).keys() and all(filled for _, filled in rows)  # no empty row
    busy = browser.find_element(By.CSS_SELECTOR, f"#heatmap tr[data-ip='{BUSY}'] td.others").text
    assert busy.endswith("more")
    position = browser.execute_script("return getComputedStyle(document.querySelector('#heatmap thead th')).position")
    assert position == "sticky"
    screenshot(browser, "network-fits")
    visit(browser, site, "/cidr/203.0.113.0/24")
    wait(browser, lambda b: texts(b, "#network-facts") != ["Loading…"])
    assert texts(browser, "#network-facts") == [
        "No open port seen in 203.0.113.0/24 in the last 30 days (set From for earlier days)."
    ]
    assert not browser.find_element(By.ID, "heatmap").is_displayed()  # no empty box
    screenshot(browser, "network-empty", full_page=False)


# -- 10. error pages and the token ---------------------------------------------------------------------------


def test_an_error_page_has_a_working_header(browser: WebDriver, site: Served) -> None:
    browser.get(f"{site.base}/host/not-an-ip")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    assert browser.find_element(By.ID, "login-state").text == "No token yet."  # message.js ran
    before = browser.current_url
    browser.find_element(By.ID, "token").send_keys(site.token, Keys.ENTER)
    wait(browser, lambda b: b.find_element(By.ID, "login-state").text == "Token saved in this browser.")
    assert browser.current_url == before and site.token not in browser.current_url
    browser.find_element(By.ID, "jump-target").send_keys("www.example.org", Keys.ENTER)  # a host name: host:
    wait(browser, lambda b: card_ids(b) == ["p01"])
    assert unquote(browser.current_url).endswith("/?expression=host:www.example.org")
    screenshot(browser, "jump-hostname", full_page=False)


def test_no_token_ever_reaches_a_url(browser: WebDriver, site: Served, tmp_path: Path) -> None:
    """Every request and navigation of a session that types tokens into every page, searches, opens hosts
    and networks and exports: none carries a token (nor does a Referer, with no-referrer)."""
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    requested_urls(browser)  # forget the earlier tests' requests
    for path in ("/", "/host/not-an-ip", f"/host/{HOST}", "/cidr/192.0.2.0/24", "/?expression=nginx"):
        browser.get(site.base + path)
        for token in (site.token, site.enterprise_token):
            box = browser.find_element(By.ID, "token")
            box.send_keys(token, Keys.ENTER)
            wait(browser, lambda b: b.find_element(By.ID, "login-state").text == "Token saved in this browser.")
    browser.get(f"{site.base}/?expression=nginx&summarize=port-tcp")
    wait(browser, lambda b: card_ids(b))
    browser.find_element(By.CSS_SELECTOR, "#export button[data-format='csv']").click()
    wait(browser, lambda b: "Downloading" in b.find_element(By.ID, "export-state").text)
    browser.find_element(By.LINK_TEXT, card_ids(browser) and texts(browser, "#results .card .target")[0]).click()
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#services .card"))
    urls = requested_urls(browser)
    assert len(urls) > 30 and any("/v1/scan/protocols/export/link?" in url for url in urls)
    for token in (site.token, site.enterprise_token):
        assert [url for url in urls if token in url or quote(token) in url] == []
    assert browser.execute_script("return document.referrer") == ""
