"""benches/benchmark.py's report logic: the issue's targets checked on given numbers, and the CLI
features (fast profile, Parquet) read from its help texts. Hand-made numbers on each side of every
threshold; no tool is run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

BENCHES = Path(__file__).resolve().parents[2] / "benches"


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHES))  # benchmark.py imports its sibling pipelines.py
    try:
        spec = importlib.util.spec_from_file_location("benchmark_under_test", BENCHES / "benchmark.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHES))
    yield module
    sys.modules.pop("benchmark_under_test", None)


def outcome(bench: Any, load: float, analysis: float, rss: int = 0) -> Any:
    return bench.Outcome(runs=[bench.Run(load, analysis, load + analysis, rss, {})])


def item(bench: Any, name: str, votes: int = 1000) -> Any:
    return bench.Input(name, Path("/nonexistent") / name, 10, 10, votes)


def line_with(lines: List[str], text: str) -> str:
    found = [line for line in lines if text in line]
    assert len(found) == 1, (text, lines)
    return found[0]


def test_the_red_dwarf_ratio_is_analysis_against_analysis_and_needs_100x_on_every_conversation(bench: Any) -> None:
    a, b = item(bench, "a"), item(bench, "b")
    # Loads are excluded: a's CLI load is huge, and does not count.
    results: Dict[Any, Dict[str, Any]] = {
        a: {bench.CLI: outcome(bench, 5.0, 0.002), bench.REDDWARF: outcome(bench, 0.1, 0.300)},  # 150x
        b: {bench.CLI: outcome(bench, 0.001, 0.004), bench.REDDWARF: outcome(bench, 0.1, 0.396)},  # 99x
    }
    lines = bench.target_lines(results, ["a", "b"])
    ratio = line_with(lines, "red-dwarf")
    assert "smallest 99× (b)" in ratio and "largest 150×" in ratio and ratio.endswith("not met).")
    results[b][bench.REDDWARF] = outcome(bench, 0.1, 0.400)  # 100x
    assert bench.target_lines(results, ["a", "b"])[0].endswith(": met).")


def test_the_1m_targets_exact_fast_parquet_and_memory(bench: Any) -> None:
    gib = bench.GIB
    m = item(bench, "synthetic-1m", 50_000_000)
    results = {m: {bench.CLI: outcome(bench, 2.9, 6.0, gib)}}
    exact = line_with(bench.target_lines(results, []), "exact profile")
    assert exact.count(": met") == 3, exact  # analysis <= 6 s, load <= 3 s, peak <= 1 GiB
    results = {m: {bench.CLI: outcome(bench, 3.1, 6.1, gib + 1),
                   bench.CLI_FAST: outcome(bench, 3.0, 3.0, gib),
                   bench.CLI_PARQUET: outcome(bench, 1.01, 6.0, gib)}}
    lines = bench.target_lines(results, [])
    exact = line_with(lines, "exact profile")
    assert exact.count("not met") == 3 and ": met" not in exact, exact
    fast = line_with(lines, "--profile fast")
    assert fast.count(": met") == 2, fast
    assert line_with(lines, "from Parquet").endswith("not met).")
    # Without those rows there are no lines for them.
    lines = bench.target_lines({m: {bench.CLI: outcome(bench, 1, 1, 1)}}, [])
    assert not any("fast" in line or "Parquet" in line for line in lines)


def test_the_load_against_one_pass_over_the_file_and_the_50k_vote_conversation(bench: Any) -> None:
    v = item(bench, bench.TARGET_50K_INPUT, 49_997)
    tiny = item(bench, "tiny", 640)  # its load, 100 passes, does not count: only the largest input's does
    results = {v: {bench.CLI: outcome(bench, 0.002, 0.003)}, tiny: {bench.CLI: outcome(bench, 0.001, 0.001)}}
    lines = bench.target_lines(results, [], {v.name: 0.0004, tiny.name: 0.00001})  # load = 5 passes
    assert "vtaiwan.uberx, 49,997 votes): 5.0×" in line_with(lines, "one pass")
    assert line_with(lines, "one pass").endswith(": met).")
    assert line_with(lines, "49,997-vote").endswith(": met).")  # 5 ms end to end
    results[v] = {bench.CLI: outcome(bench, 0.0021, 0.003)}
    lines = bench.target_lines(results, [], {v.name: 0.0004, tiny.name: 0.00001})
    assert line_with(lines, "one pass").endswith("not met).")
    assert line_with(lines, "49,997-vote").endswith("not met).")


def test_cli_features_are_read_from_the_help_texts(bench: Any) -> None:
    analyze = "Options:\n      --timings  Print timings\n      --profile <PROFILE>  exact or fast\n"
    generate = ("Options:\n      --seed <SEED>  [default: 0]\n      --format <FORMAT>  What to write\n"
                "          [default: csv] [possible values: csv, parquet]\n      --output <OUTPUT>  The folder\n")
    assert bench.features_from_help(analyze, generate) == {"profile": True, "parquet": True}
    # Today's CLI: neither; a "parquet" elsewhere in the help is not the format option.
    old_generate = "Options:\n      --format-version <N>  x\n      --output <OUTPUT>  not parquet\n"
    assert bench.features_from_help("Options:\n      --timings\n", old_generate) == {"profile": False, "parquet": False}


def test_from_votes_on_the_50m_row_table_must_add_under_half_a_second_to_pyarrows_read(bench: Any) -> None:
    m = item(bench, "synthetic-1m", 50_000_000)

    def arrow(from_votes: float, read: float) -> Any:
        run = bench.Run(read + from_votes, 6.0, 10.0, 0, {"read_table": read, "from_votes": from_votes})
        return bench.Outcome(runs=[run])

    results = {m: {bench.CLI: outcome(bench, 3.0, 6.0), bench.PYTHON_ARROW: arrow(0.49, 0.8)}}
    line = line_with(bench.target_lines(results, []), "from_votes")
    assert "490.0 ms beyond pyarrow's read of the Parquet file (800.0 ms)" in line and line.endswith(": met).")
    results[m][bench.PYTHON_ARROW] = arrow(0.5, 0.8)
    assert line_with(bench.target_lines(results, []), "from_votes").endswith("not met).")
    # Without the row, no line.
    del results[m][bench.PYTHON_ARROW]
    assert not any("from_votes" in line for line in bench.target_lines(results, []))
