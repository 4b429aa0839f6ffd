"""The opinion map, drawn with matplotlib (an optional dependency).

What the drawing decides, and why:

- **Fonts.** Statement text is often Chinese, Japanese or Korean (vTaiwan). matplotlib's default
  font has none of those glyphs and draws empty boxes, so text that needs them is drawn with a
  CJK font found on the system (Noto Sans CJK from Debian's ``fonts-noto-cjk``, Source Han Sans,
  WenQuanYi, ...) as a per-glyph fallback behind the default font. Without one, the text is left
  out (the ids stay) and one warning says what to install.
- **Wrapping.** By display width, character by character: text without spaces (Chinese) wraps
  instead of collapsing to "…", and a wide (CJK) character counts as two columns.
- **Labels.** Each statement's label is placed at the first spot around its arrow tip that
  overlaps no other label and stays inside the axes.
- **The unclustered.** Participants who voted too little to be clustered are drawn as open grey
  rings above the groups' points, so a group's cloud does not hide them.
- **The key.** With ``statements=True``, a numbered key under the map lists each statement's text,
  and says how the arrows are scaled.
"""

from __future__ import annotations

import functools
import os
import re
import textwrap
import unicodedata
import warnings
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ._analysis import Analysis

#: Colour-blind-safe group colours (Okabe-Ito), in group-id order.
GROUP_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"]

#: Fonts with Chinese, Japanese and Korean glyphs, in order of preference (family names as
#: matplotlib's font manager lists them).
CJK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans TC",
    "Noto Sans SC",
    "Source Han Sans",
    "Source Han Sans TW",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft JhengHei",
    "Microsoft YaHei",
    "PingFang TC",
    "Hiragino Sans",
    "MS Gothic",
)

#: Widest line of the key, and of a text label on the map, in columns (a CJK character is two).
KEY_COLUMNS = 110
LABEL_COLUMNS = 28


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "Analysis.plot() needs the optional dependency matplotlib: "
            "pip install 'commonground[plot]' (or pip install matplotlib)"
        ) from e
    return plt


