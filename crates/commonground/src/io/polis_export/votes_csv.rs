//! `votes.csv`: one row per vote event, `timestamp,datetime,comment-id,voter-id,vote` (the
//! columns also go by the other names of [`crate::io::fields::VOTE_TABLE_COLUMNS`]:
//! `participant,statement,vote,timestamp` reads too).
//!
//! Polis's export keeps every vote event, superseded ones included, which is what its
//! `agrees`/`disagrees` tallies count and so what the sign check needs (see [`crate::io`]). On a
//! big conversation this is the one file that matters for speed (50 million rows for a million
//! participants), so plain files, the usual case, take a streaming, parallel fast path; anything
//! unusual (quotes, CRLF, a bad row) goes to the general CSV reader, which is the one judge of
//! results and errors: both give the same votes.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::csv::{field, open, parse_timestamp, ByteRecord, CsvRows, Header};
use crate::error::{Error, Location, Result};
use crate::io::fields::{parse_id, parse_vote, scan_int, VOTE_TABLE_COLUMNS};
use crate::io::limits::MAX_FIELD_BYTES;
use crate::io::timestamp_ms;
use crate::votes::{Id, Vote, VoteBatch, VoteEvent};

/// Reads a Polis `votes.csv` (`timestamp,datetime,comment-id,voter-id,vote`; only `comment-id`,
/// `voter-id` and `vote` are required). Returns every row as an event, in file order, with the
/// file's sign (exports: 1 = agree) and timestamps in epoch ms (seconds converted). A header-only
/// file gives no events. `file` is used only in error messages.
pub fn read_votes_csv<R: Read>(reader: R, file: &Path) -> Result<Vec<VoteEvent>> {
    Ok(parse_votes_csv(reader, file, None)?.votes.to_events())
}

pub(super) struct VotesCsv {
    pub votes: VoteBatch,
    pub seconds_converted: u64,
}

/// The columns of `votes.csv` that the reader uses.
struct VoteColumns {
    statement: usize,
    participant: usize,
    vote: usize,
    time: Option<usize>,
}

impl VoteColumns {
    fn of(header: &Header, file: &Path) -> Result<VoteColumns> {
        let names = &VOTE_TABLE_COLUMNS;
        Ok(VoteColumns {
            statement: header.require_any(names.statement, file)?,
            participant: header.require_any(names.participant, file)?,
            vote: header.require_any(names.vote, file)?,
            time: header.find_any(names.timestamp),
        })
    }

    /// One row: (participant, statement, vote, timestamp).
    fn parse<'a>(
        &self,
        field: impl Fn(usize) -> &'a [u8],
        file: &Path,
        line: u64,
    ) -> Result<(Id, Id, Vote, Timestamp)> {
        let id = |col: usize, name: &str| {
            parse_id(field(col)).ok_or_else(|| Error::Parse {
                location: Location::new(file, Some(line)),
                message: format!("empty {name}"),
            })
        };
        let participant = id(self.participant, "voter-id")?;
        let statement = id(self.statement, "comment-id")?;
        let raw_vote = field(self.vote);
        let vote = parse_vote(raw_vote).ok_or_else(|| Error::InvalidVote {
            location: Location::new(file, Some(line)),
            value: String::from_utf8_lossy(raw_vote).into_owned(),
        })?;
        let timestamp = match self.time {
            Some(c) => parse_timestamp(field(c), "timestamp", file, line)?.map(timestamp_ms),
            None => None,
        };
        Ok((participant, statement, vote, timestamp))
    }
}

/// A row's timestamp in ms, and whether the file wrote it in seconds.
type Timestamp = Option<(i64, bool)>;

