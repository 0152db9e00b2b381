#!/usr/bin/env bash
# Install the headless browser the web UI tests drive: Debian's chromium and chromium-driver. Idempotent: does
# nothing when both are present. Needs root and apt-get; elsewhere it says what to install and exits 0 (the
# web tests then skip, except in CI where CI=true makes a missing browser a failure).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "install-browser: installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
    echo "install-browser: install chromium and chromium-driver (e.g. sudo apt-get install chromium chromium-driver)" >&2
fi
