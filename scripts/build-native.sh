#!/usr/bin/env bash
# Build shoal_native (native/: the document builder of usual report lines, in Rust) into .venv, offline, from the
# Rust crates Debian packages. Installs them when root with apt-get; elsewhere, without them, it says so and exits 0:
# Shoal then builds every document in Python (the same documents, slower). Quiet and quick when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES="cargo rustc librust-pyo3-dev librust-serde-dev librust-serde-derive-dev librust-serde-json-dev librust-base64-dev"
platlib=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
module="$platlib/shoal_native.so"
if [ -f "$module" ] && [ -z "$(find native -newer "$module" -type f -print -quit)" ]; then
    exit 0
fi
# shellcheck disable=SC2086
if ! dpkg -s $PACKAGES >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "build-native: installing Debian's Rust compiler and crates (apt-get)"
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
    else
        echo "build-native: not built (needs $PACKAGES); Shoal builds its documents in Python" >&2
        exit 0
    fi
fi
echo "build-native: building shoal_native into .venv"
target="$PWD/.venv/native-target"
(cd native && PYO3_PYTHON="$PWD/../.venv/bin/python" RUSTC=/usr/bin/rustc \
    /usr/bin/cargo build --quiet --release --offline --target-dir "$target")
cp "$target/release/libshoal_native.so" "$module.tmp"
mv "$module.tmp" "$module"
rm -rf "$target"  # ~400 MB of build files: a change to native/ builds it again (~20 s)
