"""Turns the vote and statement inputs researchers have (pandas DataFrames, dicts of numpy arrays,
tuples of arrays, lists of red-dwarf vote dicts) into the plain columns ``_core`` reads.

Numeric columns go over as numpy arrays (int64 ids, float64 votes, int64 epoch-ms timestamps);
anything else goes over as a list, and ``_core`` checks every value, so a bad value raises the
same ``InputError`` wherever it came from, with its 1-based record number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional, Tuple

import numpy as np
import pandas as pd

from ._core import InputError, InvalidParameterError, InvalidVoteError, ParseError

#: Column names accepted for each vote field, first match wins: commonground's own, red-dwarf's
#: (``participant_id``, ``statement_id``, ``modified``), Polis API dumps' (``pid``, ``tid``) and
#: Polis exports' (``voter-id``, ``comment-id``).
PARTICIPANT_COLUMNS = ("participant", "participant_id", "pid", "voter-id", "voter_id", "voter")
STATEMENT_COLUMNS = ("statement", "statement_id", "tid", "comment-id", "comment_id", "comment")
VOTE_COLUMNS = ("vote", "value")
TIMESTAMP_COLUMNS = ("timestamp", "modified", "time")

STATEMENT_ID_COLUMNS = ("id", "statement_id", "statement", "tid", "comment-id", "comment_id")
TEXT_COLUMNS = ("text", "txt", "comment-body", "body", "content")
MODERATED_COLUMNS = ("moderated", "mod", "moderation")
META_COLUMNS = ("is_meta", "is-meta", "meta")

#: Missing timestamp, as ``_core`` reads it.
NO_TIMESTAMP = np.iinfo(np.int64).min

VoteColumns = Tuple[Any, Any, np.ndarray, Optional[np.ndarray]]


def _error(cls: type[InputError], message: str, line: Optional[int] = None) -> InputError:
    """An input error of class ``cls`` (``ParseError``, ``InvalidVoteError``), with its 1-based
    record number as ``line`` when known, as ``_core`` raises them."""
    error = cls(f"record {line}: {message}" if line is not None else message)
    error.line = line
    return error


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    """The first of ``names`` among ``columns``."""
    for name in names:
        if name in columns:
            return name
    return None


def _require(columns: Sequence[str], names: Sequence[str], what: str) -> str:
    name = _find(columns, names)
    if name is None:
        raise ParseError(
            f"no {what} column: expected one of {', '.join(repr(n) for n in names)}; "
            f"found {', '.join(repr(str(c)) for c in columns) or 'no columns'}"
        )
    return name


def _series(values: Any, what: str) -> pd.Series:
    """A column as a pandas Series; anything that is not a column is a ``ParseError``."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, (str, bytes, Mapping)) or np.ndim(values) != 1:
        raise ParseError(f"the {what} column must be a 1-D sequence or array, not {type(values).__name__}")
    return pd.Series(values)


def _ids(values: Any, what: str = "id") -> Any:
    """An id column: int64 array when every id is an integer, else a list of Python objects."""
    series = _series(values, what)
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.tolist()  # _core rejects booleans with the record number
    if pd.api.types.is_unsigned_integer_dtype(series.dtype) and not series.isna().any():
        array = series.to_numpy()
        too_big = np.flatnonzero(array > np.iinfo(np.int64).max)
        if len(too_big):
            # Refused, never wrapped: 2**64 - 1 would become -1 and collide with a real -1.
            raise _error(
                ParseError,
                f"{what} id {int(array[too_big[0]])} is outside the signed 64-bit integers ids are kept as; "
                "pass the ids as strings",
                int(too_big[0]) + 1,
            )
        return array.astype(np.int64)
    if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        return series.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(series.dtype):
        array = series.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            return array.astype(np.int64)
    return series.astype(object).where(series.notna(), None).tolist()


def _votes(values: Any, agree: int) -> Any:
    series = _series(values, "vote")
    if pd.api.types.is_complex_dtype(series.dtype) and len(series):
        # Refused, not cast: the cast would drop the imaginary part without a word.
        error = _error(InvalidVoteError, f"vote value {series.iloc[0]!r} is complex, not one of -1, 0, 1", 1)
        error.value = repr(series.iloc[0])
        raise error
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        array = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return array if agree == 1 else -array
    # Strings, booleans, mixed objects: _core names the first bad one.
    items = series.tolist()
    if agree == -1:
        items = [-v if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in items]
    return items


