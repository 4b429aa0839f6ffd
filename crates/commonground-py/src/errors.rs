//! Each [`commonground::Error`] variant becomes its own Python exception (after polars'
//! `polars-python/src/error.rs`), so that a researcher can `except EmptyConversationError` and read
//! the file, line and id both in the message and as attributes.
//!
//! Every error about the data or the parameters is a `commonground.Error` (a `ValueError`): input
//! problems share the base `InputError`, a parameter out of range is an `InvalidParameterError`;
//! a file that cannot be read is an `OSError` (with the errno, so Python picks
//! `FileNotFoundError`, `PermissionError`, ...).

use commonground::{Error as CoreError, Id, Location};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::{create_exception, IntoPyObjectExt};

create_exception!(
    commonground,
    Error,
    PyValueError,
    "Base of every commonground error about the data or the parameters (a ValueError)."
);
create_exception!(
    commonground,
    InputError,
    Error,
    "The input cannot be analysed: a bad file, record, vote or statement. Base of every input error."
);
create_exception!(
    commonground,
    ParseError,
    InputError,
    "A record could not be parsed (wrong fields, not a number, bad JSON, ...)."
);
create_exception!(
    commonground,
    InvalidVoteError,
    InputError,
    "A vote value outside {-1, 0, 1}, or not a finite number."
);
create_exception!(
    commonground,
    UnknownStatementError,
    InputError,
    "A vote on a statement that the statement list does not contain."
);
create_exception!(
    commonground,
    ConflictingStatementError,
    InputError,
    "The same statement listed twice with different metadata."
);
create_exception!(
    commonground,
    UnknownFormatError,
    InputError,
    "A folder that holds no conversation format commonground reads."
);
create_exception!(commonground, EmptyConversationError, InputError, "No votes at all: there is nothing to analyse.");
create_exception!(
    commonground,
    InvalidParameterError,
    Error,
    "An analysis parameter outside its valid range (checked before any work)."
);

/// Registers the exception classes on the module, with class-level defaults for the attributes
/// that instances carry (`file`, `line`, `statement`, `value`, `field`, `parameter`), so that the
/// attributes exist on every instance and in the stubs.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let input = py.get_type::<InputError>();
    for attr in ["file", "line", "statement", "value", "field"] {
        input.setattr(attr, py.None())?;
    }
    py.get_type::<InvalidParameterError>().setattr("parameter", py.None())?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("InputError", input)?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("InvalidVoteError", py.get_type::<InvalidVoteError>())?;
    m.add("UnknownStatementError", py.get_type::<UnknownStatementError>())?;
    m.add("ConflictingStatementError", py.get_type::<ConflictingStatementError>())?;
    m.add("UnknownFormatError", py.get_type::<UnknownFormatError>())?;
    m.add("EmptyConversationError", py.get_type::<EmptyConversationError>())?;
    m.add("InvalidParameterError", py.get_type::<InvalidParameterError>())?;
    Ok(())
}

/// A Python value for an external id: `int` or `str`.
pub fn id_to_py<'py>(py: Python<'py>, id: &Id) -> PyResult<Bound<'py, PyAny>> {
    match id {
        Id::Int(n) => n.into_bound_py_any(py),
        Id::Str(s) => s.into_bound_py_any(py),
    }
}

fn set_location(py: Python<'_>, err: &PyErr, location: &Location) -> PyResult<()> {
    let value = err.value(py);
    if let Some(file) = &location.file {
        value.setattr("file", file.to_string_lossy().into_owned())?;
    }
    if let Some(line) = location.line {
        value.setattr("line", line)?;
    }
    Ok(())
}

/// Converts a core error into the matching Python exception.
pub fn to_py(py: Python<'_>, err: CoreError) -> PyErr {
    let message = err.to_string();
    let converted: PyResult<PyErr> = (|| {
        Ok(match err {
            CoreError::Io { path, source } => {
                let errno = source.raw_os_error().or(match source.kind() {
                    std::io::ErrorKind::NotFound => Some(2),
                    std::io::ErrorKind::PermissionDenied => Some(13),
                    _ => None,
                });
                match errno {
                    // OSError(errno, strerror, filename) picks the subclass (FileNotFoundError, ...).
                    Some(errno) => PyOSError::new_err((errno, source.to_string(), path.to_string_lossy().into_owned())),
                    None => PyOSError::new_err(message),
                }
            }
            CoreError::Parse { location, .. } => {
                let e = ParseError::new_err(message);
                set_location(py, &e, &location)?;
                e
            }
            CoreError::InvalidVote { location, value } => {
                let e = InvalidVoteError::new_err(message);
                set_location(py, &e, &location)?;
                e.value(py).setattr("value", value)?;
                e
            }
            CoreError::UnknownStatement { location, statement } => {
                let e = UnknownStatementError::new_err(message);
                set_location(py, &e, &location)?;
                e.value(py).setattr("statement", id_to_py(py, &statement)?)?;
                e
            }
            CoreError::ConflictingStatement { location, statement, field } => {
                let e = ConflictingStatementError::new_err(message);
                set_location(py, &e, &location)?;
                e.value(py).setattr("statement", id_to_py(py, &statement)?)?;
                e.value(py).setattr("field", field)?;
                e
            }
            CoreError::UnknownFormat { path, .. } => {
                let e = UnknownFormatError::new_err(message);
                e.value(py).setattr("file", path.to_string_lossy().into_owned())?;
                e
            }
            CoreError::EmptyConversation(_) => EmptyConversationError::new_err(message),
            CoreError::InvalidState(_) => InputError::new_err(message),
            CoreError::InvalidParameter { name, .. } => {
                let e = InvalidParameterError::new_err(message);
                e.value(py).setattr("parameter", name)?;
                e
            }
        })
    })();
    converted.unwrap_or_else(|e| e)
}
