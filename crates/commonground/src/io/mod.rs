//! Reading conversations (Polis CSV exports, Polis API dumps) and the state Polis's math worker
//! saved ([`PolisState`]); writing analyses for people ([`summary`], the HTML report
//! [`html_report`], the CSV tables [`csv_tables`]) and for Polis clients ([`PolisMath`]).
//!
//! ```no_run
//! let data = commonground::io::load(std::path::Path::new("data/vtaiwan.uberx"))?;
//! println!("{} votes on {} statements, read as {} ({})",
//!          data.votes.len(), data.statements.len(), data.source.format, data.source.sign);
//! # Ok::<(), commonground::Error>(())
//! ```
//!
//! # Formats
//!
//! Each format has a [`Reader`]: how to recognise a folder of it (from its file names) and how to
//! read one. [`load`] walks [`READERS`] in order and reads the folder with the first reader that
//! recognises it; when the files of a later format are there too, a note says they were ignored:
//!
//! | files | format | reader | also as a function |
//! |---|---|---|---|
//! | `votes.csv` (+ `comments.csv`) | [`InputFormat::PolisExport`] | `polis_export/` | [`read_polis_export`] |
//! | `participants-votes.csv` (+ `comments.csv`), no `votes.csv` | [`InputFormat::PolisExportMatrix`] | `polis_export/` | [`read_polis_export`] |
//! | `votes.json` (+ `comments.json`) | [`InputFormat::PolisApiDump`] | `api.rs` | [`read_polis_api_dump`] |
//! | `votes.parquet` (+ `comments.csv`) | [`InputFormat::Parquet`] | `columnar.rs` (feature `columnar`) | |
//! | `votes.arrow`, `votes.feather` or `votes.ipc` (+ `comments.csv`) | [`InputFormat::ArrowIpc`] | `columnar.rs` (feature `columnar`) | |
//!
//! CSV columns are found by header name, never by position: exports from different Polis versions
//! add, drop and reorder columns (bg2050's `comments.csv` has no `datetime` but adds `is-meta`,
//! `is-seed`, `group-informed-consensus`). The statement file is optional; without it statements
//! are made from the ids the votes use, with no text, and a note says so.
//!
//! Statements come back sorted by id (Polis's column order, ascending `tid`); votes come back in
//! file order, every event kept: of several votes on one (participant, statement) the latest
//! counts, which is [`crate::VoteMatrix`]'s job, not the reader's.
//!
//! Each reader is a module of its own (`polis_export/`, one file per CSV; `api.rs`;
//! `polis_state.rs`), the [`Reader`] trait and the registry are in `reader.rs`, the field parsers
//! the readers share in `fields.rs`, and the writers in `writers/`. Everything above the readers,
//! the sign check included, is here, once.
//!
//! # Why the sign needs checking
//!
//! commonground's sign is agree = +1 (see [`crate::votes`]). Polis is not consistent about it
//! (docs/algorithm.md §1):
//!
//! - Polis's database and its math use **agree = −1** (`client-participation/js/util/constants.js:10-14`,
//!   `server/src/utils/common.ts:50-56`; the math's `agree?` is `n<0`, `utils.clj:40-49`). A raw
//!   dump of `/api/v3/votes` therefore has agree = −1.
//! - CSV exports flip it to agree = +1: the Clojure exporter writes `(* -1 vote)`
//!   (`darwin/export.clj:106-111`), the newer TypeScript one `String(-row.vote)`.
//! - But one TypeScript `votes.csv` exporter wrote the **raw** sign (`server/src/server.ts:2211-2227`),
//!   so an export's `votes.csv` may have agree = −1.
//! - The API dumps saved by red-dwarf (the `polis-math/` reference folders) were already converted
//!   to agree = +1.
//!
//! So the file name does not tell the sign. What does is the per-statement tally Polis stores next
//! to each statement: `agrees`/`disagrees` in an export's `comments.csv`, `agree_count`/
//! `disagree_count` in an API dump's `comments.json`. Each reader counts, per statement, the votes
//! equal to +1 and to −1 and compares them with the tally under both hypotheses (total absolute
//! error). The better hypothesis wins when it is decisive (its error at most half the other's);
//! agree = −1 makes the reader flip every vote on load. Otherwise the reader keeps agree = +1 and
//! says why in [`SourceInfo::notes`]; [`SourceInfo::sign`] records which case happened.
//!
//! What is counted differs by format, because Polis's tallies differ:
//! - export `votes.csv`: **every vote event**, superseded ones included. On all nine openData
//!   conversations and `polis-math/vw` this reproduces `agrees`/`disagrees` exactly (error 0),
//!   whereas the latest vote per cell does not (vtaiwan.uberx: error 450);
//! - export `participants-votes.csv`: only the latest vote per cell exists, so the error under
//!   the right sign is small but not 0;
//! - API dump: the latest vote per (participant, statement) (the API returns one per cell).
//!
//! # Timestamps
//!
//! Timestamps are epoch **milliseconds**. Some exports write epoch seconds (`polis-math/vw` has
//! 10-digit timestamps); any timestamp below 10^11 (year 1973 in ms, year 5138 in s) is taken as
//! seconds and multiplied by 1000, with a note. API dumps write `modified` as a string
//! (`"1714782753431"`) or a float (`1515620784141.0`), and a comment's `created` as epoch ms or
//! ISO-8601 (`"2018-01-10T19:03:37.255000Z"`); an unparseable `created` becomes `None`.
//!
//! # Errors
//!
//! Every error names the file and where in it: for CSV, the 1-based line where the record
//! starts (the header is line 1, the first data row line 2); for JSON, the 1-based **index of the
//! record in the top-level array** (a JSON syntax error gives the text line instead, and says so).
//! For a columnar table (Parquet, Arrow), the 1-based **row** of the table.
//! No input makes a reader panic.