/// `known`: when given, a vote on a statement outside it is [`Error::UnknownStatement`].
pub(super) fn parse_votes_csv<R: Read>(reader: R, file: &Path, known: Option<&HashSet<Id>>) -> Result<VotesCsv> {
    let mut rows = CsvRows::new(reader, file, VOTES_HEADER)?;
    let columns = VoteColumns::of(&rows.header, file)?;
    let mut votes = VoteBatch::new();
    let mut seconds_converted = 0;
    let mut record = ByteRecord::new();
    while let Some(line) = rows.next(&mut record)? {
        let (participant, statement, vote, timestamp) = columns.parse(|c| field(&record, c), file, line)?;
        if let Some(known) = known {
            if !known.contains(&statement) {
                return Err(Error::UnknownStatement { location: Location::new(file, Some(line)), statement });
            }
        }
        seconds_converted += timestamp.is_some_and(|(_, converted)| converted) as u64;
        votes.push(&participant, &statement, vote, timestamp.map(|(ms, _)| ms));
    }
    Ok(VotesCsv { votes, seconds_converted })
}

const VOTES_HEADER: &str = "timestamp,datetime,comment-id,voter-id,vote";

/// Bytes of `votes.csv` parsed per step of [`read_votes_file`]: memory beyond the votes is one
/// block, and each block is split among the threads.
const BLOCK_BYTES: usize = 32 << 20;

/// Reads a `votes.csv` file as [`parse_votes_csv`] does, with the same result and the same errors,
/// but streaming and in parallel: the file is read in blocks of whole lines, each block is split
/// into pieces parsed on rayon's threads (each with its own id interning), and the pieces are
/// appended in file order. Memory is the growing [`VoteBatch`] plus one block.
///
/// The fast path reads plain lines: `,`-separated, `\n`-terminated. A block with a quote or a
/// carriage return (quoted fields, CRLF line ends), or any row that does not parse, sends the
/// whole file through [`parse_votes_csv`], which then gives the one canonical result or error.
pub(super) fn read_votes_file(path: &Path, known: Option<&HashSet<Id>>) -> Result<VotesCsv> {
    match read_votes_fast(path, known, BLOCK_BYTES)? {
        Some(parsed) => Ok(parsed),
        None => parse_votes_csv(open(path)?, path, known),
    }
}

/// The fast path of [`read_votes_file`]; `None` when the file needs the general CSV reader.
pub(super) fn read_votes_fast(
    path: &Path,
    known: Option<&HashSet<Id>>,
    block_bytes: usize,
) -> Result<Option<VotesCsv>> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut file = open(path)?;
    // A small file needs no full-size block (zeroing 32 MB costs more than reading a small export).
    let size = file.metadata().map_err(io)?.len();
    let block_bytes = block_bytes.min(usize::try_from(size).unwrap_or(usize::MAX).saturating_add(1).max(1 << 16));
    let mut buf: Vec<u8> = Vec::with_capacity(block_bytes);
    let mut eof = fill(&mut file, &mut buf, block_bytes).map_err(io)?;
    let Some(header_end) = memchr::memchr(b'\n', &buf) else { return Ok(None) };
    let header_line = &buf[..=header_end];
    if header_line.contains(&b'"') || header_line.contains(&b'\r') {
        return Ok(None);
    }
    let header = CsvRows::new(header_line, path, VOTES_HEADER)?.header;
    let columns = VoteColumns::of(&header, path)?;
    let n_fields = header.raw.len();

    let mut votes = VoteBatch::new();
    let mut seconds_converted = 0;
    let mut pending: Vec<Option<(VoteBatch, u64)>> = Vec::new();
    let mut start = header_end + 1;
    loop {
        // This step's block: whole lines from `start`.
        let end = if eof { buf.len() } else { start + memchr::memrchr(b'\n', &buf[start..]).map_or(0, |i| i + 1) };
        let block = &buf[start..end];
        if memchr::memchr2(b'"', b'\r', block).is_some() {
            return Ok(None);
        }
        let pieces = split_lines(block, rayon::current_num_threads() * 4, MIN_PIECE_BYTES.min(block_bytes / 4));
        // This block is parsed while the last one's pieces are appended (a sequential step), so
        // that the append does not leave a core idle.
        let (parsed, appended) = rayon::join(
            || pieces.par_iter().map(|piece| parse_plain_votes(piece, n_fields, &columns, path)).collect(),
            || append_pieces(&mut votes, std::mem::take(&mut pending), known),
        );
        let Some(converted) = appended else { return Ok(None) };
        seconds_converted += converted;
        pending = parsed;
        if eof {
            break;
        }
        buf.drain(..end);
        start = 0;
        eof = fill(&mut file, &mut buf, block_bytes).map_err(io)?;
        if !eof && memchr::memchr(b'\n', &buf).is_none() {
            return Ok(None); // a line longer than a block: not a votes.csv line
        }
    }
    let Some(converted) = append_pieces(&mut votes, pending, known) else { return Ok(None) };
    seconds_converted += converted;
    Ok(Some(VotesCsv { votes, seconds_converted }))
}

