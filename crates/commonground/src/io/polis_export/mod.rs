//! Polis CSV exports: a folder with `votes.csv`, `comments.csv` and the `participants-votes.csv`
//! matrix, as Polis's export page and the openData repository publish them.
//!
//! One file per reader: [`votes_csv`] (every vote event, with a streaming fast path),
//! [`comments_csv`] (the statements and Polis's tallies) and [`matrix_csv`] (the latest votes, for
//! a folder without `votes.csv`); [`csv`] holds what they share: columns looked up by header name
//! (trimmed, case-insensitive, `_` read as `-`), so that the column sets of different Polis
//! versions all read, and errors at their line. Rows are read into one reused
//! [`csv::ByteRecord`] and parsed from bytes: the only per-row allocation is a string id
//! ([`Id::Str`]), which keeps a 50-million-row `votes.csv` within reach.

mod comments_csv;
mod csv;
mod matrix_csv;
#[cfg(test)]
mod tests;
mod votes_csv;

use std::collections::HashSet;
use std::path::Path;

pub use comments_csv::read_comments_csv;
pub use matrix_csv::read_participants_votes_csv;
pub use votes_csv::read_votes_csv;

use self::csv::open;
use super::{
    batch_tally, optional_file, require_votes, seconds_note, settle_sign, sign_evidence, statements_from_votes,
    vote_remarks, ConversationData, InputFormat, Reader, SignDetection, SourceInfo,
};
use crate::error::{Error, Result};
use crate::votes::{Id, VoteBatch};
use comments_csv::parse_comments_csv;
use matrix_csv::parse_participants_votes_csv;
use votes_csv::read_votes_file;

/// Reads a Polis export folder: `votes.csv`, or, without it, `participants-votes.csv`; and
/// `comments.csv` when present. Detects and normalises the vote sign and timestamp unit (see the
/// [module docs](crate::io)).
pub fn read_polis_export(dir: &Path) -> Result<ConversationData> {
    if PolisExportReader.detect(dir) {
        read_export(dir, VoteFile::Events)
    } else if PolisExportMatrixReader.detect(dir) {
        read_export(dir, VoteFile::Matrix)
    } else {
        Err(Error::UnknownFormat {
            path: dir.to_path_buf(),
            message: "not a Polis export folder: it has neither votes.csv nor participants-votes.csv".into(),
        })
    }
}

/// The Polis export with every vote event: `votes.csv` (+ `comments.csv`).
pub(crate) struct PolisExportReader;

impl Reader for PolisExportReader {
    fn name(&self) -> &'static str {
        "CSV export"
    }
    fn format(&self) -> InputFormat {
        InputFormat::PolisExport
    }
    fn vote_file(&self) -> &'static str {
        "votes.csv"
    }
    fn layout(&self) -> &'static str {
        "votes.csv (+ comments.csv) for a Polis export"
    }
    fn detect(&self, dir: &Path) -> bool {
        dir.join("votes.csv").is_file()
    }
    fn read(&self, dir: &Path) -> Result<ConversationData> {
        read_export(dir, VoteFile::Events)
    }
}

/// The Polis export without `votes.csv`: the `participants-votes.csv` matrix (+ `comments.csv`).
pub(crate) struct PolisExportMatrixReader;

impl Reader for PolisExportMatrixReader {
    fn name(&self) -> &'static str {
        "CSV export matrix"
    }
    fn format(&self) -> InputFormat {
        InputFormat::PolisExportMatrix
    }
    fn vote_file(&self) -> &'static str {
        "participants-votes.csv"
    }
    fn layout(&self) -> &'static str {
        "participants-votes.csv (+ comments.csv) for an export matrix"
    }
    /// Only without `votes.csv`: the matrix holds the latest votes only, so an export that has
    /// every vote event is read from those.
    fn detect(&self, dir: &Path) -> bool {
        dir.join("participants-votes.csv").is_file() && !dir.join("votes.csv").is_file()
    }
    fn read(&self, dir: &Path) -> Result<ConversationData> {
        read_export(dir, VoteFile::Matrix)
    }
}

