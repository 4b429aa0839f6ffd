//! Hostile and malformed input through the command line (issue 14): bounded memory under an
//! address-space limit, one-line errors that never flood, no silent choice (every reader note and
//! warning on standard error), and participants' text that cannot drive the terminal.

mod support;

use std::fs::File;
use std::process::{Command, Output};

use support::{assert_input_error, bin, stderr, stdout, Scratch};

const VOTES_HEADER: &str = "timestamp,datetime,comment-id,voter-id,vote\n";
const COMMENTS_HEADER: &str = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n";

/// A small conversation: 12 participants, 4 statements, two camps; `time` gives each vote's
/// timestamp column.
fn small_votes(time: impl Fn(usize) -> String) -> String {
    let mut text = VOTES_HEADER.to_string();
    let mut row = 0;
    for p in 0..12 {
        for s in 0..4 {
            let vote = if (p < 6) == (s % 2 == 0) { 1 } else { -1 };
            text += &format!("{},x,{s},{p},{vote}\n", time(row));
            row += 1;
        }
    }
    text
}

fn analyze(dir: &Scratch, extra: &[&str]) -> Output {
    bin().arg("analyze").arg(dir.path()).args(extra).output().expect("the binary runs")
}

/// `commonground analyze` under an address-space limit (`prlimit --as`): reading the whole of a
/// multi-GiB file, or allocating what a huge parameter asks for, would abort the process.
/// `None` (reported as skipped; a failure under CI) when prlimit is missing.
fn analyze_limited(dir: &Scratch, extra: &[&str]) -> Option<Output> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "prlimit (util-linux) not found, and CI is set");
        println!("skipping: prlimit (util-linux) not found");
        return None;
    }
    Some(
        Command::new("prlimit")
            .arg(format!("--as={}", 1536u64 << 20))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_commonground"))
            .arg("analyze")
            .arg(dir.path())
            .args(extra)
            .output()
            .expect("prlimit runs"),
    )
}

/// A sparse file of `gib` GiB of zero bytes after `prefix`: no newline anywhere past it.
fn sparse(dir: &Scratch, name: &str, prefix: &str, gib: u64) {
    let path = dir.0.join(name);
    std::fs::write(&path, prefix).unwrap();
    File::options().write(true).open(&path).unwrap().set_len(gib << 30).unwrap();
}

#[test]
fn multi_gib_lines_are_errors_not_aborts_under_an_address_space_limit() {
    let dir = Scratch::new("huge-votes");
    sparse(&dir, "votes.csv", "", 4);
    let Some(o) = analyze_limited(&dir, &[]) else { return };
    assert_input_error(&o, &["votes.csv:1", "longer than the limit of 16 MiB"]);

    // A header, then 40 MiB of commas on one line.
    let mut text = VOTES_HEADER.to_string();
    text += &",".repeat(40 << 20);
    dir.file("votes.csv", &text);
    let o = analyze_limited(&dir, &[]).unwrap();
    assert_input_error(&o, &["votes.csv:2", "longer than the limit"]);

    // A good votes.csv beside a 4 GiB comments.csv whose header line never ends.
    dir.file("votes.csv", &small_votes(|i| (1_700_000_000_000 + i).to_string()));
    sparse(&dir, "comments.csv", "timestamp,datetime,comment-id,comment-body", 4);
    let o = analyze_limited(&dir, &[]).unwrap();
    assert_input_error(&o, &["comments.csv:1", "longer than the limit"]);
}

#[test]
fn a_multi_gib_json_dump_and_a_huge_json_string_are_errors_under_an_address_space_limit() {
    let dir = Scratch::new("huge-json");
    sparse(&dir, "votes.json", "[", 4);
    let Some(o) = analyze_limited(&dir, &[]) else { return };
    assert_input_error(&o, &["votes.json", "limit of 1024 MiB"]);

    let text = format!("[{{\"pid\": 1, \"tid\": 2, \"vote\": 1, \"note\": \"{}\"}}]", "a".repeat(2 << 20));
    dir.file("votes.json", &text);
    let o = analyze_limited(&dir, &[]).unwrap();
    assert_input_error(&o, &["votes.json:1", "over the limit of 1 MiB"]);
}

#[test]
fn a_huge_replicate_count_is_a_parameter_error_not_an_abort() {
    let dir = Scratch::new("huge-stability");
    dir.file("votes.csv", &small_votes(|i| (1_700_000_000_000 + i).to_string()));
    let Some(o) = analyze_limited(&dir, &["--stability", "1000000000"]) else { return };
    assert_input_error(&o, &["group_stability.replicates", "over the limit of 10000"]);
}

#[test]
fn a_quote_in_the_header_gives_a_short_one_line_error() {
    let dir = Scratch::new("quote-header");
    let mut text = "timestamp,datetime,\"comment-id,voter-id,vote\n".to_string();
    for i in 0..50_000 {
        text += &format!("{i},x,{},{},1\n", i % 7, i);
    }
    dir.file("votes.csv", &text);
    let o = analyze(&dir, &[]);
    assert_input_error(&o, &["votes.csv:1", "more bytes"]);
    assert!(stderr(&o).len() < 600, "{} bytes of stderr", stderr(&o).len());
}

#[test]
fn a_repeated_header_column_is_an_error() {
    let dir = Scratch::new("dup-column");
    dir.file("votes.csv", "timestamp,datetime,comment-id,voter-id,vote,vote\n1,x,0,1,1,-1\n");
    assert_input_error(&analyze(&dir, &[]), &["votes.csv:1", "column \"vote\" twice (columns 5 and 6)"]);
}

