"""The Analysis tables: one row per participant / statement / group / representative statement,
the documented columns and dtypes, external ids, and numbers that agree with the Polis JSON."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import commonground as cg
from conftest import EXAMPLE

PARTICIPANT_COLUMNS = ["id", "x", "y", "group", "base_cluster", "in_conv", "n_votes"]
STATEMENT_COLUMNS = [
    "id", "text", "n_agree", "n_disagree", "n_pass", "group_aware_consensus", "extremity", "priority",
    "moderated", "moderated_out", "is_meta", "mean", "x", "y",
]
REPNESS_COLUMNS = [
    "group", "rank", "statement", "repful_for", "n_success", "n_trials", "p_success", "percent", "p_test",
    "repness", "repness_test", "best_agree", "n_agree", "text",
]
CONSENSUS_COLUMNS = ["direction", "rank", "statement", "n_success", "n_trials", "p_success", "percent", "p_test", "text"]


def test_participants_have_one_row_each_with_the_documented_dtypes(vtaiwan_analysis):
    p = vtaiwan_analysis.participants
    assert list(p.columns) == PARTICIPANT_COLUMNS
    assert len(p) == vtaiwan_analysis.n_participants == 1921
    assert p["id"].dtype == np.int64 and p["id"].is_unique
    assert p["x"].dtype == np.float64 and p["y"].dtype == np.float64
    assert str(p["group"].dtype) == "Int64" and str(p["base_cluster"].dtype) == "Int64"
    assert p["in_conv"].dtype == bool and p["n_votes"].dtype == np.int64
    # Exactly the clustered (in-conversation) participants have a group.
    assert (p["group"].notna() == p["in_conv"]).all()


def test_statements_have_one_row_each_sorted_by_id(vtaiwan_analysis):
    s = vtaiwan_analysis.statements
    assert list(s.columns) == STATEMENT_COLUMNS
    assert len(s) == 197 and s["id"].dtype == np.int64 and s["id"].is_monotonic_increasing
    for column in ["n_agree", "n_disagree", "n_pass"]:
        assert s[column].dtype == np.int64
    for column in ["group_aware_consensus", "extremity", "priority", "mean", "x", "y"]:
        assert s[column].dtype == np.float64
    assert s["moderated_out"].dtype == bool and s["moderated_out"].sum() > 0
    assert s.loc[s["id"] == 0, "text"].item() == "我有用過 Uber 叫車。"
    # Moderated-out statements never contribute to the map.
    assert (s.loc[s["moderated_out"], ["x", "y", "mean"]] == 0).all().all()


def test_groups_and_their_members_agree(vtaiwan_analysis):
    groups, p = vtaiwan_analysis.groups, vtaiwan_analysis.participants
    assert list(groups.columns) == ["group", "n_members", "x", "y", "base_clusters"]
    assert len(groups) == vtaiwan_analysis.k == vtaiwan_analysis.n_groups == 2
    counts = p["group"].value_counts()
    for row in groups.itertuples(index=False):
        assert counts[row.group] == row.n_members
        assert set(p.loc[p["group"] == row.group, "base_cluster"].astype(int)) == set(row.base_clusters)


def test_repness_matches_the_polis_json(vtaiwan_analysis):
    r = vtaiwan_analysis.repness
    assert list(r.columns) == REPNESS_COLUMNS
    assert set(r["repful_for"]) <= {"agree", "disagree"}
    assert str(r["n_agree"].dtype) == "Int64"
    polis = vtaiwan_analysis.to_polis_json()["repness"]
    for group, entries in polis.items():
        rows = r[r["group"] == int(group)].sort_values("rank")
        assert rows["statement"].tolist() == [e["tid"] for e in entries]
        assert rows["repful_for"].tolist() == [e["repful-for"] for e in entries]
        assert np.allclose(rows["p_success"], [e["p-success"] for e in entries])
        assert np.allclose(rows["repness"], [e["repness"] for e in entries])


def test_consensus_matches_the_polis_json(vtaiwan_analysis):
    c = vtaiwan_analysis.consensus
    assert list(c.columns) == CONSENSUS_COLUMNS
    polis = vtaiwan_analysis.to_polis_json()["consensus"]
    for direction in ["agree", "disagree"]:
        assert c.loc[c["direction"] == direction, "statement"].tolist() == [e["tid"] for e in polis[direction]]
    assert c["text"].notna().all()


def test_arrays_have_the_documented_shapes(vtaiwan_analysis):
    a = vtaiwan_analysis
    n, m, g = a.n_participants, a.n_statements, a.n_groups
    assert a.projections.shape == (n, 2)
    assert a.statement_projections.shape == (m, 2)
    assert a.components.shape == (2, m) and a.center.shape == (m,)
    assert a.group_votes.shape == (g, m, 3)
    assert a.votes_base.shape == (len(a.base_clusters), m, 3)
    # Polis JSON is in Polis's sign (agree = -1): the components are negated there.
    polis = a.to_polis_json()
    assert np.allclose(a.components, -np.asarray(polis["pca"]["comps"]))
    assert np.allclose(a.center, -np.asarray(polis["pca"]["center"]))
    # Group vote counts are Polis's group-votes.
    for i, group in enumerate(a.groups["group"]):
        votes = polis["group-votes"][str(group)]["votes"]
        assert [votes[str(t)]["A"] for t in a.statements["id"]] == a.group_votes[i, :, 0].tolist()


def test_vote_matrix_is_the_latest_vote_per_cell(vtaiwan_analysis):
    matrix = vtaiwan_analysis.vote_matrix()
    assert matrix.shape == (1921, 197)
    assert int(matrix.notna().sum().sum()) == vtaiwan_analysis.n_votes
    s = vtaiwan_analysis.statements.set_index("id")
    assert ((matrix == 1).sum(axis=0).to_numpy() == s["n_agree"].to_numpy()).all()


def test_top_group_aware_consensus_ranks_by_polis_measure(vtaiwan_analysis):
    top = vtaiwan_analysis.top_group_aware_consensus(5)
    assert len(top) == 5
    assert top["group_aware_consensus"].is_monotonic_decreasing
    assert [c for c in top.columns if c.startswith("agree_share_group_")] == ["agree_share_group_0", "agree_share_group_1"]
    assert (top.filter(like="agree_share") > 0.5).all().all()


def test_common_ground_is_the_core_flag_in_bridging_order(vtaiwan_analysis):
    # One meaning everywhere: the statements the core flags (lower credible bound of the minimum
    # side-takers' agreement >= the threshold), in the bridging ranking.
    core = vtaiwan_analysis._json["bridging"]
    common = vtaiwan_analysis.common_ground()
    assert common["id"].tolist() == core["common_ground"]
    assert len(common) == 21  # the README's "21 of 119 statements"
    assert (common["min_side_agreement_lower"] >= core["threshold"]).all()
    assert set(common["weakest_group"]) <= set(vtaiwan_analysis.groups["group"])
    # Side-takers in every group agree more than they disagree.
    shares = vtaiwan_analysis.bridging.set_index("statement").loc[common["id"]]
    assert (shares.filter(regex=r"^side_agree_group_\d+$") > 0.5).all().all()
    assert vtaiwan_analysis.common_ground(3)["id"].tolist() == core["common_ground"][:3]


def test_string_ids_come_back_as_python_strings():
    # Two camps of 10 that disagree on statements s1-s5 and all agree on s0.
    votes = pd.DataFrame(
        [(f"p{p}", f"s{s}", 1 if s == 0 or (p < 10) == (s % 2 == 0) else -1) for p in range(20) for s in range(6)],
        columns=["participant", "statement", "vote"],
    )
    a = cg.Conversation.from_votes(votes).analyze()
    assert set(a.participants["id"]) == set(votes["participant"])
    assert all(isinstance(i, str) for i in a.participants["id"])
    assert a.statements["id"].tolist() == [f"s{s}" for s in range(6)]
    assert all(isinstance(i, str) for i in a.repness["statement"])
    assert a.n_groups == 2


def test_an_analysis_without_groups_gives_empty_tables():
    # Two participants: too few for groups (k needs more base clusters than 1).
    a = cg.Conversation.from_votes({"participant": [0, 1], "statement": [0, 0], "vote": [1, -1]}).analyze()
    assert len(a.participants) == 2
    assert list(a.repness.columns) == REPNESS_COLUMNS
    assert a.group_votes.shape[1:] == (1, 3)


@pytest.mark.parametrize("seed", [0, 7])
def test_the_same_input_gives_the_same_analysis(seed):
    conv = cg.read_polis(pytest.importorskip("conftest").EXAMPLE)
    assert conv.analyze(seed=seed).to_json() == conv.analyze(seed=seed).to_json()


def test_bridging_frame_ranks_statements_with_intervals_and_common_ground():
    analysis = cg.read_polis(EXAMPLE).analyze()
    frame = analysis.bridging
    core = analysis.to_json()["bridging"]
    assert frame["statement"].tolist() == core["ranking"] + [
        s["statement"] for s in core["statements"] if s["statement"] not in core["ranking"]
    ]
    top = frame.iloc[0]
    assert top["statement"] == 40, "the statement every group agrees with leads"
    for score in ("group_aware_consensus", "geometric_mean", "min_group_agreement"):
        assert (frame[f"{score}_lower"] <= frame[score]).all() and (frame[score] <= frame[f"{score}_upper"]).all()
    assert set(frame.loc[frame["common_ground"], "statement"]) == set(core["common_ground"])
    groups = analysis.groups["group"].tolist()
    assert all(f"agree_group_{g}" in frame.columns for g in groups)


def test_bridging_frame_has_a_column_per_score_field_in_the_documented_order(vtaiwan_analysis):
    frame = vtaiwan_analysis.bridging
    per_group = ("agree_group_", "side_agree_group_", "pass_group_")
    scores = [c for c in frame.columns if not c.startswith(per_group)]
    assert scores == [
        "statement", "rank", "text", "common_ground", "mf_intercept", "mf_factor",
        "group_aware_consensus", "group_aware_consensus_lower", "group_aware_consensus_upper",
        "geometric_mean", "geometric_mean_lower", "geometric_mean_upper",
        "min_group_agreement", "min_group_agreement_lower", "min_group_agreement_upper",
        "min_side_agreement", "min_side_agreement_lower", "min_side_agreement_upper",
        "weakest_group", "weakest_subgroup", "weakest_subgroup_group", "weakest_subgroup_size",
        "subgroup_disagrees", "unresolved", "uncertain",
    ]
    for g in vtaiwan_analysis.groups["group"]:
        for prefix in per_group:
            assert {f"{prefix}{g}", f"{prefix}{g}_lower", f"{prefix}{g}_upper"} <= set(frame.columns)


def test_a_fixed_number_of_groups_is_honoured_or_refused_with_the_reason():
    conversation = cg.read_polis(EXAMPLE)
    analysis = conversation.analyze(groups=4, bridging={"mf": {"enabled": False}})
    assert analysis.n_groups == 4 and analysis.k == 4
    assert analysis.bridging.filter(regex=r"^pass_group_\d+$").shape[1] == 4
    assert conversation.params["groups"] == 4
    assert cg.read_polis(EXAMPLE).analyze(groups="polis").n_groups == 2
    with pytest.raises(cg.InvalidParameterError, match="groups: 1 groups: give at least 2"):
        conversation.analyze(groups=1)
    discovered = cg.read_polis(EXAMPLE).analyze(groups="discover", bridging={"mf": {"enabled": False}})
    assert discovered.group_discovery["k"] == discovered.n_groups >= 2
    assert analysis.group_discovery is None
    small = cg.Conversation.from_votes({"participant": [0, 1, 2], "statement": [0, 0, 0], "vote": [1, -1, 1]})
    with pytest.raises(cg.InvalidParameterError, match="3 groups need at least 3 base clusters"):
        small.analyze(groups=3)


def test_the_core_lists_every_bridging_score_once():
    from commonground import _core

    scores = _core.bridging_scores()
    assert [s["name"] for s in scores] == ["min-group-lower", "min-group", "min-side-lower", "gac", "geometric-mean", "mf"]
    by_name = {s["name"]: s for s in scores}
    assert by_name["gac"]["rank_by"] == "group_aware_consensus" and by_name["gac"]["has_interval"]
    assert by_name["min-group-lower"]["field"] == by_name["min-group"]["field"] == "min_group_agreement"
    assert not by_name["mf"]["has_interval"] and by_name["mf"]["field"] == "mf_intercept"
    # Every rank_by value is one the parameters accept, and the JSON reports it back.
    conversation = cg.read_polis(EXAMPLE)
    for score in scores:
        analysis = conversation.analyze(bridging={"rank_by": score["rank_by"]})
        assert analysis.to_json()["bridging"]["rank_by"] == score["rank_by"]


def test_bridging_and_stability_options_reach_the_core():
    conversation = cg.read_polis(EXAMPLE)
    analysis = conversation.analyze(bridging={"mf": {"enabled": False}}, group_stability={"enabled": True, "replicates": 5})
    assert analysis.bridging["mf_intercept"].isna().all()
    assert analysis.group_stability is not None
    with pytest.raises(cg.InvalidParameterError, match="bridging"):
        conversation.analyze(bridging={"interval": 2.0})


def test_numeric_string_ids_are_the_integers_a_csv_file_gives():
    # One id rule everywhere (the core's): "42" is the integer 42, as read from a CSV export.
    from_strings = cg.Conversation.from_votes(
        {"participant": ["1", "2", "3"], "statement": ["42", "42", " 7 "], "vote": [1, -1, 0]}
    )
    from_ints = cg.Conversation.from_votes({"participant": [1, 2, 3], "statement": [42, 42, 7], "vote": [1, -1, 0]})
    pd.testing.assert_frame_equal(from_strings.votes, from_ints.votes)
    assert from_strings.votes["statement"].tolist() == [42, 42, 7]
    with pytest.raises(cg.ParseError, match="participant id"):
        cg.Conversation.from_votes({"participant": [""], "statement": [1], "vote": [1]})


def test_the_subgroup_check_and_what_was_merged_read_the_core(vtaiwan_analysis):
    core = vtaiwan_analysis._json["bridging"]
    frame = vtaiwan_analysis.bridging.set_index("statement")
    sizes = {s["id"]: s["n_members"] for s in core["subgroups"]}
    for entry in core["statements"]:
        weakest = entry["weakest_subgroup"]
        row = frame.loc[entry["statement"]]
        assert row["weakest_subgroup"] == weakest["subgroup"]
        assert row["weakest_subgroup_size"] == sizes[weakest["subgroup"]]
        assert bool(row["subgroup_disagrees"]) == weakest["disagrees"]
    # A vetoed statement is never common ground, nor one with too few votes to rule out a minority.
    assert not (frame["common_ground"].astype(bool) & frame["subgroup_disagrees"].astype(bool)).any()
    assert not (frame["common_ground"].astype(bool) & frame["unresolved"].astype(bool)).any()
    assert set(frame.index[frame["unresolved"].astype(bool)]) == set(core["unresolved"])
    merged = vtaiwan_analysis.merged
    assert list(merged.columns) == ["subgroup", "group", "n_members", "core", "share", "statements"]
    assert merged["subgroup"].tolist() == [m["subgroup"] for m in core["merged"]]
