//! `comments.csv`: the statements, one row each, with what Polis stored about them.
//!
//! Besides the text, author, time and moderation of each statement, the export carries Polis's
//! own `agrees`/`disagrees` tallies, which are how the reader tells the file's vote sign (see
//! [`crate::io`]). Only `comment-id` is required: bg2050's file has no `datetime` but adds
//! `is-meta`, `is-seed` and `group-informed-consensus`.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use super::csv::{count_field, field, parse_timestamp, required_id, ByteRecord, CsvRows};
use crate::error::{excerpt, Error, Location, Result};
use crate::io::fields::{parse_bool, parse_id, parse_int, trim};
use crate::io::timestamp_ms;
use crate::votes::{Id, ModerationStatus, Statement, StatementList};

/// Reads a Polis `comments.csv` (`comment-id` required; `comment-body`, `author-id`, `timestamp`,
/// `moderated`, `is-meta` used when present). Statements are returned in file order; an exact
/// duplicate row is dropped, a conflicting one is [`Error::ConflictingStatement`].
pub fn read_comments_csv<R: Read>(reader: R, file: &Path) -> Result<Vec<Statement>> {
    Ok(parse_comments_csv(reader, file)?.statements)
}

pub(super) struct CommentsCsv {
    /// In file order, duplicates removed.
    pub statements: Vec<Statement>,
    /// Polis's stored (agrees, disagrees) per statement, when the file has both columns.
    pub tallies: Option<HashMap<Id, (u64, u64)>>,
    pub seconds_converted: u64,
}

pub(super) fn parse_comments_csv<R: Read>(reader: R, file: &Path) -> Result<CommentsCsv> {
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
                            "moderated value {} is not -1 (moderated out), 0 (unmoderated) or 1 (accepted)",
                            excerpt(&String::from_utf8_lossy(raw))
                        ),
                    })?;
            }
        }
        if let Some(c) = meta_col {
            let raw = field(&record, c);
            statement.is_meta = parse_bool(raw).ok_or_else(|| Error::Parse {
                location: at(),
                message: format!("is-meta value {} is not true/false or 1/0", excerpt(&String::from_utf8_lossy(raw))),
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
