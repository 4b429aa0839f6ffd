//! The CSV plumbing of the export readers: a reader that finds columns by name and reports every
//! error at its line.
//!
//! Polis's exporters (the Clojure `darwin/export.clj` and the newer TypeScript one) have added,
//! dropped and reordered columns over the years, so a column is looked up by its header name
//! (trimmed, case-insensitive, `_` read as `-`), never by position. Rows are read into one reused
//! [`ByteRecord`] and parsed from bytes. Line numbers are counted here, under the `csv` crate,
//! because the crate's own drift after blank lines and on CRLF files, and an error that names the
//! wrong line sends the user to the wrong row.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::Path;

pub(super) use csv::ByteRecord;

use crate::error::{excerpt, Error, Location, Result};
use crate::io::fields::{column_key, parse_id, parse_int, plain_int, trim};
use crate::io::limits::{encoding_message, foreign_encoding, size, MAX_FIELD_BYTES, MAX_LINE_BYTES, MAX_RECORD_BYTES};
use crate::votes::Id;

/// Opens `path` for reading; an error names it.
pub(super) fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// A CSV file being read: the reader, the file name for errors, the header, and the line count.
pub(super) struct CsvRows<'f, R: Read> {
    reader: csv::Reader<LineCounter<R>>,
    file: &'f Path,
    pub(super) header: Header,
}

impl<'f, R: Read> CsvRows<'f, R> {
    /// Opens the reader and reads the header; `expected` describes the header in errors.
    pub(super) fn new(reader: R, file: &'f Path, expected: &'static str) -> Result<Self> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .buffer_capacity(1 << 20)
            .from_reader(LineCounter::new(reader));
        let mut rows = CsvRows { reader, file, header: Header { raw: Vec::new(), normalised: Vec::new(), expected } };
        let record = match rows.reader.byte_headers() {
            Ok(record) => record.clone(),
            Err(e) => return Err(rows.error(e)),
        };
        let header_error = |message: String| Error::Parse { location: Location::new(file, Some(1)), message };
        if let Some(encoding) = foreign_encoding(record.as_slice()) {
            return Err(header_error(encoding_message(encoding)));
        }
        rows.check_fields(&record, 1)?;
        let mut raw: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        if let Some(first) = raw.first_mut() {
            if let Some(rest) = first.strip_prefix('\u{feff}') {
                *first = rest.to_string();
            }
        }
        if raw.iter().all(|f| f.trim().is_empty()) {
            return Err(header_error(format!("the file is empty: expected a header line {expected}")));
        }
        let normalised: Vec<String> = raw.iter().map(|f| column_key(f)).collect();
        // A repeated column would leave the choice between them to the reader: refuse it.
        let mut columns: Vec<(&str, usize)> =
            normalised.iter().enumerate().filter(|(_, n)| !n.is_empty()).map(|(i, n)| (n.as_str(), i)).collect();
        columns.sort();
        if let Some(pair) = columns.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(header_error(format!(
                "the header has the column {} twice (columns {} and {}): remove or rename one",
                excerpt(&raw[pair[0].1]),
                pair[0].1 + 1,
                pair[1].1 + 1
            )));
        }
        rows.header.normalised = normalised;
        rows.header.raw = raw;
        Ok(rows)
    }

    /// Reads the next record into `record`; returns the line it starts on, or `None` at the end.
    pub(super) fn next(&mut self, record: &mut ByteRecord) -> Result<Option<u64>> {
        match self.reader.read_byte_record(record) {
            Ok(true) => {
                let byte = record.position().map_or(0, |p| p.byte());
                let counter = self.reader.get_mut();
                let line = counter.line_at(byte);
                counter.record_start = byte;
                counter.record_line = line;
                self.check_fields(record, line)?;
                Ok(Some(line))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Refuses a field over [`MAX_FIELD_BYTES`].
    fn check_fields(&self, record: &ByteRecord, line: u64) -> Result<()> {
        if record.as_slice().len() <= MAX_FIELD_BYTES {
            return Ok(());
        }
        match record.iter().position(|f| f.len() > MAX_FIELD_BYTES) {
            Some(col) => Err(Error::Parse {
                location: Location::new(self.file, Some(line)),
                message: format!(
                    "field {} is {} bytes long, over the limit of {} (a Polis statement is at most 1,000 characters)",
                    col + 1,
                    record.get(col).map_or(0, <[u8]>::len),
                    size(MAX_FIELD_BYTES)
                ),
            }),
            None => Ok(()),
        }
    }

    fn error(&mut self, err: csv::Error) -> Error {
        let file = self.file;
        let line = err.position().map(|p| self.reader.get_mut().line_at(p.byte()));
        let message = err.to_string();
        match err.into_kind() {
            csv::ErrorKind::Io(source) => match source.get_ref().and_then(|e| e.downcast_ref::<TooLong>()) {
                Some(too_long) => Error::Parse {
                    location: Location::new(file, Some(too_long.line)),
                    message: too_long.message.clone(),
                },
                None => Error::Io { path: file.to_path_buf(), source },
            },
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => Error::Parse {
                location: Location::new(file, line),
                message: format!(
                    "this row has {len} fields but the header has {expected_len} (a stray comma or quote?)"
                ),
            },
            _ => Error::Parse { location: Location::new(file, line), message },
        }
    }
}

/// A CSV header: the raw names (comment ids in the matrix are names too) and their normalised form.
pub(super) struct Header {
    pub(super) raw: Vec<String>,
    normalised: Vec<String>,
    expected: &'static str,
}

impl Header {
    pub(super) fn find(&self, name: &str) -> Option<usize> {
        self.normalised.iter().position(|n| n == name)
    }
    /// The first of `names` (see [`crate::io::fields::VOTE_TABLE_COLUMNS`]) the header has.
    pub(super) fn find_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|name| self.find(name))
    }
    /// As [`Header::require`], for a column that goes by several names: an error names the first.
    pub(super) fn require_any(&self, names: &[&str], file: &Path) -> Result<usize> {
        match self.find_any(names) {
            Some(col) => Ok(col),
            None => self.require(names.first().copied().unwrap_or_default(), file),
        }
    }
    pub(super) fn require(&self, name: &str, file: &Path) -> Result<usize> {
        self.find(name).ok_or_else(|| Error::Parse {
            location: Location::new(file, Some(1)),
            message: format!(
                "the header has no {name:?} column (found: {}; expected: {})",
                excerpt(&self.raw.join(",")),
                self.expected
            ),
        })
    }
}

