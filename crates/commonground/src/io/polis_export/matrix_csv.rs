//! `participants-votes.csv`: the export's participant-by-statement matrix, one row per
//! participant, one column per statement after the `n-disagree` column.
//!
//! It is read only when a folder has no `votes.csv`: it holds the latest vote per participant and
//! statement, without timestamps, so a replay cannot run on it and the sign check compares latest
//! votes with tallies of every vote event (a small error under the right sign, not 0). The
//! statement ids are the header's column names.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use super::csv::{field, required_id, ByteRecord, CsvRows};
use crate::error::{Error, Location, Result};
use crate::io::fields::{parse_id, parse_vote, trim};
use crate::votes::{Id, VoteEvent};

/// Reads a Polis `participants-votes.csv` matrix
/// (`participant,[xid,]group-id,n-comments,n-votes,n-agree,n-disagree,<comment ids...>`): every
/// non-blank cell after the `n-disagree` column is a vote. Events have no timestamp and come in
/// row order, then column order.
pub fn read_participants_votes_csv<R: Read>(reader: R, file: &Path) -> Result<Vec<VoteEvent>> {
    parse_participants_votes_csv(reader, file, None)
}

pub(super) fn parse_participants_votes_csv<R: Read>(
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
