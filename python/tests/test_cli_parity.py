"""The Python package gives exactly the CLI's results: the same Polis math JSON
(`commonground analyze --format polis`) and the same commonground JSON (`--format json`),
compared as parsed JSON, on the bundled vTaiwan example and on real conversations."""

from __future__ import annotations

from pathlib import Path

import pytest

import commonground as cg
from conftest import DATA, EXAMPLE, load_json, require


def test_polis_json_equals_the_cli_on_the_bundled_example(run_cli, vtaiwan_analysis):
    expected = load_json(run_cli("analyze", str(EXAMPLE), "--format", "polis"))
    assert vtaiwan_analysis.to_polis_json() == expected


def test_commonground_json_equals_the_cli_on_the_bundled_example(run_cli, vtaiwan_analysis):
    expected = load_json(run_cli("analyze", str(EXAMPLE), "--format", "json"))
    assert vtaiwan_analysis.to_json() == expected


def test_written_polis_json_is_byte_identical_to_the_cli_output(run_cli, vtaiwan_analysis, tmp_path: Path):
    vtaiwan_analysis.to_polis_json(tmp_path / "math.json")
    assert (tmp_path / "math.json").read_text(encoding="utf-8") == run_cli("analyze", str(EXAMPLE), "--format", "polis")


def test_summary_equals_the_cli_summary_apart_from_the_source_line(run_cli, vtaiwan_analysis):
    cli_lines = run_cli("analyze", str(EXAMPLE), "--format", "summary").splitlines()
    py_lines = vtaiwan_analysis.summary("vtaiwan.uberx").splitlines()
    assert [line for line in cli_lines if not line.startswith("  read as ")] == py_lines


@pytest.mark.parametrize("restarts", ["final", "none"])
def test_replay_equals_the_cli_replay(run_cli, restarts):
    # vw: 1,600 one-second batches (the bundled example's 42,000 take a minute each way).
    path = require(DATA / "polis-math" / "vw")
    analysis = cg.read_polis(path).analyze(replay=True, restarts=restarts)
    assert analysis.tick > 1
    cli = run_cli("analyze", str(path), "--format", "polis", "--replay-restarts", restarts)
    assert analysis.to_polis_json() == load_json(cli)


@pytest.mark.parametrize("folder", ["opendata/scoop-hivemind.ubi", "polis-math/above-100-ptpts", "polis-math/vw"])
def test_polis_json_equals_the_cli_on_real_conversations(run_cli, folder):
    path = require(DATA / folder)
    expected = load_json(run_cli("analyze", str(path), "--format", "polis"))
    assert cg.read_polis(path).analyze().to_polis_json() == expected


def test_a_dataframe_of_the_export_gives_the_same_analysis_as_the_folder(run_cli):
    pd = pytest.importorskip("pandas")
    votes = pd.read_csv(EXAMPLE / "votes.csv")
    comments = pd.read_csv(EXAMPLE / "comments.csv")
    conversation = cg.Conversation.from_votes(votes, statements=comments)
    expected = load_json(run_cli("analyze", str(EXAMPLE), "--format", "polis"))
    assert conversation.analyze().to_polis_json() == expected
