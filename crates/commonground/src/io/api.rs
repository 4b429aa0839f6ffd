//! Polis API dumps: `votes.json` and `comments.json`, each a JSON array of objects, as the Polis
//! HTTP API (`/api/v3/votes`, `/api/v3/comments`) returns them and red-dwarf's loader saves them.
//!
//! Two field-name generations occur and both are read, record by record:
//!
//! | | votes | comments |
//! |---|---|---|
//! | Polis API | `pid, tid, vote, modified` | `tid, txt, mod, is_meta, pid, created, agree_count, disagree_count` |
//! | red-dwarf | `participant_id, statement_id, vote, modified` | `statement_id, txt, moderated, is_meta, participant_id, created, agree_count, ...` |
//!
//! In a comment, `pid` / `participant_id` is the **author**, not the statement.
//! `modified` comes as a string (`"1714782753431"`) or a float (`1515620784141.0`); `created` as
//! epoch ms or ISO-8601 (`"2018-01-10T19:03:37.255000Z"`), parsed here without a date library.
//!
//! Errors locate a record by its 1-based index in the top-level array (`votes.json:12` is the
//! 12th vote object): API dumps are often a single line, so a line number would not help.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::fields::{parse_int, parse_vote};
use super::limits::{encoding_message, foreign_encoding, size, MAX_JSON_FIELD_BYTES, MAX_JSON_FILE_BYTES};
use super::{
    batch_tally, latest_votes, optional_file, require_votes, seconds_note, settle_sign, sign_evidence,
    statements_from_votes, timestamp_ms, vote_remarks, ConversationData, InputFormat, Reader, SignDetection,
    SourceInfo,
};
use crate::error::{excerpt, Error, Location, Result};
use crate::votes::{Id, ModerationStatus, Statement, StatementList, Vote, VoteBatch, VoteEvent};

/// The Polis API dump: `votes.json` (+ `comments.json`).
pub(crate) struct PolisApiDumpReader;

impl Reader for PolisApiDumpReader {
    fn name(&self) -> &'static str {
        "API dump"
    }
    fn format(&self) -> InputFormat {
        InputFormat::PolisApiDump
    }
    fn vote_file(&self) -> &'static str {
        "votes.json"
    }
    fn layout(&self) -> &'static str {
        "votes.json (+ comments.json) for a Polis API dump"
    }
    fn detect(&self, dir: &Path) -> bool {
        dir.join("votes.json").is_file()
    }
    fn read(&self, dir: &Path) -> Result<ConversationData> {
        read_polis_api_dump(dir)
    }
}

/// Reads a Polis API dump folder: `votes.json`, and `comments.json` when present (a
/// `conversation.json` contributes its topic to the notes). Detects the vote sign from the
/// comments' `agree_count`/`disagree_count` and flips the votes if the dump has Polis's raw
/// agree = -1 (see the [module docs](crate::io)).
pub fn read_polis_api_dump(dir: &Path) -> Result<ConversationData> {
    let votes_path = dir.join("votes.json");
    let comments_path = dir.join("comments.json");
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut files = vec!["votes.json".to_string()];
    if !votes_path.is_file() {
        return Err(Error::UnknownFormat {
            path: dir.to_path_buf(),
            message: "not a Polis API dump folder: it has no votes.json".into(),
        });
    }

    match conversation_topic(&dir.join("conversation.json")) {
        Some(Ok(topic)) => notes.push(topic),
        Some(Err(warning)) => warnings.push(warning),
        None => {}
    }
    let comments = if optional_file(&comments_path)? {
        let comments = parse_comments_json(&read_json_array(&comments_path)?, &comments_path)?;
        files.push("comments.json".to_string());
        if comments.unparsed_created > 0 {
            warnings.push(format!(
                "comments.json: {} created times were neither epoch ms nor ISO-8601; left unknown",
                comments.unparsed_created
            ));
        }
        Some(comments)
    } else {
        warnings
            .push("no comments.json: statements made from the ids the votes use, without text or moderation".into());
        None
    };
    let known: Option<HashSet<Id>> = comments.as_ref().map(|c| c.statements.iter().map(|s| s.id.clone()).collect());

    let (events, seconds_converted) = parse_votes_json(&read_json_array(&votes_path)?, &votes_path, known.as_ref())?;
    notes.extend(seconds_note("votes.json", seconds_converted));
    let mut votes = VoteBatch::from_events(&events);
    require_votes(dir, &votes)?;
    vote_remarks("votes.json", &votes, &mut notes, &mut warnings);

    let tallies = comments.as_ref().map(|c| &c.tallies).filter(|t| !t.is_empty());
    let sign = match tallies {
        Some(reported) => {
            let evidence = sign_evidence(&batch_tally(&latest_votes(&events).into_iter().cloned().collect()), reported);
            let what = "+1/-1 counted over the latest vote per participant and statement in votes.json \
                        vs comments.json agree_count/disagree_count";
            let (sign, note) = settle_sign(&mut votes, &evidence, what, SignDetection::Assumed);
            match note {
                Ok(note) => notes.push(note),
                Err(warning) => warnings.push(warning),
            }
            sign
        }
        None => {
            warnings.push(
                "sign: no agree_count/disagree_count to check against; agree = +1 assumed (a raw Polis API dump has agree = -1)"
                    .into(),
            );
            SignDetection::Assumed
        }
    };

    let mut statements = match comments {
        Some(c) => c.statements,
        None => statements_from_votes(&votes),
    };
    statements.sort_by(|a, b| a.id.cmp(&b.id));

    Ok(ConversationData {
        votes,
        statements,
        source: SourceInfo { path: dir.to_path_buf(), format: InputFormat::PolisApiDump, sign, notes, warnings, files },
    })
}

