"""The web UI in a real browser: login, search, paging, error highlight, charts, host and network pages, export.

Each page is saved as a screenshot (see tests/web/browsing.py) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import orjson
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.web.browsing import card_ids, downloaded, no_script_errors, screenshot, texts, visit, wait
from tests.web.server import PAGING_REPORTS, Served

__all__ = ["no_script_errors"]  # the autouse fixture, for this module's tests


def test_login_then_search_with_the_keyboard(browser: WebDriver, served: Served) -> None:
    browser.get(f"{served.base}/")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    assert browser.find_element(By.ID, "login-state").text == "No token yet."
    browser.find_element(By.ID, "token").send_keys(served.token, Keys.ENTER)
    assert browser.find_element(By.ID, "login-state").text == "Token saved in this browser."
    browser.find_element(By.TAG_NAME, "body").send_keys("/")  # the shortcut to the expression box
    active = browser.switch_to.active_element
    assert active.get_attribute("id") == "expression"
    active.send_keys("protocol=ssh", Keys.ENTER)
    wait(browser, lambda b: card_ids(b) == ["r05", "r04"])  # timing is measured, not asserted: docs/web.md
    assert "expression=protocol%3Dssh" in browser.current_url
    assert texts(browser, "#results .count") == ["2 hosts · 2 services · page 1 of 1"]
    first = browser.find_element(By.CSS_SELECTOR, "#results .card")
    assert first.find_element(By.CSS_SELECTOR, ".target").text == "10.1.2.4:2222"
    assert first.find_element(By.CSS_SELECTOR, ".protocol").text == "ssh"
    assert "Tencent Cloud Computing" in first.find_element(By.CSS_SELECTOR, ".key-items").text
    first.find_element(By.CSS_SELECTOR, "details summary").click()
    rows = wait(browser, lambda _: first.find_elements(By.CSS_SELECTOR, "table.items tbody tr"))  # on "toggle"
    assert [row.find_elements(By.TAG_NAME, "td")[0].text for row in rows] == [
        "ip",
        "port-tcp",
        "server-banner",
        "entity",
        "geo-country",
    ]
    screenshot(browser, "search")


def test_paging_and_the_back_button(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?expression=title%3Apaging")
    wait(browser, lambda b: len(card_ids(b)) == 100)
    assert texts(browser, "#results .count") == [f"50 hosts · {PAGING_REPORTS} services · page 1 of 2"]
    assert browser.find_element(By.ID, "previous").get_attribute("disabled") is not None
    browser.find_element(By.ID, "next").click()
    wait(browser, lambda b: len(card_ids(b)) == PAGING_REPORTS - 100)
    assert texts(browser, "#results .count") == [f"50 hosts · {PAGING_REPORTS} services · page 2 of 2"]  # kept
    assert "page=1" in browser.current_url
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
    browser.back()
    wait(browser, lambda b: len(card_ids(b)) == 100)
    assert card_ids(browser)[0] == "p139"  # newest first: 2026-10-20, then ids descending


def test_the_syntax_help_offers_ranges_and_the_switchers_names(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/#syntax")
    help_box = browser.find_element(By.ID, "syntax")
    assert help_box.get_attribute("open") is not None
    assert "org: → entity:" in browser.find_element(By.ID, "foreign-names").text
    screenshot(browser, "syntax-help")
    help_box.find_element(By.XPATH, ".//button[text()='cert-not-after<2027-01-01']").click()
    box = browser.find_element(By.ID, "expression")
    assert box.get_attribute("value") == "cert-not-after<2027-01-01"
    box.send_keys(Keys.ENTER)
    wait(browser, lambda b: card_ids(b) == ["r15", "r01"])


def test_paging_scrolls_to_the_top(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?expression=title%3Apaging")
    wait(browser, lambda b: len(card_ids(b)) == 100)
    browser.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert browser.execute_script("return window.scrollY") > 1000
    browser.find_element(By.ID, "next").click()
    wait(browser, lambda b: len(card_ids(b)) == PAGING_REPORTS - 100)
    wait(browser, lambda b: b.execute_script("return window.scrollY") == 0)
    assert browser.switch_to.active_element.get_attribute("id") == "results"


def test_a_syntax_error_highlights_the_span(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?expression=" + quote("title:london and (port-tcp:80"))
    box = wait(browser, lambda b: b.find_element(By.ID, "query-error") if texts(b, "#query-error pre") else None)
    assert "'(' is never closed" in box.text
    assert "add the missing ')'" in box.text
    highlight = box.find_element(By.CSS_SELECTOR, "pre.highlight")
    assert highlight.find_element(By.TAG_NAME, "mark").text == "("
    before = browser.execute_script("return arguments[0].firstChild.textContent", highlight)
    assert before == "title:london and "
    expression = browser.find_element(By.ID, "expression")
    assert expression.get_attribute("aria-invalid") == "true"
    assert browser.switch_to.active_element == expression
    assert browser.execute_script("return arguments[0].selectionStart", expression) == len("title:london and ")
    assert card_ids(browser) == []
    screenshot(browser, "error")


def test_a_bad_parameter_marks_its_field(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?ip=not-an-ip")
    wait(browser, lambda b: b.find_element(By.ID, "ip").get_attribute("aria-invalid") == "true")
    assert "'ip' must be an IP address or CIDR" in browser.find_element(By.ID, "query-error").text


def bars(browser: WebDriver) -> list[tuple[str, str]]:
    script = """return [...document.querySelectorAll('#summary .bars li')]
        .map(li => [li.querySelector('.label').innerText, li.querySelector('.n').innerText])"""
    return [tuple(pair) for pair in browser.execute_script(script)]


def test_a_summary_is_a_chart_and_a_value_refines_the_query(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?summarize=port-tcp&summary_limit=5&most_recent=false", served.enterprise_token)
    wait(browser, lambda b: len(bars(b)) == 6)
    assert bars(browser) == [("8080", "51"), ("8081", "50"), ("8082", "50"), ("443", "4"), ("80", "3"), ("other", "8")]
    caption = browser.find_element(By.CSS_SELECTOR, "#summary figcaption").text
    assert caption == "port-tcp · 5 values · other 8 · cardinality 12"
    widths = [
        browser.execute_script("return arguments[0].getBoundingClientRect().width", fill)
        for fill in browser.find_elements(By.CSS_SELECTOR, "#summary .fill")
    ]
    assert widths[0] > widths[3] > widths[4] > 0
    screenshot(browser, "summary")
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, "#summary button.bar") if b.text.startswith("443"))
    button.send_keys(Keys.ENTER)  # keyboard: focus the bar, press Enter
    wait(browser, lambda b: sorted(card_ids(b)) == ["r01", "r02", "r13", "r15"])
    assert browser.find_element(By.ID, "expression").get_attribute("value") == "port-tcp:443"
    wait(browser, lambda b: bars(b) == [("443", "4")])


def test_a_normal_token_gets_the_chart_without_cardinality(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?expression=product-tag%3Anginx&summarize=geo-country&most_recent=false")
    wait(browser, lambda b: bars(b) == [("GB", "1"), ("US", "1")])
    caption = browser.find_element(By.CSS_SELECTOR, "#summary figcaption").text
    assert caption.endswith("cardinality: enterprise tokens")


def test_host_page(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/host/8.8.8.8")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#ports table"))
    facts = browser.find_element(By.ID, "host-facts").text
    assert facts == "3 reports · first seen 2026-11-01 · last seen 2026-11-03 · 2 ports: 53, 443"
    grid = browser.find_element(By.CSS_SELECTOR, "#ports table")
    assert texts(browser, "#ports thead th") == ["port", "11-01", "11-02", "11-03"]
    rows = {row.find_element(By.TAG_NAME, "th").text: row for row in grid.find_elements(By.CSS_SELECTOR, "tbody tr")}
    assert sorted(rows) == ["443", "53"]
    assert [cell.text for cell in rows["443"].find_elements(By.TAG_NAME, "td")] == ["1", "1", ""]
    assert [cell.text for cell in rows["53"].find_elements(By.TAG_NAME, "td")] == ["", "", "1"]
    certificate = browser.find_element(By.ID, "certificates").text
    assert "CN=www.ox.ac.uk, O=University of Oxford, C=GB" in certificate
    assert "www.ox.ac.uk" in certificate and "8.8.4.4" in certificate
    assert card_ids(browser, "#services > .card") == ["r03", "r02"]  # one per port, by port, its newest
    screenshot(browser, "host")


def test_network_heat_map(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/cidr/10.9.0.0/24?from=2026-11-01")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#heatmap table"))
    assert texts(browser, "#heatmap thead th") == ["IP", "502", "8000", "37777"]
    grid = {
        row.find_element(By.TAG_NAME, "th").text: [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr")
    }
    assert grid == {
        "10.9.0.1": ["1", "", ""],
        "10.9.0.2": ["", "", "1"],
        "10.9.0.3": ["", "", "1"],
        "10.9.0.4": ["", "1", ""],
    }
    screenshot(browser, "cidr")
    browser.find_element(By.LINK_TEXT, "10.9.0.2").click()
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#services .card"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "10.9.0.2"


def test_the_jump_box_opens_a_host_or_a_network(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/")
    browser.find_element(By.ID, "jump-target").send_keys("10.9.0.0/24", Keys.ENTER)
    wait(browser, lambda b: b.current_url.endswith("/cidr/10.9.0.0/24"))
    browser.find_element(By.ID, "jump-target").send_keys("2001:db8::10", Keys.ENTER)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#services .card"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "2001:db8::10"


def test_export_downloads_every_match(browser: WebDriver, served: Served, tmp_path: Path) -> None:
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    visit(browser, served, "/?expression=title%3Apaging")
    wait(browser, lambda b: len(card_ids(b)) == 100)
    browser.find_element(By.CSS_SELECTOR, "#export button[data-format='ndjson']").click()
    ndjson = wait(browser, downloaded(tmp_path, "shoal-protocols-title-paging-{day}.ndjson"))
    reports = [orjson.loads(line) for line in ndjson.read_bytes().splitlines()]
    assert len(reports) == PAGING_REPORTS  # every match, past the first page
    assert reports[0]["id"] == "p139" and {report["id"] for report in reports} == {f"p{n:03d}" for n in range(150)}
    assert browser.find_element(By.ID, "export-state").text == "Downloading 150 reports as NDJSON."
    screenshot(browser, "export")
    browser.find_element(By.CSS_SELECTOR, "#export button[data-format='csv']").click()
    lines = wait(browser, downloaded(tmp_path, "shoal-protocols-title-paging-{day}.csv")).read_text().splitlines()
    assert lines[0].startswith("date,id,ip,port,protocol,title,")
    assert len(lines) == 1 + PAGING_REPORTS
    assert lines[1].startswith("2026-10-20,p139,198.51.100.39,8082,http,paging test 139,")
