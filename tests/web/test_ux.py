"""The web UI as a new user meets it (issue 23, item 5; the depth of issue 20 on the cards), in real Chromium
against a real ``shoal serve``: the landing page, the HTML 404, an address nothing is known about, report cards
(the answer's first lines, plain values and search links, aligned labels, SSH and TLS depth), whole names in the
facets, the reverse-DNS facets, the options folded on a phone, and every page at 1366 and 390 pixels.

The screenshots (``<page>-<width>.png``, see tests/web/browsing.py) were looked at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from shoal.model import CT, RDNS, Item, Report
from shoal.store.embedded import EmbeddedStore
from tests.web.browsing import PHONE_WIDTH, card_ids, no_script_errors, overflows, screenshot, texts, visit, wait
from tests.web.server import Served, serve

__all__ = ["no_script_errors"]

TODAY = dt.datetime.now(dt.UTC).date()
HOST = "192.0.2.80"
ORGANISATION = "Example Very Long Organisation Name for Hosting and Cloud Services GmbH"
ISSUER = "CN=Example Extended Validation Issuing Certificate Authority 2026, O=Example Trust Services Ltd, C=GB"
CT_LOG = "Example 'Argon2026h1' log operated by Example Trust Services"
ED25519 = "q6AEsmSL0yZsRWNAUj7VBf3WU+7CKpfmf9cUTuLJM1I"
RSA = "Zk7cbsrWgoXIo4eTDuUWXg5a7fGTeSe0NKxnl6i5Sgg"
HASSH = "0df0d56bb50c6b2426d8d40234bf1826"
JA4S = "t130200_1302_a56c5b993250"
JA4X = "2bab15409345_af684594efb4_000000000000"
FAVICON = "116323821"
CERT_SHA256 = "ab" * 32
HEADERS = (
    ("Server", "nginx/1.24.0"),
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
    ("Strict-Transport-Security", "max-age=63072000"),
    ("Set-Cookie", "session=; Path=/; Secure; HttpOnly"),
    ("Vary", "Accept-Encoding"),
    ("Content-Security-Policy", "default-src 'self'"),
    ("Date", "Sun, 06 Dec 2026 10:00:00 GMT"),
    ("Connection", "close"),
)
NETWORK = (
    Item("geo-country", "DE", "", True),
    Item("entity", ORGANISATION, "", True),
    Item("asn", "64501", "", True),
)


def web_report(report_id: str, days_ago: int) -> Report:
    items = (
        Item("ip", HOST, "", True),
        Item("port-tcp", "443", "", True),
        Item("server-banner", "HTTP/1.1 200 OK", "https"),
        *(Item("http-header", value, name) for name, value in HEADERS),
        Item("title", "Sign in · Example Portal"),
        Item("url", "https://portal.example.net/"),
        Item("subject", "CN=portal.example.net"),
        Item("issuer", ISSUER),
        Item("host", "portal.example.net", "cert-dns-name"),
        Item("cert-not-before", "2026-01-01"),
        Item("cert-not-after", "2026-06-30"),
        Item("cert-expired", "true"),
        Item("cert-key-type", "rsa"),
        Item("cert-key-bits", "2048"),
        Item("cert-signature-algorithm", "sha256WithRSAEncryption"),
        Item("cert-self-signed", "false"),
        Item("cert-sha256", CERT_SHA256),
        Item("ja4s-hash", JA4S),
        Item("ja4x-hash", JA4X),
        Item("obj-murmur3", FAVICON, "favicon"),
        *NETWORK,
        Item("product-tag", "nginx", "", True),
    )
    return Report(TODAY - dt.timedelta(days=days_ago), items, report_id)


SSH_REPORT = Report(
    TODAY - dt.timedelta(days=1),
    (
        Item("ip", HOST, "", True),
        Item("port-tcp", "22", "", True),
        Item("server-banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "ssh"),
        Item("ssh-kex", "curve25519-sha256,diffie-hellman-group14-sha256", "kex_algorithms"),
        Item("hassh-server", HASSH),
        Item("ssh-hostkey-sha256", ED25519, "ssh-ed25519"),
        Item("ssh-hostkey-bits", "256", "ssh-ed25519"),
        Item("ssh-hostkey-sha256", RSA, "ssh-rsa"),
        Item("ssh-hostkey-bits", "3072", "ssh-rsa"),
        *NETWORK,
        Item("product-tag", "openssh", "", True),
    ),
    "s01",
)
RDNS_REPORTS = [
    Report(
        TODAY - dt.timedelta(days=2),
        (
            Item("ip", f"192.0.2.{80 + n}", "", True),
            Item("host", f"host-{n}.example.net", "dns-ptr"),
            Item("host", "ns1.example.net", "dns-ns"),
            Item("asn", "64501" if n < 2 else "64502", "", True),
            Item("entity", ORGANISATION if n < 2 else "Other Net", "", True),
        ),
        f"n{n}",
        RDNS,
    )
    for n in range(3)
]
CT_REPORT = Report(
    TODAY - dt.timedelta(days=3),
    (
        Item("cert-sha256", "cd" * 32),
        Item("subject", "CN=portal.example.net"),
        Item("issuer", ISSUER),
        Item("host", "portal.example.net", "cert-dns-name"),
        Item("ct-log", CT_LOG, "", True),
    ),
    "c01",
    CT,
)
REPORTS = [web_report("w01", 9), web_report("w02", 1), SSH_REPORT, *RDNS_REPORTS, CT_REPORT]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("ux")
    store = EmbeddedStore(data)
    store.ingest(REPORTS)
    store.close()
    with serve(data, ()) as running:
        yield running


def test_the_landing_page_says_what_is_held_and_offers_searches(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/")
    wait(browser, lambda b: texts(b, "#held") != ["Loading…"])
    newest = (TODAY - dt.timedelta(days=1)).isoformat()
    assert texts(browser, "#held") == [
        f"3 reports · 2 services (ip:port, the newest report of each) · newest scan {newest}"
    ]
    examples = browser.find_elements(By.CSS_SELECTOR, "#landing .examples a")
    assert len(examples) == 5
    assert [unquote(link.get_attribute("href")).split("?expression=")[1] for link in examples][:2] == [
        "nginx",
        "protocol=ssh+and+not+port-tcp:22",
    ]
    links = {link.text: link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, "#landing a")}
    assert links["API documentation"] == f"{site.base}/docs"
    assert browser.find_element(By.CSS_SELECTOR, "header.top nav a[href='/docs']").text == "API docs"
    assert browser.find_element(By.ID, "syntax").get_attribute("open") is None
    browser.find_element(By.LINK_TEXT, "Expression syntax").click()
    assert browser.find_element(By.ID, "syntax").get_attribute("open") is not None
    examples[1].click()  # SSH on another port than 22: none here
    wait(browser, lambda b: texts(b, "#results .empty") == ["No report matches."])
    assert not browser.find_element(By.ID, "landing").is_displayed()
    browser.back()
    wait(browser, lambda b: b.find_element(By.ID, "landing").is_displayed())
    visit(browser, site, "/", token="not-a-token")
    wait(browser, lambda b: texts(b, "#held") == ["Paste an API token above to see what this server holds."])
    assert texts(browser, "#login-state")[0].startswith("Token refused")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    assert texts(browser, "#held") == ["Paste an API token above to see what this server holds."]
    assert texts(browser, "#login-state") == ["No token yet."]  # not asked for where no data is needed yet


def test_a_path_that_is_no_page_is_the_html_404(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/no/such/page?x=<b>")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Nothing at /no/such/page."
    assert browser.title == "Not found · Shoal"
    assert browser.find_element(By.LINK_TEXT, "API documentation").get_attribute("href") == f"{site.base}/docs"


def test_an_address_nothing_is_known_about(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/host/203.0.113.7")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#host-facts .nothing"))
    assert texts(browser, "#host-facts") == ["Nothing known about 203.0.113.7 · search its network (203.0.113.0/24)"]
    link = browser.find_element(By.LINK_TEXT, "search its network")
    assert unquote(link.get_attribute("href")).endswith("/?ip=203.0.113.0/24")
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#host section, #host .links')].filter(e => e.offsetParent).length"
    )
    assert shown == 0  # no empty sections under it
    link.click()
    wait(browser, lambda b: texts(b, "#results .empty") == ["No report matches."])


def test_an_address_known_only_by_its_ptr_name(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/host/192.0.2.82")
    wait(browser, lambda b: texts(b, "#host-names a"))
    assert texts(browser, "#host-names a") == ["host-2.example.net"]
    assert texts(browser, "#host-facts") == ["No service reported for this IP. What else is known:"]
    shown = browser.execute_script("return [...document.querySelectorAll('#host section')].filter(e => e.offsetParent)")
    assert shown == []  # no service, certificate, open port or logged certificate: no section at all


def facts(card: object) -> dict[str, str]:
    """A card's key facts, label → text."""
    labels = [dt.text for dt in card.find_elements(By.CSS_SELECTOR, ".key-items dt")]  # type: ignore[attr-defined]
    values = [dd.text for dd in card.find_elements(By.CSS_SELECTOR, ".key-items dd")]  # type: ignore[attr-defined]
    return dict(zip(labels, values, strict=True))