struct CommentsJson {
    statements: Vec<Statement>,
    tallies: HashMap<Id, (u64, u64)>,
    unparsed_created: u64,
}

fn read_json_array(path: &Path) -> Result<Vec<Value>> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_JSON_FILE_BYTES {
        return Err(Error::Parse {
            location: Location::new(path, None),
            message: format!(
                "the file is {len} bytes, over the limit of {} for JSON (read whole); export the conversation as CSV",
                size(MAX_JSON_FILE_BYTES as usize)
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse_json_array(&bytes, path)
}

/// A JSON file's bytes as the array of records it must hold.
fn parse_json_array(bytes: &[u8], path: &Path) -> Result<Vec<Value>> {
    let bytes = json_text(bytes, path)?;
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::Parse {
        location: Location::new(path, Some(e.line() as u64)),
        message: format!("invalid JSON (line {}, column {}): {e}", e.line(), e.column()),
    })?;
    match value {
        Value::Array(records) => Ok(records),
        other => Err(Error::Parse {
            location: Location::new(path, None),
            message: format!("expected a JSON array of objects at the top level, found {}", kind(&other)),
        }),
    }
}

/// Reads the text of a `votes.json` (the `/api/v3/votes` records): every vote as an event, in
/// file order, with the file's sign (the sign check needs `comments.json`; see
/// [`read_polis_api_dump`]) and timestamps in epoch ms. `file` is used only in error messages.
pub fn read_votes_json(bytes: &[u8], file: &Path) -> Result<Vec<VoteEvent>> {
    Ok(parse_votes_json(&parse_json_array(bytes, file)?, file, None)?.0)
}

/// Reads the text of a `comments.json` (the `/api/v3/comments` records): the statements, in file
/// order. `file` is used only in error messages.
pub fn read_comments_json(bytes: &[u8], file: &Path) -> Result<Vec<Statement>> {
    Ok(parse_comments_json(&parse_json_array(bytes, file)?, file)?.statements)
}

/// The JSON text of a file's bytes: UTF-8, its byte-order mark dropped (JSON forbids one, but
/// Windows tools write it); refused, with the reason, when it is UTF-16 or UTF-32 or holds a
/// string longer than [`MAX_JSON_FIELD_BYTES`] (checked before parsing, so that parsing never
/// allocates one).
fn json_text<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a [u8]> {
    if let Some(encoding) = foreign_encoding(bytes) {
        return Err(Error::Parse { location: Location::new(path, Some(1)), message: encoding_message(encoding) });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some((start, len)) = long_json_string(bytes, MAX_JSON_FIELD_BYTES) {
        let line = memchr::memchr_iter(b'\n', &bytes[..start]).count() as u64 + 1;
        return Err(Error::Parse {
            location: Location::new(path, Some(line)),
            message: format!(
                "a string at line {line} is {}, over the limit of {} (a Polis statement is at most 1,000 characters)",
                if len == usize::MAX { "never closed".to_string() } else { format!("{len} bytes long") },
                size(MAX_JSON_FIELD_BYTES)
            ),
        });
    }
    Ok(bytes)
}

/// The first JSON string (start offset, length in bytes; `usize::MAX` when it never closes) longer
/// than `max` bytes. Strings are found by their quotes, skipping escaped characters; the scan runs
/// at memchr's speed and does not need the text to be valid JSON.
fn long_json_string(bytes: &[u8], max: usize) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[i..]).map(|o| i + o) {
        let mut j = open + 1;
        let close = loop {
            match memchr::memchr2(b'"', b'\\', &bytes[j..]) {
                None => break None,
                Some(k) if bytes[j + k] == b'"' => break Some(j + k),
                Some(k) => j += k + 2,
            }
            if j >= bytes.len() {
                break None;
            }
        };
        match close {
            Some(close) if close - open - 1 > max => return Some((open, close - open - 1)),
            Some(close) => i = close + 1,
            None if bytes.len() - open - 1 > max => return Some((open, usize::MAX)),
            None => return None,
        }
    }
    None
}

/// A JSON value quoted in an error message, as JSON (see [`crate::error::shown`]).
fn shown(v: &Value) -> String {
    crate::error::shown(&v.to_string())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A record's location: its 1-based index in the array.
fn record_at(file: &Path, index: usize) -> Location {
    Location::new(file, Some(index as u64 + 1))
}

fn record_error(file: &Path, index: usize, message: String) -> Error {
    Error::Parse {
        location: record_at(file, index),
        message: format!("record {} of the JSON array: {message}", index + 1),
    }
}

fn as_object<'a>(record: &'a Value, file: &Path, index: usize) -> Result<&'a Map<String, Value>> {
    record.as_object().ok_or_else(|| record_error(file, index, format!("expected an object, found {}", kind(record))))
}

