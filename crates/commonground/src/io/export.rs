//! Polis CSV exports: `votes.csv`, `comments.csv` and the `participants-votes.csv` matrix.
//!
//! Columns are looked up by header name (trimmed, case-insensitive, `_` read as `-`), so that
//! the column sets of different Polis versions all read. Rows are read into one reused
//! [`csv::ByteRecord`] and parsed from bytes: the only per-row allocation is a string id
//! ([`Id::Str`]), which keeps a 50-million-row `votes.csv` within reach.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use csv::ByteRecord;

use rayon::prelude::*;

use super::{
    batch_tally, require_votes, seconds_note, settle_sign, sign_evidence, statements_from_votes, timestamp_ms,
    ConversationData, InputFormat, SignDetection, SourceInfo,
};
use crate::error::{Error, Location, Result};
use crate::votes::{Id, ModerationStatus, Statement, StatementList, Vote, VoteBatch, VoteEvent};

/// Reads a Polis export folder: `votes.csv`, or, without it, `participants-votes.csv`; and
/// `comments.csv` when present. Detects and normalises the vote sign and timestamp unit (see the
/// [module docs](crate::io)).
pub fn read_polis_export(dir: &Path) -> Result<ConversationData> {
    let votes_path = dir.join("votes.csv");
    let matrix_path = dir.join("participants-votes.csv");
    let comments_path = dir.join("comments.csv");
    let mut notes = Vec::new();
    if !votes_path.is_file() && !matrix_path.is_file() {
        return Err(Error::UnknownFormat {
            path: dir.to_path_buf(),
            message: "not a Polis export folder: it has neither votes.csv nor participants-votes.csv".into(),
        });
    }

    let comments = if comments_path.is_file() {
        let comments = parse_comments_csv(open(&comments_path)?, &comments_path)?;
        notes.extend(seconds_note("comments.csv", comments.seconds_converted));
        Some(comments)
    } else {
        notes.push("no comments.csv: statements made from the ids the votes use, without text or moderation".into());
        None
    };
    let known: Option<HashSet<Id>> = comments.as_ref().map(|c| c.statements.iter().map(|s| s.id.clone()).collect());

    let (format, mut votes, counted) = if votes_path.is_file() {
        let parsed = read_votes_file(&votes_path, known.as_ref())?;
        notes.extend(seconds_note("votes.csv", parsed.seconds_converted));
        (InputFormat::PolisExport, parsed.votes, "every vote event in votes.csv (as Polis's tallies count them)")
    } else {
        notes.push(
            "no votes.csv: read participants-votes.csv (the latest vote per participant and statement, without timestamps)"
                .into(),
        );
        let events = parse_participants_votes_csv(open(&matrix_path)?, &matrix_path, known.as_ref())?;
        (InputFormat::PolisExportMatrix, VoteBatch::from_events(&events), "the latest votes in participants-votes.csv")
    };
    require_votes(dir, &votes)?;

    let tallies = comments.as_ref().and_then(|c| c.tallies.as_ref()).filter(|t| !t.is_empty());
    let sign = match tallies {
        Some(reported) => {
            let evidence = sign_evidence(&batch_tally(&votes), reported);
            let what = format!("+1/-1 counted over {counted} vs comments.csv agrees/disagrees");
            let (sign, note) = settle_sign(&mut votes, &evidence, &what, SignDetection::ExportConvention);
            notes.push(note);
            sign
        }
        None => {
            notes.push(
                "sign: no agrees/disagrees tallies to check against; the export convention agree = +1 is taken".into(),
            );
            SignDetection::ExportConvention
        }
    };

    let mut statements = match comments {
        Some(c) => c.statements,
        None => statements_from_votes(&votes),
    };
    statements.sort_by(|a, b| a.id.cmp(&b.id));

    Ok(ConversationData { votes, statements, source: SourceInfo { path: dir.to_path_buf(), format, sign, notes } })
}

/// Reads a Polis `votes.csv` (`timestamp,datetime,comment-id,voter-id,vote`; only `comment-id`,
/// `voter-id` and `vote` are required). Returns every row as an event, in file order, with the
/// file's sign (exports: 1 = agree) and timestamps in epoch ms (seconds converted). A header-only
/// file gives no events. `file` is used only in error messages.
pub fn read_votes_csv<R: Read>(reader: R, file: &Path) -> Result<Vec<VoteEvent>> {
    Ok(parse_votes_csv(reader, file, None)?.votes.to_events())
}

