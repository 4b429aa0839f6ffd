"""Example conversations shipped inside the package, so that tutorials, docs and tests run from
any folder, with no download.

    >>> import commonground as cg
    >>> conv = cg.datasets.vtaiwan()
    >>> conv.analyze(seed=0).n_participants
    1921

Each dataset keeps its licence: see :data:`ATTRIBUTION` (and print it when you publish a result).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

from ._conversation import Conversation, read_polis

#: The folder holding the bundled conversations (inside the installed package).
DATA = Path(__file__).resolve().parent / "data"

#: Each bundled conversation's attribution and licence, as its ``ATTRIBUTION.md`` states it.
ATTRIBUTION: Dict[str, str] = {
    "vtaiwan": (
        "vTaiwan's deliberation on regulating UberX (2015). Data was gathered using the Polis software "
        "(https://compdemocracy.org/polis) and is sub-licensed under CC BY 4.0 "
        "(https://creativecommons.org/licenses/by/4.0/) with Attribution to The Computational Democracy "
        "Project. Source: the compdemocracy/openData repository."
    ),
}


def vtaiwan_path() -> Path:
    """The folder of the bundled vTaiwan conversation: a Polis export (``votes.csv`` and
    ``comments.csv``, unchanged, with its ``ATTRIBUTION.md``)."""
    return DATA / "vtaiwan.uberx"


def vtaiwan() -> Conversation:
    """vTaiwan's 2015 deliberation on regulating UberX: 1,921 participants, 197 statements (in
    Chinese), 49,443 votes, as Polis exported it. Read from the copy inside the package, so it
    works from any folder.

    CC BY 4.0, with attribution to The Computational Democracy Project (:data:`ATTRIBUTION`)."""
    return read_polis(vtaiwan_path())
