"""Each kind of bad input raises its own exception, naming what and where; nothing crashes."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commonground as cg
from conftest import EXAMPLE

GOOD = {"participant": [0, 1, 2], "statement": [0, 0, 1], "vote": [1, -1, 0]}


def test_the_hierarchy_lets_researchers_catch_broadly_or_precisely():
    for error in [
        cg.ParseError,
        cg.InvalidVoteError,
        cg.UnknownStatementError,
        cg.ConflictingStatementError,
        cg.UnknownFormatError,
        cg.EmptyConversationError,
    ]:
        assert issubclass(error, cg.InputError)
    assert issubclass(cg.InputError, ValueError)
    assert issubclass(cg.InvalidParameterError, ValueError)
    assert not issubclass(cg.InvalidParameterError, cg.InputError)
    # One base for every error about the data or the parameters.
    assert issubclass(cg.InputError, cg.Error) and issubclass(cg.InvalidParameterError, cg.Error)


def test_a_bad_csv_record_is_a_parse_error_naming_file_and_line(tmp_path: Path):
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1435654192085,x,0,0,1\n1435654192086,x,0\n")
    with pytest.raises(cg.ParseError) as caught:
        cg.read_polis(tmp_path)
    assert "votes.csv:3" in str(caught.value) and "fields" in str(caught.value)
    assert caught.value.file is not None and caught.value.file.endswith("votes.csv")
    assert caught.value.line == 3


def test_a_vote_outside_minus_one_to_one_is_an_invalid_vote_error(tmp_path: Path):
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1435654192085,x,0,0,2\n")
    with pytest.raises(cg.InvalidVoteError, match=r"votes.csv:2.*vote value"):
        cg.read_polis(tmp_path)
    with pytest.raises(cg.InvalidVoteError, match="record 2") as caught:
        cg.Conversation.from_votes({"participant": [0, 1], "statement": [0, 0], "vote": [1, 2]})
    assert caught.value.line == 2 and caught.value.value == "2"
    with pytest.raises(cg.InvalidVoteError, match="record 3"):
        cg.Conversation.from_votes({"participant": [0, 1, 2], "statement": [0, 0, 0], "vote": [1.0, 0.0, np.nan]})
    with pytest.raises(cg.InvalidVoteError, match="'yes'"):
        cg.Conversation.from_votes([{"participant_id": 0, "statement_id": 0, "vote": "yes"}])


def test_a_bad_id_is_a_parse_error():
    with pytest.raises(cg.ParseError, match=r"record 2: participant id None"):
        cg.Conversation.from_votes({"participant": ["a", None], "statement": [0, 0], "vote": [1, 1]})


def test_a_vote_on_an_unlisted_statement_is_an_unknown_statement_error():
    with pytest.raises(cg.UnknownStatementError, match=r"record 3: vote on unknown statement 1") as caught:
        cg.Conversation.from_votes(GOOD, statements=pd.DataFrame({"id": [0], "text": ["only"]}))
    assert caught.value.statement == 1 and caught.value.line == 3


def test_a_statement_listed_twice_differently_is_a_conflicting_statement_error():
    statements = [{"id": 0, "text": "a"}, {"id": 1, "text": "b"}, {"id": 0, "text": "c"}]
    with pytest.raises(cg.ConflictingStatementError, match=r"record 3: statement 0 is listed twice with conflicting text") as caught:
        cg.Conversation.from_votes(GOOD, statements=statements)
    assert caught.value.field == "text" and caught.value.statement == 0
    # An exact repeat is fine.
    cg.Conversation.from_votes(GOOD, statements=[{"id": 0, "text": "a"}, {"id": 0, "text": "a"}, {"id": 1}])


def test_a_folder_of_other_files_is_an_unknown_format_error(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(cg.UnknownFormatError, match="notes.txt") as caught:
        cg.read_polis(tmp_path)
    assert caught.value.file == str(tmp_path)


def test_no_votes_is_an_empty_conversation_error(tmp_path: Path):
    with pytest.raises(cg.EmptyConversationError):
        cg.Conversation().analyze()
    with pytest.raises(cg.EmptyConversationError):
        cg.Conversation.from_votes([]).analyze()
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n")
    with pytest.raises(cg.EmptyConversationError, match="no votes"):
        cg.read_polis(tmp_path)


def test_a_parameter_out_of_range_is_an_invalid_parameter_error():
    conversation = cg.Conversation.from_votes(GOOD)
    with pytest.raises(cg.InvalidParameterError, match="max_k") as caught:
        conversation.analyze(max_k=1)
    assert caught.value.parameter == "max_k"
    with pytest.raises(cg.InvalidParameterError, match="pca_cold_tolerance"):
        conversation.analyze(pca_cold_tolerance=float("nan"))
    with pytest.raises(cg.InvalidParameterError, match="seed") as caught:
        conversation.analyze(seed=-1)
    assert caught.value.parameter == "seed"
    with pytest.raises(cg.InvalidParameterError, match="base_k"):
        conversation.analyze(base_k=2.5)  # type: ignore[arg-type]
    with pytest.raises(cg.InvalidParameterError, match="timestamps"):
        conversation.analyze(replay=True)
    with pytest.raises(cg.InvalidParameterError):
        cg.Conversation.from_votes(GOOD, agree=2)


def test_a_missing_folder_is_a_file_not_found_error(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as caught:
        cg.read_polis(missing)
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(missing)


def test_missing_vote_columns_are_named():
    with pytest.raises(cg.ParseError, match="no vote column"):
        cg.Conversation.from_votes(pd.DataFrame({"participant": [0], "statement": [0]}))
    with pytest.raises(cg.ParseError, match="votes must be"):
        cg.Conversation.from_votes(42)
    with pytest.raises(cg.ParseError, match="differ in length"):
        cg.Conversation.from_votes(([0, 1], [0], [1, 1]))


@pytest.mark.parametrize(
    "votes, match",
    [
        ({"participant": [0, 1], "statement": [0], "vote": [1, 1]}, "differ in length"),
        ({"participant": [0], "statement": [0]}, "no vote column"),
        ([1, 2, 3], "a list of votes must hold dicts"),
        ((1, 2, 3), "must hold columns"),
        ({"participant": 5, "statement": [0], "vote": [1]}, "participant column must be a 1-D"),
        ({"participant": [[0, 1]], "statement": [0], "vote": [1]}, None),
        ({"participant": [0], "statement": [0], "vote": [1], "timestamp": ["not a date"]}, "record 1: timestamp"),
    ],
)
def test_every_bad_data_error_is_an_input_error(votes, match):
    with pytest.raises(cg.InputError, match=match):
        cg.Conversation.from_votes(votes)
    with pytest.raises(cg.InputError):
        cg.Conversation.from_votes(GOOD, statements={"id": [0, 1], "text": ["a"]})
    with pytest.raises(cg.InputError):
        cg.Conversation.from_votes(GOOD, statements=[0, 1])


def test_uint64_ids_above_int64_are_refused_not_wrapped():
    big = np.array([2**64 - 1, 1, 2], dtype=np.uint64)
    with pytest.raises(cg.ParseError, match="18446744073709551615") as caught:
        cg.Conversation.from_votes({"participant": big, "statement": [0, 0, 1], "vote": [1, -1, 0]})
    assert caught.value.line == 1
    with pytest.raises(cg.ParseError, match="outside the signed 64-bit"):
        cg.Conversation.from_votes({"participant": [2**63, 1, 2], "statement": [0, 0, 1], "vote": [1, -1, 0]})
    # Within int64, uint64 ids keep their value.
    small = np.array([2**63 - 1, 1, 2], dtype=np.uint64)
    conversation = cg.Conversation.from_votes({"participant": small, "statement": [0, 0, 1], "vote": [1, -1, 0]})
    assert 2**63 - 1 in set(conversation.votes.participant)


@pytest.mark.parametrize("stamp", [2**70, 1e30, float("inf"), -(2**64)])
def test_out_of_range_timestamps_are_errors_not_missing(stamp):
    votes = {"participant": [0, 1], "statement": [0, 0], "vote": [1, -1], "timestamp": [1_700_000_000_000, stamp]}
    with pytest.raises(cg.ParseError, match="out of the range") as caught:
        cg.Conversation.from_votes(votes)
    assert caught.value.line == 2


def test_complex_votes_are_refused():
    with pytest.raises(cg.InvalidVoteError, match="complex"):
        cg.Conversation.from_votes({"participant": [0, 1], "statement": [0, 0], "vote": np.array([1 + 0j, 1 + 2j])})
    with pytest.raises(cg.InvalidVoteError):
        cg.Conversation.from_votes({"participant": [0, 1], "statement": [0, 0], "vote": [1, 1 + 2j]})
    with pytest.raises(cg.InvalidVoteError, match="complex"):
        cg.Conversation.from_matrix(np.array([[1 + 1j, 0]]))


def test_huge_parameters_are_refused_before_any_work():
    conversation = cg.Conversation.from_votes(GOOD)
    with pytest.raises(cg.InvalidParameterError, match="over the limit") as caught:
        conversation.analyze(group_stability={"enabled": True, "replicates": 10**9})
    assert caught.value.parameter == "group_stability.replicates"
    with pytest.raises(cg.Error):
        conversation.analyze(base_k=10**6)


def test_the_readers_warnings_are_in_the_source(tmp_path: Path):
    (tmp_path / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n1700000000000,x,0,0,1\n1700000000000,x,0,0,-1\n1700000000001,x,1,1,1\n"
    )
    source = cg.read_polis(tmp_path).source
    assert source is not None and source["files"] == ["votes.csv"]
    assert any(w.startswith("no comments.csv") for w in source["warnings"]), source
    assert any("1 participant-statement pairs have different votes" in w for w in source["warnings"]), source


def test_a_failed_batch_changes_nothing():
    conversation = cg.Conversation.from_votes(GOOD, statements=["s0", "s1"])
    before = conversation.analyze().to_json()
    with pytest.raises(cg.UnknownStatementError):
        conversation.update({"participant": [5], "statement": [9], "vote": [1]})
    with pytest.raises(cg.InvalidVoteError):
        conversation.update({"participant": [5], "statement": [0], "vote": [3]})
    assert conversation.n_votes == 3
    assert conversation.analysis is not None and conversation.analysis.to_json() == before


def test_the_example_still_reads_after_errors():
    # Errors leave no state behind in the module.
    assert cg.read_polis(EXAMPLE).n_votes > 0