/// The first of `names` present with a non-null value.
fn get<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| obj.get(*n).filter(|v| !v.is_null()))
}

/// The id in the first of `names` present: missing and malformed are told apart.
fn json_id(obj: &Map<String, Value>, names: &[&str], what: &str, file: &Path, i: usize) -> Result<Id> {
    let expected = names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(" or ");
    let value = get(obj, names).ok_or_else(|| record_error(file, i, format!("no {what} id (expected {expected})")))?;
    Id::from_json(value).ok_or_else(|| {
        record_error(
            file,
            i,
            format!("{what} id {} is not an id: expected an integer or a non-empty string", shown(value)),
        )
    })
}

fn json_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|x| x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e18).map(|x| x as i64)),
        Value::String(s) => parse_int(s.as_bytes()),
        _ => None,
    }
}

fn json_vote(v: &Value) -> Option<Vote> {
    match v {
        Value::Number(n) => n.as_f64().and_then(Vote::from_f64),
        Value::String(s) => parse_vote(s.as_bytes()),
        _ => None,
    }
}

fn json_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(_) => match json_int(v) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Some(true),
            "false" | "f" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An epoch time (number or numeric string, ms or s) or an ISO-8601 string, as epoch ms, plus
/// whether it was converted from seconds.
fn json_time(v: &Value) -> Option<(i64, bool)> {
    let raw = match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|x| x.is_finite() && x.abs() < 9.0e18).map(|x| x.round() as i64))
        }
        Value::String(s) => {
            let t = s.trim();
            match t.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => match t.parse::<f64>() {
                    Ok(x) if x.is_finite() && x.abs() < 9.0e18 => Some(x.round() as i64),
                    _ => return parse_iso8601_ms(t).map(|ms| (ms, false)),
                },
            }
        }
        _ => None,
    }?;
    Some(timestamp_ms(raw))
}