def test_cards_show_the_answer_plain_values_search_links_and_depth(browser: WebDriver, site: Served) -> None:
    visit(browser, site, f"/?ip={HOST}&most_recent=false")  # every dated report, w01 too
    wait(browser, lambda b: card_ids(b) == ["w02", "s01", "w01"])
    web, ssh = browser.find_elements(By.CSS_SELECTOR, "#results .card")[:2]
    answer = web.find_element(By.CSS_SELECTOR, "pre.answer").text.splitlines()
    assert answer[:3] == ["HTTP/1.1 200 OK", "Server: nginx/1.24.0", "Content-Type: text/html; charset=utf-8"]
    assert len(answer) == 9 and answer[-1] == "… 3 more lines (all items below)"  # the first 8 of 11 lines
    shown = facts(web)
    assert shown["valid"] == "2026-01-01 to 2026-06-30 (expired when seen)"
    assert shown["key"] == "rsa 2048 bits · sha256WithRSAEncryption"
    assert shown["organisation"].startswith(ORGANISATION) and shown["issuer"] == ISSUER  # whole, not cut
    assert (shown["JA4S"], shown["JA4X"], shown["favicon hash"]) == (JA4S, JA4X, FAVICON)
    links = {a.text: unquote(a.get_attribute("href")) for a in web.find_elements(By.CSS_SELECTOR, ".key-items a")}
    assert set(links) == {
        "nginx",
        ORGANISATION,
        "IP data: DB-IP",
        "64501",
        "DE",
        ISSUER,
        CERT_SHA256,
        JA4S,
        JA4X,
        FAVICON,
    }
    assert links[FAVICON].endswith(f'?expression=obj-murmur3;favicon="{FAVICON}"')
    assert links[JA4X].endswith(f'?expression=ja4x-hash="{JA4X}"')
    plain = web.find_elements(By.XPATH, ".//dd[not(.//a)]")
    assert {dd.text for dd in plain} >= {"https://portal.example.net/", "CN=portal.example.net", shown["valid"]}
    assert web.find_elements(By.CSS_SELECTOR, "header a") == web.find_elements(By.CSS_SELECTOR, "header .target")
    assert ssh.find_element(By.CSS_SELECTOR, "pre.answer").text == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
    keys = facts(ssh)["SSH host keys"]
    assert keys == f"ssh-ed25519 256 bits SHA256:{ED25519}\nssh-rsa 3072 bits SHA256:{RSA}"  # a key a line
    assert facts(ssh)["HASSH"] == HASSH
    edges = browser.execute_script(
        "return [...document.querySelectorAll('#results .key-items dt')].map(e => e.getBoundingClientRect().right)"
    )
    assert len(edges) > 20 and max(edges) - min(edges) < 1  # one label column down every card
    screenshot(browser, "cards")
    ssh.find_element(By.LINK_TEXT, f"SHA256:{ED25519}").click()
    wait(browser, lambda b: card_ids(b) == ["s01"])
    assert browser.find_element(By.ID, "expression").get_attribute("value") == (
        f'ssh-hostkey-sha256;ssh-ed25519="{ED25519}"'
    )


