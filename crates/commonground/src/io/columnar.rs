//! Columnar vote tables: `votes.parquet` (Parquet) and `votes.arrow` / `votes.feather` /
//! `votes.ipc` (Arrow IPC, file or stream format), as pandas, polars, DuckDB and pyarrow write
//! them, with the optional `comments.csv` beside them (feature `columnar`).
//!
//! A vote table is `votes.csv` in another encoding, so it is read by the same rules: the columns
//! are found by name among the names [`crate::io::fields`] lists for each vote field (Polis's
//! `voter-id`, `comment-id`, `vote`, `timestamp`, and commonground's `participant`, `statement`),
//! compared as the CSV header is (trimmed, case-insensitive, `_` read as `-`); an id is an
//! integer of any width or text (a text id that is an integer is that integer, as in a CSV);
//! a vote is `-1`, `0` or `1` as an integer, an integral float or text; a timestamp is epoch ms
//! (below 10^11: seconds, converted) as an integer or float, or an Arrow timestamp of any unit. The
//! votes then go to the export reader's own assembly (`polis_export::read_export`: the sign check
//! against `comments.csv`'s tallies, the statements, the notes), so a table gives the analysis its
//! CSV gives, byte for byte.
//!
//! The same decoding reads a table that is already in memory: [`read_record_batches`] takes the
//! record batches the Python binding receives through the Arrow C stream interface (a pyarrow
//! table, a polars DataFrame, a DuckDB relation), so `Conversation.from_votes` reads them by these
//! rules too.
//!
//! Speed: Parquet row groups (and Arrow record batches, cut into slices of at most a million rows)
//! are decoded on rayon's threads, a few per thread at a time, each into its own [`VoteBatch`]
//! (a slice of plain integer columns is written straight into the votes instead: see
//! `decode_batches`), appended in file order: the result does not depend on the number of
//! threads, and memory beyond the votes is one wave of row groups. Only the vote columns are decoded (a column projection),
//! and an integer id costs no allocation.
//!
//! Errors name the file and the 1-based **row** of the table (in [`crate::Location`]'s `line`, as
//! an API dump's errors give the record index), and the column.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type,
    UInt8Type,
};
use arrow_array::{Array, ArrayRef, Int64Array, Int8Array, RecordBatch, RecordBatchReader, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::fields::{column_key, parse_id, parse_vote, VOTE_TABLE_COLUMNS};
use super::limits::{size, MAX_FIELD_BYTES};
use super::polis_export::{read_export, VoteFile};
use super::{timestamp_ms, ConversationData, InputFormat, Reader};
use crate::error::{excerpt, Error, Location, Result};
use crate::votes::{first_appearances, Id, Vote, VoteBatch};

/// The two columnar encodings of a vote table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet (`votes.parquet`).
    Parquet,
    /// The Arrow IPC file format, also called Feather v2 (`votes.arrow`, `.feather`, `.ipc`); the
    /// IPC stream format reads too.
    ArrowIpc,
}

impl TableFormat {
    /// The vote file names a folder may hold, the first the canonical one.
    pub fn vote_files(self) -> &'static [&'static str] {
        match self {
            TableFormat::Parquet => &["votes.parquet"],
            TableFormat::ArrowIpc => &["votes.arrow", "votes.feather", "votes.ipc"],
        }
    }

    pub(crate) fn input_format(self) -> InputFormat {
        match self {
            TableFormat::Parquet => InputFormat::Parquet,
            TableFormat::ArrowIpc => InputFormat::ArrowIpc,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TableFormat::Parquet => "Parquet",
            TableFormat::ArrowIpc => "Arrow IPC",
        }
    }

    /// The vote file of this format in `dir`, if there is one.
    pub(crate) fn vote_file_in(self, dir: &Path) -> Option<&'static str> {
        self.vote_files().iter().copied().find(|f| dir.join(f).is_file())
    }
}

/// The Parquet vote table: `votes.parquet` (+ `comments.csv`).
pub(crate) struct ParquetReader;
/// The Arrow IPC vote table: `votes.arrow`, `votes.feather` or `votes.ipc` (+ `comments.csv`).
pub(crate) struct ArrowIpcReader;

macro_rules! table_reader {
    ($reader:ty, $format:expr, $name:literal, $layout:literal) => {
        impl Reader for $reader {
            fn name(&self) -> &'static str {
                $name
            }
            fn format(&self) -> InputFormat {
                $format.input_format()
            }
            fn vote_file(&self) -> &'static str {
                $format.vote_files()[0]
            }
            fn accepts_file(&self, name: &str) -> bool {
                $format.vote_files().contains(&name)
            }
            fn layout(&self) -> &'static str {
                $layout
            }
            fn detect(&self, dir: &Path) -> bool {
                $format.vote_file_in(dir).is_some()
            }
            fn read(&self, dir: &Path) -> Result<ConversationData> {
                read_export(dir, VoteFile::Table($format))
            }
        }
    };
}

table_reader!(
    ParquetReader,
    TableFormat::Parquet,
    "Parquet vote table",
    "votes.parquet (+ comments.csv) for a Parquet vote table"
);
table_reader!(
    ArrowIpcReader,
    TableFormat::ArrowIpc,
    "Arrow IPC vote table",
    "votes.arrow, votes.feather or votes.ipc (+ comments.csv) for an Arrow IPC vote table"
);