fn parse_votes_json(records: &[Value], file: &Path, known: Option<&HashSet<Id>>) -> Result<(Vec<VoteEvent>, u64)> {
    let mut events = Vec::with_capacity(records.len());
    let mut seconds_converted = 0;
    for (i, record) in records.iter().enumerate() {
        let obj = as_object(record, file, i)?;
        let participant = json_id(obj, &["pid", "participant_id"], "participant", file, i)?;
        let statement = json_id(obj, &["tid", "statement_id"], "statement", file, i)?;
        if let Some(known) = known {
            if !known.contains(&statement) {
                return Err(Error::UnknownStatement { location: record_at(file, i), statement });
            }
        }
        let raw_vote = get(obj, &["vote"]).ok_or_else(|| record_error(file, i, "no \"vote\" field".into()))?;
        let vote = json_vote(raw_vote).ok_or_else(|| Error::InvalidVote {
            location: record_at(file, i),
            value: match raw_vote {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
        })?;
        let timestamp = match get(obj, &["modified", "created", "timestamp"]) {
            Some(v) => {
                let (ms, converted) = json_time(v).ok_or_else(|| {
                    record_error(file, i, format!("vote time {} is neither an epoch time nor ISO-8601", shown(v)))
                })?;
                seconds_converted += converted as u64;
                Some(ms)
            }
            None => None,
        };
        events.push(VoteEvent { participant, statement, vote, timestamp });
    }
    Ok((events, seconds_converted))
}

fn parse_comments_json(records: &[Value], file: &Path) -> Result<CommentsJson> {
    let mut statements = StatementList::new();
    let mut tallies = HashMap::new();
    let mut unparsed_created = 0;
    for (i, record) in records.iter().enumerate() {
        let obj = as_object(record, file, i)?;
        let id = json_id(obj, &["tid", "statement_id"], "statement", file, i)?;
        let mut statement = Statement::new(id.clone());
        statement.text = get(obj, &["txt"]).and_then(|v| v.as_str()).map(str::to_string);
        statement.author = get(obj, &["pid", "participant_id"]).and_then(Id::from_json);
        if let Some(v) = get(obj, &["mod", "moderated"]) {
            statement.moderation = json_int(v).and_then(ModerationStatus::from_value).ok_or_else(|| {
                record_error(
                    file,
                    i,
                    format!("moderation {} is not -1 (moderated out), 0 (unmoderated) or 1 (accepted)", shown(v)),
                )
            })?;
        }
        if let Some(v) = get(obj, &["is_meta"]) {
            statement.is_meta = json_bool(v)
                .ok_or_else(|| record_error(file, i, format!("is_meta {} is not true or false", shown(v))))?;
        }
        if let Some(v) = get(obj, &["created"]) {
            match json_time(v) {
                Some((ms, _)) => statement.created = Some(ms),
                None => unparsed_created += 1,
            }
        }
        let count = |name: &str| -> Result<Option<u64>> {
            match get(obj, &[name]) {
                None => Ok(None),
                Some(v) => match json_int(v) {
                    Some(n) if n >= 0 => Ok(Some(n as u64)),
                    _ => Err(record_error(file, i, format!("{name} {} is not a vote count", shown(v)))),
                },
            }
        };
        if let (Some(a), Some(d)) = (count("agree_count")?, count("disagree_count")?) {
            tallies.entry(id).or_insert((a, d));
        }
        statements.add_listing(statement, || record_at(file, i))?;
    }
    Ok(CommentsJson { statements: statements.into_vec(), tallies, unparsed_created })
}

/// The conversation's topic, as a note (`Ok`); a warning (`Err`) if conversation.json is there but
/// not readable JSON; `None` if there is none or it has no topic.
fn conversation_topic(path: &Path) -> Option<Result<String, String>> {
    let bytes = std::fs::read(path).ok()?;
    match json_text(&bytes, path).map_err(|e| e.to_string()).and_then(|text| {
        serde_json::from_slice::<Value>(text).map_err(|e| format!("conversation.json is not valid JSON ({e}); ignored"))
    }) {
        Ok(v) => {
            let topic = v.get("topic")?.as_str()?.trim();
            (!topic.is_empty()).then(|| Ok(format!("topic: {}", excerpt(topic))))
        }
        Err(e) => Some(Err(e)),
    }
}

/// Parses an ISO-8601 / RFC 3339 date-time to epoch milliseconds:
/// `YYYY-MM-DD[(T| )hh:mm[:ss[.fff...]]][Z|±hh[:]mm|±hh]`; no zone means UTC. Digits past
/// milliseconds are truncated. `None` for anything else.
pub(crate) fn parse_iso8601_ms(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4)?;
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if matches!(p.peek(), Some(b'T' | b't' | b' ')) {
        p.i += 1;
        hour = p.digits(2)?;
        p.expect(b':')?;
        minute = p.digits(2)?;
        if p.peek() == Some(b':') {
            p.i += 1;
            second = p.digits(2)?;
            if matches!(p.peek(), Some(b'.' | b',')) {
                p.i += 1;
                let start = p.i;
                while matches!(p.peek(), Some(b'0'..=b'9')) {
                    if p.i - start < 3 {
                        millis = millis * 10 + i64::from(b[p.i] - b'0');
                    }
                    p.i += 1;
                }
                let n = p.i - start;
                if n == 0 {
                    return None;
                }
                for _ in n..3 {
                    millis *= 10;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let offset_minutes = match p.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            p.i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            p.i += 1;
            let h = p.digits(2)?;
            if p.peek() == Some(b':') {
                p.i += 1;
            }
            let m = if p.peek().is_some() { p.digits(2)? } else { 0 };
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        Some(_) => return None,
    };
    if p.peek().is_some() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    fn digits(&mut self, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for _ in 0..n {
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
            self.i += 1;
        }
        Some(v)
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_times_parse_to_epoch_milliseconds() {
        assert_eq!(parse_iso8601_ms("2018-01-10T19:03:37.255000Z"), Some(1_515_611_017_255));
        assert_eq!(parse_iso8601_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601_ms("1970-01-01"), Some(0));
        assert_eq!(parse_iso8601_ms("2000-03-01 00:00:00.5"), Some(951_868_800_500));
        assert_eq!(parse_iso8601_ms("2018-01-10T21:03:37.255+02:00"), Some(1_515_611_017_255));
        assert_eq!(parse_iso8601_ms("2018-01-10T14:03:37.255-0500"), Some(1_515_611_017_255));
        assert_eq!(parse_iso8601_ms("2024-02-29T12:00Z"), Some(1_709_208_000_000));
        assert_eq!(parse_iso8601_ms("1969-12-31T23:59:59.999Z"), Some(-1));
    }

    #[test]
    fn malformed_iso8601_times_are_none() {
        for bad in [
            "",
            "2018",
            "2018-13-01",
            "2023-02-29",
            "2018-01-10T25:00Z",
            "2018-01-10T19:03:37.Z",
            "2018-01-10X",
            "２０１８-01-01",
        ] {
            assert_eq!(parse_iso8601_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn both_vote_field_generations_read() {
        let records: Vec<Value> = serde_json::from_str(
            r#"[{"pid":1,"tid":2,"vote":-1,"modified":"1714782753431"},
                {"participant_id":"x","statement_id":2,"vote":1.0,"modified":1515620784141.0}]"#,
        )
        .unwrap();
        let (v, _) = parse_votes_json(&records, Path::new("votes.json"), None).unwrap();
        assert_eq!(v[0], VoteEvent::new(1, 2, Vote::Disagree).at(1714782753431));
        assert_eq!(v[1], VoteEvent::new(Id::Str("x".into()), 2, Vote::Agree).at(1515620784141));
    }

    #[test]
    fn json_strings_over_the_limit_are_found_past_escapes() {
        assert_eq!(long_json_string(br#"["abc", "de"]"#, 3), None);
        assert_eq!(long_json_string(br#"["abcd"]"#, 3), Some((1, 4)));
        assert_eq!(long_json_string(br#"["a\"bc", "x"]"#, 3), Some((1, 5)));
        assert_eq!(long_json_string(br#"["a\\", "xyzw"]"#, 3), Some((8, 4)));
        assert_eq!(long_json_string(br#"["abcd"#, 3), Some((1, usize::MAX)));
        assert_eq!(long_json_string(br#"["ab\"#, 3), None);
    }

    #[test]
    fn a_malformed_id_is_not_called_missing() {
        let records: Vec<Value> = serde_json::from_str(r#"[{"pid":1.5,"tid":2,"vote":1},{"tid":2,"vote":1}]"#).unwrap();
        let err = parse_votes_json(&records[..1], Path::new("votes.json"), None).unwrap_err().to_string();
        assert!(err.contains("participant id 1.5 is not an id"), "{err}");
        let err = parse_votes_json(&records[1..], Path::new("votes.json"), None).unwrap_err().to_string();
        assert!(err.contains("no participant id"), "{err}");
    }

    #[test]
    fn a_bad_vote_names_its_record() {
        let records: Vec<Value> =
            serde_json::from_str(r#"[{"pid":1,"tid":2,"vote":1},{"pid":1,"tid":3,"vote":0.5}]"#).unwrap();
        let err = parse_votes_json(&records, Path::new("votes.json"), None).unwrap_err();
        assert!(matches!(err, Error::InvalidVote { .. }));
        assert!(err.to_string().starts_with("votes.json:2:"), "{err}");
    }
}
