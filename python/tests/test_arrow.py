"""Arrow tables into `Conversation.from_votes`: a pyarrow Table, RecordBatch or RecordBatchReader
and a polars DataFrame go through the Arrow PyCapsule interface to the CLI's own vote table reader
(`io::columnar`), so they give the analysis the CSV export gives; ids of every Arrow encoding read
as the CSV's text; malformed tables fail naming the row and the column. The reference each time is
an independent way in: the Rust CSV reader (`read_polis`) or the pandas path of `from_votes`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import commonground as cg
from conftest import EXAMPLE, skip_or_fail

try:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
except ImportError:  # pragma: no cover - the [test] extras install it
    pa = None


@pytest.fixture(autouse=True)
def _pyarrow() -> None:
    if pa is None:
        skip_or_fail("pyarrow is not installed (pip install '.[test]')")


def polars() -> Any:
    try:
        import polars
    except ImportError:
        skip_or_fail("polars is not installed (pip install '.[test]')")
    return polars


def comments() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE / "comments.csv")


def vtaiwan_table() -> "pa.Table":
    return pa_csv.read_csv(EXAMPLE / "votes.csv")


def test_a_pyarrow_table_a_polars_frame_and_a_pandas_frame_analyse_as_the_csv_export():
    export = cg.read_polis(EXAMPLE)
    expected = export.analyze()
    frames = {
        "pyarrow": vtaiwan_table(),
        "polars": polars().read_csv(EXAMPLE / "votes.csv"),
        "pandas": pd.read_csv(EXAMPLE / "votes.csv"),
    }
    for name, frame in frames.items():
        conversation = cg.Conversation.from_votes(frame, statements=comments())
        assert conversation.n_votes == export.n_votes == 49_997, name
        analysis = conversation.analyze()
        assert analysis.to_polis_json() == expected.to_polis_json(), name
        assert analysis.to_json() == cg.Conversation.from_votes(frames["pandas"], statements=comments()).analyze().to_json(), name


def test_record_batches_in_a_stream_or_alone_give_the_votes_in_order():
    table = vtaiwan_table()
    expected = cg.Conversation.from_votes(table.to_pandas()).votes
    batches = table.to_batches(max_chunksize=5_000)
    assert len(batches) > 2
    stream = pa.RecordBatchReader.from_batches(table.schema, batches)
    pd.testing.assert_frame_equal(cg.Conversation.from_votes(stream).votes, expected)
    pd.testing.assert_frame_equal(cg.Conversation.from_votes(pa.Table.from_batches(batches)).votes, expected)
    one = table.combine_chunks().to_batches()[0]
    pd.testing.assert_frame_equal(cg.Conversation.from_votes(one).votes, expected)


def test_dictionary_large_string_and_view_ids_read_as_the_same_text_ids():
    table = vtaiwan_table()
    participants = pa.array([f"p{n}" for n in table["voter-id"].to_pylist()])
    statements = pa.array([str(n) for n in table["comment-id"].to_pylist()])
    # The pandas path reads the same text ids (a statement id "7" is the integer 7, as in a CSV).
    expected = cg.Conversation.from_votes(
        pd.DataFrame({"participant": participants.to_pylist(), "statement": statements.to_pylist(), "vote": table["vote"].to_numpy()})
    )
    encodings = {
        "dictionary": (participants.dictionary_encode(), statements.dictionary_encode()),
        "large_string": (participants.cast(pa.large_string()), statements.cast(pa.large_string())),
        "string_view": (participants.cast(pa.string_view()), statements.cast(pa.string_view())),
        "dictionary of large_string": (
            participants.cast(pa.large_string()).dictionary_encode(),
            pa.array(table["comment-id"].to_numpy().astype(np.int16)),
        ),
    }
    for name, (p, s) in encodings.items():
        arrow = pa.table({"participant": p, "statement": s, "vote": table["vote"]})
        conversation = cg.Conversation.from_votes(arrow)
        pd.testing.assert_frame_equal(conversation.votes, expected.votes, obj=name)
        assert conversation.analyze().to_json() == expected.analyze().to_json(), name


def test_columns_are_found_by_the_csv_names_and_timestamps_read_by_the_table_rules():
    # Polis's names in another case and with `_`; timestamps as Arrow timestamps (ms, s) and as
    # epoch seconds (below 10^11, converted as the CLI converts them).
    ms = np.array([1_435_654_192_085, 1_435_656_324_000, 1_435_656_325_000], dtype=np.int64)
    votes = {"Voter_ID": pa.array([1, 2, 2], pa.uint32()), "Comment_Id": pa.array([0, 0, 1], pa.int64()), "VOTE": pa.array([1, -1, 0], pa.int8())}
    by_ms = cg.Conversation.from_votes(pa.table({**votes, "timestamp": pa.array(ms)})).votes
    assert by_ms["timestamp"].tolist() == ms.tolist()
    assert by_ms["participant"].tolist() == [1, 2, 2] and by_ms["vote"].tolist() == [1, -1, 0]
    arrow_ms = pa.array(ms, pa.timestamp("ms", tz="UTC"))
    arrow_s = pa.array(ms // 1000, pa.timestamp("s"))
    seconds = pa.array(ms // 1000)
    for stamps, expected in [(arrow_ms, ms), (arrow_s, ms // 1000 * 1000), (seconds, ms // 1000 * 1000)]:
        read = cg.Conversation.from_votes(pa.table({**votes, "modified": stamps})).votes
        assert read["timestamp"].tolist() == expected.tolist(), stamps.type


def test_agree_minus_one_flips_an_arrow_table_as_it_flips_a_frame():
    frame = pd.DataFrame({"participant": [0, 1, 2, 2], "statement": [0, 0, 1, 0], "vote": [-1, 1, 0, -1]})
    flipped = cg.Conversation.from_votes(pa.Table.from_pandas(frame), agree=-1).votes
    assert flipped["vote"].tolist() == [1, -1, 0, 1]
    pd.testing.assert_frame_equal(flipped, cg.Conversation.from_votes(frame, agree=-1).votes)
    with pytest.raises(cg.InvalidParameterError, match="agree must be 1"):
        cg.Conversation.from_votes(pa.Table.from_pandas(frame), agree=0)


def test_updates_with_arrow_tables_follow_the_updates_with_frames():
    table = vtaiwan_table()
    half = table.num_rows // 2
    by_arrow = cg.Conversation.from_votes(table.slice(0, half), statements=comments())
    by_frame = cg.Conversation.from_votes(table.slice(0, half).to_pandas(), statements=comments())
    by_arrow.analyze()
    by_frame.analyze()
    assert by_arrow.update(table.slice(half)).to_json() == by_frame.update(table.slice(half).to_pandas()).to_json()
    assert by_arrow.n_votes == table.num_rows


def test_a_pandas_frame_backed_by_arrow_keeps_the_pandas_path_and_its_result():
    frame = pd.read_csv(EXAMPLE / "votes.csv")
    arrow_backed = frame.convert_dtypes(dtype_backend="pyarrow")
    assert isinstance(arrow_backed["vote"].dtype, pd.ArrowDtype)
    assert cg.Conversation.from_votes(arrow_backed).analyze().to_json() == cg.Conversation.from_votes(frame).analyze().to_json()


def _votes(**columns: Any) -> "pa.Table":
    base = {"participant": pa.array([0, 1, 2]), "statement": pa.array([0, 0, 1]), "vote": pa.array([1, -1, 0])}
    base.update(columns)
    return pa.table({k: v for k, v in base.items() if v is not None})


def test_malformed_tables_fail_naming_the_column_and_the_row():
    with pytest.raises(cg.ParseError, match=r'no "vote" column \(nor value; found: "participant, statement"\)'):
        cg.Conversation.from_votes(_votes(vote=None))
    with pytest.raises(cg.InvalidVoteError, match="record 2: .*null") as caught:
        cg.Conversation.from_votes(_votes(vote=pa.array([1, None, 0])))
    assert caught.value.line == 2 and caught.value.value == "null"
    with pytest.raises(cg.InvalidVoteError, match="record 3: .*2") as caught:
        cg.Conversation.from_votes(_votes(vote=pa.array([1, 0, 2], pa.int8())))
    assert caught.value.line == 3 and caught.value.value == "2"
    with pytest.raises(cg.InvalidVoteError) as caught:
        cg.Conversation.from_votes(_votes(vote=pa.array([1.0, 0.5, 0.0])))
    assert caught.value.line == 2 and caught.value.value == "0.5"
    with pytest.raises(cg.ParseError, match="record 3: empty participant") as caught:
        cg.Conversation.from_votes(_votes(participant=pa.array(["a", "b", None])))
    assert caught.value.line == 3
    with pytest.raises(cg.ParseError, match='column "vote" holds Boolean'):
        cg.Conversation.from_votes(_votes(vote=pa.array([True, False, True])))


def test_a_bad_row_in_a_later_batch_is_named_by_its_row_in_the_whole_stream():
    good = _votes()
    bad = _votes(vote=pa.array([1, 0, 5]))
    stream = pa.RecordBatchReader.from_batches(good.schema, good.to_batches() * 2 + bad.to_batches())
    with pytest.raises(cg.InvalidVoteError, match="record 9") as caught:
        cg.Conversation.from_votes(stream)
    assert caught.value.line == 9 and caught.value.value == "5"


def test_a_failed_table_adds_nothing_and_unknown_statements_are_refused():
    conversation = cg.Conversation.from_votes(_votes())
    with pytest.raises(cg.InvalidVoteError):
        conversation.add_votes(_votes(vote=pa.array([1, 0, 7])))
    assert conversation.n_votes == 3
    with pytest.raises(cg.UnknownStatementError) as caught:
        cg.Conversation.from_votes(_votes(), statements=["only statement 0"])
    assert caught.value.statement == 1 and caught.value.line == 3


def test_an_arrow_object_that_is_not_a_table_is_a_parse_error():
    with pytest.raises(cg.ParseError, match="Arrow table"):
        cg.Conversation.from_votes(pa.chunked_array([[1, 2, 3]]))