mod api;
#[cfg(feature = "columnar")]
pub mod columnar;
mod fields;
mod limits;
mod polis_export;
mod polis_state;
mod reader;
mod writers;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use api::{read_comments_json, read_polis_api_dump, read_votes_json};
pub use limits::{MAX_FIELD_BYTES, MAX_JSON_FIELD_BYTES, MAX_JSON_FILE_BYTES, MAX_LINE_BYTES, MAX_RECORD_BYTES};
pub use polis_export::{read_comments_csv, read_participants_votes_csv, read_polis_export, read_votes_csv};
pub use polis_state::PolisState;
pub use reader::{Reader, READERS};
pub use writers::{csv_tables, html_card, html_report, summary, terminal_safe, CsvTable, PolisMath};

use crate::error::{Error, Result};
use crate::votes::{Id, Statement, VoteBatch, VoteEvent};
use reader::{expected_files, not_a_file, not_a_file_error, optional_file};

/// A conversation as read from disk: every vote event (agree = +1), the statements, and where
/// and how they were read.
#[derive(Debug, Clone)]
pub struct ConversationData {
    /// Every vote event, in file order (agree = +1, whatever the file's convention was), in
    /// columnar form (`votes.to_events()` gives [`VoteEvent`]s).
    pub votes: VoteBatch,
    /// The statements, sorted by id.
    pub statements: Vec<Statement>,
    pub source: SourceInfo,
}

/// Where a conversation came from and what the reader decided on the way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceInfo {
    /// The folder read.
    pub path: PathBuf,
    pub format: InputFormat,
    /// The vote sign found in the file, and how it was found.
    pub sign: SignDetection,
    /// Human-readable remarks: sign evidence, unit conversions, formats ignored.
    pub notes: Vec<String>,
    /// What the reader had to decide or leave out and the user should know: a missing statement
    /// file, an undecided sign, contradictory votes at the same time, timestamps missing or out of
    /// range, values it could not read. The CLI prints them on standard error.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The files actually read, in the folder (`votes.csv`, `comments.csv`, ...).
    #[serde(default)]
    pub files: Vec<String>,
}

