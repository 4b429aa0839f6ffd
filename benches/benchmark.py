#!/usr/bin/env python3
"""Wall time and peak memory of commonground and red-dwarf 0.4 on the same inputs, in one run.

Inputs: every Polis openData export under OPENDATA (largest first), and generated conversations
of 10k, 100k and 1M participants (``commonground generate``, written once into ``--data-dir``
and reused). Each measurement is a fresh child process, so its peak RSS (``ru_maxrss`` from
``os.wait4``) is one tool's on one input:

- commonground CLI: ``commonground analyze DIR --format json --output /dev/null --timings``;
  load and analysis times are the CLI's own per-stage timings (stderr). Two more rows when the
  CLI has the feature (probed from its ``--help``): ``--profile fast`` ("commonground CLI (fast
  profile)"), and, on the generated conversations, their Parquet twin (``generate --format
  parquet``, read by ``analyze``: "commonground CLI (parquet)");
- commonground Python: ``cg.read_polis(DIR)``, then ``conv.analyze(seed=0)`` (``run_one.py``);
  on the generated conversations' Parquet twins, when pyarrow is installed and the package takes
  Arrow tables, also ``pyarrow.parquet.read_table`` then ``cg.Conversation.from_votes(table)``
  ("commonground Python (Arrow table)", its two steps timed apart);
- red-dwarf: its CSV loader emulated on the local files, then ``run_pipeline`` (``run_one.py``,
  the same code as ``compare_reddwarf.py``). It is not run where its memory estimate exceeds
  the budget, and a run is killed after ``--timeout`` seconds; the table says why.

Prints a Markdown table (and writes it to ``--markdown-out``), then the issue's targets checked on
the run's numbers (``target_lines``). See BENCHMARKS.md.

    python benches/benchmark.py [OPENDATA] [--sizes 10k,100k,1m] [--only NAME ...] [--repeat N]
        [--threads N] [--skip-reddwarf] [--skip-python] [--timeout S] [--markdown-out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from pipelines import export_size

BENCHES = Path(__file__).resolve().parent
REPO_ROOT = BENCHES.parent
DEFAULT_OPENDATA = (REPO_ROOT / ".." / "shared" / "data" / "opendata").resolve()
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "cg-bench-data"
DEFAULT_CLI = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target") / "release" / "commonground"
GIB = 1024**3

CLI, PYTHON, REDDWARF = "commonground CLI", "commonground Python", "red-dwarf"
# Rows that exist only when the CLI has the feature (probed from its --help, see cli_features).
CLI_FAST, CLI_PARQUET = "commonground CLI (fast profile)", "commonground CLI (parquet)"
CLI_TOOLS = (CLI, CLI_FAST, CLI_PARQUET)
# The Python package reading the Parquet twin through pyarrow (when both can, see python_arrow).
PYTHON_ARROW = "commonground Python (Arrow table)"
# The rows that read the Parquet twin, so run only on inputs that have one.
PARQUET_TOOLS = (CLI_PARQUET, PYTHON_ARROW)

# The issue's targets ("Performance II"), checked by target_lines on each run's numbers.
TARGET_1M_ANALYSIS_S = 6.0  # exact (default) profile
TARGET_1M_ANALYSIS_FAST_S = 3.0  # --profile fast
TARGET_1M_LOAD_CSV_S = 3.0
TARGET_1M_LOAD_PARQUET_S = 1.0
TARGET_1M_PEAK = 1 * GIB
# "from_votes on a 50M-row pyarrow table adds under 0.5 s to the load": the table's own read
# (pyarrow's, from the Parquet twin) is the load; from_votes must add less than this.
TARGET_FROM_VOTES_S = 0.5
TARGET_REDDWARF_RATIO = 100.0  # red-dwarf's analysis ÷ the CLI's, on every openData conversation
# "The load itself within a few times one pass over the file": a few, read as at most this many
# times one read of votes.csv (from the page cache, newlines counted; count_votes), on the largest
# input of the run.
TARGET_LOAD_PASSES = 5.0
# "A 50,000-vote conversation analysed end to end in a few milliseconds": vtaiwan.uberx (49,997
# votes), load + analysis, at most this many seconds.
TARGET_50K_VOTES_S = 0.005
TARGET_50K_INPUT = "vtaiwan.uberx"


@dataclasses.dataclass(frozen=True)
class Synthetic:
    """A generated conversation: ``commonground generate`` with these parameters."""

    participants: int
    statements: int
    votes: int
    groups: int = 4
    seed: int = 1


SIZES: Dict[str, Synthetic] = {
    "10k": Synthetic(10_000, 1_000, 500_000),
    "100k": Synthetic(100_000, 2_000, 5_000_000),
    "1m": Synthetic(1_000_000, 10_000, 50_000_000),
}


@dataclasses.dataclass(frozen=True)
class Input:
    name: str
    folder: Path
    participants: int
    statements: int
    votes: int
    # The same votes as Parquet (generated conversations, when the CLI writes Parquet).
    parquet: Optional[Path] = None


@dataclasses.dataclass(frozen=True)
class Run:
    """One child process: the tool's own load and analysis times, the process's wall time and
    peak RSS, and (CLI) every stage's time."""

    load_s: float
    analysis_s: float
    process_s: float
    peak_rss: int  # bytes
    stages: Dict[str, float]

    @property
    def end_to_end_s(self) -> float:
        return self.load_s + self.analysis_s


