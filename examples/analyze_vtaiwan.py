"""Analyses the bundled vTaiwan conversation (regulating Uber, 2015) as a researcher would: who the
opinion groups are, what each group believes, and the common ground between them; then saves the
opinion map as a PNG.

    pip install '.[plot]'
    python examples/analyze_vtaiwan.py [OUTPUT.png]

Data: the Computational Democracy Project's openData (CC BY 4.0), see
examples/data/vtaiwan.uberx/ATTRIBUTION.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import commonground as cg


def short(text: object, width: int = 70) -> str:
    """The text on one line, cut by characters (textwrap.shorten cuts at spaces, and Chinese has
    none: it would leave only "…")."""
    if not isinstance(text, str):
        return "(no text)"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def main(output: Path) -> None:
    start = time.perf_counter()
    conversation = cg.datasets.vtaiwan()  # the copy inside the package; cg.read_polis(folder) for yours
    analysis = conversation.analyze(seed=0)
    elapsed = time.perf_counter() - start

    participants = analysis.participants
    print(f"vTaiwan (Uber): {analysis.n_participants} participants, {analysis.n_statements} statements, "
          f"{analysis.n_votes} votes; read and analysed in {elapsed * 1000:.0f} ms")
    print(f"{int(participants['in_conv'].sum())} participants voted enough to be placed in a group; "
          f"{analysis.k} opinion groups (silhouettes: "
          + ", ".join(f"k={k} {s:.2f}" for k, s in analysis.silhouettes.items()) + ")")

    # What each group believes: Polis's representative statements, with the share of the group's
    # voters who voted that way against everyone's. Every percentage is cg.percent (the `percent`
    # columns): the raw share of those who voted, passes included, as the CLI prints it.
    statements = analysis.statements.set_index("id")
    seen = statements["n_agree"] + statements["n_disagree"] + statements["n_pass"]
    for group in analysis.groups.itertuples(index=False):
        print(f"\nGroup {group.group} ({group.n_members} participants) stands out on:")
        reps = analysis.repness[analysis.repness["group"] == group.group]
        for rep in reps.itertuples(index=False):
            everyone = cg.percent(int(statements.loc[rep.statement, f"n_{rep.repful_for}"]), int(seen[rep.statement]))
            print(f"  {rep.repful_for:<8} {rep.percent:>3}% of {rep.n_trials:>4} voters (everyone: {everyone:>3}%)  "
                  f"#{rep.statement:<4} {short(rep.text)}")

    # The common ground: statements that, with 90% credibility, every group's side-takers agree
    # with (the lower bound of the minimum side-takers' agreement); the number is that lower bound.
    common = analysis.common_ground()
    print(f"\nCommon ground (every group agrees, 90% credible): {len(common)} statements, the first 5:")
    percent_columns = [c for c in common.columns if c.startswith("agree_percent_group_")]
    for row in common.head(5).itertuples(index=False):
        shares = ", ".join(f"group {c.rsplit('_', 1)[1]} {getattr(row, c)}%" for c in percent_columns)
        print(f"  {row.min_side_agreement_lower:.2f}  [{shares}]  #{row.id:<4} {short(row.text)}")

    print("\nConsensus (most participants agree):")
    for row in analysis.consensus[analysis.consensus["direction"] == "agree"].itertuples(index=False):
        print(f"  {row.percent:>3}% of {row.n_trials} voters  #{row.statement:<4} {short(row.text)}")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(matplotlib is not installed: pip install 'commonground[plot]' to save the opinion map)")
        return
    fig, ax = plt.subplots(figsize=(8, 7))
    analysis.plot(ax=ax, statements=True, title="vTaiwan: regulating Uber — opinion map")
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)
    print(f"\nOpinion map saved to {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("vtaiwan_opinion_map.png"))
