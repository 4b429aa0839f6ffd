//! The crate's one error type.
//!
//! Every error names what was wrong and where (file, line, id), so that a user can fix the input
//! without reading our source. Nothing in this crate panics on any input: bad input becomes one of
//! these variants.

use std::fmt;
use std::path::PathBuf;

use crate::id::Id;

/// Where in the input a problem was found: a file and, when known, a 1-based line (or record) number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: Option<u64>,
}

impl Location {
    pub fn new(file: impl Into<PathBuf>, line: Option<u64>) -> Self {
        Location { file: Some(file.into()), line }
    }
    pub fn none() -> Self {
        Location::default()
    }
    pub fn is_known(&self) -> bool {
        self.file.is_some() || self.line.is_some()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{}", file.display(), line),
            (Some(file), None) => write!(f, "{}", file.display()),
            (None, Some(line)) => write!(f, "record {line}"),
            (None, None) => write!(f, "input"),
        }
    }
}

/// Everything that can go wrong in commonground.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record could not be parsed (wrong number of fields, not a number, bad JSON, ...).
    #[error("{location}: {message}")]
    Parse { location: Location, message: String },
    /// A vote value outside {-1, 0, 1} (or not a finite number).
    #[error("{location}: vote value {} is not one of -1 (disagree), 0 (pass), 1 (agree)", excerpt(.value))]
    InvalidVote { location: Location, value: String },
    /// A vote on a statement that the statement list does not contain.
    #[error("{location}: vote on unknown statement {statement} (not in the statement list)")]
    UnknownStatement { location: Location, statement: Id },
    /// The same statement listed twice with different metadata.
    #[error("{location}: statement {statement} is listed twice with conflicting {field}")]
    ConflictingStatement { location: Location, statement: Id, field: &'static str },
    /// A folder whose files are not any input format commonground knows.
    #[error("{path}: {message}")]
    UnknownFormat { path: PathBuf, message: String },
    /// No votes at all: there is nothing to analyse.
    #[error("empty conversation: {0}")]
    EmptyConversation(String),
    /// A parameter outside its valid range; checked once, before any work.
    #[error("invalid parameter {name}: {message}")]
    InvalidParameter { name: String, message: String },
    /// A serialised conversation state that cannot be restored: not a state, another format
    /// version, or arrays that disagree with each other.
    #[error("conversation state: {0}")]
    InvalidState(String),
}

/// Longest excerpt of the input that an error message quotes, in characters.
pub const EXCERPT_CHARS: usize = 80;

/// Input quoted in an error message: on one line (control characters, line breaks and quotes
/// escaped as Rust's `{:?}` does) and cut after [`EXCERPT_CHARS`] characters with the size of
/// the rest, so that a message quoting a bad header or field never floods the terminal with the
/// rest of the file (a stray `"` in a header once made one message 2.6 MB long).
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}... ({} more bytes)", &text[..cut], text.len() - cut),
    }
}

/// Input that is already quoted in its own syntax (a JSON value, a Python repr) for an error
/// message: as it is when short and on one line, else cut by [`excerpt`].
pub fn shown(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS && !text.chars().any(char::is_control) {
        text.to_string()
    } else {
        excerpt(text)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
