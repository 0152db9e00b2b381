"""The host page's other sources (issue 21, item 9), in real Chromium against a real ``shoal serve`` whose
registration data came in through ``shoal import`` of an RPSL dump: who holds the address (``ip/summary``:
registered network and domain), the names pointing at it (``domain/fdns``), the domains whose mail it receives
(``domain/mx``) and its favicons (``scan/favicons``, the newest fetch of each URL), whose hash searches the
services serving the same icon. An address known only by its registration is no empty page.

The screenshots (``host-sources-<width>.png``, ``host-registered-<width>.png``) were looked at.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from shoal.model import FAVICONS, FDNS, MX, RDNS, Item, Report
from shoal.store.embedded import EmbeddedStore
from tests.registration import dumps
from tests.web.browsing import PHONE_WIDTH, card_ids, no_script_errors, overflows, screenshot, texts, visit, wait
from tests.web.server import Served, serve

__all__ = ["no_script_errors"]

TODAY = dt.datetime.now(dt.UTC).date()
HOST = "192.0.2.80"
REGISTERED_ONLY = "192.0.2.200"  # in the registered network and the announced prefix, in no dataset
UNKNOWN = "203.0.113.9"  # in no registered network either
FAVICON = "116323821"
OLD_FAVICON = "-1234567"
PORTAL_FAVICON = "-20000001"
ICON_URL = "https://www.example.org/favicon.ico"
PORTAL_ICON_URL = "https://192.0.2.80:8443/static/icon.png"


def day(days_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=days_ago)


def favicon(report_id: str, days_ago: int, url: str, port: str, murmur3: str) -> Report:
    items = (
        Item("url", url, "", True),
        Item("ip", HOST, "", True),
        Item("port-tcp", port, "", True),
        Item("obj-murmur3", murmur3, "favicon"),
        Item("obj-sha256", report_id[-1] * 64, "favicon"),
    )
    return Report(day(days_ago), items, report_id, FAVICONS)


def forward(report_id: str, name: str, address: str) -> Report:
    return Report(day(2), (Item("host", name, "", True), Item("ip", address, "dns-a")), report_id, FDNS)


def mail(report_id: str, name: str, exchange: str) -> Report:
    items = (Item("host", name, "", True), Item("host", exchange, "dns-mx"), Item("dns-mx", f"10 {exchange}"))
    return Report(day(2), items, report_id, MX)


WEB_REPORT = Report(
    day(1),
    (
        Item("ip", HOST, "", True),
        Item("port-tcp", "443", "", True),
        Item("server-banner", "HTTP/1.1 200 OK", "https"),
        Item("title", "Example"),
        Item("obj-murmur3", FAVICON, "favicon"),
    ),
    "w01",
)
REPORTS = [
    WEB_REPORT,
    favicon("f01", 5, ICON_URL, "443", OLD_FAVICON),  # the same URL fetched again later: only f02 is shown
    favicon("f02", 1, ICON_URL, "443", FAVICON),
    favicon("f03", 3, PORTAL_ICON_URL, "8443", PORTAL_FAVICON),
    forward("d01", "www.example.org", HOST),
    forward("d02", "mail.example.org", HOST),
    forward("d03", "other.example.org", "192.0.2.99"),
    mail("m01", "example.org", "mail.example.org"),
    mail("m02", "example.net", "mx.elsewhere.example"),
    Report(day(2), (Item("ip", HOST, "", True), Item("host", "host-80.dsl.example.co.uk", "dns-ptr")), "n01", RDNS),
]
# Example Networks holds 192.0.2.0/24 (whois) and announces 192.0.2.192/26 from its AS (a route object).
DUMP = dumps.rpsl(
    dumps.ORGANISATION,
    dumps.AUTNUM,
    dumps.INETNUM.replace("198.51.100.0 - 198.51.100.255", "192.0.2.0 - 192.0.2.255"),
    dumps.ROUTE.replace("203.0.113.0/24", "192.0.2.192/26").replace("AS64501", "AS64500"),
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("host-sources")
    store = EmbeddedStore(data)
    store.ingest(REPORTS)
    store.close()
    dump = data.parent / "test.db.inetnum"
    dump.write_bytes(DUMP)
    command = [sys.executable, "-m", "shoal", "import", "--data", str(data), str(dump)]
    imported = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "imported 4" in imported.stderr + imported.stdout
    with serve(data, ()) as running:
        yield running


def summary(browser: WebDriver) -> dict[str, str]:
    """The header's rows, label → text."""
    labels, values = texts(browser, "#host-summary dt"), texts(browser, "#host-summary dd")
    return dict(zip(labels, values, strict=True))