impl SourceInfo {
    /// How the input was read, for people: the format, the files actually read and the sign.
    pub fn description(&self) -> String {
        let format = match self.format {
            InputFormat::PolisExport => "Polis export",
            InputFormat::PolisExportMatrix => "Polis export matrix",
            InputFormat::PolisApiDump => "Polis API dump",
            InputFormat::Parquet => "Parquet vote table",
            InputFormat::ArrowIpc => "Arrow IPC vote table",
        };
        format!("{format} ({}); {}", self.files.join(" + "), self.sign)
    }

    /// The conversation's name: the name of the folder read.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

/// The input formats commonground reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum InputFormat {
    /// A Polis export folder: `votes.csv` (one row per vote event) and `comments.csv`.
    PolisExport,
    /// A Polis export folder without `votes.csv`: the `participants-votes.csv` matrix (latest
    /// vote per cell, no timestamps) and `comments.csv`.
    PolisExportMatrix,
    /// A dump of the Polis HTTP API: `votes.json` and `comments.json`.
    PolisApiDump,
    /// A Parquet vote table, `votes.parquet` (+ `comments.csv`): `votes.csv`'s columns (feature
    /// `columnar`).
    Parquet,
    /// An Arrow IPC vote table, `votes.arrow` / `votes.feather` / `votes.ipc` (+ `comments.csv`)
    /// (feature `columnar`).
    ArrowIpc,
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputFormat::PolisExport => "Polis export (votes.csv + comments.csv)",
            InputFormat::PolisExportMatrix => "Polis export matrix (participants-votes.csv, no votes.csv)",
            InputFormat::PolisApiDump => "Polis API dump (votes.json + comments.json)",
            InputFormat::Parquet => "Parquet vote table (votes.parquet + comments.csv)",
            InputFormat::ArrowIpc => "Arrow IPC vote table (votes.arrow + comments.csv)",
        })
    }
}

/// How the vote sign of the input was established. Votes are always returned with agree = +1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SignDetection {
    /// An export taken at its convention (agree = +1); the statement tallies did not decide it.
    ExportConvention,
    /// The statement tallies (`agrees` / `agree_count`) show agree = +1.
    DetectedAgreePositive,
    /// The statement tallies show agree = −1 (Polis's raw sign): every vote was flipped on load.
    DetectedAgreeNegative,
    /// No evidence (no tallies, or inconclusive ones): agree = +1 assumed.
    Assumed,
}

impl fmt::Display for SignDetection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignDetection::ExportConvention => "agree = +1 (export convention)",
            SignDetection::DetectedAgreePositive => "agree = +1 (detected from agree counts)",
            SignDetection::DetectedAgreeNegative => {
                "agree = -1 in the file (detected from agree counts; flipped on load)"
            }
            SignDetection::Assumed => "agree = +1 (assumed: no evidence)",
        })
    }
}

/// Reads a conversation folder, detecting its format from the files in it: the first of
/// [`READERS`] that recognises the folder reads it.
///
/// `path` may be the folder or one of its vote files (`votes.csv`, `votes.json`,
/// `participants-votes.csv`). A folder with `votes.csv` is a Polis export; with only
/// `participants-votes.csv`, an export matrix; with `votes.json`, an API dump. Anything else is
/// [`Error::UnknownFormat`]; a conversation without a single vote is [`Error::EmptyConversation`].
pub fn load(path: &Path) -> Result<ConversationData> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    if !metadata.is_file() && !metadata.is_dir() {
        return Err(not_a_file_error(path, not_a_file(path).unwrap_or("not a regular file")));
    }
    let dir = if metadata.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !READERS.iter().any(|r| r.accepts_file(name)) {
            return Err(Error::UnknownFormat {
                path: path.to_path_buf(),
                message: format!("not a conversation folder nor one of its vote files ({})", expected_files()),
            });
        }
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    } else {
        path.to_path_buf()
    };

    let mut detected = READERS.iter().filter(|r| r.detect(&dir));
    let Some(reader) = detected.next() else {
        // A vote file's name taken by a folder or a pipe: say so, rather than list it as found.
        for r in READERS {
            let file = dir.join(r.vote_file());
            if let Some(kind) = not_a_file(&file) {
                return Err(not_a_file_error(&file, kind));
            }
        }
        let mut found: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()
            })
            .unwrap_or_default();
        found.sort();
        let found = if found.is_empty() { "nothing".to_string() } else { found.join(", ") };
        return Err(Error::UnknownFormat {
            path: dir,
            message: format!("not a conversation folder: expected {}; found {found}", expected_files()),
        });
    };
    let mut data = reader.read(&dir)?;
    for ignored in detected {
        data.source.notes.push(format!(
            "{} is also present; read the {} and ignored it",
            ignored.vote_file(),
            reader.name()
        ));
    }
    Ok(data)
}