/// Which file of an export holds the votes.
#[derive(Clone, Copy)]
pub(crate) enum VoteFile {
    /// `votes.csv`: every vote event.
    Events,
    /// `participants-votes.csv`: the latest vote per participant and statement.
    Matrix,
    /// A columnar vote table (`votes.parquet`, `votes.arrow`): `votes.csv` in another encoding,
    /// every vote event.
    #[cfg(feature = "columnar")]
    Table(crate::io::columnar::TableFormat),
}

/// Reads an export folder whose votes are in `vote_file`: the one assembly of the statements,
/// the sign check and the notes for every vote file (`votes.csv`, the matrix, a vote table).
pub(crate) fn read_export(dir: &Path, vote_file: VoteFile) -> Result<ConversationData> {
    let votes_path = dir.join("votes.csv");
    let matrix_path = dir.join("participants-votes.csv");
    let comments_path = dir.join("comments.csv");
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut files = Vec::new();

    let comments = if optional_file(&comments_path)? {
        let comments = parse_comments_csv(open(&comments_path)?, &comments_path)?;
        notes.extend(seconds_note("comments.csv", comments.seconds_converted));
        Some(comments)
    } else {
        warnings.push("no comments.csv: statements made from the ids the votes use, without text or moderation".into());
        None
    };
    let known: Option<HashSet<Id>> = comments.as_ref().map(|c| c.statements.iter().map(|s| s.id.clone()).collect());

    let (format, mut votes, counted) = match vote_file {
        VoteFile::Events => {
            let parsed = read_votes_file(&votes_path, known.as_ref())?;
            notes.extend(seconds_note("votes.csv", parsed.seconds_converted));
            vote_remarks("votes.csv", &parsed.votes, &mut notes, &mut warnings);
            files.push("votes.csv".to_string());
            (
                InputFormat::PolisExport,
                parsed.votes,
                "every vote event in votes.csv (as Polis's tallies count them)".to_string(),
            )
        }
        #[cfg(feature = "columnar")]
        VoteFile::Table(table) => {
            // The reader detected the folder by one of these files.
            let name = table.vote_file_in(dir).unwrap_or(table.vote_files()[0]);
            let parsed = crate::io::columnar::read_vote_table(&dir.join(name), table, known.as_ref())?;
            notes.extend(seconds_note(name, parsed.seconds_converted));
            vote_remarks(name, &parsed.votes, &mut notes, &mut warnings);
            files.push(name.to_string());
            (table.input_format(), parsed.votes, format!("every vote event in {name}"))
        }
        VoteFile::Matrix => {
            notes.push(
                "no votes.csv: read participants-votes.csv (the latest vote per participant and statement, without \
                 timestamps)"
                    .into(),
            );
            let events = parse_participants_votes_csv(open(&matrix_path)?, &matrix_path, known.as_ref())?;
            files.push("participants-votes.csv".to_string());
            (
                InputFormat::PolisExportMatrix,
                VoteBatch::from_events(&events),
                "the latest votes in participants-votes.csv".to_string(),
            )
        }
    };
    require_votes(dir, &votes)?;

    let tallies = comments.as_ref().and_then(|c| c.tallies.as_ref()).filter(|t| !t.is_empty());
    let sign = match tallies {
        Some(reported) => {
            let evidence = sign_evidence(&batch_tally(&votes), reported);
            let what = format!("+1/-1 counted over {counted} vs comments.csv agrees/disagrees");
            let (sign, note) = settle_sign(&mut votes, &evidence, &what, SignDetection::ExportConvention);
            match note {
                Ok(note) => notes.push(note),
                Err(warning) => warnings.push(warning),
            }
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
        Some(c) => {
            files.push("comments.csv".to_string());
            c.statements
        }
        None => statements_from_votes(&votes),
    };
    statements.sort_by(|a, b| a.id.cmp(&b.id));

    let source = SourceInfo { path: dir.to_path_buf(), format, sign, notes, warnings, files };
    Ok(ConversationData { votes, statements, source })
}
