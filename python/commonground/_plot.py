"""The opinion map, drawn with matplotlib (an optional dependency)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ._analysis import Analysis

#: Colour-blind-safe group colours (Okabe-Ito), in group-id order.
GROUP_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "Analysis.plot() needs the optional dependency matplotlib: "
            "pip install 'commonground[plot]' (or pip install matplotlib)"
        ) from e
    return plt


def plot_opinion_map(
    analysis: "Analysis",
    ax: Optional["Axes"] = None,
    *,
    statements: bool = False,
    n_statements: int = 4,
    statement_labels: str = "id",
    title: Optional[str] = None,
    show_ungrouped: bool = True,
) -> "Axes":
    if statement_labels not in ("id", "text"):
        raise ValueError(f"statement_labels must be 'id' or 'text', not {statement_labels!r}")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 7))
    participants = analysis.participants
    groups = analysis.groups
    group = participants["group"]
    ungrouped = group.isna().to_numpy()
    if show_ungrouped and ungrouped.any():
        ax.scatter(
            participants["x"][ungrouped],
            participants["y"][ungrouped],
            s=6,
            c="#bbbbbb",
            alpha=0.6,
            linewidths=0,
            label=f"not clustered ({int(ungrouped.sum())})",
        )
    for i, row in enumerate(groups.itertuples(index=False)):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        members = (group == row.group).fillna(False).to_numpy(dtype=bool)
        ax.scatter(
            participants["x"][members],
            participants["y"][members],
            s=9,
            c=colour,
            alpha=0.55,
            linewidths=0,
            label=f"group {row.group} ({row.n_members})",
        )
        ax.scatter([row.x], [row.y], s=260, c=colour, marker="o", edgecolors="black", linewidths=1.5, zorder=4)
        ax.annotate(
            str(row.group),
            (row.x, row.y),
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color="white",
            zorder=5,
        )
    if statements and len(analysis.statements):
        # Each group's representative statements that it agrees with: their projections point
        # towards the group. Projections live on a smaller scale than participants, so they are
        # stretched to the participants' spread; their directions are what reads.
        s = analysis.statements.set_index("id")
        reps = analysis.repness
        reps = reps[reps["repful_for"] == "agree"].groupby("group", sort=True).head(n_statements)
        spread = float(np.nanmax(np.abs(analysis.projections))) if analysis.n_participants else 1.0
        reach = float(s.loc[reps["statement"].tolist(), "extremity"].max()) if len(reps) else 0.0
        scale = 0.85 * spread / reach if reach > 0 else 1.0
        colour_of = {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups["group"].tolist())}
        for rep in reps.itertuples(index=False):
            row = s.loc[rep.statement]
            x, y = float(row["x"]) * scale, float(row["y"]) * scale
            colour = colour_of.get(rep.group, "#555555")
            ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.0}, zorder=3)
            label = f"#{rep.statement}"
            if statement_labels == "text" and isinstance(row["text"], str):
                label += " " + textwrap.shorten(row["text"], 40, placeholder="…")
            ax.annotate(label, (x, y), fontsize=8, color="#222222", zorder=6,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "alpha": 0.8})
    ax.axhline(0, color="#dddddd", lw=0.8, zorder=0)
    ax.axvline(0, color="#dddddd", lw=0.8, zorder=0)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(
        title
        if title is not None
        else f"Opinion map: {analysis.n_participants} participants, {len(groups)} groups"
    )
    ax.legend(loc="best", fontsize=8, markerscale=2, frameon=False)
    return ax