/// Counts lines under the CSV reader, because the `csv` crate's own line numbers drift after
/// blank lines and on CRLF files (csv 1.4 reports the first data row of a CRLF file as line 1).
/// The reader gives each record's start byte reliably, up to the blank lines it skipped before
/// it; this wrapper remembers the offsets of the line-break bytes read but not yet passed, so that
/// [`LineCounter::line_at`] can count the line breaks before a record. Memory is bounded by the
/// csv reader's read-ahead buffer.
///
/// It also bounds what the csv reader may buffer (see [`crate::io::limits`]): a line longer than
/// [`MAX_LINE_BYTES`], or a record running on for more than [`MAX_RECORD_BYTES`] past the start
/// of the last one read, is a read error ([`TooLong`]) before the csv reader ever sees the bytes.
struct LineCounter<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of `\r` and `\n` bytes not yet passed (`true` for `\n`).
    breaks: VecDeque<(u64, bool)>,
    /// `\n` bytes passed.
    newlines: u64,
    /// `\n` bytes read, and the bytes read since the last line break.
    newlines_read: u64,
    line_len: u64,
    /// The start byte and line of the last record read (set by [`CsvRows::next`]).
    record_start: u64,
    record_line: u64,
}

/// A line or record over its limit, carried through the csv reader as an I/O error.
#[derive(Debug)]
struct TooLong {
    line: u64,
    message: String,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TooLong {}

impl<R> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter {
            inner,
            offset: 0,
            breaks: VecDeque::new(),
            newlines: 0,
            newlines_read: 0,
            line_len: 0,
            record_start: 0,
            record_line: 1,
        }
    }

    fn too_long(line: u64, message: String) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, TooLong { line, message })
    }

    /// The 1-based line of the record the csv reader placed at `byte`: `byte` may point at
    /// blank lines the reader skipped before the record, which are passed too. Calls must come
    /// in increasing `byte` order (records are read in order).
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut cursor = byte;
        while let Some(&(at, is_newline)) = self.breaks.front() {
            if at < byte || at == cursor {
                cursor = cursor.max(at + 1);
                self.newlines += is_newline as u64;
                self.breaks.pop_front();
            } else {
                break;
            }
        }
        self.newlines + 1
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = &buf[..n.min(buf.len())];
        let mut line_start = 0;
        for i in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            let len = self.line_len + (i - line_start) as u64;
            if len > MAX_LINE_BYTES as u64 {
                break;
            }
            self.breaks.push_back((self.offset + i as u64, chunk[i] == b'\n'));
            self.newlines_read += (chunk[i] == b'\n') as u64;
            self.line_len = 0;
            line_start = i + 1;
        }
        self.line_len += (chunk.len() - line_start) as u64;
        if self.line_len > MAX_LINE_BYTES as u64 {
            return Err(Self::too_long(
                self.newlines_read + 1,
                format!("this line is longer than the limit of {} (not a CSV file?)", size(MAX_LINE_BYTES)),
            ));
        }
        self.offset += chunk.len() as u64;
        // The csv reader reads ahead by at most its buffer, so a record still unfinished this far
        // past the last record's start is too long (by at least MAX_RECORD_BYTES).
        if self.offset.saturating_sub(self.record_start) > (2 * MAX_RECORD_BYTES) as u64 {
            return Err(Self::too_long(
                self.record_line + 1,
                format!(
                    "the row after line {} runs on for more than {} (a quote that is never closed?)",
                    self.record_line,
                    size(MAX_RECORD_BYTES)
                ),
            ));
        }
        Ok(n)
    }
}

