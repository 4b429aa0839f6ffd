//! Field parsers shared by every reader: ids, votes and integers as Polis's exports and its API
//! write them.
//!
//! A CSV export writes every field as text and an API dump writes some as JSON strings, but they
//! are the same fields from the same database, so one parser reads each: an id is an integer when
//! it is one (Polis's `pid`s and `tid`s) and text otherwise (ids from other tools); a vote is
//! `1`, `0` or `-1`, possibly written as a float; a count or status is an integer, possibly
//! `"3.0"`. They parse bytes, not `str`, because the CSV reader hands over bytes and a 50-million-row
//! `votes.csv` should not pay for a UTF-8 check per field.

use crate::votes::{Id, Vote};

/// The names each column of a vote table goes by, in the form [`column_key`] gives them, first
/// match wins: Polis's export names (`votes.csv`), commonground's own, red-dwarf's
/// (`participant_id`, `statement_id`, `modified`) and Polis's API's (`pid`, `tid`). The Python
/// package's `_inputs.py` accepts the same names for a DataFrame. `votes.csv` and the columnar
/// tables (Parquet, Arrow) read them.
pub(crate) struct VoteTableColumns {
    pub participant: &'static [&'static str],
    pub statement: &'static [&'static str],
    pub vote: &'static [&'static str],
    pub timestamp: &'static [&'static str],
}

pub(crate) const VOTE_TABLE_COLUMNS: VoteTableColumns = VoteTableColumns {
    participant: &["voter-id", "participant", "participant-id", "pid", "voter"],
    statement: &["comment-id", "statement", "statement-id", "tid", "comment"],
    vote: &["vote", "value"],
    timestamp: &["timestamp", "modified", "time"],
};

/// A column name as headers are compared: trimmed, lower-case, `_` read as `-` (Polis's exporters
/// wrote both `comment-id` and `comment_id` over the years).
pub(crate) fn column_key(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// A field without its surrounding ASCII whitespace.
pub(crate) fn trim(raw: &[u8]) -> &[u8] {
    raw.trim_ascii()
}

/// A plain run of ASCII digits with an optional minus sign, parsed without UTF-8 checks: the
/// common case of every id and timestamp, read 50 million times on big exports. `None` for
/// anything else (which then takes the general path).
pub(crate) fn plain_int(raw: &[u8]) -> Option<i64> {
    let mut at = 0;
    let n = scan_int(raw, &mut at)?;
    (at == raw.len()).then_some(n)
}

/// The plain integer at `bytes[*at]` (an optional minus sign and 1 to 18 ASCII digits, the rule
/// of [`plain_int`]), `*at` moved past it; `None`, `*at` unmoved, when there is none. What follows
/// the digits is the caller's to check: the CSV fast path reads each field while it scans a line.
#[inline]
pub(crate) fn scan_int(bytes: &[u8], at: &mut usize) -> Option<i64> {
    let negative = bytes.get(*at) == Some(&b'-');
    let start = *at + negative as usize;
    let mut end = start;
    let mut n: i64 = 0;
    while let Some(&byte) = bytes.get(end) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        // Wrapping: more than 18 digits are refused below, after the loop.
        n = n.wrapping_mul(10).wrapping_add(i64::from(digit));
        end += 1;
    }
    if end == start || end - start > 18 {
        return None;
    }
    *at = end;
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

pub(crate) fn parse_bool(raw: &[u8]) -> Option<bool> {
    match trim(raw).to_ascii_lowercase().as_slice() {
        b"true" | b"t" | b"1" => Some(true),
        b"false" | b"f" | b"0" | b"" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_id_parse_does() {
        for text in ["0", "42", "-7", "007", " 5 ", "+3", "x9", "999999999999999999", "9999999999999999999", "1e3", "é"]
        {
            assert_eq!(parse_id(text.as_bytes()), Some(Id::parse(text)), "{text:?}");
        }
        assert_eq!(parse_id(b"  "), None);
        assert_eq!(plain_int(b"-"), None);
    }
}