/// The votes of a table, as `votes_csv` gives them for a CSV.
#[derive(Default)]
pub(crate) struct VoteTable {
    pub votes: VoteBatch,
    pub seconds_converted: u64,
}

/// Row groups (or record batches) decoded per thread in one wave: enough to keep the threads busy,
/// few enough that memory beyond the votes stays one wave.
const GROUPS_PER_THREAD: usize = 2;

/// Reads the vote table at `path`. `known`: when given, a vote on a statement outside it is
/// [`Error::UnknownStatement`], as in `votes.csv`.
pub(crate) fn read_vote_table(path: &Path, format: TableFormat, known: Option<&HashSet<Id>>) -> Result<VoteTable> {
    match format {
        TableFormat::Parquet => read_parquet(path, known),
        TableFormat::ArrowIpc => read_ipc(path, known),
    }
}

/// Where in a table: the file (none for a table handed over in memory) and the 1-based row.
fn location(path: Option<&Path>, row: Option<u64>) -> Location {
    Location { file: path.map(Path::to_path_buf), line: row }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// A file that is not a readable table (truncated, another format, corrupt).
fn unreadable(path: &Path, format: TableFormat, e: impl std::fmt::Display) -> Error {
    Error::Parse {
        location: Location::new(path, None),
        message: format!("not a readable {} file ({e})", format.name()),
    }
}

/// A Parquet footer states each row group's rows and, apart, each column chunk's values. A flat
/// column holds one value (or null) per row, so a row group whose vote columns hold another number
/// of values than its stated rows has a footer that contradicts itself; the Parquet reader reads
/// as many rows as the group states, and would drop the rest of the votes without a word.
/// `roots`: the schema's root columns that are read.
fn footer_agrees_with_itself(path: &Path, metadata: &ArrowReaderMetadata, roots: &[usize]) -> Result<()> {
    let schema = metadata.parquet_schema();
    for (g, group) in metadata.metadata().row_groups().iter().enumerate() {
        for leaf in 0..schema.num_columns() {
            let column = schema.column(leaf);
            if column.max_rep_level() > 0 || !roots.contains(&schema.get_column_root_idx(leaf)) {
                continue;
            }
            let values = group.column(leaf).num_values();
            if values != group.num_rows() {
                let why = format!(
                    "its footer states {} rows for row group {g}, but {values} values in its column {:?}",
                    group.num_rows(),
                    column.name()
                );
                return Err(unreadable(path, TableFormat::Parquet, why));
            }
        }
    }
    Ok(())
}

fn read_parquet(path: &Path, known: Option<&HashSet<Id>>) -> Result<VoteTable> {
    let format = TableFormat::Parquet;
    let file = open(path)?;
    let metadata =
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| unreadable(path, format, e))?;
    let columns = Columns::find(metadata.schema(), Some(path))?;
    let projection = ProjectionMask::roots(metadata.parquet_schema(), columns.indices());
    let groups = metadata.metadata().row_groups();
    footer_agrees_with_itself(path, &metadata, &columns.indices())?;
    // Each row group's first row, for errors. The counts are the footer's, which may say
    // anything: their sum saturates rather than overflow.
    let mut first_rows = Vec::with_capacity(groups.len());
    let mut rows = 0u64;
    for g in groups {
        first_rows.push(rows);
        rows = rows.saturating_add(u64::try_from(g.num_rows()).unwrap_or(0));
    }
    let decode_group = |g: usize| -> Result<VoteTable> {
        // A file handle per row group: clones of one handle would share its read position.
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(open(path)?, metadata.clone())
            .with_row_groups(vec![g])
            .with_projection(projection.clone())
            .with_batch_size(64 * 1024)
            .build()
            .map_err(|e| unreadable(path, format, e))?;
        let mut table = VoteTable { votes: VoteBatch::new(), seconds_converted: 0 };
        // The whole row group at once, rather than growing by doubling batch after batch.
        reserve_rows(&mut table.votes, usize::try_from(groups[g].num_rows()).unwrap_or(0));
        let mut row = first_rows[g];
        for batch in reader {
            let batch = batch.map_err(|e| unreadable(path, format, e))?;
            columns.decode(&batch, row, Some(path), known, &mut table)?;
            row += batch.num_rows() as u64;
        }
        Ok(table)
    };
    let wave = (rayon::current_num_threads() * GROUPS_PER_THREAD).max(1);
    let mut table = VoteTable { votes: VoteBatch::new(), seconds_converted: 0 };
    reserve_rows(&mut table.votes, usize::try_from(rows).unwrap_or(0));
    let mut next = 0;
    decode_in_waves(
        || {
            let groups: Vec<usize> = (next..(next + wave).min(groups.len())).collect();
            next += groups.len();
            Ok(groups)
        },
        |&g| decode_group(g),
        |parts| append_parts(&mut table, parts),
    )?;
    Ok(table)
}

