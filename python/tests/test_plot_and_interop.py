"""The opinion map and the AnnData export, and the messages that say what to install when the
optional dependency is missing."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, List

import numpy as np
import pytest

from commonground import _plot
from conftest import REPO, skip_or_fail


def _pyplot() -> Any:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _missing_glyphs(caught: List[Any]) -> List[str]:
    """matplotlib's warnings for characters its font lacks (drawn as empty boxes)."""
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def _key_texts(ax: Any) -> List[str]:
    (key,) = [other for other in ax.figure.axes if other is not ax]
    return [t.get_text() for t in key.texts]


def test_plot_draws_groups_centres_and_statements(vtaiwan_analysis, tmp_path: Path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    returned = vtaiwan_analysis.plot(ax=ax, statements=True)
    assert returned is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "not clustered (703)" and labels[1:] == ["group 0 (325)", "group 1 (893)"]
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


def test_to_anndata_has_valency_anndatas_keys(vtaiwan_analysis):
    pytest.importorskip("anndata")
    adata = vtaiwan_analysis.to_anndata()
    groups = adata.obs["kmeans_polis"]
    assert list(groups.cat.categories) == [0, 1] and int(groups.isna().sum()) == 703
    assert groups.equals(adata.obs["group"])
    statements = vtaiwan_analysis.statements
    assert adata.var["content"].tolist() == statements["text"].tolist()
    assert set(adata.var["moderation_state"].unique()) <= {-1, 0, 1}
    assert (adata.var["moderation_state"] == -1).sum() == int((statements["moderated"] == -1).sum())
    raw = adata.layers["raw_sparse"]
    assert raw.nnz == vtaiwan_analysis.n_votes
    # The sparse layer and the dense X hold the same votes (pass a stored 0, not voted absent).
    dense = np.where(np.isnan(adata.X), 0, adata.X)
    assert np.array_equal(raw.toarray(), dense)
    assert adata.varm["X_pca_polis"].shape == (vtaiwan_analysis.n_statements, 2)


def _valency_anndata() -> Any:
    """valency_anndata, or a visible skip (a failure under CI, whose test extras install it)."""
    try:
        import valency_anndata
    except ImportError as e:
        skip_or_fail(f"valency-anndata is not installed ({e}); pip install '.[test]' installs it")
    return valency_anndata


def test_valency_anndatas_own_tools_take_our_anndata(vtaiwan_analysis, tmp_path: Path):
    val = _valency_anndata()
    plt = _pyplot()
    import anndata

    adata = vtaiwan_analysis.to_anndata()
    # Its Polis recipe reads our votes, is_meta and moderation_state, and clusters beside ours.
    val.tools.recipe_polis(adata, key_added_pca="X_pca_valency", key_added_kmeans="kmeans_valency")
    assert adata.obs["kmeans_valency"].notna().sum() > 0
    assert adata.obsm["X_pca_valency"].shape[0] == vtaiwan_analysis.n_participants
    # Its plot of our map coloured by our groups, and its writer, which reads kmeans_polis.
    val.viz.embedding(adata, basis="pca_polis", color="kmeans_polis", show=False)
    plt.close("all")
    val.write(tmp_path / "vtaiwan.h5ad", adata)
    back = anndata.read_h5ad(tmp_path / "vtaiwan.h5ad")
    assert back.obs["kmeans_polis"].isna().sum() == 703
    assert back.var["content"].tolist() == adata.var["content"].tolist()


def test_text_wraps_by_characters_a_wide_one_counting_two_columns():
    chinese = "我覺得自用車未經政府認證就自行載客營業，已經威脅到公共安全。"
    lines = _plot.wrap(chinese, 20)
    assert "".join(lines) == chinese and len(lines) == 3
    assert all(sum(2 for _ in line) <= 20 for line in lines)
    english = "I have a driver's licence and I consider myself working class"
    lines = _plot.wrap(english, 20)
    assert " ".join(lines) == english and all(len(line) <= 20 for line in lines)
    cut = _plot.wrap(chinese, 20, max_lines=2)
    assert len(cut) == 2 and cut[-1].endswith("…") and cut[0] == chinese[:10]


def test_statement_labels_neither_overlap_nor_leave_the_axes(vtaiwan_analysis):
    plt = _pyplot()
    from matplotlib.text import Text

    fig, ax = plt.subplots(figsize=(8, 8))
    vtaiwan_analysis.plot(ax=ax, statements=True, n_statements=6, statement_labels="text")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    # The text and its box, not the leader line to the arrow (Annotation.get_window_extent's).
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts if t.get_text().startswith("#")]
    reps = vtaiwan_analysis.repness
    assert len(boxes) == len(reps[reps["repful_for"] == "agree"].groupby("group").head(6)) >= 6
    for i, box in enumerate(boxes):
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, box
        for other in boxes[i + 1 :]:
            assert not box.overlaps(other), (box, other)
    plt.close(fig)


def test_the_unclustered_are_drawn_visibly_above_the_groups(vtaiwan_analysis):
    plt = _pyplot()
    ax = vtaiwan_analysis.plot()
    unclustered = ax.collections[0]
    clouds = [c for c in ax.collections if c.get_label().startswith("group ")]
    assert unclustered.get_label() == "not clustered (703)" and len(clouds) == vtaiwan_analysis.n_groups
    assert len(unclustered.get_offsets()) == 703
    assert all(unclustered.get_zorder() > cloud.get_zorder() for cloud in clouds)
    plt.close(ax.figure)


def test_the_statement_key_lists_every_arrow_and_explains_the_scaling(vtaiwan_analysis):
    plt = _pyplot()
    ax = vtaiwan_analysis.plot(statements=True)
    texts = _key_texts(ax)
    assert any("stretched" in t and "×" in t for t in texts), texts
    reps = vtaiwan_analysis.repness
    shown = reps[reps["repful_for"] == "agree"].groupby("group").head(4)
    statements = vtaiwan_analysis.statements.set_index("id")
    for row in shown.itertuples(index=False):
        line = next(t for t in texts if t.startswith(f"#{row.statement} "))
        # The text itself, wrapped by characters: its first characters are there, not a bare "…".
        assert str(statements.loc[row.statement, "text"])[:8] in line, line
    plt.close(ax.figure)


def test_chinese_text_is_drawn_with_a_cjk_font_and_no_empty_boxes(vtaiwan_analysis):
    plt = _pyplot()
    if _plot.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = vtaiwan_analysis.plot(statements=True, statement_labels="text")
        ax.figure.savefig(io.BytesIO(), format="png")
    assert _missing_glyphs(caught) == []
    assert any(_plot.needs_cjk(t) for t in _key_texts(ax))
    plt.close(ax.figure)


def test_without_a_cjk_font_one_warning_says_what_to_install_and_no_boxes_are_drawn(vtaiwan_analysis, monkeypatch):
    plt = _pyplot()
    monkeypatch.setattr(_plot, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = vtaiwan_analysis.plot(statements=True, statement_labels="text")
        ax.figure.savefig(io.BytesIO(), format="png")
    assert [str(w.message) for w in caught if "fonts-noto-cjk" in str(w.message)] != []
    assert _missing_glyphs(caught) == []
    assert any("needs a Chinese, Japanese or Korean font" in t for t in _key_texts(ax))
    plt.close(ax.figure)


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
