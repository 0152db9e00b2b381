"""A real headless Chromium (Debian's chromium + chromium-driver, through Selenium) against a real server.

Screenshots go to ``$SHOAL_SCREENSHOTS`` or else the session's temporary directory (``screenshots*/`` under
pytest's basetemp; the path is printed by ``tests.web.browsing.screenshot``), for a person to look at.

Without a browser the web tests are skipped on a workstation, and fail in CI (``CI=true``): the suite must
not pass there by testing nothing. ``scripts/install-browser.sh`` installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from shoal.api.app import create_app
from shoal.store.base import Store
from shoal.tokens import TokenStore
from tests.web.server import Served, serve

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


def no_browser(reason: str) -> NoReturn:
    message = f"{reason}: run scripts/install-browser.sh"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def client(api_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app in-process, with a token."""
    tokens = TokenStore(tmp_path_factory.mktemp("web-tokens"))
    with TestClient(create_app(api_store, tokens), raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {tokens.create('pages')}"
        yield test_client


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("web")) as running:
        yield running


def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``$SHOAL_SCREENSHOTS`` if set (kept for a person or CI to collect), else a folder under pytest's basetemp
    (of which pytest keeps the last three runs' only)."""
    chosen = os.environ.get("SHOAL_SCREENSHOTS")
    if not chosen:
        return tmp_path_factory.mktemp("screenshots")
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        no_browser("chromium and chromedriver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})  # performance: requests
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.screenshot_folder = screenshot_folder(tmp_path_factory)  # type: ignore[attr-defined]
    yield driver
    driver.quit()