/// Decodes the waves `next_wave` gives (until an empty one) on rayon's threads, each item into
/// its own part, and hands them to `append` in order: the append of one wave (sequential) runs
/// beside the decoding of the next, so that it does not leave a core idle. `append` returns the
/// first error in the parts' order, as one wave after the other would give it.
fn decode_in_waves<T: Sync, P: Send>(
    mut next_wave: impl FnMut() -> Result<Vec<T>>,
    decode: impl Fn(&T) -> Result<P> + Sync,
    mut append: impl FnMut(Vec<Result<P>>) -> Result<()> + Send,
) -> Result<()> {
    let mut pending: Vec<Result<P>> = Vec::new();
    loop {
        let wave = match next_wave() {
            Ok(wave) => wave,
            Err(e) => {
                append(pending)?;
                return Err(e);
            }
        };
        if wave.is_empty() {
            return append(pending);
        }
        let (decoded, appended) =
            rayon::join(|| wave.par_iter().map(&decode).collect(), || append(std::mem::take(&mut pending)));
        appended?;
        pending = decoded;
    }
}

/// Appends decoded parts to `table`, in order; the first error stops it.
fn append_parts(table: &mut VoteTable, parts: Vec<Result<VoteTable>>) -> Result<()> {
    let mut batches = Vec::with_capacity(parts.len());
    let mut failed = Ok(());
    for part in parts {
        match part {
            Ok(part) => {
                table.seconds_converted += part.seconds_converted;
                batches.push(part.votes);
            }
            Err(e) => {
                failed = Err(e);
                break;
            }
        }
    }
    table.votes.append_all(batches);
    failed
}

fn read_ipc(path: &Path, known: Option<&HashSet<Id>>) -> Result<VoteTable> {
    let format = TableFormat::ArrowIpc;
    let mut file = open(path)?;
    // The file format starts with the magic `ARROW1`; anything else is tried as a stream.
    let mut magic = [0u8; 6];
    let is_file_format = file.read_exact(&mut magic).is_ok() && &magic == b"ARROW1";
    file.seek(SeekFrom::Start(0)).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let reader: Box<dyn RecordBatchReader> = if is_file_format {
        Box::new(arrow_ipc::reader::FileReader::try_new_buffered(file, None).map_err(|e| unreadable(path, format, e))?)
    } else {
        Box::new(
            arrow_ipc::reader::StreamReader::try_new(BufReader::new(file), None)
                .map_err(|e| unreadable(path, format, e))?,
        )
    };
    let columns = Columns::find(&reader.schema(), Some(path))?;
    decode_batches(reader, &columns, Some(path), known, 0, |e| unreadable(path, format, e))
}

/// Reads the votes of a stream of Arrow record batches by the rules of a vote table file (the same
/// columns by name, the same field rules, the same errors): what the Python binding hands over for
/// a pyarrow table, a polars DataFrame or any other object with the Arrow C stream interface. The
/// arrays are read where they lie, without a copy. Errors name the 1-based row of the stream (as
/// `record N`) and the column.
pub fn read_record_batches(reader: impl RecordBatchReader) -> Result<VoteBatch> {
    read_record_batches_sized(reader, 0)
}

/// [`read_record_batches`] for a stream whose number of rows is known beforehand (a pyarrow
/// table's `num_rows`): the votes are reserved for them up front, so that the batch is not
/// copied as it grows (a 50-million-row table went through about 25 doublings of every column).
/// The count is a hint: a wrong one costs memory or copies, never votes (see [`MAX_ROWS_HINT`]).
pub fn read_record_batches_sized(reader: impl RecordBatchReader, rows: usize) -> Result<VoteBatch> {
    let columns = Columns::find(&reader.schema(), None)?;
    let stream_failed = |e: ArrowError| Error::Parse {
        location: Location::none(),
        message: format!("the Arrow stream of the vote table failed ({e})"),
    };
    Ok(decode_batches(reader, &columns, None, None, rows, stream_failed)?.votes)
}

/// The most rows reserved up front from a count the input states (a Python object's `num_rows`,
/// a Parquet row group's `num_rows` in the file's metadata): 2^28, about 3.5 GB of columns, five
/// times the 50-million-vote benchmark; a longer table grows by doubling past it. The count may
/// say anything (a malformed file, a foreign object), and a reservation too large to allocate
/// would abort the process instead of reporting the input.
pub const MAX_ROWS_HINT: usize = 1 << 28;

/// Reserves `votes` for `rows` more, as far as [`MAX_ROWS_HINT`] trusts a stated count.
fn reserve_rows(votes: &mut VoteBatch, rows: usize) {
    votes.reserve(rows.min(MAX_ROWS_HINT));
}

/// Rows decoded by one task at most: a longer record batch (a pyarrow table made from numpy arrays
/// is one batch of every row) is cut into slices of this many rows, which share its buffers, so
/// that it too is decoded on every thread.
const SLICE_ROWS: usize = 1 << 20;

