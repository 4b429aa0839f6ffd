"""`Conversation.update` is Polis's incremental worker: each batch is one update with warm starts,
feeding the batches one by one equals the Rust replay, and earlier results stay as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import commonground as cg
from conftest import EXAMPLE

DAY_MS = 86_400_000


def _example():
    votes = pd.read_csv(EXAMPLE / "votes.csv")
    comments = pd.read_csv(EXAMPLE / "comments.csv")
    return votes, comments


def _daily_batches(votes: pd.DataFrame) -> list:
    """Batches as the core's replay cuts them: in time order, a new batch once a vote is a
    window or more after the batch's first vote."""
    ordered = votes.sort_values("timestamp", kind="stable")
    batches, start, current = [], None, []
    for i, t in zip(ordered.index, ordered["timestamp"]):
        if start is None or t - start >= DAY_MS:
            if current:
                batches.append(ordered.loc[current])
            start, current = t, []
        current.append(i)
    batches.append(ordered.loc[current])
    return batches


def test_updating_batch_by_batch_equals_the_rust_replay_without_restarts():
    # The replay fits the matrix factorization (not Polis's) at its last update only, where a live
    # conversation warm-starts it at every update: it is off here so that everything else compares.
    votes, comments = _example()
    batches = _daily_batches(votes)
    assert len(batches) > 5
    no_mf = {"mf": {"enabled": False}}
    conversation = cg.Conversation.from_votes(batches[0], statements=comments)
    analysis = conversation.analyze(bridging=no_mf)
    for batch in batches[1:]:
        analysis = conversation.update(batch)
    assert analysis.tick == len(batches)
    replayed = cg.Conversation.from_votes(votes, statements=comments).analyze(
        replay=True, restarts="none", window_ms=DAY_MS, bridging=no_mf
    )
    assert replayed.tick == len(batches)
    assert analysis.to_json() == replayed.to_json()


def test_the_default_replay_ends_with_a_worker_restart_and_one_more_update():
    votes, comments = _example()
    batches = _daily_batches(votes)
    conversation = cg.Conversation.from_votes(votes, statements=comments)
    final = conversation.analyze(replay=True, window_ms=DAY_MS)  # restarts=None: the core's default
    assert final.tick == len(batches) + 1
    assert final.to_json() == conversation.analyze(replay=True, window_ms=DAY_MS, restarts="final").to_json()
    with pytest.raises(cg.InvalidParameterError, match="restarts"):
        conversation.analyze(replay=True, restarts="weekly")


def test_the_first_update_analyses_everything_so_far():
    votes, comments = _example()
    half = len(votes) // 2
    conversation = cg.Conversation.from_votes(votes.iloc[:half], statements=comments)
    first = conversation.update(votes.iloc[half:])
    assert first.tick == 1
    assert first.to_json() == cg.Conversation.from_votes(votes, statements=comments).analyze().to_json()


def test_earlier_analyses_are_unchanged_by_later_updates():
    votes, comments = _example()
    batches = _daily_batches(votes)
    conversation = cg.Conversation.from_votes(batches[0], statements=comments)
    first = conversation.analyze()
    first_json = first.to_json()
    first_participants = first.participants.copy()
    later = conversation.update(pd.concat(batches[1:]))
    assert later.tick == 2 and later.n_participants > first.n_participants
    assert first.to_json() == first_json
    assert first.participants.equals(first_participants)
    assert conversation.analysis is not None and conversation.analysis.tick == 2


def test_in_conversation_participants_stay_in_and_ticks_count_updates():
    votes, comments = _example()
    batches = _daily_batches(votes)
    conversation = cg.Conversation.from_votes(batches[0], statements=comments)
    previous = conversation.analyze()
    for tick, batch in enumerate(batches[1:6], start=2):
        current = conversation.update(batch)
        assert current.tick == tick
        was_in = set(previous.participants.loc[previous.participants["in_conv"], "id"])
        now_in = set(current.participants.loc[current.participants["in_conv"], "id"])
        assert was_in <= now_in
        previous = current
    assert conversation.n_votes == sum(len(b) for b in batches[:6])


