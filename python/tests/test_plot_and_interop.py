"""The opinion map and the AnnData export, and the messages that say what to install when the
optional dependency is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO


def test_plot_draws_groups_centres_and_statements(vtaiwan_analysis, tmp_path: Path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    returned = vtaiwan_analysis.plot(ax=ax, statements=True)
    assert returned is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("not clustered") and labels[1:] == ["group 0 (325)", "group 1 (893)"]
    # Participants: one scatter for the unclustered, one per group, plus one centre per group.
    assert len(ax.collections) == 1 + 2 * vtaiwan_analysis.n_groups
    assert any(t.get_text().startswith("#") for t in ax.texts)
    fig.savefig(tmp_path / "map.png")
    assert (tmp_path / "map.png").stat().st_size > 10_000
    plt.close(fig)
    # Without an Axes it makes its own figure.
    ax = vtaiwan_analysis.plot(statement_labels="text")
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="statement_labels"):
        vtaiwan_analysis.plot(statement_labels="both")


def test_plot_without_matplotlib_says_what_to_install(vtaiwan_analysis, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'commonground\[plot\]'"):
        vtaiwan_analysis.plot()


def test_to_anndata_without_anndata_says_what_to_install(vtaiwan_analysis, monkeypatch):
    monkeypatch.setitem(sys.modules, "anndata", None)
    with pytest.raises(ImportError, match=r"pip install 'commonground\[anndata\]'"):
        vtaiwan_analysis.to_anndata()


def test_to_anndata_holds_votes_and_analysis(vtaiwan_analysis):
    pytest.importorskip("anndata")
    adata = vtaiwan_analysis.to_anndata()
    assert adata.shape == (vtaiwan_analysis.n_participants, vtaiwan_analysis.n_statements)
    assert int(np.sum(~np.isnan(adata.X))) == vtaiwan_analysis.n_votes
    assert adata.obsm["X_pca_polis"].shape == (vtaiwan_analysis.n_participants, 2)
    assert adata.varm["PCs"].shape == (vtaiwan_analysis.n_statements, 2)
    assert list(adata.obs["group"].cat.categories) == [0, 1]
    sparse = vtaiwan_analysis.to_anndata(sparse=True)
    assert sparse.X.nnz == vtaiwan_analysis.n_votes


def test_the_vtaiwan_example_script_saves_an_opinion_map(tmp_path: Path):
    pytest.importorskip("matplotlib")
    output = tmp_path / "map.png"
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "analyze_vtaiwan.py"), str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    assert "Group 0" in result.stdout and "Common ground" in result.stdout
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
