#!/usr/bin/env python3
"""One measurement for benchmark.py: load one Polis export folder with one tool, analyse it, and
print the two wall times as JSON on stdout, ``{"load_s": ..., "analysis_s": ...}``. With
``commonground-arrow`` the folder holds a Parquet vote table instead: pyarrow reads it into a Table
(``read_table_s``), which ``Conversation.from_votes`` takes through the Arrow PyCapsule interface
(``from_votes_s``); the load is the two together.

benchmark.py runs this in a fresh process per tool and input, so that the process's peak RSS is
that tool's on that input alone.

    python benches/run_one.py {reddwarf,commonground,commonground-arrow} FOLDER
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from pipelines import RANDOM_STATE, commonground_load, commonground_run, reddwarf_load, reddwarf_run

Tool = Tuple[Callable[[Path], Any], Callable[[Any], Any]]


def reddwarf_warm_up() -> None:
    """One untimed run on a tiny random conversation: red-dwarf imports parts of scikit-learn and
    SciPy lazily inside its first pipeline call (about a second), which is no part of the analysis."""
    rng = random.Random(RANDOM_STATE)
    votes = [
        {"participant_id": p, "statement_id": s, "vote": rng.choice((-1, 0, 1)), "modified": 1000.0 * (p * 20 + s)}
        for p in range(50)
        for s in range(20)
    ]
    reddwarf_run({"votes": votes, "mod_out_statement_ids": [], "meta_statement_ids": []})


def prepare(tool: str) -> Tool:
    """Imports the tool (untimed) and returns its load and analysis functions."""
    if tool == "reddwarf":
        # red-dwarf's models trip a harmless pydantic warning on import with recent pydantic.
        warnings.filterwarnings("ignore", message="The 'exclude' attribute")
        import reddwarf.data_loader  # noqa: F401
        import reddwarf.implementations.polis  # noqa: F401

        reddwarf_warm_up()
        return reddwarf_load, reddwarf_run
    import commonground  # noqa: F401

    return commonground_load, commonground_run


def measure(tool: Tool, folder: Path) -> Dict[str, float]:
    load, run = tool
    t0 = time.perf_counter()
    data = load(folder)
    t1 = time.perf_counter()
    run(data)
    t2 = time.perf_counter()
    return {"load_s": t1 - t0, "analysis_s": t2 - t1}


def measure_arrow(folder: Path) -> Dict[str, float]:
    """Parquet into a pyarrow Table, the Table into a conversation, then the analysis."""
    import pyarrow.parquet as pq

    import commonground as cg

    (table_file,) = sorted(folder.glob("*.parquet"))
    t0 = time.perf_counter()
    table = pq.read_table(table_file)
    t1 = time.perf_counter()
    conversation = cg.Conversation.from_votes(table)
    t2 = time.perf_counter()
    del table
    commonground_run(conversation)
    t3 = time.perf_counter()
    return {"load_s": t2 - t0, "analysis_s": t3 - t2, "read_table_s": t1 - t0, "from_votes_s": t2 - t1}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", choices=["reddwarf", "commonground", "commonground-arrow"])
    parser.add_argument("folder", type=Path,
                        help="a Polis export folder (votes.csv, comments.csv); for commonground-arrow, a folder "
                             "holding one Parquet vote table")
    args = parser.parse_args(argv)
    if args.tool == "commonground-arrow":
        if len(list(args.folder.glob("*.parquet"))) != 1:
            parser.error(f"no single .parquet file in {args.folder}")
        print(json.dumps(measure_arrow(args.folder)))
        return 0
    if not (args.folder / "votes.csv").is_file():
        parser.error(f"no votes.csv in {args.folder}")
    print(json.dumps(measure(prepare(args.tool), args.folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
