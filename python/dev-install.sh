#!/usr/bin/env bash
# Builds the Rust extension (release) and installs the Python package with its test extras, so
# that `pytest python/tests` runs. From a clean clone this needs only Rust, Python >= 3.9 and pip.
#
#   bash python/dev-install.sh          # pip install -e '.[test]': editable, rebuilt on reinstall
#   pytest python/tests
#
# Inside a virtualenv with maturin installed, `maturin develop --release --extras test` is the
# faster edit-rebuild loop (it reuses cargo's incremental build). CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${VIRTUAL_ENV:-}" ] && command -v maturin >/dev/null 2>&1; then
  maturin develop --release --extras test
else
  python -m pip install -e '.[test]'
fi
