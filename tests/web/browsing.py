"""What the browser tests share: waiting, visiting with a token, reading the page, screenshots, the requests
the browser made, and console errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.server import Served

T = TypeVar("T")
PHONE_WIDTH = 390
DESKTOP = (1280, 1000)


def wait(browser: WebDriver, condition: Callable[[WebDriver], T], timeout: float = 10) -> T:
    return WebDriverWait(browser, timeout).until(condition)


def visit(browser: WebDriver, served: Served, path: str, token: str | None = None) -> None:
    """Open ``path`` with ``token`` (default: the normal one) saved in localStorage."""
    if not browser.current_url.startswith(served.base):
        browser.get(f"{served.base}/static/shoal.css")
    browser.execute_script("localStorage.setItem('shoal.token', arguments[0])", token or served.token)
    browser.get(served.base + path)


def texts(browser: WebDriver, selector: str) -> list[str]:
    """The visible text of every match, read in one script (no stale elements while a page re-renders)."""
    return browser.execute_script("return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)", selector)


def card_ids(browser: WebDriver, selector: str = "#results .card") -> list[str]:
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.dataset.id)"
    return browser.execute_script(script, selector)


def screenshot(browser: WebDriver, name: str, full_page: bool = True) -> Path:
    """Save the page (the whole length of it) as a PNG in the session's screenshot folder."""
    folder: Path = browser.screenshot_folder  # type: ignore[attr-defined]
    path = folder / f"{name}.png"
    width, height = browser.get_window_size().values()
    if full_page:
        needed = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(max(height, needed + 140), 6000))
    browser.save_screenshot(str(path))
    browser.set_window_size(width, height)
    print(f"screenshot: {path}")
    return path


def downloaded(folder: Path, name: str) -> Callable[[WebDriver], Path | None]:
    """The file ``name`` (``{day}``: the date the server named it with) once the browser has written it."""
    pattern = re.compile(re.escape(name).replace(re.escape("{day}"), r"\d{4}-\d{2}-\d{2}") + "$")

    def done(_: WebDriver) -> Path | None:
        found = [path for path in folder.iterdir() if pattern.match(path.name)]
        return found[0] if len(found) == 1 and not list(folder.glob("*.crdownload")) else None

    return done


def overflows(browser: WebDriver) -> list[str]:
    """Elements wider than the window (the page scrolls sideways because of them), by tag#id.class; the
    boxes meant to scroll sideways (heat maps, the phone's row of facets, item tables) do not count."""
    script = """
      const width = document.documentElement.clientWidth;
      return [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > width + 1 && getComputedStyle(e).position !== 'fixed'
                     && !e.closest('.grid-wrap, .heat-scroll, .facets, table.items, pre'))
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
    """
    return browser.execute_script(script)


def requested_urls(browser: WebDriver) -> list[str]:
    """Every URL the browser asked for since the last call (Chrome's performance log), navigations included."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
            urls.append(message["params"].get("documentURL", ""))
        elif message["method"] == "Page.frameNavigated":
            urls.append(message["params"]["frame"]["url"])
    return urls


def script_errors(browser: WebDriver) -> list[str]:
    """Console errors other than the HTTP statuses the pages expect (400 for a bad query, 403 for cardinality)."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]


@pytest.fixture(autouse=True)
def no_script_errors(browser: WebDriver) -> Iterator[None]:
    """Every browser test: no script error on any page it opened (imported by each test module)."""
    browser.get_log("browser")
    browser.set_window_size(*DESKTOP)
    yield
    assert script_errors(browser) == []