#[test]
fn utf16_files_are_named_as_such() {
    let dir = Scratch::new("utf16");
    let utf16 = |text: &str| -> Vec<u8> {
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(|u| u.to_le_bytes())).collect()
    };
    std::fs::write(dir.0.join("votes.csv"), utf16(&small_votes(|i| i.to_string()))).unwrap();
    assert_input_error(&analyze(&dir, &[]), &["votes.csv:1", "UTF-16 (little-endian)", "UTF-8"]);

    let json = Scratch::new("utf16-json");
    std::fs::write(json.0.join("votes.json"), utf16(r#"[{"pid": 1, "tid": 2, "vote": 1}]"#)).unwrap();
    assert_input_error(&analyze(&json, &[]), &["votes.json:1", "UTF-16"]);
}

#[test]
fn a_json_dump_with_a_utf8_byte_order_mark_reads() {
    let dir = Scratch::new("bom-json");
    let mut votes = String::from("\u{feff}[");
    for p in 0..12 {
        for s in 0..4 {
            let vote = if (p < 6) == (s % 2 == 0) { 1 } else { -1 };
            votes += &format!(
                "{}{{\"pid\": {p}, \"tid\": {s}, \"vote\": {vote}, \"modified\": {}}}",
                if votes.len() > 4 { "," } else { "" },
                1_700_000_000_000i64 + p * 4 + s
            );
        }
    }
    votes += "]";
    dir.file("votes.json", &votes);
    let o = analyze(&dir, &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_vote_file_name_taken_by_a_folder_or_a_pipe_says_what_it_is() {
    let dir = Scratch::new("entries");
    std::fs::create_dir(dir.0.join("votes.csv")).unwrap();
    assert_input_error(&analyze(&dir, &[]), &["votes.csv", "is a directory, not a regular file"]);
    std::fs::remove_dir(dir.0.join("votes.csv")).unwrap();

    let fifo = dir.0.join("votes.csv");
    if Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
        assert_input_error(&analyze(&dir, &[]), &["votes.csv", "is a FIFO (named pipe)"]);
        let o = bin().arg("analyze").arg(&fifo).output().unwrap();
        assert_input_error(&o, &["votes.csv", "is a FIFO (named pipe)"]);
        std::fs::remove_file(&fifo).unwrap();
    }

    // An optional file that is a folder is not silently skipped either.
    dir.file("votes.csv", &small_votes(|i| i.to_string()));
    std::fs::create_dir(dir.0.join("comments.csv")).unwrap();
    assert_input_error(&analyze(&dir, &[]), &["comments.csv", "is a directory"]);
}

#[test]
fn the_readers_notes_and_warnings_go_to_stderr_and_the_summary_claims_only_files_read() {
    let dir = Scratch::new("notes");
    dir.file("votes.csv", &small_votes(|i| (1_700_000_000_000 + i).to_string()));
    let o = analyze(&dir, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("commonground: warning: no comments.csv"), "{e}");
    assert!(e.contains("commonground: note: sign:"), "{e}");
    let s = stdout(&o);
    assert!(s.contains("read as Polis export (votes.csv);"), "{s}");
    assert!(!s.contains("comments.csv"), "the summary claims a file it did not read:\n{s}");
}

#[test]
fn contradictory_votes_at_the_same_time_are_counted_in_a_warning() {
    let dir = Scratch::new("ties");
    let mut text = small_votes(|i| (1_700_000_000_000 + i).to_string());
    // Participant 0 votes both ways on statements 0 and 1 at one time each.
    text += "1700000000000,x,0,0,-1\n1700000000001,x,1,0,1\n";
    dir.file("votes.csv", &text);
    let o = analyze(&dir, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("votes.csv: 2 participant-statement pairs have different votes at the same time"));
}

#[test]
fn replay_reports_missing_and_out_of_range_timestamps() {
    let dir = Scratch::new("replay-times");
    dir.file(
        "votes.csv",
        &small_votes(|i| match i {
            0..=2 => String::new(),
            3 => "-5".to_string(),
            _ => (1_700_000_000_000 + i).to_string(),
        }),
    );
    let o = analyze(&dir, &["--replay"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("warning: votes.csv: 3 of 48 votes have no timestamp"), "{e}");
    assert!(e.contains("warning: votes.csv: 1 votes have a timestamp before 1970 or after 3000"), "{e}");

    let without = Scratch::new("replay-no-times");
    without.file("votes.csv", &small_votes(|_| String::new()));
    let o = analyze(&without, &["--replay"]);
    assert_input_error(&o, &["needs vote timestamps", "a votes.csv without a timestamp column"]);
    assert!(stderr(&o).contains("note: votes.csv has no vote timestamps"), "{}", stderr(&o));
}

#[test]
fn terminal_control_sequences_in_statement_text_are_escaped_in_the_summary_and_kept_in_json() {
    let dir = Scratch::new("escapes");
    dir.file("votes.csv", &small_votes(|i| (1_700_000_000_000 + i).to_string()));
    let hostile = "clear\u{1b}[2J title\u{1b}]0;pwned\u{7} bidi\u{202e}txet";
    let mut comments = COMMENTS_HEADER.to_string();
    for s in 0..4 {
        comments += &format!("1,x,{s},0,,,1,\"{hostile} {s}\"\n");
    }
    dir.file("comments.csv", &comments);
    let o = analyze(&dir, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(!s.contains('\u{1b}') && !s.contains('\u{7}') && !s.contains('\u{202e}'), "{s:?}");
    assert!(s.contains("clear\\u{1b}[2J title\\u{1b}]0;pwned\\u{7} bidi\\u{202e}txet"), "{s}");
    let json = analyze(&dir, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let texts: Vec<&str> = v["statements"].as_array().unwrap().iter().filter_map(|s| s["text"].as_str()).collect();
    assert!(texts.iter().any(|t| t.starts_with(hostile)), "the JSON keeps the text exact: {texts:?}");
}
