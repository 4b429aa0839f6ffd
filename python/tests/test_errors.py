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
    with pytest.raises(ValueError):
        cg.Conversation.from_votes(GOOD, agree=2)


def test_a_missing_folder_is_a_file_not_found_error(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as caught:
        cg.read_polis(missing)
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(missing)


def test_missing_vote_columns_are_named():
    with pytest.raises(ValueError, match="no vote column"):
        cg.Conversation.from_votes(pd.DataFrame({"participant": [0], "statement": [0]}))
    with pytest.raises(TypeError, match="votes must be"):
        cg.Conversation.from_votes(42)
    with pytest.raises(ValueError, match="differ in length"):
        cg.Conversation.from_votes(([0, 1], [0], [1, 1]))


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
