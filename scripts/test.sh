#!/usr/bin/env bash
# Install what the tests need, then run the whole suite (lint included). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Headless Chromium for the web UI tests (installed when root with apt-get; missing in CI is a failure).
bash scripts/install-browser.sh
# Real daemons for the collector tests (tests fail in CI, and skip elsewhere, when one is missing).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    bash scripts/install-test-daemons.sh
fi
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/python -m pytest -q "$@"
