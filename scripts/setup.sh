#!/usr/bin/env bash
# Create .venv and install Shoal with its test dependencies. Safe to run again; quiet when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating the virtual environment .venv ($("$PYTHON" --version 2>&1))"
    if ! "$PYTHON" -m venv .venv 2>/dev/null; then
        # Debian splits venv/ensurepip into its own package.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "setup: installing Debian's python3-venv (apt-get)"
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            rm -rf .venv && "$PYTHON" -m venv .venv
        else
            echo "setup: '$PYTHON -m venv' failed; install python3-venv" >&2
            exit 1
        fi
    fi
fi
stamp=.venv/.shoal-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: upgrading pip in .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    wanted=$(.venv/bin/python -c 'import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
names = [re.split(r"[<>=!~;\[ ]", d)[0] for d in project["dependencies"] + project["optional-dependencies"]["dev"]]
print(", ".join(names))')
    echo "setup: installing Shoal (editable) into .venv with $wanted (and what they need)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "setup: done ($(.venv/bin/python -m pip list --disable-pip-version-check 2>/dev/null | tail -n +3 | wc -l)" \
        "packages in .venv)"
    touch "$stamp"
fi
# The native document builder (native/): built once, again when its sources change.
bash scripts/build-native.sh