def test_update_can_add_statements_and_keeps_the_parameters_of_the_last_analyze():
    votes = [{"participant": p, "statement": s, "vote": 1 if (p < 10) == (s % 2 == 0) or s == 0 else -1} for p in range(20) for s in range(4)]
    conversation = cg.Conversation.from_votes(votes, statements=["a", "b", "c", "d"])
    conversation.analyze(max_k=3, seed=3)
    new_votes = [{"participant": p, "statement": 4, "vote": 1} for p in range(20)]
    analysis = conversation.update(new_votes, statements=[{"id": 4, "text": "e"}])
    assert analysis.statements["text"].tolist() == ["a", "b", "c", "d", "e"]
    assert conversation.params is not None and conversation.params["max_k"] == 3 and conversation.params["seed"] == 3
    assert set(analysis.silhouettes) <= {2, 3}


def test_a_later_vote_replaces_an_earlier_one():
    conversation = cg.Conversation.from_votes({"participant": [0, 1, 2], "statement": [0, 0, 0], "vote": [1, 1, 1]})
    conversation.analyze()
    analysis = conversation.update({"participant": [0], "statement": [0], "vote": [-1]})
    s = analysis.statements
    assert (int(s["n_agree"].iloc[0]), int(s["n_disagree"].iloc[0])) == (2, 1)
    assert conversation.n_votes == 4 and analysis.n_votes == 3
    assert np.array_equal(conversation.votes["vote"].to_numpy(), [1, 1, 1, -1])


def test_options_beyond_polis_are_accepted_and_bad_values_are_named():
    conversation = cg.read_polis(EXAMPLE)
    polis = conversation.analyze().participants["group"]
    conversation.analyze(group_cold_starts=10, pca_warm_start="lanczos")
    assert conversation.params is not None
    assert conversation.params["group_cold_starts"] == 10
    assert conversation.params["pca_warm_start"] == "lanczos"
    # The fast warm start updates to the same groups as Polis's iteration on the bundled example.
    fast = cg.read_polis(EXAMPLE)
    fast.analyze(pca_warm_start="lanczos")
    slow = cg.read_polis(EXAMPLE)
    slow.analyze()
    batch = {"participant": [900_001, 900_001, 900_002], "statement": [0, 1, 0], "vote": [1, -1, 1]}
    assert fast.update(batch).participants["group"].equals(slow.update(batch).participants["group"])
    assert len(polis) == 1921
    with pytest.raises(cg.InvalidParameterError, match="pca_warm_start"):
        conversation.analyze(pca_warm_start="fastest")
    with pytest.raises(cg.InvalidParameterError, match="group_cold_starts"):
        conversation.analyze(group_cold_starts=0)


def test_the_fast_profile_is_a_keyword_and_keeps_the_bundled_example_s_groups():
    exact = cg.read_polis(EXAMPLE).analyze()
    conversation = cg.read_polis(EXAMPLE)
    fast = conversation.analyze(profile="fast")
    assert conversation.params is not None and conversation.params["profile"] == "fast"
    # The same partition of the participants (tests/fast_profile.rs measures it by ARI).
    before, after = exact.participants["group"].fillna(-1), fast.participants["group"].fillna(-1)
    assert len(set(zip(before, after))) == len(set(before)) == len(set(after))
    with pytest.raises(cg.InvalidParameterError, match="profile"):
        conversation.analyze(profile="fastest")


def test_timings_name_every_stage_and_the_whole_update():
    analysis = cg.read_polis(EXAMPLE).analyze(seed=0)
    t = analysis.timings
    stages = {"matrix", "pca", "clustering", "statistics", "stability", "bridging", "mf"}
    assert set(t) == stages | {"total"}
    assert all(v >= 0.0 for v in t.values())
    # The stages that run one after another fit in the wall time of the whole update.
    assert t["matrix"] + t["statistics"] + t["bridging"] <= t["total"]