def _columns(character: str) -> int:
    """Display width of one character: 2 for wide and full-width (CJK) characters."""
    return 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has characters that a Latin font lacks (CJK ideographs, kana, hangul,
    full-width forms)."""
    return any(ord(c) >= 0x2E80 and _columns(c) == 2 for c in text)


def _width(text: str) -> int:
    return sum(_columns(c) for c in text)


def _segments(word: str) -> List[str]:
    """A word cut where a line may break inside it: after each wide character (Chinese may break
    between any two characters); runs of narrow characters stay whole."""
    segments: List[str] = []
    for c in word:
        if segments and _columns(c) == 1 and _columns(segments[-1][-1]) == 1:
            segments[-1] += c
        else:
            segments.append(c)
    return segments


def wrap(text: str, width: int, max_lines: Optional[int] = None) -> List[str]:
    """``text`` wrapped to lines of at most ``width`` columns: at spaces where the text has them,
    and between any two wide characters (Chinese has no spaces), a wide character counting two
    columns; a narrow word longer than a line is cut. With ``max_lines``, the last line kept ends
    with "…" when text was left out."""
    lines: List[str] = []
    line = ""
    for w, word in enumerate(text.split()):
        for i, segment in enumerate(_segments(word)):
            separator = " " if i == 0 and w > 0 else ""
            if line and _width(line) + _width(separator) + _width(segment) <= width:
                line += separator + segment
                continue
            if line:
                lines.append(line)
            while _width(segment) > width:  # a narrow run longer than a line
                cut = 0
                while _width(segment[: cut + 1]) <= width:
                    cut += 1
                lines.append(segment[:cut])
                segment = segment[cut:]
            line = segment
    if line:
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _width(last) + 1 > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last + "…"]
    return lines or [""]


def cjk_font() -> Optional[str]:
    """The first of :data:`CJK_FONTS` that matplotlib finds on this system, or None."""
    from matplotlib import font_manager

    def first() -> Optional[str]:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    found = first()
    if found is None and _register_cjk_files():
        found = first()
    return found


@functools.lru_cache(maxsize=1)
def _register_cjk_files() -> bool:
    """Adds the system's CJK font files to matplotlib's font list; whether any was added.
    matplotlib caches its font list the first time it runs, so fonts installed since (Debian's
    fonts-noto-cjk after matplotlib) are missing from it until the cache is rebuilt."""
    from matplotlib import font_manager

    added = False
    for path in font_manager.findSystemFonts():
        if re.search(r"cjk|sourcehan|wqy|wenquanyi|droidsansfallback", os.path.basename(path).lower()):
            try:
                font_manager.fontManager.addfont(path)
                added = True
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: skip it
                continue
    return added


def _font_family(texts: Sequence[str]) -> Tuple[Optional[List[str]], bool]:
    """The font family list for ``texts`` (None: matplotlib's default will do) and whether text
    needing a CJK font can be drawn."""
    if not any(needs_cjk(t) for t in texts):
        return None, True
    font = cjk_font()
    if font is None:
        warnings.warn(
            "no font with Chinese, Japanese or Korean glyphs found (Debian: apt install fonts-noto-cjk); "
            "the map shows those statements by id only",
            UserWarning,
            stacklevel=4,
        )
        return None, False
    import matplotlib

    # matplotlib >= 3.6 falls back glyph by glyph along the family list.
    return [*matplotlib.rcParams["font.sans-serif"][:1], font], True


def _overlaps(box: Any, placed: Sequence[Any]) -> bool:
    return any(box.overlaps(other) for other in placed)


def label_box(label: Any, renderer: Any) -> Any:
    """The window extent of an annotation's text and its box, without its leader line (which
    Annotation.get_window_extent includes)."""
    from matplotlib.text import Text

    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer).expanded(1.06, 1.3)


def _place_labels(
    ax: "Axes", labels: Sequence[Any], anchors: Sequence[Tuple[float, float]], centres: Sequence[Tuple[float, float]]
) -> None:
    """Moves each label (an Annotation at its anchor, offset in points, with a leader line to it)
    to the nearest spot around its anchor where it overlaps no label placed before it, the legend
    nor a group's centre (``centres``, data coordinates), and stays inside the axes: sixteen directions, at growing distances."""
    figure: Any = ax.figure
    renderer = figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    # The legend is an obstacle too.
    legend = ax.get_legend()
    placed: List[Any] = [legend.get_window_extent(renderer)] if legend is not None else []
    # And the numbered group centres (markers of about 18 points across).
    from matplotlib.transforms import Bbox

    radius = 10 * figure.dpi / 72
    for x, y in ax.transData.transform(np.asarray(centres, dtype=float).reshape(-1, 2)):
        placed.append(Bbox([[x - radius, y - radius], [x + radius, y + radius]]))
    # Sixteen directions, the diagonals first (they keep a label off its own arrow).
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    directions += [(np.cos(a), np.sin(a)) for a in np.linspace(np.pi / 8, 2 * np.pi, 16)[::2]]
    for label, _anchor in zip(labels, anchors):
        chosen = None
        for distance in range(4, 320, 10):
            for dx, dy in directions:
                label.set_position((dx * distance, dy * distance))
                label.set_horizontalalignment("left" if dx > 0.3 else "right" if dx < -0.3 else "center")
                label.set_verticalalignment("bottom" if dy > 0.3 else "top" if dy < -0.3 else "center")
                box = label_box(label, renderer)
                fits = (
                    box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0 and box.y1 <= inside.y1
                )
                if fits and not _overlaps(box, placed):
                    chosen = box
                    break
            if chosen is not None:
                break
        if chosen is None:
            # Nowhere free: keep it inside the axes, on the side with room, even if it overlaps.
            label.set_position((0, 0))
            box = label_box(label, renderer)
            shift_x = inside.x0 - box.x0 if box.x0 < inside.x0 else inside.x1 - box.x1 if box.x1 > inside.x1 else 0.0
            shift_y = inside.y0 - box.y0 if box.y0 < inside.y0 else inside.y1 - box.y1 if box.y1 > inside.y1 else 0.0
            label.set_position((shift_x * 72 / figure.dpi, shift_y * 72 / figure.dpi))
            chosen = label_box(label, renderer)
        placed.append(chosen)


