#!/usr/bin/env python3
"""Side-by-side comparison of red-dwarf 0.4 and commonground on Polis export folders.

For every conversation folder under OPENDATA (each a Polis export: votes.csv, comments.csv,
participants-votes.csv) this runs, in one process:

- red-dwarf's default Polis pipeline, ``reddwarf.implementations.polis.run_pipeline`` (PCA +
  k-means, k chosen by silhouette in 2..5), on the export's votes read with red-dwarf's own
  ``Vote`` / ``Statement`` models and de-duplicated the way red-dwarf's ``Loader`` does for a CSV
  export, with the moderated-out (and meta) statements from comments.csv passed in;
- commonground's ``conv.analyze()`` on ``cg.read_polis(folder)`` (a cold start, defaults).

It prints a Markdown table with, per conversation: size, the wall time of the analysis call of
each tool (best of ``--repeat`` runs, loading excluded), the ratio red-dwarf / commonground, the
adjusted Rand index (ARI) of each tool's groups against Polis's ``group-id`` (over the
participants that both the tool and Polis grouped) and the number of groups found. A second
table gives the load times (CSV -> the tool's input) and the agreement between the two tools.

Usage (see benches/README.md for the venv):

    python benches/compare_reddwarf.py [OPENDATA] [--repeat 3] [--only NAME ...]

Needs, in the same interpreter: commonground, red-dwarf==0.4.0 (which brings scikit-learn).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

from pipelines import (
    Labels,
    commonground_labels,
    commonground_load,
    commonground_run,
    export_size,
    polis_groups,
    reddwarf_labels,
    reddwarf_load,
    reddwarf_run,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OPENDATA = (REPO_ROOT / ".." / "shared" / "data" / "opendata").resolve()


# -- measuring -------------------------------------------------------------------------------


class Measured:
    """One tool on one conversation: wall times of each run, the last run's groups, or the error."""

    def __init__(self, load: Callable[[Path], Any], run: Callable[[Any], Any],
                 labels: Callable[[Any], Labels]) -> None:
        self.load, self.run, self.get_labels = load, run, labels
        self.loads: List[float] = []
        self.runs: List[float] = []
        self.labels: Optional[Labels] = None
        self.error: Optional[str] = None

    def once(self, folder: Path) -> None:
        """Loads the conversation afresh (so no state carries over between runs) and analyses it,
        timing both separately. After an error the tool is not run again on this conversation."""
        if self.error is not None:
            return
        try:
            t0 = time.perf_counter()
            data = self.load(folder)
            t1 = time.perf_counter()
            self.loads.append(t1 - t0)
            result = self.run(data)
            t2 = time.perf_counter()
            self.labels = self.get_labels(result)
        except Exception as e:  # a tool failing on one conversation must not stop the table
            self.error = f"{type(e).__name__}: {e}"
            self.labels = None
            return
        self.runs.append(t2 - t1)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.runs)

    def best(self) -> Optional[float]:
        return min(self.runs) if self.ok else None

    def median(self) -> Optional[float]:
        return statistics.median(self.runs) if self.ok else None

    def best_load(self) -> Optional[float]:
        return min(self.loads) if self.loads else None


def reddwarf() -> Measured:
    return Measured(reddwarf_load, reddwarf_run, reddwarf_labels)


def commonground() -> Measured:
    return Measured(commonground_load, commonground_run, commonground_labels)


def measure_both(folder: Path, repeat: int) -> Tuple[Measured, Measured]:
    """``repeat`` rounds, each running red-dwarf then commonground, so that both see the same
    (shared, noisy) machine."""
    rd, cgm = reddwarf(), commonground()
    for _ in range(repeat):
        rd.once(folder)
        cgm.once(folder)
    return rd, cgm


def ari(tool: Optional[Labels], reference: Labels) -> Tuple[Optional[float], int]:
    """ARI over the participants grouped by both; (None, n) when it is undefined."""
    from sklearn.metrics import adjusted_rand_score

    if tool is None:
        return None, 0
    common = sorted(set(tool) & set(reference))
    if len(common) < 2:
        return None, len(common)
    return float(adjusted_rand_score([reference[p] for p in common], [tool[p] for p in common])), len(common)


# -- printing --------------------------------------------------------------------------------


def cell(text: str, width: int = 70) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def fmt_s(seconds: Optional[float]) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    if not a or not b:
        return "–"
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def fmt_ari(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.3f}"


def n_groups(labels: Optional[Labels]) -> str:
    return "–" if labels is None else str(len(set(labels.values())))


