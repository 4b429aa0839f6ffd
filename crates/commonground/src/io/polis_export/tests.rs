//! The export readers' specification: the streaming `votes.csv` reader equals the CSV reader,
//! result for result and error for error; columns are found by name; every error names its line,
//! blank lines, CRLF and multi-line fields included.

use std::collections::HashSet;
use std::path::Path;

use super::comments_csv::parse_comments_csv;
use super::votes_csv::{parse_votes_csv, read_votes_fast, read_votes_file, VotesCsv};
use super::*;
use crate::error::{Error, Result};
use crate::votes::{Id, ModerationStatus, Vote, VoteEvent};

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
fn every_spelling_of_every_field_reads_as_the_csv_reader_reads_it() {
    // The fast path reads plain lines in one pass and hands any other line to the general rules:
    // lines drawn at random from spellings that are plain, odd but valid, and invalid (text and
    // padded ids, 19 digits, votes as floats, seconds, a long `datetime`, missing and extra
    // fields), in files of both column orders, against the CSV reader, result for result.
    let ids = [
        "0",
        "42",
        "-7",
        "-0",
        "007",
        "999999999999999999",
        " 5 ",
        "+3",
        "x9",
        "1e3",
        "9999999999999999999",
        "",
        "-",
        "12a",
    ];
    let votes = ["1", "0", "-1", "1.0", "-1.0", " 1", "2", "01", "-", ""];
    let times = ["1435654192085", "", "1732028760", "-5", "12.5", " 7", "9999999999999999999", "abc"];
    let datetimes = ["", "Mon Jan 01 2024 00:00:00 GMT+0000 (Coordinated Universal Time)", "x"];
    let mut state = 7u64;
    let mut pick = |n: usize, plain: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let r = (state >> 33) as usize;
        // Mostly the plain spellings (the first `plain`), so that many files are valid throughout.
        if r % 8 != 0 {
            r / 8 % plain
        } else {
            r / 8 % n
        }
    };
    let (mut read, mut declined) = (0, 0);
    for file in 0..400 {
        let polis_order = file % 2 == 0;
        let mut text = String::from(if polis_order {
            "timestamp,datetime,comment-id,voter-id,vote\n"
        } else {
            "vote,voter-id,comment-id,timestamp\n"
        });
        for _ in 0..12 {
            let (p, s, v, t) = (
                ids[pick(ids.len(), 4)],
                ids[pick(ids.len(), 4)],
                votes[pick(votes.len(), 3)],
                times[pick(times.len(), 2)],
            );
            let line = if polis_order {
                format!("{t},{},{s},{p},{v}", datetimes[pick(datetimes.len(), 3)])
            } else {
                format!("{v},{p},{s},{t}")
            };
            text.push_str(&line);
            text.push_str(match pick(40, 40) {
                0 => ",1\n", // an extra field
                1 => "\n\n", // a blank line
                _ => "\n",
            });
        }
        if pick(10, 10) == 0 {
            text.push_str("1,2\n"); // too few fields
        }
        // (A block shorter than a line sends the file to the CSV reader: 256 bytes hold any line.)
        for block in [256, 1 << 20] {
            let (fast, general) = both_readers("spellings", &text, block, None);
            match (fast, general) {
                (Some(fast), Ok(general)) => {
                    assert!(fast.votes == general.votes, "{text}");
                    assert_eq!(fast.votes.participant_ids(), general.votes.participant_ids(), "{text}");
                    assert_eq!(fast.votes.statement_ids(), general.votes.statement_ids(), "{text}");
                    assert_eq!(fast.seconds_converted, general.seconds_converted, "{text}");
                    read += 1;
                }
                (None, Err(_)) => declined += 1,
                (fast, general) => panic!("fast path {:?}, CSV reader {:?} on\n{text}", fast.is_some(), general.err()),
            }
        }
    }
    // Both outcomes were exercised.
    assert!(read > 100 && declined > 100, "read {read}, declined {declined}");
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
        vec![VoteEvent::new(5, 0, Vote::Agree), VoteEvent::new(5, 2, Vote::Disagree), VoteEvent::new(6, 2, Vote::Pass)]
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