@dataclasses.dataclass
class Outcome:
    """One tool on one input: its runs, or why it was not run or failed."""

    runs: List[Run] = dataclasses.field(default_factory=list)
    not_run: Optional[str] = None

    def best(self, field: str) -> Optional[float]:
        values = [getattr(r, field) for r in self.runs]
        return min(values) if values else None

    def peak_rss(self) -> Optional[int]:
        return max(r.peak_rss for r in self.runs) if self.runs else None


class ChildFailed(Exception):
    pass


# -- inputs ----------------------------------------------------------------------------------


def opendata_inputs(root: Path) -> List[Input]:
    """Every export folder under ``root``, by number of votes, largest first."""
    if not root.is_dir():
        return []
    inputs = []
    for folder in sorted(p for p in root.iterdir() if (p / "votes.csv").is_file()):
        participants, statements, votes = export_size(folder)
        inputs.append(Input(folder.name, folder, participants, statements, votes))
    return sorted(inputs, key=lambda i: -i.votes)


def count_votes(folder: Path) -> int:
    """Rows of votes.csv (header excluded), counted without parsing."""
    lines = 0
    with open(folder / "votes.csv", "rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines - 1


def synthetic_input(cli: Path, data_dir: Path, size: str, parquet: bool = False) -> Input:
    """The generated conversation of this size in ``data_dir``, generated first if missing; with
    ``parquet``, also its Parquet twin (``generate --format parquet``, the same parameters) in
    ``synthetic-SIZE-parquet``."""
    spec = SIZES[size]
    folder = data_dir / f"synthetic-{size}"
    wanted = dataclasses.asdict(spec)
    generate = [str(cli), "generate", *(f"--{k}={v}" for k, v in wanted.items())]
    if not (folder / "truth.json").is_file():
        print(f"… generating {folder} ({wanted})", file=sys.stderr, flush=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*generate, "--output", str(folder)], check=True)
    twin = None
    if parquet:
        twin = data_dir / f"synthetic-{size}-parquet"
        if not any(twin.glob("*.parquet")):
            print(f"… generating {twin} (Parquet, {wanted})", file=sys.stderr, flush=True)
            subprocess.run([*generate, "--format", "parquet", "--output", str(twin)], check=True)
    with open(folder / "truth.json", encoding="utf-8") as f:
        params = json.load(f)["params"]
    found = {k: params.get(k) for k in wanted}
    if found != wanted:
        raise SystemExit(f"{folder} was generated with {found}, not {wanted}: remove it or pick another --data-dir")
    return Input(folder.name, folder, spec.participants, spec.statements, count_votes(folder), twin)


