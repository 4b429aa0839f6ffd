"""Conversations and analyses pickle (for multiprocessing, joblib, caches): an unpickled
conversation shows the same analysis, holds the same votes and statements, and its next update
gives exactly what the original's gives, warm starts included."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import commonground as cg

from conftest import EXAMPLE


def _later_votes(conversation: cg.Conversation) -> pd.DataFrame:
    votes = conversation.votes
    # Re-cast the last 300 votes as their opposite, an hour later.
    late = votes.tail(300).copy()
    late["vote"] = -late["vote"]
    late["timestamp"] = late["timestamp"] + 3_600_000
    return late


def test_a_pickled_conversation_continues_exactly():
    conversation = cg.read_polis(EXAMPLE)
    first = conversation.analyze(seed=3, pca_warm_start="lanczos")
    restored = pickle.loads(pickle.dumps(conversation))

    assert restored.analysis is not None
    assert restored.analysis._core.to_json() == first._core.to_json()
    pd.testing.assert_frame_equal(restored.votes, conversation.votes)
    pd.testing.assert_frame_equal(restored.statements, conversation.statements)
    assert restored.source == conversation.source
    assert restored.params == conversation.params

    late = _later_votes(conversation)
    assert restored.update(late)._core.to_json() == conversation.update(late)._core.to_json()


def test_a_pickled_analysis_is_the_same_analysis():
    analysis = cg.read_polis(EXAMPLE).analyze()
    restored = pickle.loads(pickle.dumps(analysis))
    assert restored._core.to_json() == analysis._core.to_json()
    pd.testing.assert_frame_equal(restored.participants, analysis.participants)
    pd.testing.assert_frame_equal(restored.bridging, analysis.bridging)
    assert restored.common_ground()["id"].tolist() == analysis.common_ground()["id"].tolist()


def test_a_conversation_never_analysed_pickles_and_analyses_the_same():
    cells = [(p, s) for p in range(30) for s in range(8)]
    conversation = cg.Conversation.from_votes(
        {
            "participant": [p for p, _ in cells],
            "statement": [s for _, s in cells],
            "vote": [1 if (p + s) % 3 else -1 for p, s in cells],
        }
    )
    restored = pickle.loads(pickle.dumps(conversation))
    assert restored.analysis is None
    assert restored.analyze()._core.to_json() == conversation.analyze()._core.to_json()


def test_bytes_that_are_not_a_pickled_conversation_are_an_input_error():
    core = cg.Conversation()._core
    with pytest.raises(cg.InputError, match="conversation state"):
        core.__setstate__(b"\x00not a state")
