"""The web UI's history views, in real Chromium: the line chart of the matches over time above the search
results (summary_interval), and the host page's changes since a day (scan/protocols/diff)."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.web.browsing import no_script_errors, screenshot, texts, visit, wait
from tests.web.server import Served

__all__ = ["no_script_errors"]


def test_a_line_chart_of_the_matches_per_day_above_the_results(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/?expression=port-tcp:443&from=2026-10-31&to=2026-11-08")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#trend .trend circle"))
    chart = browser.find_element(By.CSS_SELECTOR, "#trend .trend")
    assert chart.get_attribute("data-interval") == "day"
    titles = browser.execute_script(
        "return [...document.querySelectorAll('#trend circle title')].map(t => t.textContent)"
    )
    assert titles[:3] == ["2026-10-31 to 2026-10-31: 0", "2026-11-01 to 2026-11-01: 1", "2026-11-02 to 2026-11-02: 1"]
    assert len(titles) == 9 and "highest" in texts(browser, "#trend figcaption")[0]
    trend_top = browser.find_element(By.ID, "trend").rect["y"]
    assert trend_top < browser.find_element(By.ID, "results").rect["y"]
    screenshot(browser, "search-trend", full_page=False)


def test_the_host_page_lists_what_changed_since_a_day(browser: WebDriver, served: Served) -> None:
    visit(browser, served, "/host/8.8.8.8")
    wait(browser, lambda b: texts(b, "#changes li"))  # the default span: everything was last seen before it
    assert all(line.startswith("closed") for line in texts(browser, "#changes > ul > li"))
    browser.execute_script("document.getElementById('changes-since').value = '2026-11-02'")
    browser.find_element(By.CSS_SELECTOR, "#changes-form button").click()
    wait(browser, lambda b: any(line.startswith("changed") for line in texts(b, "#changes > ul > li")))
    lines = texts(browser, "#changes > ul > li")
    assert lines[0] == "opened 53 (first seen 2026-11-03)"
    assert lines[1].startswith("changed 443 (2026-11-01 → 2026-11-02)")
    assert "title: University of London → University London" in lines[1]
    screenshot(browser, "host-changes")
