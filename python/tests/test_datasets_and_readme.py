"""The bundled example travels inside the package, and the README's Python snippet runs as
written from any folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import commonground as cg
from conftest import EXAMPLE, REPO


def test_the_bundled_vtaiwan_is_inside_the_package_and_reads_from_any_folder(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = cg.datasets.vtaiwan_path()
    package = Path(cg.__file__).resolve().parent
    assert package in folder.resolve().parents or package in folder.parents, folder
    for name in ("votes.csv", "comments.csv", "ATTRIBUTION.md"):
        assert (folder / name).is_file(), f"{name} is not shipped in the package"
    assert "CC BY 4.0" in (folder / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in cg.datasets.ATTRIBUTION["vtaiwan"]
    # The same conversation as the repository's copy: the same analysis, byte for byte.
    bundled = cg.datasets.vtaiwan().analyze(seed=0)
    assert bundled.to_json() == cg.read_polis(EXAMPLE).analyze(seed=0).to_json()
    assert (bundled.n_participants, bundled.n_statements, bundled.n_votes) == (1921, 197, 49443)


def readme_python_snippet() -> str:
    """The README's first ```python block under "## Python"."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python section has no ```python block"
    return match.group(1)


def test_the_readme_python_snippet_runs_as_written_from_an_empty_folder(tmp_path: Path):
    snippet = readme_python_snippet()
    assert "new_votes" not in snippet or re.search(r"^new_votes\s*=", snippet, re.M), "new_votes is used undefined"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert result.returncode == 0, f"the README snippet failed from {tmp_path}:\n{result.stderr}"
