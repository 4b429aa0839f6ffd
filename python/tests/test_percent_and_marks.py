"""One percentage everywhere (the CLI's summary and Python's frames print the same number for a
statement), and statements marked meta or excluded the same way from the CLI and from Python."""

from __future__ import annotations

import re

import pytest

import commonground as cg
from conftest import EXAMPLE, load_json


def test_a_percentage_is_the_raw_share_rounded_half_up():
    # By hand: 14 of 16 is 87.5%, read 88 (Polis's pseudo-counted 15/18 would print 83).
    assert (cg.percent(14, 16), cg.percent(1, 8), cg.percent(2, 3), cg.percent(0, 0)) == (88, 13, 67, None)


def test_repness_and_consensus_percent_columns_are_the_votes_share(vtaiwan_analysis):
    for frame in (vtaiwan_analysis.repness, vtaiwan_analysis.consensus):
        assert len(frame)
        for row in frame.itertuples(index=False):
            # Independent of the core's function: exact fractions, half up.
            expected = (200 * row.n_success + row.n_trials) // (2 * row.n_trials)
            assert row.percent == expected, row


def test_the_cli_summary_prints_the_python_percentages(run_cli, vtaiwan_analysis):
    summary = run_cli("analyze", str(EXAMPLE))
    groups = summary.split("\nWhat everyone agrees on")[0]
    for row in vtaiwan_analysis.repness.itertuples(index=False):
        section = groups.split(f"\nGroup {row.group} —")[1].split("\nGroup ")[0]
        line = next(line for line in section.splitlines() if re.search(rf"#{row.statement}\s", line))
        assert f"{row.repful_for:<8} {row.percent:>3}% of {row.n_trials:>4}" in line, (row, line)
    agreement = summary.split("\nWhat everyone agrees on")[1]
    for row in vtaiwan_analysis.consensus.itertuples(index=False):
        line = next(line for line in agreement.splitlines() if "voters" in line and re.search(rf"#{row.statement}\s", line))
        assert f"{row.percent:>3}% of {row.n_trials:>4} voters" in line, (row, line)
    # The summary lists the common ground by the bound it shows (the flag's), highest first.
    common = vtaiwan_analysis.common_ground().sort_values("min_side_agreement_lower", ascending=False, kind="stable")
    common = common.head(10)
    assert len(common)
    for row in common.to_dict("records"):
        line = next(line for line in agreement.splitlines() if "every group >=" in line and re.search(rf"#{row['id']}\s", line))
        for group in vtaiwan_analysis.groups["group"]:
            assert f"g{group} {row[f'agree_percent_group_{group}']}%" in line, (row, line)


def test_meta_and_excluded_statements_leave_the_results_as_in_the_cli(run_cli):
    # Two of vTaiwan's representative statements, marked from Python and from the CLI.
    plain = cg.read_polis(EXAMPLE).analyze(seed=0)
    meta, excluded = plain.repness["statement"].iloc[0], plain.repness["statement"].iloc[-1]
    marked = cg.read_polis(EXAMPLE).analyze(seed=0, meta=[meta], exclude=[str(excluded)])
    for statement in (meta, excluded):
        assert statement not in set(marked.repness["statement"]) | set(marked.consensus["statement"])
        assert statement not in set(marked.bridging.dropna(subset=["rank"])["statement"])
    statements = marked.statements.set_index("id")
    assert bool(statements.loc[meta, "is_meta"]) and int(statements.loc[excluded, "moderated"]) == -1
    expected = load_json(run_cli("analyze", str(EXAMPLE), "--format", "json", "--meta", str(meta), "--exclude", str(excluded)))
    assert marked.to_json() == expected
    with pytest.raises(cg.InvalidParameterError, match="exclude"):
        cg.read_polis(EXAMPLE).analyze(exclude=[99999])
