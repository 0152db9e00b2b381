"""The alerts page in a real browser, against a real ``shoal serve --webhook-allow``: "Watch this search" on a
result page opens it with the search filled in; a refused webhook says why; an alert is made, sends a test
event to a receiver on loopback, lists its delivery, and is deleted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.alerts.receiver import Receiver
from tests.api.serving import running_server
from tests.corpus import CORPUS
from tests.web.browsing import no_script_errors, screenshot, texts, visit, wait
from tests.web.server import Served

__all__ = ["no_script_errors"]  # the autouse fixture, for this module's tests


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def watching(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data: Path = tmp_path_factory.mktemp("alerts-web")
    store = EmbeddedStore(data)
    store.ingest(CORPUS)
    store.close()
    token = TokenStore(data).create("web")
    with running_server(data, "--webhook-allow", "127.0.0.1/32") as running:
        yield Served(running.base, token, token, data)


def test_watch_a_search_then_test_and_delete_the_alert(
    browser: WebDriver, watching: Served, receiver: Receiver
) -> None:
    visit(browser, watching, "/?expression=protocol%3Dssh")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#results .card"))
    browser.find_element(By.ID, "watch").click()
    wait(browser, lambda b: b.current_url.startswith(f"{watching.base}/alerts"))
    assert browser.find_element(By.ID, "alert-query").get_attribute("value") == "protocol=ssh"
    browser.find_element(By.ID, "alert-name").send_keys("ssh")
    browser.find_element(By.ID, "alert-webhook").send_keys("http://10.0.0.1/hook")
    browser.find_element(By.CSS_SELECTOR, "#alert-form button[type=submit]").click()
    wait(browser, lambda b: "not a public address" in b.find_element(By.ID, "alert-error").text)

    browser.find_element(By.ID, "alert-webhook").clear()
    browser.find_element(By.ID, "alert-webhook").send_keys(receiver.url)
    browser.find_element(By.CSS_SELECTOR, "#alert-form button[type=submit]").click()
    wait(browser, lambda b: texts(b, "#alerts h2") == ["ssh"])
    assert texts(browser, "#alerts-state") == ["1 alert"]
    card = browser.find_element(By.CSS_SELECTOR, "#alerts .card")
    card.find_element(By.XPATH, ".//button[text()='Send a test']").click()
    wait(browser, lambda _: len(receiver.posts) == 1, timeout=30)  # the server polls its queue every second
    card.find_element(By.CSS_SELECTOR, "details summary").click()
    wait(browser, lambda b: "test · 0 services · delivered" in b.find_element(By.CSS_SELECTOR, "#alerts ul").text)
    screenshot(browser, "alerts")
    card.find_element(By.XPATH, ".//button[text()='Delete']").click()
    wait(browser, lambda b: texts(b, "#alerts-state") == ["0 alerts"])
