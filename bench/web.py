#!/usr/bin/env python3
"""Web UI speed: time from navigation to the data on screen, in headless Chromium, against ``shoal serve``.

    python bench/web.py --data DIR [--runs 5]

DIR holds a store (e.g. ``bench/generate.py --count 100000 --seed 1`` imported with ``shoal import``); a
``shoal serve`` is started on it (a free port, an enterprise token) and each page is opened ``--runs``
times, interleaved, after one warm-up round. A page is "on screen" when its script has drawn what it
fetched (search: the cards and every facet; a chart's bars; host: the port cards and the heat map; network:
the heat map; the landing page: what the server holds). The floor, in the same rounds: opening a static file
(no API call). Prints a markdown table for docs/web.md. Needs chromium and chromedriver
(scripts/install-browser.sh). Not run by the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PYTHON = sys.executable
DRAWN = {  # a page's "data on screen" test, in JavaScript
    "search": "return document.querySelector('#results .card, #results .empty') !== null"
    " && document.querySelectorAll('#facets .facet-slot').length > 0"
    " && document.querySelectorAll('#facets .facet-slot:empty').length === 0",
    "chart": "return document.querySelectorAll('#summary .bars li').length > 0"
    " && document.querySelector('#results .card') !== null",
    "host": "return document.querySelector('#ports table') !== null"
    " && document.querySelector('#services .card') !== null",
    "network": "return document.querySelector('#heatmap table') !== null",
    "static": "return document.readyState === 'complete'",
    "landing": "return document.getElementById('held')?.textContent.includes('newest scan')",
}
PAGES = [
    ("static file (the floor: no API call)", "/static/shoal.css", "static"),
    ("landing page (reports, services: one `most_recent` count, newest scan)", "/", "landing"),
    ("search `product-tag:nginx` (100 cards, 5 facets)", "/?expression=product-tag%3Anginx", "search"),
    ("search everything + chart by `port-tcp`", "/?summarize=port-tcp", "chart"),
    (
        'search `title:"university london"`, `slop=1`, chart by `geo-country`',
        "/?expression=title%3A%22university%20london%22&slop=1&summarize=geo-country",
        "chart",
    ),
    ("search `ip=43.135.0.0/16` `most_recent`", "/?ip=43.135.0.0%2F16&most_recent=true", "search"),
    ("search words `login nginx` (free text)", "/?expression=login%20nginx", "search"),
    ("host page of the busiest IP (`88.198.0.138`)", "/host/88.198.0.138", "host"),
    ("network `88.198.0.0/16`, last 30 days", "/cidr/88.198.0.0/16", "network"),
    (
        "network `43.135.0.0/16` since 2026-08-01 (1,024 IPs; first 256 rows drawn)",
        "/cidr/43.135.0.0/16?from=2026-08-01",
        "network",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def browser(profile: Path) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(
        service=Service(executable_path=shutil.which("chromedriver") or "chromedriver"), options=options
    )


def timed_visit(driver: webdriver.Chrome, url: str, drawn: str, timeout: float = 60) -> float:
    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(url)
    while not driver.execute_script(drawn):
        if time.perf_counter() - started > timeout:
            raise TimeoutError(url)
        time.sleep(0.005)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a store (e.g. 100,000 generated reports)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    token = subprocess.run(
        [PYTHON, "-m", "shoal", "token", "create", "bench-web", "--enterprise", "--data", str(args.data)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "-m", "shoal", "serve", "--data", str(args.data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    profile = Path(tempfile.mkdtemp(prefix="shoal-bench-web-"))
    driver = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        driver = browser(profile)
        driver.get(f"{base}/static/shoal.css")
        driver.execute_script("localStorage.setItem('shoal.token', arguments[0])", token)
        loads = os.getloadavg()
        times: dict[str, list[float]] = {label: [] for label, _, _ in PAGES}
        for round_number in range(args.runs + 1):  # round 0 warms caches and is not counted
            for label, path, kind in PAGES:
                seconds = timed_visit(driver, base + path, DRAWN[kind])
                if round_number:
                    times[label].append(seconds)
        after = os.getloadavg()
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)
    print(f"- **Date:** {dt.date.today()}. **Load average** before: {loads[0]:.2f} {loads[1]:.2f} {loads[2]:.2f};")
    print(f"  after: {after[0]:.2f}. **Method:** median of {args.runs} interleaved rounds after one warm-up.")
    print()
    print("| page | median ms | min ms | max ms |")
    print("|---|---:|---:|---:|")
    for label, measured in times.items():
        median = statistics.median(measured) * 1000
        print(f"| {label} | {median:.0f} | {min(measured) * 1000:.0f} | {max(measured) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
