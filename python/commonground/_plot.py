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
    n_statements: int = 12,
    title: Optional[str] = None,
    show_ungrouped: bool = True,
) -> "Axes":
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
        s = analysis.statements
        keep = ~s["moderated_out"].to_numpy(dtype=bool)
        shown = s[keep].sort_values("extremity", ascending=False, kind="stable").head(n_statements)
        # Statement projections live on a smaller scale than participants: stretch them to the
        # participants' spread so that directions can be read.
        spread = float(np.nanmax(np.abs(analysis.projections))) if analysis.n_participants else 1.0
        reach = float(shown["extremity"].max()) if len(shown) else 1.0
        scale = spread / reach if reach > 0 else 1.0
        for row in shown.itertuples(index=False):
            x, y = row.x * scale, row.y * scale
            ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 0.8}, zorder=3)
            label = f"#{row.id}" if row.text is None or (isinstance(row.text, float)) else f"#{row.id} " + textwrap.shorten(str(row.text), 40, placeholder="…")
            ax.annotate(label, (x, y), fontsize=7, color="#333333", zorder=3)
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
