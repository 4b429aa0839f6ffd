//! Python values <-> commonground's types. Columns come in as numpy arrays when they are numeric
//! (read without copying through Python objects) or as sequences of Python objects otherwise, and
//! go out as numpy arrays (numbers) or lists (ids that are not all integers, texts). A whole vote
//! table comes in through the Arrow PyCapsule interface ([`vote_table`]), read where it lies.
//!
//! Bad values become the core's own errors ([`Error::Parse`], [`Error::InvalidVote`], ...) with the
//! 1-based record number, so that they read like every other input error.

use commonground::error::shown;
use commonground::io::columnar::read_record_batches_sized;
use commonground::{Error, Id, Location, ModerationStatus, Statement, StatementList, Vote, VoteBatch};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyComplex, PyInt, PyList, PyString};
use pyo3::IntoPyObjectExt;
use pyo3_arrow::input::AnyRecordBatch;

use crate::errors::{id_to_py, to_py, ParseError};

fn record(i: usize) -> Location {
    Location { file: None, line: Some(i as u64 + 1) }
}

fn repr(value: &Bound<'_, PyAny>) -> String {
    value.repr().map(|r| r.to_string()).unwrap_or_else(|_| "<unprintable>".to_string())
}

/// One id, by the core's one rule: an `int`, an integral float (as pandas makes of an int column
/// with gaps; `Id::from_f64`), or a non-empty `str` (`Id::parse`: `"42"` is the integer 42, as in
/// a CSV file).
fn id_from_py(value: &Bound<'_, PyAny>, i: usize, what: &str) -> Result<Id, Error> {
    if let Ok(s) = value.cast::<PyString>() {
        let s = s.to_string();
        if !s.trim().is_empty() {
            return Ok(Id::parse(&s));
        }
    } else if !value.is_instance_of::<PyBool>() {
        if let Ok(n) = value.extract::<i64>() {
            return Ok(Id::Int(n));
        }
        // An integer beyond int64 (a uint64 id of 2^63 or more) is refused, never wrapped: it
        // would collide with a negative id.
        if value.is_instance_of::<PyInt>() || value.hasattr("__index__").unwrap_or(false) {
            return Err(Error::Parse {
                location: record(i),
                message: format!(
                    "{what} id {} is outside the signed 64-bit integers ids are kept as; pass it as a string",
                    shown(&repr(value))
                ),
            });
        }
        if let Some(id) = value.extract::<f64>().ok().and_then(Id::from_f64) {
            return Ok(id);
        }
    }
    Err(Error::Parse {
        location: record(i),
        message: format!("{what} id {} is not an integer or a non-empty string", shown(&repr(value))),
    })
}

/// A column of ids: an int64 numpy array, or any sequence of ints and strs.
pub fn ids_from_py(py: Python<'_>, column: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Id>> {
    if let Ok(array) = column.extract::<PyReadonlyArray1<'_, i64>>() {
        return Ok(array.as_array().iter().map(|&n| Id::Int(n)).collect());
    }
    let mut ids = Vec::with_capacity(column.len().unwrap_or(0));
    for (i, value) in column.try_iter()?.enumerate() {
        ids.push(id_from_py(&value?, i, what).map_err(|e| to_py(py, e))?);
    }
    Ok(ids)
}

/// A column of votes (agree = +1): a float64 or int64 numpy array, or any sequence of numbers.
pub fn votes_from_py(py: Python<'_>, column: &Bound<'_, PyAny>) -> PyResult<Vec<Vote>> {
    let invalid = |i: usize, value: String| to_py(py, Error::InvalidVote { location: record(i), value });
    if let Ok(array) = column.extract::<PyReadonlyArray1<'_, f64>>() {
        return array
            .as_array()
            .iter()
            .enumerate()
            .map(|(i, &v)| Vote::from_f64(v).ok_or_else(|| invalid(i, v.to_string())))
            .collect();
    }
    if let Ok(array) = column.extract::<PyReadonlyArray1<'_, i64>>() {
        return array
            .as_array()
            .iter()
            .enumerate()
            .map(|(i, &v)| Vote::from_value(v).ok_or_else(|| invalid(i, v.to_string())))
            .collect();
    }
    let mut votes = Vec::with_capacity(column.len().unwrap_or(0));
    for (i, value) in column.try_iter()?.enumerate() {
        let value = value?;
        // A bool is not a vote, nor a complex number (numpy's complex128, a `complex`, would
        // convert to its real part).
        let vote = if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyComplex>() {
            None
        } else {
            value.extract::<f64>().ok().and_then(Vote::from_f64)
        };
        votes.push(vote.ok_or_else(|| invalid(i, repr(&value)))?);
    }
    Ok(votes)
}