/// Reads a Polis `comments.csv` (`comment-id` required; `comment-body`, `author-id`, `timestamp`,
/// `moderated`, `is-meta` used when present). Statements are returned in file order; an exact
/// duplicate row is dropped, a conflicting one is [`Error::ConflictingStatement`].
pub fn read_comments_csv<R: Read>(reader: R, file: &Path) -> Result<Vec<Statement>> {
    Ok(parse_comments_csv(reader, file)?.statements)
}

/// Reads a Polis `participants-votes.csv` matrix
/// (`participant,[xid,]group-id,n-comments,n-votes,n-agree,n-disagree,<comment ids...>`): every
/// non-blank cell after the `n-disagree` column is a vote. Events have no timestamp and come in
/// row order, then column order.
pub fn read_participants_votes_csv<R: Read>(reader: R, file: &Path) -> Result<Vec<VoteEvent>> {
    parse_participants_votes_csv(reader, file, None)
}

pub(crate) struct VotesCsv {
    pub votes: VoteBatch,
    pub seconds_converted: u64,
}

pub(crate) struct CommentsCsv {
    /// In file order, duplicates removed.
    pub statements: Vec<Statement>,
    /// Polis's stored (agrees, disagrees) per statement, when the file has both columns.
    pub tallies: Option<HashMap<Id, (u64, u64)>>,
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
        Ok(VoteColumns {
            statement: header.require("comment-id", file)?,
            participant: header.require("voter-id", file)?,
            vote: header.require("vote", file)?,
            time: header.find("timestamp"),
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
pub(crate) fn parse_votes_csv<R: Read>(reader: R, file: &Path, known: Option<&HashSet<Id>>) -> Result<VotesCsv> {
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
pub(crate) fn read_votes_file(path: &Path, known: Option<&HashSet<Id>>) -> Result<VotesCsv> {
    match read_votes_fast(path, known, BLOCK_BYTES)? {
        Some(parsed) => Ok(parsed),
        None => parse_votes_csv(open(path)?, path, known),
    }
}

/// The fast path of [`read_votes_file`]; `None` when the file needs the general CSV reader.
fn read_votes_fast(path: &Path, known: Option<&HashSet<Id>>, block_bytes: usize) -> Result<Option<VotesCsv>> {
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
    let mut start = header_end + 1;
    loop {
        // This step's block: whole lines from `start`.
        let end = if eof { buf.len() } else { start + memchr::memrchr(b'\n', &buf[start..]).map_or(0, |i| i + 1) };
        let block = &buf[start..end];
        if memchr::memchr2(b'"', b'\r', block).is_some() {
            return Ok(None);
        }
        let pieces = split_lines(block, rayon::current_num_threads() * 4, MIN_PIECE_BYTES.min(block_bytes / 4));
        let parsed: Vec<Option<(VoteBatch, u64)>> =
            pieces.par_iter().map(|piece| parse_plain_votes(piece, n_fields, &columns, path)).collect();
        for piece in parsed {
            let Some((chunk, converted)) = piece else { return Ok(None) };
            if let Some(known) = known {
                if chunk.statement_ids().iter().any(|s| !known.contains(s)) {
                    return Ok(None);
                }
            }
            seconds_converted += converted;
            votes.append(chunk);
        }
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
    Ok(Some(VotesCsv { votes, seconds_converted }))
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

/// Parses plain `votes.csv` lines (no quotes, `\n` ends); `None` on anything the general reader
/// must judge (a wrong field count, a bad value), which then reports it with its line. Blank lines
/// are skipped, as the CSV reader does.
fn parse_plain_votes(piece: &[u8], n_fields: usize, columns: &VoteColumns, path: &Path) -> Option<(VoteBatch, u64)> {
    let mut votes = VoteBatch::new();
    votes.reserve(piece.len() / 24);
    let mut seconds_converted = 0;
    let mut fields: Vec<&[u8]> = Vec::with_capacity(n_fields);
    let mut start = 0;
    while start < piece.len() {
        let end = memchr::memchr(b'\n', &piece[start..]).map_or(piece.len(), |i| start + i);
        let text = &piece[start..end];
        start = end + 1;
        if text.is_empty() {
            continue;
        }
        fields.clear();
        let mut from = 0;
        for comma in memchr::memchr_iter(b',', text) {
            fields.push(&text[from..comma]);
            from = comma + 1;
        }
        fields.push(&text[from..]);
        if fields.len() != n_fields {
            return None;
        }
        // (An error is dropped here, so its line number, 0, is never read.)
        let (participant, statement, vote, timestamp) = columns.parse(|c| fields[c], path, 0).ok()?;
        seconds_converted += timestamp.is_some_and(|(_, converted)| converted) as u64;
        votes.push(&participant, &statement, vote, timestamp.map(|(ms, _)| ms));
    }
    Some((votes, seconds_converted))
}

pub(crate) fn parse_comments_csv<R: Read>(reader: R, file: &Path) -> Result<CommentsCsv> {
    let mut rows =
        CsvRows::new(reader, file, "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body")?;
    let header = &rows.header;
    let id_col = header.require("comment-id", file)?;
    let body_col = header.find("comment-body");
    let author_col = header.find("author-id");
    let time_col = header.find("timestamp");
    let moderated_col = header.find("moderated");
    let meta_col = header.find("is-meta");
    let tally_cols = header.find("agrees").zip(header.find("disagrees"));

    let mut statements = StatementList::new();
    let mut tallies = tally_cols.map(|_| HashMap::new());
    let mut seconds_converted = 0;
    let mut record = ByteRecord::new();
    while let Some(line) = rows.next(&mut record)? {
        let at = || Location::new(file, Some(line));
        let id = required_id(&record, id_col, "comment-id", file, line)?;
        let mut statement = Statement::new(id.clone());
        if let Some(c) = body_col {
            let body = field(&record, c);
            statement.text = (!body.is_empty()).then(|| String::from_utf8_lossy(body).into_owned());
        }
        if let Some(c) = author_col {
            statement.author = parse_id(field(&record, c));
        }
        if let Some(c) = time_col {
            statement.created = parse_timestamp(field(&record, c), "timestamp", file, line)?.map(|t| {
                let (ms, converted) = timestamp_ms(t);
                seconds_converted += converted as u64;
                ms
            });
        }
        if let Some(c) = moderated_col {
            let raw = trim(field(&record, c));
            if !raw.is_empty() {
                statement.moderation =
                    parse_int(raw).and_then(ModerationStatus::from_value).ok_or_else(|| Error::Parse {
                        location: at(),
                        message: format!(
                            "moderated value {:?} is not -1 (moderated out), 0 (unmoderated) or 1 (accepted)",
                            String::from_utf8_lossy(raw)
                        ),
                    })?;
            }
        }
        if let Some(c) = meta_col {
            let raw = field(&record, c);
            statement.is_meta = parse_bool(raw).ok_or_else(|| Error::Parse {
                location: at(),
                message: format!("is-meta value {:?} is not true/false or 1/0", String::from_utf8_lossy(raw)),
            })?;
        }
        if let (Some((agrees_col, disagrees_col)), Some(tallies)) = (tally_cols, tallies.as_mut()) {
            let agrees = count_field(&record, agrees_col, "agrees", file, line)?;
            let disagrees = count_field(&record, disagrees_col, "disagrees", file, line)?;
            if let (Some(a), Some(d)) = (agrees, disagrees) {
                tallies.entry(id).or_insert((a, d));
            }
        }
        statements.add_listing(statement, at)?;
    }
    Ok(CommentsCsv { statements: statements.into_vec(), tallies, seconds_converted })
}

pub(crate) fn parse_participants_votes_csv<R: Read>(
    reader: R,
    file: &Path,
    known: Option<&HashSet<Id>>,
) -> Result<Vec<VoteEvent>> {
    let mut rows =
        CsvRows::new(reader, file, "participant,[xid,]group-id,n-comments,n-votes,n-agree,n-disagree,<comment ids>")?;
    let header = &rows.header;
    let participant_col = header.require("participant", file)?;
    let first_statement_col = header.require("n-disagree", file)? + 1;
    let header_line = || Location::new(file, Some(1));

    let mut statements: Vec<(usize, Id)> = Vec::new();
    let mut seen = HashSet::new();
    for (col, raw) in header.raw.iter().enumerate().skip(first_statement_col) {
        let id = parse_id(raw.as_bytes()).ok_or_else(|| Error::Parse {
            location: header_line(),
            message: format!("column {} after n-disagree has an empty comment id", col + 1),
        })?;
        if !seen.insert(id.clone()) {
            return Err(Error::Parse {
                location: header_line(),
                message: format!("comment id {id} is a column twice"),
            });
        }
        if let Some(known) = known {
            if !known.contains(&id) {
                return Err(Error::UnknownStatement { location: header_line(), statement: id });
            }
        }
        statements.push((col, id));
    }

    let mut events = Vec::new();
    let mut record = ByteRecord::new();
    while let Some(line) = rows.next(&mut record)? {
        let participant = required_id(&record, participant_col, "participant", file, line)?;
        for (col, statement) in &statements {
            let raw = field(&record, *col);
            if trim(raw).is_empty() {
                continue;
            }
            let vote = parse_vote(raw).ok_or_else(|| Error::InvalidVote {
                location: Location::new(file, Some(line)),
                value: String::from_utf8_lossy(raw).into_owned(),
            })?;
            events.push(VoteEvent {
                participant: participant.clone(),
                statement: statement.clone(),
                vote,
                timestamp: None,
            });
        }
    }
    Ok(events)
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// A CSV file being read: the reader, the file name for errors, the header, and the line count.
struct CsvRows<'f, R: Read> {
    reader: csv::Reader<LineCounter<R>>,
    file: &'f Path,
    header: Header,
}

impl<'f, R: Read> CsvRows<'f, R> {
    /// Opens the reader and reads the header; `expected` describes the header in errors.
    fn new(reader: R, file: &'f Path, expected: &'static str) -> Result<Self> {
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
        let mut raw: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        if let Some(first) = raw.first_mut() {
            if let Some(rest) = first.strip_prefix('\u{feff}') {
                *first = rest.to_string();
            }
        }
        if raw.iter().all(|f| f.trim().is_empty()) {
            return Err(Error::Parse {
                location: Location::new(file, Some(1)),
                message: format!("the file is empty: expected a header line {expected}"),
            });
        }
        rows.header.normalised = raw.iter().map(|f| f.trim().to_ascii_lowercase().replace('_', "-")).collect();
        rows.header.raw = raw;
        Ok(rows)
    }

    /// Reads the next record into `record`; returns the line it starts on, or `None` at the end.
    fn next(&mut self, record: &mut ByteRecord) -> Result<Option<u64>> {
        match self.reader.read_byte_record(record) {
            Ok(true) => {
                let byte = record.position().map_or(0, |p| p.byte());
                Ok(Some(self.reader.get_mut().line_at(byte)))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    fn error(&mut self, err: csv::Error) -> Error {
        let file = self.file;
        let line = err.position().map(|p| self.reader.get_mut().line_at(p.byte()));
        let message = err.to_string();
        match err.into_kind() {
            csv::ErrorKind::Io(source) => Error::Io { path: file.to_path_buf(), source },
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
struct Header {
    raw: Vec<String>,
    normalised: Vec<String>,
    expected: &'static str,
}

impl Header {
    fn find(&self, name: &str) -> Option<usize> {
        self.normalised.iter().position(|n| n == name)
    }
    fn require(&self, name: &str, file: &Path) -> Result<usize> {
        self.find(name).ok_or_else(|| Error::Parse {
            location: Location::new(file, Some(1)),
            message: format!(
                "the header has no {name:?} column (found: {}; expected: {})",
                self.raw.join(","),
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
struct LineCounter<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// Offsets of `\r` and `\n` bytes not yet passed (`true` for `\n`).
    breaks: VecDeque<(u64, bool)>,
    /// `\n` bytes passed.
    newlines: u64,
}

impl<R> LineCounter<R> {
    fn new(inner: R) -> Self {
        LineCounter { inner, offset: 0, breaks: VecDeque::new(), newlines: 0 }
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
        // Eight bytes at a time: most words hold no line break and are skipped whole.
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let has_zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
        let mut i = 0;
        while i < chunk.len() {
            if let Some(word) = chunk.get(i..i + 8) {
                let w = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
                if !has_zero_byte(w ^ (ONES * u64::from(b'\n'))) && !has_zero_byte(w ^ (ONES * u64::from(b'\r'))) {
                    i += 8;
                    continue;
                }
            }
            let end = (i + 8).min(chunk.len());
            for (j, &b) in chunk[i..end].iter().enumerate() {
                if b == b'\n' || b == b'\r' {
                    self.breaks.push_back((self.offset + (i + j) as u64, b == b'\n'));
                }
            }
            i = end;
        }
        self.offset += chunk.len() as u64;
        Ok(n)
    }
}

fn field(record: &ByteRecord, col: usize) -> &[u8] {
    record.get(col).unwrap_or(b"")
}

fn trim(raw: &[u8]) -> &[u8] {
    raw.trim_ascii()
}

/// A plain run of ASCII digits with an optional minus sign, parsed without UTF-8 checks: the
/// common case of every id and timestamp, read 50 million times on big exports. `None` for
/// anything else (which then takes the general path).
fn plain_int(raw: &[u8]) -> Option<i64> {
    let (negative, digits) = match raw {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, raw),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if negative { -n } else { n })
}

/// An id field: an integer when it is one, else the trimmed text; `None` when blank.
pub(crate) fn parse_id(raw: &[u8]) -> Option<Id> {
    if let Some(n) = plain_int(raw) {
        return Some(Id::Int(n));
    }
    let text = String::from_utf8_lossy(raw); // borrowed, no allocation, when valid UTF-8
    let text = text.trim();
    (!text.is_empty()).then(|| Id::parse(text))
}

fn required_id(record: &ByteRecord, col: usize, name: &str, file: &Path, line: u64) -> Result<Id> {
    parse_id(field(record, col))
        .ok_or_else(|| Error::Parse { location: Location::new(file, Some(line)), message: format!("empty {name}") })
}

/// Exports write votes as integers; some tools as floats. Nothing else is a vote.
pub(crate) fn parse_vote(raw: &[u8]) -> Option<Vote> {
    match trim(raw) {
        b"1" | b"1.0" => Some(Vote::Agree),
        b"0" | b"0.0" => Some(Vote::Pass),
        b"-1" | b"-1.0" => Some(Vote::Disagree),
        _ => None,
    }
}

/// An integer, also written as an integral float (`"3.0"`).
pub(crate) fn parse_int(raw: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(trim(raw)).ok()?;
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    let x: f64 = text.parse().ok()?;
    (x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e18).then_some(x as i64)
}

fn parse_bool(raw: &[u8]) -> Option<bool> {
    match trim(raw).to_ascii_lowercase().as_slice() {
        b"true" | b"t" | b"1" => Some(true),
        b"false" | b"f" | b"0" | b"" => Some(false),
        _ => None,
    }
}

/// A timestamp field as written (unit not yet normalised); `None` when blank.
fn parse_timestamp(raw: &[u8], name: &str, file: &Path, line: u64) -> Result<Option<i64>> {
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
        message: format!("{name} {:?} is not an epoch time in milliseconds or seconds", String::from_utf8_lossy(raw)),
    })
}

fn count_field(record: &ByteRecord, col: usize, name: &str, file: &Path, line: u64) -> Result<Option<u64>> {
    let raw = trim(field(record, col));
    if raw.is_empty() {
        return Ok(None);
    }
    match parse_int(raw) {
        Some(n) if n >= 0 => Ok(Some(n as u64)),
        _ => Err(Error::Parse {
            location: Location::new(file, Some(line)),
            message: format!("{name} {:?} is not a vote count", String::from_utf8_lossy(raw)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(text: &str) -> Result<Vec<VoteEvent>> {
        read_votes_csv(text.as_bytes(), Path::new("votes.csv"))
    }

    /// `text` written to a file of its own, read by the streaming reader with `block`-byte blocks
    /// and by the general CSV reader: (fast path's result or `None` if it declined, general result).
    fn both_readers(
        name: &str,
        text: &str,
        block: usize,
        known: Option<&HashSet<Id>>,
    ) -> (Option<VotesCsv>, Result<VotesCsv>) {
        let path = std::env::temp_dir().join(format!("commonground-votes-{}-{name}.csv", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let fast = read_votes_fast(&path, known, block).unwrap();
        let general = parse_votes_csv(text.as_bytes(), &path, known);
        let streamed = read_votes_file(&path, known);
        std::fs::remove_file(&path).unwrap();
        match (&streamed, &general) {
            (Ok(a), Ok(b)) => assert!(a.votes == b.votes && a.seconds_converted == b.seconds_converted),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("the streaming reader and the CSV reader disagree on {name}"),
        }
        (fast, general)
    }

    fn many_votes(rows: usize) -> String {
        let mut text = String::from("timestamp,datetime,comment-id,voter-id,vote\n");
        for i in 0..rows {
            text.push_str(&format!(
                "{},,{},{},{}\n",
                1_435_654_192_085u64 + i as u64,
                i % 37,
                (i * 7) % 101,
                (i % 3) as i64 - 1
            ));
        }
        text
    }

    #[test]
    fn the_streaming_reader_equals_the_csv_reader_across_blocks_and_pieces() {
        let text = many_votes(5000);
        for block in [64, 1000, 1 << 20] {
            let (fast, general) = both_readers("blocks", &text, block, None);
            let (fast, general) = (fast.expect("plain lines take the fast path"), general.unwrap());
            assert_eq!(fast.votes.len(), 5000);
            assert!(fast.votes == general.votes, "block {block}");
            assert_eq!(fast.votes.participant_ids(), general.votes.participant_ids(), "same first-appearance order");
            assert_eq!(fast.votes.participants(), general.votes.participants());
        }
    }

    #[test]
    fn blank_lines_a_missing_final_newline_and_epoch_seconds_read_alike() {
        let text = "comment-id,voter-id,vote,timestamp\n1,2,1,1732028760\n\n3,4,-1,1732028761000\n\n5,\"x\",0,";
        let (fast, general) = both_readers("quoted", text, 1 << 20, None);
        assert!(fast.is_none(), "a quote sends the file to the CSV reader");
        assert_eq!(general.unwrap().votes.len(), 3);
        let text = "comment-id,voter-id,vote,timestamp\n1,2,1,1732028760\n\n3,4,-1,1732028761000\n\n5,x,0,";
        let (fast, general) = both_readers("plain", text, 1 << 20, None);
        let (fast, general) = (fast.unwrap(), general.unwrap());
        assert!(fast.votes == general.votes);
        assert_eq!(
            (fast.seconds_converted, fast.votes.timestamp(0), fast.votes.timestamp(2)),
            (1, Some(1_732_028_760_000), None)
        );
    }

    #[test]
    fn crlf_files_and_every_error_come_from_the_csv_reader_with_its_line_numbers() {
        let (fast, general) = both_readers("crlf", "comment-id,voter-id,vote\r\n1,2,1\r\n", 1 << 20, None);
        assert!(fast.is_none() && general.unwrap().votes.len() == 1);
        let mut text = many_votes(3000);
        text.push_str("1435654192085,,4,5,2\n");
        text.push_str(&many_votes(10)["timestamp,datetime,comment-id,voter-id,vote\n".len()..]);
        let (fast, general) = both_readers("bad-vote", &text, 4096, None);
        assert!(fast.is_none());
        let err = general.err().unwrap().to_string();
        assert!(err.contains(":3002:"), "{err}");
        let (fast, general) = both_readers("short-row", "comment-id,voter-id,vote\n1,2,1\n1,2\n", 1 << 20, None);
        assert!(fast.is_none() && general.is_err());
        let known: HashSet<Id> = (0..36).map(Id::Int).collect();
        let (fast, general) = both_readers("unknown", &many_votes(100), 1 << 20, Some(&known));
        assert!(fast.is_none());
        assert!(matches!(general, Err(Error::UnknownStatement { .. })));
        let (fast, general) = both_readers("header-only", "comment-id,voter-id,vote\n", 1 << 20, None);
        assert!(fast.unwrap().votes.is_empty() && general.unwrap().votes.is_empty());
    }

    #[test]
    fn votes_are_read_by_column_name_in_any_order() {
        let v = votes("vote,voter-id,comment-id\n1,7,3\n-1.0,x9,4\n").unwrap();
        assert_eq!(v, vec![VoteEvent::new(7, 3, Vote::Agree), VoteEvent::new(Id::Str("x9".into()), 4, Vote::Disagree)]);
    }

    #[test]
    fn blank_lines_do_not_shift_line_numbers() {
        let err = votes("comment-id,voter-id,vote\n1,1,1\n\n1,2,7\n").unwrap_err();
        assert!(err.to_string().starts_with("votes.csv:4:"), "{err}");
    }

    #[test]
    fn line_numbers_count_crlf_and_multi_line_fields() {
        let err = votes("comment-id,voter-id,vote\r\n1,1,1\r\n1,2,x\r\n").unwrap_err();
        assert!(err.to_string().starts_with("votes.csv:3:"), "{err}");
        let text = "comment-id,comment-body,moderated\n1,\"two\nlines\",1\n\n\n2,ok,5\n";
        let err = read_comments_csv(text.as_bytes(), Path::new("comments.csv")).unwrap_err();
        assert!(err.to_string().starts_with("comments.csv:6:"), "{err}");
        let err = votes("comment-id,voter-id,vote\r\n1,1,1\r\n\r\n1,2\r\n").unwrap_err();
        assert!(matches!(err, Error::Parse { .. }) && err.to_string().starts_with("votes.csv:4:"), "{err}");
    }

    #[test]
    fn ids_parse_as_id_parse_does() {
        for text in ["0", "42", "-7", "007", " 5 ", "+3", "x9", "999999999999999999", "9999999999999999999", "1e3", "é"]
        {
            assert_eq!(parse_id(text.as_bytes()), Some(Id::parse(text)), "{text:?}");
        }
        assert_eq!(parse_id(b"  "), None);
        assert_eq!(plain_int(b"-"), None);
    }

    #[test]
    fn line_breaks_are_found_at_every_position_of_a_word() {
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
    }

    #[test]
    fn a_header_with_a_byte_order_mark_reads() {
        let v = votes("\u{feff}timestamp,comment-id,voter-id,vote\n1435654192085,0,0,1\n").unwrap();
        assert_eq!(v[0].timestamp, Some(1435654192085));
    }

    #[test]
    fn an_empty_file_is_an_error_naming_the_expected_header() {
        let err = votes("").unwrap_err();
        assert!(matches!(err, Error::Parse { .. }));
        assert!(err.to_string().contains("votes.csv:1"), "{err}");
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let err = votes("timestamp,comment-id,vote\n1,1,1\n").unwrap_err();
        assert!(err.to_string().contains("\"voter-id\""), "{err}");
    }

    #[test]
    fn an_empty_id_is_a_parse_error() {
        let err = votes("comment-id,voter-id,vote\n1, ,1\n").unwrap_err();
        assert!(matches!(err, Error::Parse { .. }) && err.to_string().contains("votes.csv:2"), "{err}");
    }

    #[test]
    fn matrix_cells_are_votes_and_blanks_are_not() {
        let text =
            "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,0,2\n5,,0,1,2,1,1,1,-1\n6,,,0,1,0,0,,0\n";
        let v = read_participants_votes_csv(text.as_bytes(), Path::new("pv.csv")).unwrap();
        assert_eq!(
            v,
            vec![
                VoteEvent::new(5, 0, Vote::Agree),
                VoteEvent::new(5, 2, Vote::Disagree),
                VoteEvent::new(6, 2, Vote::Pass)
            ]
        );
    }

    #[test]
    fn comment_fields_map_to_the_statement() {
        let text = "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,comment-body\n\
                    1732029245,4,14,3,1,-1,true,\"a, b\"\n";
        let c = parse_comments_csv(text.as_bytes(), Path::new("comments.csv")).unwrap();
        let s = &c.statements[0];
        assert_eq!((s.id.clone(), s.text.as_deref(), s.author.clone()), (Id::Int(4), Some("a, b"), Some(Id::Int(14))));
        assert_eq!((s.moderation, s.is_meta, s.created), (ModerationStatus::Rejected, true, Some(1732029245000)));
        assert_eq!(c.seconds_converted, 1);
        assert_eq!(c.tallies.unwrap()[&Id::Int(4)], (3, 1));
    }
}