def cli_features(cli: Path) -> Dict[str, bool]:
    """What this CLI can do beyond the exact analysis of a CSV export, from its ``--help``:
    ``profile`` (``analyze --profile``, the fast profile) and ``parquet`` (``generate --format
    parquet``, whose output ``analyze`` then reads)."""
    def help_text(command: str) -> str:
        try:
            return subprocess.run([str(cli), command, "--help"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return ""
    return features_from_help(help_text("analyze"), help_text("generate"))


def features_from_help(analyze_help: str, generate_help: str) -> Dict[str, bool]:
    """The features :func:`cli_features` reads from the two help texts."""
    generate_format = re.search(r"--format(?![\w-]).*?(?=\n\s*-|\Z)", generate_help, re.S)
    return {
        "profile": re.search(r"--profile\b", analyze_help) is not None,
        "parquet": generate_format is not None and "parquet" in generate_format.group(0).lower(),
    }


def one_pass_s(folder: Path, repeat: int = 3) -> float:
    """The best time of one pass over votes.csv (read from the page cache, newlines counted): the
    unit of the load target."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count_votes(folder)
        best = min(best, time.perf_counter() - start)
    return best


# -- running one measurement -----------------------------------------------------------------


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # it has just exited
        pass


def run_child(command: Sequence[str], env: Dict[str, str], timeout: float) -> "tuple[str, str, float, int]":
    """Runs ``command`` to completion; returns (stdout, stderr, wall seconds, peak RSS bytes).
    Kills its process group after ``timeout`` seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
        timer = threading.Timer(timeout, kill_group, (child.pid,))
        timer.start()
        try:
            _, status, rusage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if child.returncode == -signal.SIGKILL:
        raise ChildFailed(f"timed out after {timeout:.0f} s" if wall >= timeout else "killed (out of memory?)")
    if child.returncode != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {child.returncode}"
        raise ChildFailed(f"failed: {last}")
    rss_unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return stdout, stderr, wall, rusage.ru_maxrss * rss_unit


def parse_cli_timings(stderr: str) -> Dict[str, float]:
    """``timings (ms): load 1.2  matrix 3.4  mf 5.6 (beside the other stages) ...`` ->
    {"load": 0.0012, "matrix": 0.0034, "mf": 0.0056, ...}."""
    for line in stderr.splitlines():
        if line.startswith("timings (ms)"):
            pairs = re.findall(r"([a-z_]+) ([0-9.]+)", line.split(":", 1)[1])
            return {name: float(ms) / 1000 for name, ms in pairs}
    raise ChildFailed(f"no timings line on stderr: {stderr.strip()[-200:]!r}")


def run_cli(cli: Path, folder: Path, env: Dict[str, str], timeout: float, extra: Sequence[str] = ()) -> Run:
    command = [str(cli), "analyze", str(folder), "--format", "json", "--output", os.devnull, "--timings", *extra]
    _, stderr, wall, rss = run_child(command, env, timeout)
    stages = parse_cli_timings(stderr)
    # Analysis: the CLI's wall time of the update (its stages overlap: the matrix factorization
    # runs beside the other stages); older CLIs print only the stages, which then add up.
    analysis = stages.get("analysis", sum(s for name, s in stages.items() if name not in ("load", "output")))
    return Run(stages["load"], analysis, wall, rss, stages)


def run_python(tool: str, folder: Path, env: Dict[str, str], timeout: float) -> Run:
    stdout, _, wall, rss = run_child([sys.executable, str(BENCHES / "run_one.py"), tool, str(folder)], env, timeout)
    times = json.loads(stdout.strip().splitlines()[-1])
    # commonground-arrow: the load's two steps.
    stages = {name[:-2]: times[name] for name in ("read_table_s", "from_votes_s") if name in times}
    return Run(times["load_s"], times["analysis_s"], wall, rss, stages)


def python_arrow() -> bool:
    """Whether this interpreter has pyarrow and a commonground whose ``from_votes`` takes Arrow
    tables (``_core.Conversation.add_table``)."""
    if importlib.util.find_spec("pyarrow") is None or importlib.util.find_spec("commonground") is None:
        return False
    from commonground import _core

    return hasattr(_core.Conversation, "add_table")


# -- red-dwarf's memory ----------------------------------------------------------------------

# red-dwarf's peak memory, roughly: the interpreter with pandas and scikit-learn; about 1 KiB per
# vote (the validated vote dicts, then a DataFrame of them); the dense participants x statements
# float64 vote matrix and its copies (pivot, imputation, PCA input); scikit-learn's silhouette
# works in chunks of up to 1 GiB (``working_memory``). Fitted on two runs, with some margin:
# 10k x 1k x 500k votes peaked at 1.3 GiB, 20k x 3k x 500k votes at 3.2 GiB (estimates 2.0, 3.9).
REDDWARF_BASE = 0.2 * GIB
REDDWARF_PER_VOTE = 1024
REDDWARF_DENSE_COPIES = 5
REDDWARF_SKLEARN_WORKING = 1.0 * GIB


def reddwarf_not_run(item: Input, budget: float) -> Optional[str]:
    """Why red-dwarf is not run on ``item`` (its estimated peak memory exceeds ``budget``), or None."""
    dense = item.participants * item.statements * 8
    estimate = REDDWARF_BASE + REDDWARF_PER_VOTE * item.votes + REDDWARF_DENSE_COPIES * dense + REDDWARF_SKLEARN_WORKING
    if estimate <= budget:
        return None
    return (f"not run: needs ~{estimate / GIB:.0f} GiB (dense {item.participants}×{item.statements} "
            f"float64 matrix {dense / GIB:.1f} GiB, ×{REDDWARF_DENSE_COPIES} copies) > budget {budget / GIB:.1f} GiB")


# -- the run ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    cli: Path
    tools: List[str]
    repeat: int
    timeout: float
    reddwarf_budget: float
    env: Dict[str, str]


def measure(settings: Settings, tool: str, item: Input) -> Run:
    if tool == CLI:
        return run_cli(settings.cli, item.folder, settings.env, settings.timeout)
    if tool == CLI_FAST:
        return run_cli(settings.cli, item.folder, settings.env, settings.timeout, ["--profile", "fast"])
    if tool == CLI_PARQUET:
        assert item.parquet is not None  # benchmark() runs this row only with a twin
        files = sorted(item.parquet.glob("*.parquet"))
        return run_cli(settings.cli, files[0] if len(files) == 1 else item.parquet, settings.env, settings.timeout)
    if tool == PYTHON_ARROW:
        assert item.parquet is not None
        return run_python("commonground-arrow", item.parquet, settings.env, settings.timeout)
    return run_python("commonground" if tool == PYTHON else "reddwarf", item.folder, settings.env, settings.timeout)


def benchmark(settings: Settings, item: Input) -> Dict[str, Outcome]:
    """``repeat`` rounds over the tools, so that all of them see the same (noisy) machine."""
    outcomes = {tool: Outcome() for tool in settings.tools if tool not in PARQUET_TOOLS or item.parquet is not None}
    if REDDWARF in outcomes:
        outcomes[REDDWARF].not_run = reddwarf_not_run(item, settings.reddwarf_budget)
    for _ in range(settings.repeat):
        for tool, outcome in outcomes.items():
            if outcome.not_run is not None:
                continue
            print(f"… {item.name}: {tool}", end="", file=sys.stderr, flush=True)
            try:
                run = measure(settings, tool, item)
            except ChildFailed as e:
                outcome.not_run = str(e)
                print(f": {e}", file=sys.stderr, flush=True)
                continue
            outcome.runs.append(run)
            print(f": load {fmt_s(run.load_s)}, analysis {fmt_s(run.analysis_s)}, peak RSS {fmt_bytes(run.peak_rss)}",
                  file=sys.stderr, flush=True)
    return outcomes


# -- printing --------------------------------------------------------------------------------


def fmt_s(seconds: Optional[float]) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_bytes(n: Optional[int]) -> str:
    if n is None:
        return "–"
    return f"{n / 1024**2:.0f} MiB" if n < GIB else f"{n / GIB:.2f} GiB"


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    if not a or not b:
        return "–"
    r = a / b
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


def result_rows(item: Input, outcomes: Dict[str, Outcome]) -> List[str]:
    reddwarf = outcomes.get(REDDWARF)
    rows = []
    for tool, o in outcomes.items():
        later_failure = f" ({len(o.runs)} run(s), then {o.not_run})" if o.runs and o.not_run else ""
        size = f"| {item.name} | {item.participants:,} | {item.statements:,} | {item.votes:,} | {tool}{later_failure} "
        if not o.runs:
            rows.append(size + f"| {o.not_run} | | | | | | |")
            continue
        ratios = ("| | " if tool == REDDWARF or reddwarf is None else
                  f"| {fmt_ratio(reddwarf.best('end_to_end_s'), o.best('end_to_end_s'))} "
                  f"| {fmt_ratio(reddwarf.best('analysis_s'), o.best('analysis_s'))} ")
        rows.append(size + f"| {fmt_s(o.best('load_s'))} | {fmt_s(o.best('analysis_s'))} "
                    f"| {fmt_s(o.best('end_to_end_s'))} | {fmt_s(o.best('process_s'))} | {fmt_bytes(o.peak_rss())} "
                    + ratios + "|")
    return rows


def stage_table(results: Dict[Input, Dict[str, Outcome]]) -> List[str]:
    """The CLI's stages, best of the runs, per input."""
    stages: List[str] = []
    for outcomes in results.values():
        for run in outcomes[CLI].runs if CLI in outcomes else []:
            stages += [s for s in run.stages if s not in stages]
    if not stages:
        return []
    lines = ["| input | " + " | ".join(stages) + " |", "|---|" + "--:|" * len(stages)]
    for item, outcomes in results.items():
        runs = outcomes[CLI].runs
        if runs:
            lines.append(f"| {item.name} | " + " | ".join(fmt_s(min(r.stages.get(s, 0.0) for r in runs))
                                                         for s in stages) + " |")
    return lines


# -- incremental updates -----------------------------------------------------------------------

INCREMENTAL_ARGS = ["100000", "2000", "5000000", "1000", "10"]
UPDATE_LINE = re.compile(r"update \d+: (\d+) votes in (\d+) ms \((.*)\)")


def run_incremental(cli: Path, warm: str, env: Dict[str, str], timeout: float) -> Dict[str, float]:
    """Runs the ``incremental_update`` example (built beside the CLI) with the PCA warm start
    ``warm``; returns the median of each stage over its updates, and of the whole update, in ms."""
    binary = cli.with_name("incremental_update")
    if not binary.is_file():
        raise ChildFailed(f"no {binary}: cargo build --release -p commonground-examples --bin incremental_update")
    stdout, _, _, _ = run_child([str(binary), *INCREMENTAL_ARGS], {**env, "CG_WARM": warm}, timeout)
    updates = []
    for total, stages in ((float(m[2]), m[3]) for m in UPDATE_LINE.finditer(stdout)):
        row = {name: float(ms) for name, ms in re.findall(r"([a-z]+) (\d+)(?:[ ,)]|$)", stages)}
        row["update"] = total
        updates.append(row)
    if not updates:
        raise ChildFailed(f"no update lines in the output: {stdout.strip()[-200:]!r}")
    return {name: statistics.median(u[name] for u in updates) for name in updates[0]}


def incremental_section(cli: Path, env: Dict[str, str], timeout: float) -> List[str]:
    """The table of one 1,000-vote update into a 100,000-participant conversation, per PCA warm start."""
    lines = [
        "Incremental updates: `incremental_update " + " ".join(INCREMENTAL_ARGS) + "` (100,000 participants, "
        "2,000 statements, 5M votes, then 10 batches of 1,000 new votes through `Conversation::update`); median "
        "over the 10 updates, in ms:",
        "",
        "| PCA warm start | update | matrix | pca | clustering | statistics | bridging | mf (beside the other stages) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    medians = {}
    for warm, label in (("lanczos", "Lanczos (`pca_warm_start = \"lanczos\"`)"), ("polis", "Polis's power iteration (default)")):
        print(f"incremental updates, {warm} warm start ...", file=sys.stderr, flush=True)
        try:
            m = run_incremental(cli, warm, env, timeout)
        except ChildFailed as failure:
            lines.append(f"| {label} | {failure} | | | | | | |")
            continue
        medians[warm] = m["update"]
        stages = " | ".join(f"{m.get(name, float('nan')):.0f}" for name in ("matrix", "pca", "clustering", "statistics", "bridging", "mf"))
        lines.append(f"| {label} | {m['update']:.0f} | {stages} |")
    if "lanczos" in medians:
        best = medians["lanczos"]
        lines += ["", f"- Incremental update of 1,000 votes into 100,000 participants: median {best:.0f} ms with the "
                  f"Lanczos warm start (target < 200 ms: {'met' if best < 200 else 'not met'})."]
    return lines


def met(ok: bool) -> str:
    return "met" if ok else "not met"


def target_lines(results: Dict[Input, Dict[str, Outcome]], opendata: List[str],
                 passes: Optional[Dict[str, float]] = None) -> List[str]:
    """The issue's targets, checked on this run's numbers; ``passes`` holds one pass over each
    input's votes.csv (:func:`one_pass_s`), in seconds."""
    lines = []
    ratios = []
    load_ratios = []
    for item, outcomes in results.items():
        cli = outcomes.get(CLI, Outcome())
        analysis, load, rss = cli.best("analysis_s"), cli.best("load_s"), cli.peak_rss()
        if item.name == "synthetic-1m":
            if analysis is not None and rss is not None and load is not None:
                lines.append(f"- 1M × 10k × 50M, CLI (exact profile): analysis {fmt_s(analysis)} (target ≤ "
                             f"{TARGET_1M_ANALYSIS_S:.0f} s: {met(analysis <= TARGET_1M_ANALYSIS_S)}), load from CSV "
                             f"{fmt_s(load)} (target ≤ {TARGET_1M_LOAD_CSV_S:.0f} s: {met(load <= TARGET_1M_LOAD_CSV_S)}), "
                             f"peak RSS {fmt_bytes(rss)} (target ≤ 1 GiB: {met(rss <= TARGET_1M_PEAK)}).")
            fast = outcomes.get(CLI_FAST, Outcome())
            if fast.runs:
                f_analysis, f_rss = fast.best("analysis_s"), fast.peak_rss()
                lines.append(f"- 1M × 10k × 50M, CLI `--profile fast`: analysis {fmt_s(f_analysis)} (target ≤ "
                             f"{TARGET_1M_ANALYSIS_FAST_S:.0f} s: {met(f_analysis <= TARGET_1M_ANALYSIS_FAST_S)}), "
                             f"peak RSS {fmt_bytes(f_rss)} (target ≤ 1 GiB: {met(f_rss <= TARGET_1M_PEAK)}).")
            parquet = outcomes.get(CLI_PARQUET, Outcome())
            if parquet.runs:
                p_load = parquet.best("load_s")
                lines.append(f"- 1M × 10k × 50M, CLI load from Parquet: {fmt_s(p_load)} (target ≤ "
                             f"{TARGET_1M_LOAD_PARQUET_S:.0f} s: {met(p_load <= TARGET_1M_LOAD_PARQUET_S)}).")
            arrow = outcomes.get(PYTHON_ARROW, Outcome())
            if arrow.runs:
                from_votes = min(r.stages["from_votes"] for r in arrow.runs)
                read = min(r.stages["read_table"] for r in arrow.runs)
                lines.append(f"- 1M × 10k × 50M, Python `from_votes` on the 50M-row pyarrow table: {fmt_s(from_votes)} "
                             f"beyond pyarrow's read of the Parquet file ({fmt_s(read)}) (target < "
                             f"{TARGET_FROM_VOTES_S} s: {met(from_votes < TARGET_FROM_VOTES_S)}).")
        if item.name == TARGET_50K_INPUT and cli.runs:
            e2e = cli.best("end_to_end_s")
            lines.append(f"- {item.votes:,}-vote conversation ({item.name}), CLI load + analysis: {fmt_s(e2e)} "
                         f"(target ≤ {TARGET_50K_VOTES_S * 1000:.0f} ms: {met(e2e <= TARGET_50K_VOTES_S)}).")
        rd_analysis = outcomes.get(REDDWARF, Outcome()).best("analysis_s")
        if item.name in opendata and rd_analysis is not None and analysis:
            ratios.append((rd_analysis / analysis, item.name))
        if passes and item.name in passes and load is not None and passes[item.name] > 0:
            load_ratios.append((item.votes, load / passes[item.name], item.name))
    if ratios:
        worst, name = min(ratios)
        lines.append(f"- openData, red-dwarf `run_pipeline` ÷ commonground CLI analysis (loads excluded): smallest "
                     f"{worst:.0f}× ({name}), largest {max(ratios)[0]:.0f}× over {len(ratios)} conversations "
                     f"(target ≥ {TARGET_REDDWARF_RATIO:.0f}× on every one: {met(worst >= TARGET_REDDWARF_RATIO)}).")
    if load_ratios:
        # On the largest input: on a small file the process's fixed costs, not the file, set the load.
        votes, ratio, name = max(load_ratios)
        lines.append(f"- CLI load ÷ one pass over votes.csv on the largest input ({name}, {votes:,} votes): "
                     f"{ratio:.1f}× (target ≤ {TARGET_LOAD_PASSES:.0f}×, \"a few times one pass\": "
                     f"{met(ratio <= TARGET_LOAD_PASSES)}).")
    return lines


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def commit() -> str:
    try:
        sha = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" (modified)" if dirty else "")


def machine(cli: Path) -> str:
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    cli_version = subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{_dt.date.today().isoformat()}, {os.cpu_count()} cores ({cpu}), {total_memory() / GIB:.0f} GiB RAM, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}; commit {commit()}; "
            f"CLI {cli} ({cli_version}); Python packages: commonground {version('commonground')}, "
            f"red-dwarf {version('red-dwarf')}, numpy {version('numpy')}, pandas {version('pandas')}, "
            f"scikit-learn {version('scikit-learn')}")