/// A timestamp in epoch milliseconds: values below 10^11 are epoch seconds (see the module docs).
/// Returns the value in ms and whether it was converted.
pub(crate) fn timestamp_ms(raw: i64) -> (i64, bool) {
    if raw < 100_000_000_000 {
        (raw.saturating_mul(1000), true)
    } else {
        (raw, false)
    }
}

pub(crate) fn seconds_note(file: &str, converted: u64) -> Option<String> {
    (converted > 0)
        .then(|| format!("{file}: {converted} timestamps were epoch seconds (below 10^11); converted to milliseconds"))
}

/// Per-statement vote tallies: (number of +1 votes, number of -1 votes).
pub(crate) type Tallies = HashMap<Id, (u64, u64)>;

/// Counts +1 and -1 per statement over every vote of the batch.
pub(crate) fn batch_tally(votes: &VoteBatch) -> Tallies {
    votes.statement_ids().iter().cloned().zip(votes.statement_tallies()).collect()
}

/// The latest vote per (participant, statement): by timestamp when present, ties and missing
/// timestamps by position (the later event wins), as [`crate::VoteMatrix`] decides.
pub(crate) fn latest_votes(votes: &[VoteEvent]) -> Vec<&VoteEvent> {
    let mut latest: HashMap<(&Id, &Id), &VoteEvent> = HashMap::with_capacity(votes.len());
    for e in votes {
        latest
            .entry((&e.participant, &e.statement))
            .and_modify(|cur| {
                if e.timestamp.unwrap_or(i64::MIN) >= cur.timestamp.unwrap_or(i64::MIN) {
                    *cur = e;
                }
            })
            .or_insert(e);
    }
    latest.into_values().collect()
}

/// The outcome of comparing the votes' tallies with the tallies Polis stored per statement.
pub(crate) struct SignEvidence {
    pub statements: usize,
    /// Total absolute error if the file has agree = +1.
    pub error_if_positive: u64,
    /// Total absolute error if the file has agree = -1.
    pub error_if_negative: u64,
}

/// Sign evidence over the statements that carry a stored tally (`reported`: agrees, disagrees).
pub(crate) fn sign_evidence(observed: &Tallies, reported: &HashMap<Id, (u64, u64)>) -> SignEvidence {
    let mut ev = SignEvidence { statements: reported.len(), error_if_positive: 0, error_if_negative: 0 };
    for (statement, &(agrees, disagrees)) in reported {
        let (plus, minus) = observed.get(statement).copied().unwrap_or((0, 0));
        ev.error_if_positive += plus.abs_diff(agrees) + minus.abs_diff(disagrees);
        ev.error_if_negative += minus.abs_diff(agrees) + plus.abs_diff(disagrees);
    }
    ev
}

/// The verdict on the evidence: `Some(true)` if agree = +1 is decisive, `Some(false)` if
/// agree = -1 is, `None` if neither (the better error must be at most half the other).
pub(crate) fn decide(ev: &SignEvidence) -> Option<bool> {
    let (pos, neg) = (ev.error_if_positive, ev.error_if_negative);
    if pos.saturating_mul(2) <= neg && pos < neg {
        Some(true)
    } else if neg.saturating_mul(2) <= pos && neg < pos {
        Some(false)
    } else {
        None
    }
}