def loadavg() -> str:
    """The machine's 1-minute load average: on a shared machine, how busy the other tenants were."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        return "?"


def environment() -> str:
    import numpy
    import sklearn
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i.get('internal_api')} {i.get('version') or ''} ({i.get('num_threads')} threads)".replace("  ", " ")
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        )
    except Exception:
        pass
    return (
        f"{_dt.date.today().isoformat()}, {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, red-dwarf {version('red-dwarf')}, commonground {version('commonground')}, "
        f"numpy {numpy.__version__}, scikit-learn {sklearn.__version__}" + (f", BLAS: {blas}" if blas else "")
        + f", commonground threads: {os.environ.get('RAYON_NUM_THREADS') or os.cpu_count()}"
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("opendata", nargs="?", default=str(DEFAULT_OPENDATA),
                        help=f"folder of Polis export folders (default: {DEFAULT_OPENDATA})")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and conversation; best is kept (default 3)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these conversation folders")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="limit both tools to N threads (BLAS/OpenMP for red-dwarf, rayon for commonground); "
                             "default: each tool's own default (all cores)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be >= 1")
        # Read by OpenBLAS / OpenMP / MKL when numpy and SciPy load, and by rayon when commonground
        # first runs: nothing of those is imported yet.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    root = Path(args.opendata)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and (p / "votes.csv").is_file()) if root.is_dir() else []
    if args.only:
        folders = [p for p in folders if p.name in set(args.only)]
    if not folders:
        print(f"no Polis export folders (with votes.csv) under {root}", file=sys.stderr)
        return 2

    # Import both up front so neither tool's first timing pays for an import. (red-dwarf's
    # models trip a harmless pydantic warning on import with recent pydantic.)
    warnings.filterwarnings("ignore", message="The 'exclude' attribute")
    import commonground  # noqa: F401
    import reddwarf.implementations.polis  # noqa: F401
    import sklearn.metrics  # noqa: F401

    # One untimed run of each tool first: red-dwarf imports parts of scikit-learn and SciPy
    # lazily inside its first pipeline call (about a second), which is no part of the analysis.
    smallest = min(folders, key=lambda p: (p / "votes.csv").stat().st_size)
    print(f"… warm-up on {smallest.name}", file=sys.stderr, flush=True)
    measure_both(smallest, 1)

    load_before = loadavg()
    main_rows: List[str] = []
    extra_rows: List[str] = []
    for folder in folders:
        print(f"… {folder.name}", file=sys.stderr, flush=True)
        participants, statements, votes = export_size(folder)
        reference = polis_groups(folder)
        rd, cgm = measure_both(folder, args.repeat)
        rd_ari, _ = ari(rd.labels, reference)
        cg_ari, _ = ari(cgm.labels, reference)
        between, n_between = ari(rd.labels, cgm.labels) if rd.labels is not None else (None, 0)

        ratio = fmt_ratio(rd.best(), cgm.best()) if rd.ok and cgm.ok else "–"
        rd_time = fmt_s(rd.best()) if rd.error is None else cell("error: " + rd.error)
        cg_time = fmt_s(cgm.best()) if cgm.error is None else cell("error: " + cgm.error)
        groups = f"{len(set(reference.values()))} / {n_groups(rd.labels)} / {n_groups(cgm.labels)}"
        grouped = (f"{len(reference)} / {'–' if rd.labels is None else len(rd.labels)} / "
                   f"{'–' if cgm.labels is None else len(cgm.labels)}")
        main_rows.append(
            f"| {folder.name} | {participants} | {statements} | {votes} | {rd_time} | {cg_time} | {ratio} "
            f"| {fmt_ari(rd_ari)} | {fmt_ari(cg_ari)} | {groups} |"
        )
        extra_rows.append(
            f"| {folder.name} | {fmt_s(rd.median())} | {fmt_s(cgm.median())} "
            f"| {fmt_s(rd.best_load())} | {fmt_s(cgm.best_load())} | {grouped} "
            f"| {fmt_ari(between)} ({n_between}) |"
        )

    load_after = loadavg()
    print(f"Machine: {environment()}; load average (1 min) {load_before} before, {load_after} after the run.")
    print(f"Times: best of {args.repeat} wall-clock runs of the analysis call only (red-dwarf "
          f"`run_pipeline(votes=...)`, commonground `conv.analyze()`), the two tools' runs alternating, after one "
          f"untimed warm-up run of each; ratio = red-dwarf / commonground.")
    print("ARI: adjusted Rand index against Polis's `group-id` (participants-votes.csv), over the participants "
          "grouped by both. Groups: Polis / red-dwarf / commonground.")
    print()
    print("| conversation | participants | statements | votes | red-dwarf | commonground | ratio "
          "| ARI red-dwarf | ARI commonground | groups P / rd / cg |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|")
    print("\n".join(main_rows))
    print()
    print("Median analysis times of the same runs; load times (best; the CSV export read into each tool's "
          "input); participants grouped by Polis / red-dwarf / commonground; ARI of red-dwarf against "
          "commonground over the participants grouped by both (n):")
    print()
    print("| conversation | red-dwarf median | commonground median | red-dwarf load | commonground load "
          "| grouped P / rd / cg | ARI rd vs cg (n) |")
    print("|---|--:|--:|--:|--:|:-:|--:|")
    print("\n".join(extra_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