def loadavg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def total_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def report(results: Dict[Input, Dict[str, Outcome]], opendata: List[str], settings: Settings, header: List[str],
           passes: Optional[Dict[str, float]] = None) -> str:
    lines = header + [
        "",
        f"Best of {settings.repeat} run(s), each a fresh process. Load: the export folder read into the tool's "
        "input; analysis: the full analysis (commonground: PCA, groups, repness, consensus, bridging with the "
        "matrix factorization; red-dwarf: `run_pipeline`); load + analysis is the end-to-end time compared in "
        "the ratios; process: the child's wall time from start to exit (interpreter start-up, imports, "
        "red-dwarf's warm-up run and the CLI's JSON output included); peak RSS: the child's `ru_maxrss`.",
        "",
        "| input | participants | statements | votes | tool | load | analysis | load + analysis | process "
        "| peak RSS | red-dwarf ÷ this, load + analysis | red-dwarf ÷ this, analysis |",
        "|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for item, outcomes in results.items():
        lines += result_rows(item, outcomes)
    stages = stage_table(results)
    if stages:
        lines += ["", "commonground CLI, per stage (`--timings`, best of the runs):", ""] + stages
    targets = target_lines(results, opendata, passes)
    if targets:
        lines += ["", "Targets:", ""] + targets
    return "\n".join(lines) + "\n"


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("opendata", nargs="?", type=Path, default=DEFAULT_OPENDATA,
                        help=f"folder of Polis export folders (default: {DEFAULT_OPENDATA})")
    parser.add_argument("--sizes", default="10k,100k,1m",
                        help=f"generated conversations, comma-separated, of {', '.join(SIZES)} ('' for none; "
                             "default: all)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these inputs (openData folder names, or synthetic-10k etc.)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where generated conversations are written once and reused (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--cli", type=Path, default=DEFAULT_CLI,
                        help=f"the commonground binary (default: {DEFAULT_CLI})")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and input; the best is kept (default 1)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="limit every tool to N threads (rayon; BLAS/OpenMP); default: each tool's own (all cores)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a run is killed (default 1800)")
    parser.add_argument("--reddwarf-memory-budget", type=float, metavar="GIB",
                        help="do not run red-dwarf where its estimated peak memory exceeds this "
                             "(default: half of the machine's RAM)")
    parser.add_argument("--skip-reddwarf", action="store_true", help="do not run red-dwarf")
    parser.add_argument("--skip-python", action="store_true", help="do not run commonground's Python package")
    parser.add_argument("--skip-incremental", action="store_true",
                        help="do not time incremental updates (the incremental_update example beside the CLI)")
    parser.add_argument("--markdown-out", type=Path, metavar="FILE", help="also write the report to FILE")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    args.sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown --sizes {', '.join(unknown)} (known: {', '.join(SIZES)})")
    if not args.cli.is_file():
        parser.error(f"no commonground binary at {args.cli}: build it with `cargo build --release -p "
                     "commonground-cli`, or pass --cli")
    for skip, module, how in ((args.skip_python, "commonground", "pip install ."),
                              (args.skip_reddwarf, "reddwarf", "pip install -r benches/requirements-reddwarf.txt")):
        if not skip and importlib.util.find_spec(module) is None:
            parser.error(f"{sys.executable} cannot import {module}: `{how}` in this interpreter's venv, "
                         f"or pass --skip-{'python' if module == 'commonground' else 'reddwarf'}")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ)
    if args.threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
            env[var] = str(args.threads)
    features = cli_features(args.cli)
    tools = ([CLI] + ([CLI_FAST] if features["profile"] else []) + ([CLI_PARQUET] if features["parquet"] else [])
             + ([] if args.skip_python else [PYTHON])
             + ([PYTHON_ARROW] if not args.skip_python and features["parquet"] and python_arrow() else [])
             + ([] if args.skip_reddwarf else [REDDWARF]))
    budget = args.reddwarf_memory_budget * GIB if args.reddwarf_memory_budget else total_memory() / 2
    settings = Settings(args.cli, tools, args.repeat, args.timeout, budget, env)

    wanted = set(args.only) if args.only else None
    opendata = [i for i in opendata_inputs(args.opendata) if wanted is None or i.name in wanted]
    synthetic = [synthetic_input(args.cli, args.data_dir, s, features["parquet"]) for s in args.sizes
                 if wanted is None or f"synthetic-{s}" in wanted]
    if not opendata and not synthetic:
        only = f", --only {' '.join(args.only)}" if args.only else ""
        print(f"nothing to run: no input matches (export folders under {args.opendata}, --sizes "
              f"{','.join(args.sizes) or 'none'}{only})", file=sys.stderr)
        return 2

    load_before = loadavg()
    results = {item: benchmark(settings, item) for item in opendata + synthetic}
    passes = {item.name: one_pass_s(item.folder) for item in opendata + synthetic}
    incremental = [] if args.skip_incremental else [""] + incremental_section(args.cli, env, args.timeout)
    header = [
        f"Machine: {machine(args.cli)}.",
        f"Threads: {args.threads or 'each tool default (all cores)'}. Load average (1 / 5 / 15 min): "
        f"{load_before} before, {loadavg()} after the run.",
        f"Command: `{shlex.join([Path(sys.executable).name, 'benches/benchmark.py', *(argv or sys.argv[1:])])}`",
    ]
    text = report(results, [i.name for i in opendata], settings, header, passes) + "\n".join(incremental) + "\n"
    print(text, end="", flush=True)
    if args.markdown_out:
        args.markdown_out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