/// Applies the sign evidence to `votes`: flips them if agree = -1 is decisive. Returns the
/// detection, and a note when the evidence decided, or else a warning (`Err`). `undecided` is the
/// detection to report when the evidence is not decisive.
pub(crate) fn settle_sign(
    votes: &mut VoteBatch,
    ev: &SignEvidence,
    what: &str,
    undecided: SignDetection,
) -> (SignDetection, Result<String, String>) {
    let errors = format!(
        "{what}, over {} statements: total absolute error {} if agree = +1, {} if agree = -1",
        ev.statements, ev.error_if_positive, ev.error_if_negative
    );
    match decide(ev) {
        Some(true) => (SignDetection::DetectedAgreePositive, Ok(format!("sign: {errors}; the file has agree = +1"))),
        Some(false) => {
            votes.flip_signs();
            (
                SignDetection::DetectedAgreeNegative,
                Ok(format!("sign: {errors}; the file has agree = -1 (Polis's raw sign), so every vote was flipped")),
            )
        }
        None => (undecided, Err(format!("sign: {errors}; inconclusive, so agree = +1 is kept"))),
    }
}

/// Votes stamped outside 1970 to 3000 (epoch ms), the range of real votes: a negative or absurd
/// time would put the vote first or last in a replay.
const TIME_RANGE_MS: std::ops::RangeInclusive<i64> = 0..=32_503_680_000_000;

/// The notes and warnings every reader gives about its votes (`file` names the vote file): votes
/// without a timestamp among timestamped ones, timestamps out of range, and contradictory votes
/// at the same time, whose row order decides (see [`VoteBatch::contradictory_ties`]).
pub(crate) fn vote_remarks(file: &str, votes: &VoteBatch, notes: &mut Vec<String>, warnings: &mut Vec<String>) {
    if votes.has_timestamps() {
        let (missing, out_of_range) = votes.timestamp_census(&TIME_RANGE_MS);
        if missing > 0 {
            warnings.push(format!(
                "{file}: {missing} of {} votes have no timestamp; a replay (--replay) feeds them first, in file order",
                votes.len()
            ));
        }
        if out_of_range > 0 {
            warnings.push(format!(
                "{file}: {out_of_range} votes have a timestamp before 1970 or after 3000 (negative or not epoch ms); a \
                 replay feeds them in that order all the same"
            ));
        }
    } else {
        notes.push(format!("{file} has no vote timestamps: a replay (--replay) cannot run on it"));
    }
    let ties = votes.contradictory_ties();
    if ties > 0 {
        warnings.push(format!(
            "{file}: {ties} participant-statement pairs have different votes at the same time (or none); the one later \
             in the file counts, so the file's row order decides them"
        ));
    }
}

/// Statements made from the ids the votes use, for a folder without a statement file.
pub(crate) fn statements_from_votes(votes: &VoteBatch) -> Vec<Statement> {
    let mut ids: Vec<&Id> = votes.statement_ids().iter().collect();
    ids.sort();
    ids.into_iter().map(|id| Statement::new(id.clone())).collect()
}

pub(crate) fn require_votes(dir: &Path, votes: &VoteBatch) -> Result<()> {
    if votes.is_empty() {
        return Err(Error::EmptyConversation(format!("{} has no votes", dir.display())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_below_1e11_are_seconds() {
        assert_eq!(timestamp_ms(1_732_028_760), (1_732_028_760_000, true));
        assert_eq!(timestamp_ms(1_435_654_192_085), (1_435_654_192_085, false));
        assert_eq!(timestamp_ms(i64::MIN), (i64::MIN, true));
    }

    #[test]
    fn the_sign_is_decided_only_on_decisive_evidence() {
        let ev = |p, n| SignEvidence { statements: 1, error_if_positive: p, error_if_negative: n };
        assert_eq!(decide(&ev(0, 100)), Some(true));
        assert_eq!(decide(&ev(100, 0)), Some(false));
        assert_eq!(decide(&ev(40, 60)), None);
        assert_eq!(decide(&ev(0, 0)), None);
    }
}