def row_links(browser: WebDriver, label: str) -> list[str]:
    """The links of one header row (the ", " between them is drawn by the style sheet, not text)."""
    script = """return [...document.querySelectorAll('#host-summary dt')].filter(dt => dt.innerText === arguments[0])
        .flatMap(dt => [...dt.nextElementSibling.querySelectorAll('a')].map(a => a.innerText))"""
    return browser.execute_script(script, label)


def favicon_cards(browser: WebDriver) -> list[dict[str, str]]:
    script = """return [...document.querySelectorAll('#favicons .favicon')].map(card => Object.fromEntries(
        [...card.querySelectorAll('dt')].map(dt => [dt.innerText, dt.nextElementSibling.innerText])))"""
    return browser.execute_script(script)


@pytest.mark.parametrize("width", [1366, PHONE_WIDTH])
def test_registration_names_mail_and_favicons(browser: WebDriver, site: Served, width: int) -> None:
    browser.set_window_size(width, 900)
    visit(browser, site, f"/host/{HOST}")
    wait(browser, lambda b: "Registration" in summary(b) and b.find_elements(By.CSS_SELECTOR, "#favicons .favicon"))
    shown = summary(browser)
    assert shown["Registration"] == "Example Networks B.V. · 192.0.2.0/24 (whois)"
    assert shown["Domain"] == "example.co.uk (reverse DNS)"  # rdns before whois, as Driftnet's example
    assert sorted(row_links(browser, "Names pointing here")) == ["mail.example.org", "www.example.org"]
    assert row_links(browser, "Receives mail for") == ["example.org"]  # its exchanger is mail.example.org
    hrefs = {
        a.text: unquote(a.get_attribute("href")) for a in browser.find_elements(By.CSS_SELECTOR, "#host-summary a")
    }
    assert hrefs["192.0.2.0/24"] == f"{site.base}/cidr/192.0.2.0/24"
    assert hrefs["example.co.uk"].endswith("/?expression=host:example.co.uk")
    assert hrefs["example.org"].endswith('/?expression=host="example.org"')
    assert "IP data: DB-IP" not in hrefs  # a whois name is the registry's, not DB-IP's
    assert sorted(favicon_cards(browser), key=lambda card: card["URL"]) == [
        {"URL": PORTAL_ICON_URL, "hash": PORTAL_FAVICON, "SHA-256": "3" * 64, "port": "8443", "seen": str(day(3))},
        {"URL": ICON_URL, "hash": FAVICON, "SHA-256": "2" * 64, "port": "443", "seen": str(day(1))},
    ]
    assert overflows(browser) == []
    screenshot(browser, f"host-sources-{width}")


def test_a_favicon_hash_searches_the_services_serving_it(browser: WebDriver, site: Served) -> None:
    visit(browser, site, f"/host/{HOST}")
    link = wait(browser, lambda b: b.find_elements(By.LINK_TEXT, FAVICON))[0]
    assert unquote(link.get_attribute("href")).endswith(f'/?expression=obj-murmur3;favicon="{FAVICON}"')
    link.click()
    wait(browser, lambda b: card_ids(b) == ["w01"])


@pytest.mark.parametrize("width", [1366, PHONE_WIDTH])
def test_an_address_known_only_by_its_registration(browser: WebDriver, site: Served, width: int) -> None:
    browser.set_window_size(width, 900)
    visit(browser, site, f"/host/{REGISTERED_ONLY}")
    wait(browser, lambda b: "Registration" in summary(b))
    assert texts(browser, "#host-facts") == ["No service reported for this IP. What else is known:"]
    shown = summary(browser)
    # the aut-num's organisation here, but a BGP name may be the bundled table's (DB-IP's): the page cannot tell
    assert shown["Registration"] == "Example Networks B.V. · 192.0.2.192/26 (BGP)IP data: DB-IP"
    assert row_links(browser, "Registration") == ["192.0.2.192/26", "IP data: DB-IP"]
    assert shown["Domain"] == "example.nl (whois)"  # the organisation's e-mail
    visible = browser.execute_script(
        "return [...document.querySelectorAll('#host section')].filter(e => e.offsetParent)"
    )
    assert visible == []  # no service, port, favicon or certificate: no empty section
    assert overflows(browser) == []
    screenshot(browser, f"host-registered-{width}")


def test_an_address_outside_every_registration_is_still_unknown(browser: WebDriver, site: Served) -> None:
    visit(browser, site, f"/host/{UNKNOWN}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#host-facts .nothing"))
    assert texts(browser, "#host-summary dt") == []