/// Decodes record batches in waves of a few slices per thread, appended in stream order: the
/// votes do not depend on the number of threads, and memory beyond them is one wave. A slice of
/// plain integer columns (the usual table) is only scanned for its distinct ids on its thread and
/// then written by its append straight into the reserved columns, on every thread; any other is
/// decoded into its own [`VoteBatch`] and appended. Shared by the Arrow IPC file reader and
/// [`read_record_batches`]; `rows`, when not 0, the number of rows expected (reserved up front).
fn decode_batches<E>(
    batches: impl Iterator<Item = std::result::Result<RecordBatch, E>>,
    columns: &Columns,
    path: Option<&Path>,
    known: Option<&HashSet<Id>>,
    rows: usize,
    unreadable: impl Fn(E) -> Error,
) -> Result<VoteTable> {
    let wave = (rayon::current_num_threads() * GROUPS_PER_THREAD).max(1);
    let mut table = VoteTable::default();
    reserve_rows(&mut table.votes, rows);
    let mut row = 0u64;
    let mut slices = batches
        .flat_map(|batch| match batch {
            Ok(batch) => {
                let rows = batch.num_rows();
                (0..rows)
                    .step_by(SLICE_ROWS)
                    .map(|start| Ok(batch.slice(start, SLICE_ROWS.min(rows - start))))
                    .collect()
            }
            Err(e) => vec![Err(e)],
        })
        .peekable();
    decode_in_waves(
        || {
            // One wave of slices, each with its first row.
            let mut wave_slices: Vec<(u64, RecordBatch)> = Vec::with_capacity(wave);
            for slice in slices.by_ref().take(wave) {
                let slice = slice.map_err(&unreadable)?;
                let first = row;
                row += slice.num_rows() as u64;
                wave_slices.push((first, slice));
            }
            Ok(wave_slices)
        },
        |(first, slice)| {
            if let Some(plain) = columns.plain(slice, known) {
                return Ok(Slice::Plain(Box::new(plain)));
            }
            let mut part = VoteTable::default();
            columns.decode(slice, *first, path, known, &mut part).map(|()| Slice::Decoded(Box::new(part)))
        },
        |parts| append_slices(&mut table, parts),
    )?;
    Ok(table)
}

/// A slice of a record batch, decoded by [`decode_batches`]: its votes, or its plain columns
/// ([`Columns::plain`]), whose votes its append writes straight into the table's reserved columns
/// ([`VoteBatch::extend_ints_seen`]).
enum Slice {
    Decoded(Box<VoteTable>),
    Plain(Box<PlainColumns>),
}

/// Appends decoded slices to `table`, in order; the first error stops it.
fn append_slices(table: &mut VoteTable, parts: Vec<Result<Slice>>) -> Result<()> {
    for part in parts {
        match part? {
            Slice::Decoded(part) => {
                table.seconds_converted += part.seconds_converted;
                table.votes.append(part.votes);
            }
            Slice::Plain(plain) => table.votes.extend_ints_seen(
                plain.participants.values(),
                plain.statements.values(),
                plain.values.values(),
                plain.times.as_ref().map(|t| &t.values()[..]),
                [&plain.firsts[0], &plain.firsts[1]],
            ),
        }
    }
    Ok(())
}

/// The vote columns of a slice as [`VoteBatch::extend_ints_seen`] takes them, checked where the
/// slice was decoded: the arrays share the slice's buffers (the votes are a new array only when
/// the table's are not int8), so they go to the append without a copy or a second check.
struct PlainColumns {
    participants: Int64Array,
    statements: Int64Array,
    values: Int8Array,
    times: Option<Int64Array>,
    /// The distinct participant and statement ids, in first-appearance order.
    firsts: [Vec<i64>; 2],
}

/// The vote columns of a table: their names as the table writes them and their positions.
struct Columns {
    participant: (String, usize),
    statement: (String, usize),
    vote: (String, usize),
    timestamp: Option<(String, usize)>,
}

impl Columns {
    fn find(schema: &Schema, path: Option<&Path>) -> Result<Columns> {
        let keys: Vec<String> = schema.fields().iter().map(|f| column_key(f.name())).collect();
        let find = |names: &[&str]| -> Option<(String, usize)> {
            names.iter().find_map(|n| keys.iter().position(|k| k == n)).map(|i| (schema.field(i).name().clone(), i))
        };
        let names = &VOTE_TABLE_COLUMNS;
        let require = |names: &[&str]| {
            find(names).ok_or_else(|| {
                let found: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                Error::Parse {
                    location: location(path, None),
                    message: format!(
                        "the table has no {:?} column (nor {}; found: {})",
                        names[0],
                        names[1..].join(", "),
                        excerpt(&found.join(", "))
                    ),
                }
            })
        };
        Ok(Columns {
            participant: require(names.participant)?,
            statement: require(names.statement)?,
            vote: require(names.vote)?,
            timestamp: find(names.timestamp),
        })
    }

    /// The columns' positions, for a projection that reads only them.
    fn indices(&self) -> Vec<usize> {
        let mut indices = vec![self.participant.1, self.statement.1, self.vote.1];
        indices.extend(self.timestamp.as_ref().map(|t| t.1));
        indices
    }

    /// The columns of `batch` when they are the common case that needs no per-vote rule: int64
    /// ids, integer votes of -1, 0 or 1, and int64 timestamps (or none), without nulls, and no
    /// timestamp below 10^11 (epoch seconds, converted by [`Columns::decode`]); ids dense enough
    /// for [`first_appearances`]'s bitset, and every statement in `known` (when given). `None`
    /// for anything else, which [`Columns::decode`] then reads, with its errors and notes.
    fn plain(&self, batch: &RecordBatch, known: Option<&HashSet<Id>>) -> Option<PlainColumns> {
        let int64 = |(name, _): &(String, usize)| -> Option<Int64Array> {
            let array = batch.column_by_name(name)?.as_primitive_opt::<Int64Type>()?;
            (array.null_count() == 0).then(|| array.clone())
        };
        let participants = int64(&self.participant)?;
        let statements = int64(&self.statement)?;
        // Checked in one branch-free pass each (`fold`, not `all`, which stops at every value).
        let values = match Ints::of(batch.column_by_name(&self.vote.0)?.as_ref())? {
            Ints::I8(a) => (a.null_count() == 0 && a.values().iter().fold(true, |ok, v| ok & (-1..=1).contains(v)))
                .then(|| a.clone())?,
            ints => Int8Array::from(
                ints.plain()?
                    .iter()
                    .map(|&v| i8::try_from(v).ok().filter(|v| (-1..=1).contains(v)))
                    .collect::<Option<Vec<i8>>>()?,
            ),
        };
        let times = match &self.timestamp {
            None => None,
            Some(c) => {
                Some(int64(c).filter(|times| times.values().iter().fold(true, |ok, &t| ok & !timestamp_ms(t).1))?)
            }
        };
        let firsts = [first_appearances(participants.values())?, first_appearances(statements.values())?];
        if let Some(known) = known {
            if !firsts[1].iter().all(|&s| known.contains(&Id::Int(s))) {
                return None;
            }
        }
        Some(PlainColumns { participants, statements, values, times, firsts })
    }