pub(super) fn field(record: &ByteRecord, col: usize) -> &[u8] {
    record.get(col).unwrap_or(b"")
}

pub(super) fn required_id(record: &ByteRecord, col: usize, name: &str, file: &Path, line: u64) -> Result<Id> {
    parse_id(field(record, col))
        .ok_or_else(|| Error::Parse { location: Location::new(file, Some(line)), message: format!("empty {name}") })
}

/// A timestamp field as written (unit not yet normalised); `None` when blank.
pub(super) fn parse_timestamp(raw: &[u8], name: &str, file: &Path, line: u64) -> Result<Option<i64>> {
    if let Some(n) = plain_int(raw) {
        return Ok(Some(n));
    }
    let raw = trim(raw);
    if raw.is_empty() {
        return Ok(None);
    }
    let text = std::str::from_utf8(raw).ok();
    let value = text.and_then(|t| t.parse::<i64>().ok()).or_else(|| {
        let x: f64 = text?.parse().ok()?;
        (x.is_finite() && x.abs() < 9.0e18).then(|| x.round() as i64)
    });
    value.map(Some).ok_or_else(|| Error::Parse {
        location: Location::new(file, Some(line)),
        message: format!(
            "{name} {} is not an epoch time in milliseconds or seconds",
            excerpt(&String::from_utf8_lossy(raw))
        ),
    })
}

pub(super) fn count_field(record: &ByteRecord, col: usize, name: &str, file: &Path, line: u64) -> Result<Option<u64>> {
    let raw = trim(field(record, col));
    if raw.is_empty() {
        return Ok(None);
    }
    match parse_int(raw) {
        Some(n) if n >= 0 => Ok(Some(n as u64)),
        _ => Err(Error::Parse {
            location: Location::new(file, Some(line)),
            message: format!("{name} {} is not a vote count", excerpt(&String::from_utf8_lossy(raw))),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_break_is_found_wherever_it_falls_and_cr_is_told_from_lf() {
        for len in 0..40 {
            for at in 0..len {
                let mut text = vec![b'a'; len];
                text[at] = b'\n';
                let mut counter = LineCounter::new(text.as_slice());
                let mut sink = Vec::new();
                counter.read_to_end(&mut sink).unwrap();
                assert_eq!(counter.breaks.iter().copied().collect::<Vec<_>>(), vec![(at as u64, true)]);
            }
        }
        let mut counter = LineCounter::new(&b"a\r\nb\n\rc\r"[..]);
        counter.read_to_end(&mut Vec::new()).unwrap();
        let breaks: Vec<(u64, bool)> = counter.breaks.iter().copied().collect();
        assert_eq!(breaks, vec![(1, false), (2, true), (4, true), (5, false), (7, false)]);
    }
}