def whole_labels(browser: WebDriver, title: str) -> list[tuple[str, bool]]:
    """The values of one facet, each with whether it is shown whole (nothing cut off) and it has a tooltip."""
    script = """return [...document.querySelectorAll('#facets figure')]
        .filter(f => f.querySelector('figcaption strong').innerText === arguments[0])
        .flatMap(f => [...f.querySelectorAll('li:not(.other) .label')])
        .map(l => [l.innerText, l.scrollWidth <= l.clientWidth && l.title === l.innerText])"""
    return [tuple(pair) for pair in browser.execute_script(script, title)]


@pytest.mark.parametrize("width", [1366, PHONE_WIDTH])
def test_facets_show_whole_names(browser: WebDriver, site: Served, width: int) -> None:
    browser.set_window_size(width, 900)
    visit(browser, site, f"/?ip={HOST}")
    wait(browser, lambda b: whole_labels(b, "Organisations"))
    assert whole_labels(browser, "Organisations") == [(ORGANISATION, True)]
    visit(browser, site, "/?dataset=ct")
    wait(browser, lambda b: whole_labels(b, "Logs"))
    assert whole_labels(browser, "Logs") == [(CT_LOG, True)]
    assert whole_labels(browser, "Issuers") == [(ISSUER, True)]
    screenshot(browser, f"facets-ct-{width}")


