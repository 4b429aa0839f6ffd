"""The two tools' pipelines on a Polis export folder, shared by the benchmark scripts.

- red-dwarf 0.4: its ``Loader``'s CSV-export path emulated on local files (red-dwarf reads a CSV
  export only from a URL), then ``reddwarf.implementations.polis.run_pipeline``;
- commonground: ``cg.read_polis(folder)``, then ``conv.analyze(seed=...)``.

Both are seeded with ``RANDOM_STATE``, so results are reproducible.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Dict, Tuple

RANDOM_STATE = 0  # red-dwarf's random_state and commonground's seed, for a reproducible table

Labels = Dict[int, int]  # participant id -> group id (grouped participants only)


# -- the export ------------------------------------------------------------------------------


def polis_groups(folder: Path) -> Labels:
    """Polis's own groups: participants-votes.csv column ``group-id`` (blank = not grouped)."""
    out: Labels = {}
    with open(folder / "participants-votes.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            gid = (row.get("group-id") or "").strip()
            if gid != "":
                out[int(row["participant"])] = int(float(gid))
    return out


def export_size(folder: Path) -> Tuple[int, int, int]:
    """(participants who voted, statements in comments.csv, rows of votes.csv)."""
    voters = set()
    n_votes = 0
    with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            voters.add(row["voter-id"])
            n_votes += 1
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        n_statements = sum(1 for _ in csv.DictReader(f))
    return len(voters), n_statements, n_votes


# -- red-dwarf -------------------------------------------------------------------------------


def reddwarf_load(folder: Path) -> Dict[str, Any]:
    """The export's votes and moderation in red-dwarf's input format.

    red-dwarf 0.4 reads a CSV export only from a URL (``Loader(directory_url=...)``), so this
    does what that loader does, on the local files: each votes.csv row through red-dwarf's
    ``Vote`` model, each comments.csv row through its ``Statement`` model, then
    ``Loader.filter_duplicate_votes(keep="recent")``.
    """
    from reddwarf.data_loader import Loader
    from reddwarf.models import Statement, Vote

    loader = Loader()  # no source given: loads nothing, opens no connection
    with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
        loader.votes_data = [Vote(**row).model_dump(mode="json") for row in csv.DictReader(f)]
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        loader.comments_data = [Statement(**row).model_dump(mode="json") for row in csv.DictReader(f)]
    loader.filter_duplicate_votes(keep="recent")
    return {
        "votes": loader.votes_data,
        "mod_out_statement_ids": [s["statement_id"] for s in loader.comments_data if s["moderated"] == -1],
        "meta_statement_ids": [s["statement_id"] for s in loader.comments_data if s.get("is_meta")],
    }


def reddwarf_run(data: Dict[str, Any]) -> Any:
    from reddwarf.implementations.polis import run_pipeline

    return run_pipeline(
        votes=data["votes"],
        mod_out_statement_ids=data["mod_out_statement_ids"],
        meta_statement_ids=data["meta_statement_ids"],
        random_state=RANDOM_STATE,
    )


def reddwarf_labels(result: Any) -> Labels:
    labels = result.participants_df["cluster_id"].dropna()
    return {int(pid): int(g) for pid, g in labels.items()}


# -- commonground ----------------------------------------------------------------------------


def commonground_load(folder: Path) -> Any:
    import commonground as cg

    return cg.read_polis(folder)


def commonground_run(conv: Any) -> Any:
    return conv.analyze(seed=RANDOM_STATE)


def commonground_labels(analysis: Any) -> Labels:
    p = analysis.participants
    p = p[p["group"].notna()]
    return {int(pid): int(g) for pid, g in zip(p["id"], p["group"])}