    /// Appends the rows of `batch` (whose first row is row `first_row` of the table, from 0) to
    /// `out`.
    fn decode(
        &self,
        batch: &RecordBatch,
        first_row: u64,
        path: Option<&Path>,
        known: Option<&HashSet<Id>>,
        out: &mut VoteTable,
    ) -> Result<()> {
        let column = |(name, _): &(String, usize)| -> Result<&ArrayRef> {
            batch.column_by_name(name).ok_or_else(|| Error::Parse {
                location: location(path, None),
                message: format!("a record batch has no {name:?} column"),
            })
        };
        let wrong_type = |name: &str, dt: &DataType, expected: &str| Error::Parse {
            location: location(path, None),
            message: format!("column {name:?} holds {dt}; expected {expected}"),
        };
        let ids = |c: &(String, usize)| -> Result<Ids<'_>> {
            let array = column(c)?;
            Ids::of(array.as_ref()).ok_or_else(|| wrong_type(&c.0, array.data_type(), "integers or text (ids)"))
        };
        let participants = ids(&self.participant)?;
        let statements = ids(&self.statement)?;
        let vote_array = column(&self.vote)?;
        let votes = Scalars::of(vote_array.as_ref())
            .ok_or_else(|| wrong_type(&self.vote.0, vote_array.data_type(), "integers, floats or text (-1, 0, 1)"))?;
        let times = match &self.timestamp {
            Some(c) => {
                let array = column(c)?;
                Some(Scalars::of(array.as_ref()).filter(|s| !matches!(s, Scalars::Text(_))).ok_or_else(|| {
                    wrong_type(&c.0, array.data_type(), "integers, floats or Arrow timestamps (epoch ms or s)")
                })?)
            }
            None => None,
        };

        let at = |i: usize| location(path, Some(first_row + i as u64 + 1));
        let id_error = |name: &str, i: usize, problem: IdProblem| Error::Parse {
            location: at(i),
            message: match problem {
                IdProblem::Null => format!("empty {name} (null)"),
                IdProblem::TooLong(len) => format!(
                    "column {name:?} holds an id {len} bytes long, over the limit of {} (a field of a CSV)",
                    size(MAX_FIELD_BYTES)
                ),
            },
        };
        let before = out.votes.len();
        let statements_before = out.votes.statement_ids().len();
        out.votes.reserve(batch.num_rows());
        let plain = decode_plain(&participants, &statements, &votes, times.as_ref(), out);
        let votes_out = &mut out.votes;
        for i in (0..batch.num_rows()).filter(|_| !plain) {
            let participant = participants.get(i).map_err(|p| id_error(&self.participant.0, i, p))?;
            let statement = statements.get(i).map_err(|p| id_error(&self.statement.0, i, p))?;
            let vote = votes.vote(i).ok_or_else(|| Error::InvalidVote { location: at(i), value: votes.show(i) })?;
            let timestamp = match &times {
                Some(t) => t.time(i).map_err(|()| Error::Parse {
                    location: at(i),
                    message: format!(
                        "{} {} is not an epoch time in milliseconds or seconds",
                        self.timestamp.as_ref().map_or("", |c| c.0.as_str()),
                        t.show(i)
                    ),
                })?,
                None => None,
            };
            out.seconds_converted += timestamp.is_some_and(|(_, converted)| converted) as u64;
            votes_out.push(&participant, &statement, vote, timestamp.map(|(ms, _)| ms));
        }
        if let Some(known) = known {
            // The first vote on an unknown statement, by row: checked over the statements this
            // batch added first (`out` holds the earlier batches', checked then), as most tables
            // have none.
            if out.votes.statement_ids()[statements_before..].iter().any(|s| !known.contains(s)) {
                for i in before..out.votes.len() {
                    let statement = &out.votes.statement_ids()[out.votes.statements()[i] as usize];
                    if !known.contains(statement) {
                        return Err(Error::UnknownStatement { location: at(i - before), statement: statement.clone() });
                    }
                }
            }
        }
        Ok(())
    }
}