def _timestamps(values: Any) -> np.ndarray:
    """Epoch milliseconds as int64, ``NO_TIMESTAMP`` where missing. Numbers are taken as epoch ms
    (red-dwarf's ``modified``); datetimes are converted. A time that is neither, or beyond the
    int64 milliseconds, is a ``ParseError`` with its record (never read as "no timestamp")."""
    series = _series(values, "timestamp")
    if pd.api.types.is_complex_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise ParseError(f"the timestamp column holds {series.dtype} values, not epoch milliseconds or dates")
    if not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype)):
        numeric = pd.to_numeric(series, errors="coerce")
        if numeric.notna().sum() == series.notna().sum():
            series = numeric
        else:
            try:
                series = pd.to_datetime(series, utc=True, errors="raise")
            except (ValueError, TypeError, OverflowError) as e:
                bad = numeric.isna() & series.notna()
                first = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else None
                value = series.iloc[first] if first is not None else None
                raise _error(
                    ParseError, f"timestamp {value!r} is neither epoch milliseconds nor a date ({e})"[:300], None if first is None else first + 1
                ) from None
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = pd.DatetimeIndex(series)
        if stamps.tz is None:
            stamps = stamps.tz_localize("UTC")
        missing = stamps.isna()
        ms = np.asarray((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(1, "ms"), dtype=np.float64)
        ms[np.asarray(missing)] = np.nan
        array = ms
    else:
        array = series.to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.full(len(array), NO_TIMESTAMP, dtype=np.int64)
    present = ~np.isnan(array)
    # int64 milliseconds end near 2**63 (year 292 million); beyond, or infinite, is no time.
    out_of_range = np.flatnonzero(present & ~(np.abs(array) < 2.0**63))
    if len(out_of_range):
        first = int(out_of_range[0])
        raise _error(
            ParseError, f"timestamp {series.iloc[first]!r} is out of the range of epoch milliseconds", first + 1
        )
    out[present] = np.round(array[present]).astype(np.int64)
    return out


def check_agree(agree: Any) -> None:
    """``agree`` must be 1 or -1."""
    if agree not in (1, -1):
        raise InvalidParameterError(f"agree must be 1 (agree = +1, commonground's and Polis exports' sign) or -1 (Polis's raw sign), not {agree!r}")


def is_arrow_table(votes: Any) -> bool:
    """Whether ``votes`` goes to ``_core`` as an Arrow table: any object with the Arrow PyCapsule
    interface (a pyarrow Table, RecordBatch or RecordBatchReader, a polars DataFrame, a DuckDB
    relation), which the core reads where it lies by the CLI's vote table rules. A pandas
    DataFrame has the interface too (pandas 2.2 and later) but keeps its own reading below, as it
    always has: its numbers are converted by pandas' rules (a numeric timestamp is epoch ms)."""
    if isinstance(votes, (pd.DataFrame, Mapping, tuple, list)):
        return False
    return hasattr(type(votes), "__arrow_c_stream__") or hasattr(type(votes), "__arrow_c_array__")


def vote_columns(votes: Any, agree: int = 1) -> VoteColumns:
    """(participants, statements, votes, timestamps or None) from any supported vote input."""
    check_agree(agree)
    if isinstance(votes, pd.DataFrame):
        frame: Mapping[str, Any] = votes
        columns = [str(c) for c in votes.columns]
    elif isinstance(votes, Mapping):
        frame = votes
        columns = [str(c) for c in votes.keys()]
    elif isinstance(votes, tuple) and len(votes) in (3, 4) and not any(isinstance(v, Mapping) for v in votes):
        participants, statements, values = votes[0], votes[1], votes[2]
        timestamps = votes[3] if len(votes) == 4 else None
        try:
            lengths = {len(participants), len(statements), len(values)} | (
                {len(timestamps)} if timestamps is not None else set()
            )
        except TypeError:
            raise ParseError("a tuple of votes must hold columns (participants, statements, votes[, timestamps])") from None
        if len(lengths) != 1:
            raise ParseError("the participant, statement, vote (and timestamp) arrays differ in length")
        return (
            _ids(participants, "participant"),
            _ids(statements, "statement"),
            _votes(values, agree),
            None if timestamps is None else _timestamps(timestamps),
        )
    elif isinstance(votes, (list, tuple)) or isinstance(votes, Sequence):
        records = list(votes)
        if not records:
            return [], [], np.zeros(0), None
        if not all(isinstance(r, Mapping) for r in records):
            raise ParseError(
                "a list of votes must hold dicts such as red-dwarf's "
                "{'participant_id': 1, 'statement_id': 2, 'vote': 1, 'modified': 1714782753431}"
            )
        frame = pd.DataFrame.from_records(records)
        columns = [str(c) for c in frame.keys()]
    else:
        raise ParseError(
            "votes must be a pandas DataFrame, a dict of columns, a tuple of arrays "
            "(participants, statements, votes[, timestamps]) or a list of vote dicts; "
            f"got {type(votes).__name__}"
        )
    p = _require(columns, PARTICIPANT_COLUMNS, "participant")
    s = _require(columns, STATEMENT_COLUMNS, "statement")
    v = _require(columns, VOTE_COLUMNS, "vote")
    t = _find(columns, TIMESTAMP_COLUMNS)
    return (
        _ids(frame[p], "participant"),
        _ids(frame[s], "statement"),
        _votes(frame[v], agree),
        None if t is None else _timestamps(frame[t]),
    )


def statement_columns(statements: Any) -> tuple[Any, list[str | None], list[int], list[bool]]:
    """(ids, texts, moderation, is_meta) from a DataFrame, a list of dicts, a dict id -> text, or
    a list of texts (ids 0, 1, 2, ...)."""
    if isinstance(statements, pd.DataFrame):
        frame = statements
    elif isinstance(statements, Mapping):
        if all(isinstance(k, str) for k in statements.keys()) and any(k in STATEMENT_ID_COLUMNS for k in statements.keys()):
            try:
                frame = pd.DataFrame(dict(statements))
            except ValueError as e:  # columns of different lengths
                raise ParseError(f"statement columns: {e}") from None
        else:
            frame = pd.DataFrame({"id": list(statements.keys()), "text": list(statements.values())})
    elif isinstance(statements, (list, tuple)):
        if statements and all(isinstance(s, Mapping) for s in statements):
            frame = pd.DataFrame.from_records(list(statements))
        elif all(isinstance(s, str) or s is None for s in statements):
            frame = pd.DataFrame({"id": range(len(statements)), "text": list(statements)})
        else:
            raise ParseError("a list of statements must hold dicts (id, text, moderated, is_meta) or texts")
    else:
        raise ParseError(
            "statements must be a DataFrame or list of dicts with columns id, text, moderated, is_meta; "
            f"a dict id -> text; or a list of texts; got {type(statements).__name__}"
        )
    columns = [str(c) for c in frame.columns]
    id_column = _require(columns, STATEMENT_ID_COLUMNS, "statement id")
    text_column = _find(columns, TEXT_COLUMNS)
    moderated_column = _find(columns, MODERATED_COLUMNS)
    meta_column = _find(columns, META_COLUMNS)
    n = len(frame)
    texts: list[str | None] = (
        [None if pd.isna(t) else str(t) for t in frame[text_column]] if text_column else [None] * n
    )
    moderation: list[int] = [0] * n
    if moderated_column:
        moderation = []
        for i, m in enumerate(frame[moderated_column]):
            if m is None or m is pd.NA or (isinstance(m, float) and np.isnan(m)):
                moderation.append(0)
                continue
            try:
                value = int(m)
                ok = value == m and not isinstance(m, (bool, np.bool_))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                error = ParseError(f"record {i + 1}: moderated {m!r} is not -1 (rejected), 0 or 1 (accepted)")
                error.line = i + 1
                raise error
            moderation.append(value)  # out of range: _core raises ParseError with the record
    is_meta = [False if pd.isna(x) else bool(x) for x in frame[meta_column]] if meta_column else [False] * n
    return _ids(frame[id_column], "statement"), texts, moderation, is_meta
