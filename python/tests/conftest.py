"""Shared fixtures: the repository, the bundled example, the shared reference data, the CLI.

The reference data lives beside the repository (``../shared/data``; ``COMMONGROUND_DATA``
overrides). Tests that need it skip when it is absent, except under CI (``CI=true``), where a
missing data folder is a failure, not a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Dict, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "data" / "vtaiwan.uberx"
DATA = Path(os.environ.get("COMMONGROUND_DATA", REPO.parent / "shared" / "data"))

OPENDATA = sorted(p.name for p in (DATA / "opendata").iterdir()) if (DATA / "opendata").is_dir() else []
POLIS_MATH = sorted(p.name for p in (DATA / "polis-math").iterdir()) if (DATA / "polis-math").is_dir() else []


def skip_or_fail(message: str) -> NoReturn:
    """A visible skip for a test whose data, package or program is missing; under CI
    (``CI=true``, whose set-up installs them all) a failure, so that CI never passes by skipping."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require(path: Path) -> Path:
    """The path, or a skip (a failure under CI) when the reference data is absent."""
    if not path.exists():
        skip_or_fail(f"reference data not found: {path} (set COMMONGROUND_DATA)")
    return path


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `commonground` binary: $COMMONGROUND_CLI, or built from this workspace with cargo
    (release, the profile the wheel is built with, sharing its compiled core)."""
    given = os.environ.get("COMMONGROUND_CLI")
    if given:
        return Path(given)
    cargo = shutil.which("cargo")
    if cargo is None:
        if os.environ.get("CI") == "true":
            pytest.fail("cargo not found: cannot build the CLI to compare with")
        pytest.skip("cargo not found: cannot build the CLI to compare with")
    out = subprocess.run(
        [cargo, "build", "--release", "--locked", "-p", "commonground-cli", "--message-format=json-render-diagnostics"],
        cwd=REPO,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    for line in out.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") and message["target"]["name"] == "commonground":
            return Path(message["executable"])
    raise RuntimeError("cargo built no commonground executable")


@pytest.fixture(scope="session")
def run_cli(cli: Path) -> Callable[..., str]:
    def run(*args: str) -> str:
        return subprocess.run([str(cli), *args], check=True, stdout=subprocess.PIPE, text=True).stdout

    return run


@pytest.fixture(scope="session")
def vtaiwan_analysis() -> Any:
    import commonground as cg

    return cg.read_polis(EXAMPLE).analyze(seed=0)


def load_json(text: str) -> Dict[str, Any]:
    result: Dict[str, Any] = json.loads(text)
    return result