/// The common case of [`Columns::decode`] in one tight loop: integer ids and votes without nulls,
/// and integer timestamps without nulls or none. Returns `false`, having read nothing, for
/// anything else (a null, a vote outside -1, 0, 1, text, floats), which the general loop then
/// reads, with its errors.
fn decode_plain(
    participants: &Ids<'_>,
    statements: &Ids<'_>,
    votes: &Scalars<'_>,
    times: Option<&Scalars<'_>>,
    out: &mut VoteTable,
) -> bool {
    let (Ids::Ints(participants), Ids::Ints(statements), Scalars::Ints(votes)) = (participants, statements, votes)
    else {
        return false;
    };
    let (Some(participants), Some(statements), Some(votes)) = (participants.plain(), statements.plain(), votes.plain())
    else {
        return false;
    };
    if votes.iter().any(|v| !(-1..=1).contains(v)) {
        return false;
    }
    let times = match times {
        None => None,
        Some(Scalars::Ints(times)) => match times.plain() {
            Some(times) => Some(times),
            None => return false,
        },
        Some(_) => return false,
    };
    // Epoch seconds are converted in a copy; a column of milliseconds (the usual) is read as is.
    let converted = times.as_ref().map_or(0, |times| times.iter().filter(|&&t| timestamp_ms(t).1).count());
    out.seconds_converted += converted as u64;
    let times: Option<Cow<'_, [i64]>> = match times {
        Some(times) if converted > 0 => Some(times.iter().map(|&t| timestamp_ms(t).0).collect::<Vec<_>>().into()),
        times => times,
    };
    out.votes.extend_ints(&participants, &statements, &votes, times.as_deref());
    true
}

enum IdProblem {
    Null,
    TooLong(usize),
}