def plot_opinion_map(
    analysis: "Analysis",
    ax: Optional["Axes"] = None,
    *,
    statements: bool = False,
    n_statements: int = 4,
    statement_labels: str = "id",
    title: Optional[str] = None,
    show_ungrouped: bool = True,
    key: bool = True,
) -> "Axes":
    if statement_labels not in ("id", "text"):
        raise ValueError(f"statement_labels must be 'id' or 'text', not {statement_labels!r}")
    plt = _pyplot()
    reps = analysis.repness.iloc[0:0]
    if statements and len(analysis.statements):
        reps = analysis.repness[analysis.repness["repful_for"] == "agree"].groupby("group", sort=True).head(n_statements)
    texts: Dict[Any, str] = {
        row.id: row.text for row in analysis.statements.itertuples(index=False) if isinstance(row.text, str)
    }
    shown_texts = [texts.get(s, "") for s in reps["statement"].tolist()]
    family, can_draw_cjk = _font_family(shown_texts)

    def drawable(text: str) -> bool:
        return can_draw_cjk or not needs_cjk(text)

    with_key = key and len(reps) > 0
    if ax is None:
        key_lines = 2 + 2 * len(reps) if with_key else 0
        _, ax = plt.subplots(figsize=(9, 7.5 + 0.16 * key_lines))
    participants = analysis.participants
    groups = analysis.groups
    group = participants["group"]
    ungrouped = group.isna().to_numpy()
    if show_ungrouped and ungrouped.any():
        # Open rings above the groups' points (zorder), so that a group's cloud does not hide them.
        ax.scatter(
            participants["x"][ungrouped],
            participants["y"][ungrouped],
            s=10,
            facecolors="none",
            edgecolors="#555555",
            alpha=0.7,
            linewidths=0.6,
            zorder=2.5,
            label=f"not clustered ({int(ungrouped.sum())})",
        )
    colour_of = {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups["group"].tolist())}
    for row in groups.itertuples(index=False):
        colour = colour_of[row.group]
        members = (group == row.group).fillna(False).to_numpy(dtype=bool)
        ax.scatter(
            participants["x"][members],
            participants["y"][members],
            s=9,
            c=colour,
            alpha=0.55,
            linewidths=0,
            zorder=2,
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
    scale = 1.0
    labels: List[Any] = []
    anchors: List[Tuple[float, float]] = []
    if len(reps):
        # Each group's representative statements that it agrees with: their projections (where a
        # participant who agreed with that statement alone would sit) point towards the group.
        # They live on a smaller scale than participants, so all are stretched by one factor to
        # the participants' spread: their directions and relative lengths read, not their size.
        s = analysis.statements.set_index("id")
        spread = float(np.nanmax(np.abs(analysis.projections))) if analysis.n_participants else 1.0
        reach = float(np.hypot(s.loc[reps["statement"].tolist(), "x"], s.loc[reps["statement"].tolist(), "y"]).max())
        scale = 0.85 * spread / reach if reach > 0 else 1.0
        points = []
        for rep in reps.itertuples(index=False):
            row = s.loc[rep.statement]
            points.append((float(row["x"]) * scale, float(row["y"]) * scale))
        # Fix the limits first, arrow tips included, so that labels are placed on the final axes.
        xs = [p[0] for p in points] + [0.0]
        ys = [p[1] for p in points] + [0.0]
        ax.update_datalim(np.column_stack([xs, ys]))
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
        for rep, (x, y) in zip(reps.itertuples(index=False), points):
            colour = colour_of.get(rep.group, "#555555")
            ax.annotate("", xy=(x, y), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.0}, zorder=3)
            label = f"#{rep.statement}"
            text = texts.get(rep.statement)
            if statement_labels == "text" and text and drawable(text):
                label += " " + "\n".join(wrap(text, LABEL_COLUMNS, max_lines=2))
            labels.append(
                ax.annotate(
                    label,
                    (x, y),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=8,
                    color="#222222",
                    zorder=6,
                    fontfamily=family,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "alpha": 0.85},
                    # A leader line to the arrow's tip, for a label placed away from it.
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6, "alpha": 0.7, "shrinkA": 0, "shrinkB": 0},
                )
            )
            anchors.append((x, y))
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
    if with_key:
        _draw_key(ax, reps, texts, colour_of, family, drawable, scale)
    if labels:
        ax.figure.canvas.draw()  # the final layout, so that label boxes are measured where they end up
        _place_labels(ax, labels, anchors, list(zip(groups["x"].tolist(), groups["y"].tolist())))
    return ax


def _draw_key(
    ax: "Axes",
    reps: Any,
    texts: Dict[Any, str],
    colour_of: Dict[Any, str],
    family: Optional[List[str]],
    drawable: Any,
    scale: float,
) -> None:
    """The statement key under the map: each arrow's statement, numbered as on the map, its text
    wrapped by characters, in its group's colour; and how the arrows are scaled."""
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    rows: List[Tuple[str, str]] = []
    for rep in reps.itertuples(index=False):
        text = texts.get(rep.statement)
        if text is None:
            body = "(no text)"
        elif drawable(text):
            body = "\n".join(wrap(text, KEY_COLUMNS, max_lines=2))
        else:
            body = "(text needs a Chinese, Japanese or Korean font)"
        rows.append((f"#{rep.statement}  group {rep.group} agrees:  {body}", colour_of.get(rep.group, "#555555")))
    n_lines = sum(r[0].count("\n") + 1 for r in rows) + 2
    size = 0.17 * n_lines  # inches
    key_ax = make_axes_locatable(ax).append_axes("bottom", size=size, pad=0.55)
    key_ax.set_axis_off()
    note = (
        f"Arrows: each group's statements it agrees with most, drawn from the centre to where a participant "
        f"agreeing with that statement alone would sit, all stretched ×{scale:.1f} to the participants' spread."
    )
    y = 1.0
    step = 1.0 / n_lines
    key_ax.text(0, y, "\n".join(textwrap.wrap(note, KEY_COLUMNS + 20)), fontsize=7, color="#444444", va="top",
                transform=key_ax.transAxes)
    y -= 2 * step
    for line, colour in rows:
        key_ax.text(0, y, line, fontsize=7.5, color=colour, va="top", transform=key_ax.transAxes, fontfamily=family)
        y -= step * (line.count("\n") + 1)
