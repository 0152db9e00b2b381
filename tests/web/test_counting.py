"""The web's counts and facets are over services by default (issue 23, item 2), in real Chromium: on a store
where one service has 30 dated reports, the count line and the facets equal a plain-Python recount of the
services (the newest report of each) and hosts; unticking the box counts every dated report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.cli.test_counting import REPORTS, newest_of_each_service, tally
from tests.web.browsing import no_script_errors, screenshot, texts, visit, wait
from tests.web.server import Served, serve

__all__ = ["no_script_errors"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("counting"), REPORTS) as running:
        yield running


def facet(browser: WebDriver, title: str) -> dict[str, int]:
    script = """return [...document.querySelectorAll('#facets figure')]
        .filter(f => f.querySelector('figcaption strong').innerText === arguments[0])
        .flatMap(f => [...f.querySelectorAll('li:not(.other)')])
        .map(li => [li.querySelector('.label').innerText, li.querySelector('.n').innerText])"""
    return {value: int(n.replace(",", "")) for value, n in browser.execute_script(script, title)}


def test_counts_and_facets_are_services_unless_every_report_is_asked(browser: WebDriver, site: Served) -> None:
    services = newest_of_each_service(REPORTS)
    hosts = len({report.ip for report in REPORTS})
    visit(browser, site, "/?ip=192.0.2.0/24", site.enterprise_token)
    wait(browser, lambda b: texts(b, "#results .count") == [f"{hosts} hosts · {len(services)} services · page 1 of 1"])
    wait(browser, lambda b: facet(b, "Countries") == tally(services, "geo-country"))
    assert facet(browser, "Ports") == tally(services, "port-tcp")
    assert texts(browser, "#facets .facets-counted") == ["Counts of services (the newest report of each)"]
    screenshot(browser, "counting-services")
    browser.find_element(By.ID, "most_recent").click()  # untick: every dated report
    browser.find_element(By.CSS_SELECTOR, "#search button[type=submit]").click()
    wait(browser, lambda b: texts(b, "#results .count") == [f"{hosts} hosts · {len(REPORTS)} reports · page 1 of 1"])
    assert "most_recent=false" in browser.current_url
    wait(browser, lambda b: facet(b, "Countries") == tally(REPORTS, "geo-country"))
    assert facet(browser, "Ports") == tally(REPORTS, "port-tcp")
    screenshot(browser, "counting-reports")
    visit(browser, site, "/?ip=192.0.2.0/24")  # a normal token gets the hosts too (the page's host_count)
    wait(browser, lambda b: texts(b, "#results .count") == [f"{hosts} hosts · {len(services)} services · page 1 of 1"])
