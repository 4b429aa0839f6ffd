#!/usr/bin/env bash
# Runs every test of commonground: the Rust workspace (unit, integration, doc tests) and the
# Python package's pytest suite. This is the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust: lints and tests"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# One ndarray in the build: linfa and numpy must share it (docs/architecture.md, "Dependencies and their traps").
if [ "$(cargo tree --workspace -e normal -i ndarray --depth 0 2>/dev/null | grep -c '^ndarray')" -gt 1 ]; then
  echo "Cargo.lock holds two ndarray versions" >&2
  exit 1
fi
cargo test --workspace --locked

echo "== Python: build and install the package (abi3 wheel via maturin) in a venv, then pytest"
python3 -m venv .venv-test
.venv-test/bin/python -m pip install --quiet --upgrade pip
.venv-test/bin/python -m pip install --quiet '.[test]'
.venv-test/bin/python -m pytest python/tests -q