/// A batch of vote events from parallel columns. Timestamps are epoch ms, `i64::MIN` for none.
pub fn vote_batch(
    py: Python<'_>,
    participants: &Bound<'_, PyAny>,
    statements: &Bound<'_, PyAny>,
    votes: &Bound<'_, PyAny>,
    timestamps: Option<PyReadonlyArray1<'_, i64>>,
) -> PyResult<VoteBatch> {
    let participants = ids_from_py(py, participants, "participant")?;
    let statements = ids_from_py(py, statements, "statement")?;
    let votes = votes_from_py(py, votes)?;
    let timestamps = timestamps.as_ref().map(|t| t.as_array());
    let n = participants.len();
    if statements.len() != n || votes.len() != n || timestamps.as_ref().is_some_and(|t| t.len() != n) {
        return Err(ParseError::new_err(format!(
            "vote columns differ in length: {n} participants, {} statements, {} votes{}",
            statements.len(),
            votes.len(),
            timestamps.as_ref().map(|t| format!(", {} timestamps", t.len())).unwrap_or_default()
        )));
    }
    let mut batch = VoteBatch::new();
    batch.reserve(n);
    for (i, ((participant, statement), vote)) in participants.iter().zip(&statements).zip(votes).enumerate() {
        batch.push(participant, statement, vote, timestamps.as_ref().map(|t| t[i]).filter(|&t| t != i64::MIN));
    }
    Ok(batch)
}

/// A vote table from any object with the Arrow PyCapsule interface (`__arrow_c_stream__`, or
/// `__arrow_c_array__` for one record batch): a pyarrow Table, RecordBatch or RecordBatchReader, a
/// polars DataFrame, a DuckDB relation. Its arrays are imported as they lie (no copy) and read by
/// the core's vote table rules ([`read_record_batches_sized`], the CLI's Parquet and Arrow reader) with
/// the GIL released; `flip` turns Polis's raw sign (agree = -1) into commonground's.
pub fn vote_table(py: Python<'_>, table: &Bound<'_, PyAny>, flip: bool) -> PyResult<VoteBatch> {
    let not_a_table = |e: PyErr| {
        ParseError::new_err(format!(
            "votes: {} does not give an Arrow table of record batches ({})",
            shown(&repr(&table.get_type().into_any())),
            e.value(py)
        ))
    };
    // A pyarrow Table or RecordBatch says how many rows it holds: reserved up front (0 when the
    // object does not say, a stream).
    let rows = table.getattr("num_rows").and_then(|n| n.extract::<usize>()).unwrap_or(0);
    let reader = table.extract::<AnyRecordBatch>().and_then(AnyRecordBatch::into_reader).map_err(not_a_table)?;
    let mut votes = py.detach(|| read_record_batches_sized(reader, rows)).map_err(|e| to_py(py, e))?;
    if flip {
        votes.flip_signs();
    }
    Ok(votes)
}

/// Statements from parallel columns, sorted by id. A statement listed twice must carry the same
/// metadata both times (an exact repeat is dropped), as the file readers require.
pub fn statements_from_py(
    py: Python<'_>,
    ids: &Bound<'_, PyAny>,
    texts: Vec<Option<String>>,
    moderation: Vec<i64>,
    is_meta: Vec<bool>,
) -> PyResult<Vec<Statement>> {
    let ids = ids_from_py(py, ids, "statement")?;
    let n = ids.len();
    if texts.len() != n || moderation.len() != n || is_meta.len() != n {
        return Err(ParseError::new_err(format!(
            "statement columns differ in length: {n} ids, {} texts, {} moderation, {} is_meta",
            texts.len(),
            moderation.len(),
            is_meta.len()
        )));
    }
    let mut statements = StatementList::new();
    for (i, (((id, text), moderated), meta)) in ids.into_iter().zip(texts).zip(moderation).zip(is_meta).enumerate() {
        let moderation = ModerationStatus::from_value(moderated).ok_or_else(|| {
            to_py(py, Error::Parse { location: record(i), message: format!("moderated {moderated} is not -1, 0 or 1") })
        })?;
        let statement = Statement { id, text, moderation, is_meta: meta, author: None, created: None };
        statements.add_listing(statement, || record(i)).map_err(|e| to_py(py, e))?;
    }
    let mut statements = statements.into_vec();
    // The file readers give statements sorted by id; so do we, for the same tables.
    statements.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(statements)
}

/// A column of ids for Python: an int64 array when every id is an integer, else a list of ints
/// and strs.
pub fn ids_to_py<'py, 'a>(
    py: Python<'py>,
    ids: impl ExactSizeIterator<Item = &'a Id> + Clone,
) -> PyResult<Bound<'py, PyAny>> {
    if ids.clone().all(|id| matches!(id, Id::Int(_))) {
        let ints: Vec<i64> = ids.map(|id| if let Id::Int(n) = id { *n } else { 0 }).collect();
        return Ok(PyArray1::from_vec(py, ints).into_any());
    }
    let list = PyList::empty(py);
    for id in ids {
        list.append(id_to_py(py, id)?)?;
    }
    Ok(list.into_any())
}

/// A numeric column for Python.
pub fn array<'py, T: numpy::Element>(py: Python<'py>, values: Vec<T>) -> Bound<'py, PyAny> {
    PyArray1::from_vec(py, values).into_any()
}

/// A column of optional integers for Python: values (with 0 where missing) and a validity mask,
/// which the Python side turns into a nullable pandas column.
pub fn optional_ints<'py>(py: Python<'py>, values: impl Iterator<Item = Option<i64>>) -> PyResult<Bound<'py, PyAny>> {
    let (values, valid): (Vec<i64>, Vec<bool>) = values.map(|v| (v.unwrap_or(0), v.is_some())).unzip();
    (array(py, values), array(py, valid)).into_bound_py_any(py)
}