/// Appends parsed pieces to `votes`, in order; returns the timestamps converted from seconds, or
/// `None` when a piece needs the general reader (it did not parse, or it votes on a statement
/// outside `known`).
fn append_pieces(
    votes: &mut VoteBatch,
    pieces: Vec<Option<(VoteBatch, u64)>>,
    known: Option<&HashSet<Id>>,
) -> Option<u64> {
    let mut converted = 0;
    let mut chunks = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let (chunk, piece_converted) = piece?;
        if let Some(known) = known {
            if chunk.statement_ids().iter().any(|s| !known.contains(s)) {
                return None;
            }
        }
        converted += piece_converted;
        chunks.push(chunk);
    }
    votes.append_all(chunks);
    Some(converted)
}

/// Reads until `buf` holds at least `target` bytes or the file ends; returns whether it ended.
fn fill(file: &mut File, buf: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    while buf.len() < target {
        let len = buf.len();
        buf.resize(target, 0);
        match file.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                return Ok(true);
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        }
    }
    Ok(false)
}

/// Pieces smaller than this are not worth a thread.
const MIN_PIECE_BYTES: usize = 1 << 16;

/// Splits `block` into about `n` pieces of whole lines, at least `min_bytes` each (but the last).
fn split_lines(block: &[u8], n: usize, min_bytes: usize) -> Vec<&[u8]> {
    let target = block.len().div_ceil(n.max(1)).max(min_bytes).max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < block.len() {
        let end = match memchr::memchr(b'\n', &block[(start + target).min(block.len())..]) {
            Some(i) if start + target < block.len() => start + target + i + 1,
            _ => block.len(),
        };
        pieces.push(&block[start..end]);
        start = end;
    }
    pieces
}

/// What the fast path reads from each field of a line, by the field's position.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    Participant,
    Statement,
    Vote,
    Time,
    /// A column the reader does not use (Polis's `datetime`): passed over.
    Other,
}

impl VoteColumns {
    /// What each of a line's `n_fields` fields is.
    fn fields(&self, n_fields: usize) -> Vec<Field> {
        let mut fields = vec![Field::Other; n_fields];
        fields[self.participant] = Field::Participant;
        fields[self.statement] = Field::Statement;
        fields[self.vote] = Field::Vote;
        if let Some(c) = self.time {
            fields[c] = Field::Time;
        }
        fields
    }
}

/// A plain line's row: participant, statement, vote value, timestamp as written.
type PlainRow = (i64, i64, i8, Option<i64>);