/// An id column: integers of any width, or text (plain, large, view or dictionary-encoded).
enum Ids<'a> {
    Ints(Ints<'a>),
    Text(Text<'a>),
}

impl<'a> Ids<'a> {
    fn of(array: &'a dyn Array) -> Option<Ids<'a>> {
        Ints::of(array).map(Ids::Ints).or_else(|| Text::of(array).map(Ids::Text))
    }

    fn get(&self, i: usize) -> Result<Id, IdProblem> {
        match self {
            Ids::Ints(ints) => match ints.get(i) {
                None => Err(IdProblem::Null),
                Some(Ok(n)) => Ok(Id::Int(n)),
                // Over i64: the text, as a CSV's 20-digit id reads.
                Some(Err(big)) => parse_id(big.to_string().as_bytes()).ok_or(IdProblem::Null),
            },
            Ids::Text(text) => {
                let raw = text.get(i).ok_or(IdProblem::Null)?;
                if raw.len() > MAX_FIELD_BYTES {
                    return Err(IdProblem::TooLong(raw.len()));
                }
                parse_id(raw).ok_or(IdProblem::Null)
            }
        }
    }
}

/// An integer column of any width, read as `i64` (`Err` with the value for a `u64` over it).
enum Ints<'a> {
    I8(&'a arrow_array::PrimitiveArray<Int8Type>),
    I16(&'a arrow_array::PrimitiveArray<Int16Type>),
    I32(&'a arrow_array::PrimitiveArray<Int32Type>),
    I64(&'a arrow_array::PrimitiveArray<Int64Type>),
    U8(&'a arrow_array::PrimitiveArray<UInt8Type>),
    U16(&'a arrow_array::PrimitiveArray<UInt16Type>),
    U32(&'a arrow_array::PrimitiveArray<UInt32Type>),
    U64(&'a arrow_array::PrimitiveArray<UInt64Type>),
}

impl<'a> Ints<'a> {
    fn of(array: &'a dyn Array) -> Option<Ints<'a>> {
        Some(match array.data_type() {
            DataType::Int8 => Ints::I8(array.as_primitive()),
            DataType::Int16 => Ints::I16(array.as_primitive()),
            DataType::Int32 => Ints::I32(array.as_primitive()),
            DataType::Int64 => Ints::I64(array.as_primitive()),
            DataType::UInt8 => Ints::U8(array.as_primitive()),
            DataType::UInt16 => Ints::U16(array.as_primitive()),
            DataType::UInt32 => Ints::U32(array.as_primitive()),
            DataType::UInt64 => Ints::U64(array.as_primitive()),
            _ => return None,
        })
    }

    /// Every value as an `i64` (borrowed when they are one), or `None` when there is a null or a
    /// `u64` beyond `i64`.
    fn plain(&self) -> Option<Cow<'a, [i64]>> {
        macro_rules! widened {
            ($a:expr) => {
                ($a.null_count() == 0).then(|| Cow::Owned($a.values().iter().map(|&v| i64::from(v)).collect()))
            };
        }
        match self {
            Ints::I64(a) => (a.null_count() == 0).then(|| Cow::Borrowed(&a.values()[..])),
            Ints::I8(a) => widened!(a),
            Ints::I16(a) => widened!(a),
            Ints::I32(a) => widened!(a),
            Ints::U8(a) => widened!(a),
            Ints::U16(a) => widened!(a),
            Ints::U32(a) => widened!(a),
            Ints::U64(a) => {
                if a.null_count() != 0 {
                    return None;
                }
                a.values().iter().map(|&v| i64::try_from(v).ok()).collect::<Option<Vec<i64>>>().map(Cow::Owned)
            }
        }
    }

    /// The value of row `i`; `None` when null.
    #[inline]
    fn get(&self, i: usize) -> Option<Result<i64, u64>> {
        macro_rules! value {
            ($a:expr) => {
                if $a.is_null(i) {
                    None
                } else {
                    Some(Ok(i64::from($a.value(i))))
                }
            };
        }
        match self {
            Ints::I8(a) => value!(a),
            Ints::I16(a) => value!(a),
            Ints::I32(a) => value!(a),
            Ints::I64(a) => value!(a),
            Ints::U8(a) => value!(a),
            Ints::U16(a) => value!(a),
            Ints::U32(a) => value!(a),
            Ints::U64(a) => (!a.is_null(i)).then(|| i64::try_from(a.value(i)).map_err(|_| a.value(i))),
        }
    }
}

/// A text column: UTF-8 (plain, large or view) or a dictionary of it.
enum Text<'a> {
    Utf8(&'a arrow_array::StringArray),
    Large(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Dictionary { keys: Vec<usize>, array: &'a dyn Array, values: Box<Text<'a>> },
}

impl<'a> Text<'a> {
    fn of(array: &'a dyn Array) -> Option<Text<'a>> {
        Some(match array.data_type() {
            DataType::Utf8 => Text::Utf8(array.as_string()),
            DataType::LargeUtf8 => Text::Large(array.as_string()),
            DataType::Utf8View => Text::View(array.as_string_view()),
            DataType::Dictionary(_, _) => {
                let dictionary = array.as_any_dictionary_opt()?;
                let values = Text::of(dictionary.values().as_ref())?;
                Text::Dictionary { keys: dictionary.normalized_keys(), array, values: Box::new(values) }
            }
            _ => return None,
        })
    }

    /// The bytes of row `i`; `None` when null.
    fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            Text::Utf8(a) => (!a.is_null(i)).then(|| a.value(i).as_bytes()),
            Text::Large(a) => (!a.is_null(i)).then(|| a.value(i).as_bytes()),
            Text::View(a) => (!a.is_null(i)).then(|| a.value(i).as_bytes()),
            Text::Dictionary { keys, array, values } => {
                if array.is_null(i) {
                    None
                } else {
                    values.get(keys[i])
                }
            }
        }
    }
}

/// A vote or timestamp column: integers, floats, text (votes only) or Arrow timestamps.
enum Scalars<'a> {
    Ints(Ints<'a>),
    F32(&'a arrow_array::PrimitiveArray<Float32Type>),
    F64(&'a arrow_array::PrimitiveArray<Float64Type>),
    Text(Text<'a>),
    /// Arrow timestamps and the factor to milliseconds (multiplied when `true`, else divided).
    Time(&'a dyn Array, i64, bool),
}

impl<'a> Scalars<'a> {
    fn of(array: &'a dyn Array) -> Option<Scalars<'a>> {
        if let Some(ints) = Ints::of(array) {
            return Some(Scalars::Ints(ints));
        }
        Some(match array.data_type() {
            DataType::Float32 => Scalars::F32(array.as_primitive()),
            DataType::Float64 => Scalars::F64(array.as_primitive()),
            DataType::Timestamp(unit, _) => match unit {
                TimeUnit::Second => Scalars::Time(array, 1000, true),
                TimeUnit::Millisecond => Scalars::Time(array, 1, true),
                TimeUnit::Microsecond => Scalars::Time(array, 1000, false),
                TimeUnit::Nanosecond => Scalars::Time(array, 1_000_000, false),
            },
            _ => Scalars::Text(Text::of(array)?),
        })
    }

    fn float(&self, i: usize) -> Option<f64> {
        match self {
            Scalars::F32(a) => (!a.is_null(i)).then(|| f64::from(a.value(i))),
            Scalars::F64(a) => (!a.is_null(i)).then(|| a.value(i)),
            _ => None,
        }
    }

    /// Row `i` as a vote, by `votes.csv`'s rule: -1, 0 or 1, possibly as a float; `None` for
    /// anything else, null included.
    fn vote(&self, i: usize) -> Option<Vote> {
        match self {
            Scalars::Ints(ints) => Vote::from_value(ints.get(i)?.ok()?),
            Scalars::F32(_) | Scalars::F64(_) => Vote::from_f64(self.float(i)?),
            Scalars::Text(text) => parse_vote(text.get(i)?),
            Scalars::Time(..) => None,
        }
    }

    /// Row `i` as a timestamp in ms and whether it was converted from seconds; `Ok(None)` when
    /// null, `Err` for a value no epoch time can be (a NaN).
    fn time(&self, i: usize) -> Result<Option<(i64, bool)>, ()> {
        match self {
            Scalars::Ints(ints) => match ints.get(i) {
                None => Ok(None),
                Some(Ok(n)) => Ok(Some(timestamp_ms(n))),
                Some(Err(_)) => Err(()),
            },
            // As the CSV reader reads `1.7e12`: rounded, then seconds converted.
            Scalars::F32(_) | Scalars::F64(_) => match self.float(i) {
                None => Ok(None),
                Some(x) if x.is_finite() && x.abs() < 9.0e18 => Ok(Some(timestamp_ms(x.round() as i64))),
                Some(_) => Err(()),
            },
            // The unit is known: no guessing.
            Scalars::Time(array, factor, multiply) => {
                if array.is_null(i) {
                    return Ok(None);
                }
                let raw = match array.data_type() {
                    DataType::Timestamp(TimeUnit::Second, _) => array.as_primitive::<TimestampSecondType>().value(i),
                    DataType::Timestamp(TimeUnit::Millisecond, _) => {
                        array.as_primitive::<TimestampMillisecondType>().value(i)
                    }
                    DataType::Timestamp(TimeUnit::Microsecond, _) => {
                        array.as_primitive::<TimestampMicrosecondType>().value(i)
                    }
                    _ => array.as_primitive::<TimestampNanosecondType>().value(i),
                };
                Ok(Some((if *multiply { raw.saturating_mul(*factor) } else { raw.div_euclid(*factor) }, false)))
            }
            Scalars::Text(_) => Err(()),
        }
    }

    /// Row `i` as an error message quotes it.
    fn show(&self, i: usize) -> String {
        let null = || "null".to_string();
        match self {
            Scalars::Ints(ints) => match ints.get(i) {
                None => null(),
                Some(Ok(n)) => n.to_string(),
                Some(Err(n)) => n.to_string(),
            },
            Scalars::F32(_) | Scalars::F64(_) => self.float(i).map_or_else(null, |x| x.to_string()),
            Scalars::Text(text) => text.get(i).map_or_else(null, |b| String::from_utf8_lossy(b).into_owned()),
            Scalars::Time(array, ..) => {
                if array.is_null(i) {
                    null()
                } else {
                    "a timestamp".to_string()
                }
            }
        }
    }
}

/// Writes vote tables: the columns `participant`, `statement` (int64, or text when any id is
/// text), `vote` (int8) and, when asked, `timestamp` (int64 epoch ms, null for none). Parquet files
/// are snappy-compressed (pyarrow's default) in row groups of about a million votes.
pub struct VoteTableWriter {
    path: std::path::PathBuf,
    schema: SchemaRef,
    text_ids: bool,
    timestamps: bool,
    inner: TableWriter,
}

enum TableWriter {
    Parquet(Box<ArrowWriter<File>>),
    Ipc(Box<arrow_ipc::writer::FileWriter<std::io::BufWriter<File>>>),
}

impl VoteTableWriter {
    /// Creates `path`. `text_ids`: ids are written as text (else every id must be an integer);
    /// `timestamps`: a timestamp column is written.
    pub fn create(path: &Path, format: TableFormat, text_ids: bool, timestamps: bool) -> Result<VoteTableWriter> {
        let id_type = if text_ids { DataType::Utf8 } else { DataType::Int64 };
        let mut fields =
            vec![Field::new("participant", id_type.clone(), false), Field::new("statement", id_type, false)];
        fields.push(Field::new("vote", DataType::Int8, false));
        if timestamps {
            fields.push(Field::new("timestamp", DataType::Int64, true));
        }
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        let failed = |e: &dyn std::fmt::Display| written(path, e);
        let inner = match format {
            TableFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(1 << 20))
                    .build();
                TableWriter::Parquet(Box::new(
                    ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| failed(&e))?,
                ))
            }
            TableFormat::ArrowIpc => TableWriter::Ipc(Box::new(
                arrow_ipc::writer::FileWriter::try_new_buffered(file, &schema).map_err(|e| failed(&e))?,
            )),
        };
        Ok(VoteTableWriter { path: path.to_path_buf(), schema, text_ids, timestamps, inner })
    }

    /// Appends `votes`, in their order.
    pub fn write(&mut self, votes: &VoteBatch) -> Result<()> {
        let ids = |ids: &[Id], refs: &[u32], what: &str| -> Result<ArrayRef> {
            if self.text_ids {
                let text: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
                Ok(Arc::new(refs.iter().map(|&r| Some(text[r as usize].as_str())).collect::<StringArray>()))
            } else {
                let ints: Vec<i64> = ids
                    .iter()
                    .map(|id| match id {
                        Id::Int(n) => Ok(*n),
                        Id::Str(s) => Err(written(&self.path, &format!("{what} id {} is not an integer", excerpt(s)))),
                    })
                    .collect::<Result<_>>()?;
                Ok(Arc::new(refs.iter().map(|&r| ints[r as usize]).collect::<Int64Array>()))
            }
        };
        let mut columns = vec![
            ids(votes.participant_ids(), votes.participants(), "participant")?,
            ids(votes.statement_ids(), votes.statements(), "statement")?,
            Arc::new(Int8Array::from(votes.values().to_vec())) as ArrayRef,
        ];
        if self.timestamps {
            columns.push(Arc::new((0..votes.len()).map(|i| votes.timestamp(i)).collect::<Int64Array>()));
        }
        let batch = RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| written(&self.path, &e))?;
        match &mut self.inner {
            TableWriter::Parquet(w) => w.write(&batch).map_err(|e| written(&self.path, &e)),
            TableWriter::Ipc(w) => w.write(&batch).map_err(|e: ArrowError| written(&self.path, &e)),
        }
    }

    /// Writes the file's footer.
    pub fn finish(self) -> Result<()> {
        match self.inner {
            TableWriter::Parquet(w) => w.close().map(|_| ()).map_err(|e| written(&self.path, &e)),
            TableWriter::Ipc(mut w) => w.finish().map_err(|e| written(&self.path, &e)),
        }
    }
}

/// Writes `votes` as a vote table at `path` (text ids when any id is text; timestamps when any vote
/// has one).
pub fn write_vote_table(path: &Path, votes: &VoteBatch, format: TableFormat) -> Result<()> {
    let text_ids = votes.participant_ids().iter().chain(votes.statement_ids()).any(|id| matches!(id, Id::Str(_)));
    let mut writer = VoteTableWriter::create(path, format, text_ids, votes.has_timestamps())?;
    writer.write(votes)?;
    writer.finish()
}

fn written(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::Io { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) }
}
