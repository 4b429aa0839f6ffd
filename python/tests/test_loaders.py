"""Every way in: Polis export folders, export matrices and API dumps from disk (`read_polis`),
pandas DataFrames, dicts and tuples of numpy arrays, red-dwarf's vote dicts, and vote matrices
(`Conversation.from_votes`, `from_matrix`) — checked on the real conversations under
../shared/data, each against the same data read by the Rust readers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commonground as cg
from conftest import DATA, EXAMPLE, OPENDATA, POLIS_MATH, require


@pytest.mark.parametrize("name", OPENDATA or ["(no opendata)"])
def test_read_polis_reads_every_opendata_export(name):
    folder = require(DATA / "opendata" / name)
    conversation = cg.read_polis(folder)
    assert conversation.source is not None and conversation.source["format"].startswith("Polis export")
    votes = conversation.votes
    assert len(votes) == conversation.n_votes > 0
    assert set(np.unique(votes["vote"])) <= {-1, 0, 1}
    analysis = conversation.analyze()
    assert analysis.n_participants == votes["participant"].nunique()
    # The analysis covers the statements that have votes; all of them are in the statement list.
    assert set(analysis.statements["id"]) <= set(conversation.statements["id"])
    assert analysis.participants["group"].notna().any() or analysis.n_participants < 3


@pytest.mark.parametrize("name", POLIS_MATH or ["(no polis-math)"])
def test_read_polis_reads_every_polis_math_folder(name):
    folder = require(DATA / "polis-math" / name)
    conversation = cg.read_polis(folder)
    analysis = conversation.analyze()
    golden = json.loads((folder / "math-pca2.json").read_text())
    # The same participants, statements and moderation as the math Polis computed on this data.
    polis = analysis.to_polis_json()
    assert analysis.n_participants == golden["n"]
    assert sorted(analysis.statements["id"]) == sorted(golden["tids"])
    assert sorted(polis["mod-out"]) == sorted(golden["mod-out"])


@pytest.mark.parametrize("name", ["below-100-ptpts", "above-100-ptpts", "25ptpt-3gp-no-strict-with-meta"])
def test_red_dwarf_vote_dicts_give_the_same_analysis_as_the_api_dump(name):
    folder = require(DATA / "polis-math" / name)
    votes = json.loads((folder / "votes.json").read_text())  # red-dwarf's records
    comments = json.loads((folder / "comments.json").read_text())
    assert isinstance(votes, list) and isinstance(votes[0], dict)
    from_dicts = cg.Conversation.from_votes(votes, statements=comments).analyze()
    assert from_dicts.to_polis_json() == cg.read_polis(folder).analyze().to_polis_json()


def test_numpy_arrays_dicts_and_dataframes_give_the_same_analysis():
    frame = pd.read_csv(EXAMPLE / "votes.csv")
    arrays = (
        frame["voter-id"].to_numpy(),
        frame["comment-id"].to_numpy(),
        frame["vote"].to_numpy(),
        frame["timestamp"].to_numpy(),
    )
    by_tuple = cg.Conversation.from_votes(arrays).analyze().to_json()
    by_dict = cg.Conversation.from_votes(
        {"participant": arrays[0], "statement": arrays[1], "vote": arrays[2].astype(float), "timestamp": arrays[3]}
    ).analyze().to_json()
    by_frame = cg.Conversation.from_votes(frame).analyze().to_json()
    assert by_tuple == by_dict == by_frame
    assert by_tuple["last_vote_timestamp"] == int(frame["timestamp"].max())


def test_a_vote_matrix_gives_the_same_analysis_as_the_export_matrix(tmp_path: Path):
    source = require(DATA / "opendata" / "vtaiwan.uberx")
    for name in ["participants-votes.csv", "comments.csv"]:
        shutil.copy(source / name, tmp_path / name)
    expected = cg.read_polis(tmp_path)
    assert expected.source is not None and "matrix" in expected.source["format"]
    wide = pd.read_csv(source / "participants-votes.csv").set_index("participant")
    wide = wide[[c for c in wide.columns if c.isdigit()]]
    wide.columns = [int(c) for c in wide.columns]
    comments = pd.read_csv(source / "comments.csv")
    from_matrix = cg.Conversation.from_matrix(wide, statements=comments)
    assert from_matrix.analyze().to_polis_json() == expected.analyze().to_polis_json()


def test_a_numpy_matrix_with_nan_for_missing_votes():
    matrix = np.array([[1, -1, np.nan], [1, np.nan, 0], [np.nan, 1, 1]])
    conversation = cg.Conversation.from_matrix(matrix, participants=["a", "b", "c"])
    votes = conversation.votes
    assert votes["participant"].tolist() == ["a", "a", "b", "b", "c", "c"]
    assert votes["statement"].tolist() == [0, 1, 0, 2, 1, 2]
    assert votes["vote"].tolist() == [1, -1, 1, 0, 1, 1]


def test_red_dwarf_style_records_with_string_timestamps_and_polis_raw_sign():
    records = [
        {"participant_id": p, "statement_id": s, "vote": -1 if (p + s) % 3 else 1, "modified": str(1714782753431 + p * 10 + s)}
        for p in range(12)
        for s in range(8)
    ]
    plus = cg.Conversation.from_votes(records)
    minus = cg.Conversation.from_votes([{**r, "vote": -r["vote"]} for r in records], agree=-1)
    assert plus.votes["vote"].tolist() == minus.votes["vote"].tolist()
    assert plus.votes["timestamp"].iloc[0] == 1714782753431
    assert plus.analyze().to_json() == minus.analyze().to_json()


def test_datetime_timestamps_become_epoch_milliseconds():
    frame = pd.DataFrame(
        {
            "participant": [1, 2],
            "statement": [0, 0],
            "vote": [1, 0],
            "timestamp": pd.to_datetime(["2015-06-30 08:49:52.085", None], utc=True),
        }
    )
    votes = cg.Conversation.from_votes(frame).votes
    assert votes["timestamp"].iloc[0] == 1435654192085
    assert pd.isna(votes["timestamp"].iloc[1])


def test_statements_as_a_list_of_texts_or_a_dict():
    votes = {"participant": [0, 1, 2], "statement": [0, 1, 1], "vote": [1, 1, -1]}
    by_list = cg.Conversation.from_votes(votes, statements=["first", "second"])
    assert by_list.statements["text"].tolist() == ["first", "second"]
    by_dict = cg.Conversation.from_votes(votes, statements={1: "second", 0: "first"})
    assert by_dict.statements["id"].tolist() == [0, 1]
    analysis = by_dict.analyze()
    assert analysis.statements["text"].tolist() == ["first", "second"]


def test_moderation_and_meta_take_statements_out_of_the_math():
    votes = [{"participant": p, "statement": s, "vote": 1 if (p + s) % 2 else -1} for p in range(20) for s in range(5)]
    statements = pd.DataFrame(
        {"id": range(5), "text": list("abcde"), "moderated": [1, -1, 0, 0, 0], "is_meta": [False, False, True, False, False]}
    )
    analysis = cg.Conversation.from_votes(votes, statements=statements).analyze()
    out = analysis.statements.set_index("id")["moderated_out"]
    assert out.tolist() == [False, True, True, False, False]
    polis = analysis.to_polis_json()
    assert polis["mod-out"] == [1, 2] and polis["meta-tids"] == [2] and polis["mod-in"] == [0, 2]