def test_the_host_page_shows_certificate_depth(browser: WebDriver, site: Served) -> None:
    visit(browser, site, f"/host/{HOST}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#certificates .certificate"))
    certificate = browser.find_element(By.CSS_SELECTOR, "#certificates .certificate")
    shown = dict(
        zip(
            [dt.text for dt in certificate.find_elements(By.TAG_NAME, "dt")],
            [dd.text for dd in certificate.find_elements(By.TAG_NAME, "dd")],
            strict=True,
        )
    )
    assert shown["valid"] == "2026-01-01 to 2026-06-30 (expired when seen)"
    assert shown["key"] == "rsa 2048 bits · sha256WithRSAEncryption"
    assert shown["JA4X"] == JA4X


def facet_counts(browser: WebDriver) -> dict[str, list[tuple[str, str]]]:
    script = """return Object.fromEntries([...document.querySelectorAll('#facets figure')].map(f =>
        [f.querySelector('figcaption strong').innerText,
         [...f.querySelectorAll('li:not(.other)')].map(li =>
            [li.querySelector('.label').innerText, li.querySelector('.n').innerText])]))"""
    return {title: [tuple(pair) for pair in pairs] for title, pairs in browser.execute_script(script).items()}


def test_reverse_dns_facets_count_networks_not_names(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/?dataset=rdns")
    wait(browser, lambda b: len(facet_counts(b)) == 3)
    assert facet_counts(browser) == {
        "Name servers": [("ns1.example.net", "3")],
        "Networks (AS)": [("64501", "2"), ("64502", "1")],
        "Organisations": [(ORGANISATION, "2"), ("Other Net", "1")],
    }


def test_the_options_fold_on_a_phone(browser: WebDriver, site: Served) -> None:
    visit(browser, site, "/")
    assert browser.find_element(By.ID, "advanced").get_attribute("open") is not None  # a wide screen: open
    assert browser.find_element(By.ID, "ip").is_displayed()
    browser.set_window_size(PHONE_WIDTH, 844)
    visit(browser, site, "/")
    advanced = browser.find_element(By.ID, "advanced")
    assert advanced.get_attribute("open") is None and not browser.find_element(By.ID, "ip").is_displayed()
    top = browser.execute_script("return document.getElementById('landing').getBoundingClientRect().top")
    assert top < 844 / 2  # the form leaves most of the first screen to what comes after it
    advanced.find_element(By.TAG_NAME, "summary").click()
    assert browser.find_element(By.ID, "ip").is_displayed()
    visit(browser, site, f"/?ip={HOST}&most_recent=false")  # options set (the box starts ticked): shown, counted
    wait(browser, lambda b: card_ids(b))
    assert browser.find_element(By.ID, "advanced").get_attribute("open") is not None
    assert browser.find_element(By.ID, "advanced-state").text == "(2 set)"


PAGES = {
    "landing": ("/", "#held:not(:empty)"),
    "search": (f"/?ip={HOST}", "#facets figure"),
    "host": (f"/host/{HOST}", "#services .card"),
    "host-unknown": ("/host/203.0.113.7", "#host-facts .nothing"),
    "network": ("/cidr/192.0.2.0/24", "#network-facts"),
    "not-found": ("/no/such/page", "h1"),
}


@pytest.mark.parametrize("width", [1366, PHONE_WIDTH])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_at_a_desktop_and_a_phone_width(browser: WebDriver, site: Served, page: str, width: int) -> None:
    path, drawn = PAGES[page]
    browser.set_window_size(width, 900)
    visit(browser, site, path)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, drawn))
    assert overflows(browser) == []  # nothing wider than the window
    screenshot(browser, f"{page}-{width}")