/// Reads the plain line that starts at `piece[at]` in one pass, each field's value as its bytes
/// are scanned: integer ids (as [`crate::io::fields::plain_int`] reads them, by [`scan_int`]), a
/// vote spelt `1`, `0` or `-1`, an integer timestamp or none, the other fields passed over. Returns the row and where the line
/// ends (its `\n`, or the piece's end), or `None` when any field is spelt otherwise or the line
/// has too few or too many fields: the line then goes field by field through
/// [`general_line`], which judges it as before.
///
/// Finding the separators first and parsing each field after (the previous reader) read every
/// byte twice; on 29-byte lines the search and the digit loops were two thirds of the CSV load.
#[inline]
fn scan_plain_line(piece: &[u8], mut at: usize, fields: &[Field]) -> Option<(PlainRow, usize)> {
    let (mut participant, mut statement, mut vote, mut time) = (0, 0, 0, None);
    let last = fields.len() - 1;
    for (i, field) in fields.iter().enumerate() {
        match field {
            Field::Participant => participant = scan_int(piece, &mut at)?,
            Field::Statement => statement = scan_int(piece, &mut at)?,
            Field::Vote => {
                vote = match piece.get(at..at + 2) {
                    Some(b"-1") => -1,
                    _ => match piece.get(at) {
                        Some(b'0') => 0,
                        Some(b'1') => 1,
                        _ => return None,
                    },
                };
                at += 1 + (vote == -1) as usize;
            }
            Field::Time => {
                if !matches!(piece.get(at), None | Some(b',' | b'\n')) {
                    time = Some(scan_int(piece, &mut at)?);
                }
            }
            Field::Other => {
                if !matches!(piece.get(at), None | Some(b',' | b'\n')) {
                    at = memchr::memchr2(b',', b'\n', &piece[at..]).map_or(piece.len(), |k| at + k);
                }
            }
        }
        // The field must end here: at a comma between fields, at the line's end after the last.
        match piece.get(at) {
            Some(b',') if i < last => at += 1,
            Some(b'\n') | None if i == last => return Some(((participant, statement, vote, time), at)),
            _ => return None,
        }
    }
    None
}

/// Parses plain `votes.csv` lines (no quotes, `\n` ends); `None` on anything the general reader
/// must judge (a wrong field count, a bad value), which then reports it with its line. Blank lines
/// are skipped, as the CSV reader does.
fn parse_plain_votes(piece: &[u8], n_fields: usize, columns: &VoteColumns, path: &Path) -> Option<(VoteBatch, u64)> {
    let mut votes = VoteBatch::new();
    votes.reserve(piece.len() / 24);
    let mut seconds_converted = 0;
    let fields = columns.fields(n_fields);
    let mut line_start = 0;
    while line_start < piece.len() {
        if piece[line_start] == b'\n' {
            line_start += 1;
            continue;
        }
        let line_end = match scan_plain_line(piece, line_start, &fields) {
            Some(((participant, statement, vote, timestamp), end)) => {
                let timestamp = timestamp.map(timestamp_ms);
                seconds_converted += timestamp.is_some_and(|(_, converted)| converted) as u64;
                votes.push_ints(participant, statement, vote, timestamp.map(|(ms, _)| ms));
                end
            }
            None => {
                let end = memchr::memchr(b'\n', &piece[line_start..]).map_or(piece.len(), |k| line_start + k);
                seconds_converted += general_line(&piece[line_start..end], n_fields, columns, path, &mut votes)?;
                end
            }
        };
        if line_end - line_start > MAX_FIELD_BYTES {
            return None; // the general reader names the line and the limit
        }
        line_start = line_end + 1;
    }
    Some((votes, seconds_converted))
}

/// A line [`scan_plain_line`] did not read (an id that is text, a vote written `1.0`, a field
/// count that is wrong), judged field by field by the rules of the general reader: pushed to
/// `votes` with the number of its timestamps converted from seconds (0 or 1), or `None` when the
/// general reader must judge it (it then reports the error with its line).
fn general_line(
    line: &[u8],
    n_fields: usize,
    columns: &VoteColumns,
    path: &Path,
    votes: &mut VoteBatch,
) -> Option<u64> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b',').collect();
    if fields.len() != n_fields {
        return None;
    }
    // (An error is dropped here, so its line number, 0, is never read.)
    let (participant, statement, vote, timestamp) = columns.parse(|c| fields[c], path, 0).ok()?;
    votes.push(&participant, &statement, vote, timestamp.map(|(ms, _)| ms));
    Some(timestamp.is_some_and(|(_, converted)| converted) as u64)
}
