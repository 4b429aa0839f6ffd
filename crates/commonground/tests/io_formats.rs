//! The input layer, specified on the real reference data in `shared/data` (see its README) and on
//! small synthetic folders for the cases real data does not show: flipped signs and bad input.
//!
//! Tests that need the shared data print a message and pass when it is absent.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::Path;

use commonground::io::{self, InputFormat, SignDetection};
use commonground::{Error, Id, ModerationStatus, Vote, VoteEvent, VoteMatrix};

mod common;
use common::{shared_data, Scratch};

/// The openData conversations: folder, vote events (votes.csv rows), statements (comments.csv rows).
const OPENDATA: [(&str, usize, usize); 9] = [
    ("15-per-hour-seattle", 2995, 54),
    ("austria-climate.5twd2jsnkf.2022-08-08", 61936, 522),
    ("bg2050-volunteers", 14341, 371),
    ("brexit-consensus", 5312, 50),
    ("canadian-electoral-reform", 12018, 174),
    ("football-concussions", 14924, 298),
    ("london.youth.policing", 640, 39),
    ("scoop-hivemind.ubi", 7174, 71),
    ("vtaiwan.uberx", 49997, 197),
];

/// `wc -l` of a file.
fn line_count(path: &Path) -> usize {
    fs::read(path).unwrap().iter().filter(|&&b| b == b'\n').count()
}

fn csv_record_count(path: &Path) -> usize {
    csv::Reader::from_path(path).unwrap().byte_records().count()
}

fn moderated_out(data: &io::ConversationData) -> BTreeSet<i64> {
    data.statements
        .iter()
        .filter(|s| s.is_moderated_out())
        .map(|s| match s.id {
            Id::Int(n) => n,
            Id::Str(_) => panic!("string statement id"),
        })
        .collect()
}

/// Asserts that the vote events rebuild the matrix of participants-votes.csv, cell for cell.
fn assert_reproduces_participants_votes(folder: &Path) {
    let data = io::load(folder).unwrap();
    let matrix_path = folder.join("participants-votes.csv");
    let expected = io::read_participants_votes_csv(fs::File::open(&matrix_path).unwrap(), &matrix_path).unwrap();
    let matrix = VoteMatrix::from_batch(&data.votes);
    for e in &expected {
        let row =
            matrix.participant_index(&e.participant).unwrap_or_else(|| panic!("{folder:?}: no {}", e.participant));
        let col = matrix.statement_index(&e.statement).unwrap_or_else(|| panic!("{folder:?}: no {}", e.statement));
        assert_eq!(
            matrix.get(row, col),
            Some(e.vote),
            "{folder:?}: participant {}, statement {}",
            e.participant,
            e.statement
        );
    }
    assert_eq!(matrix.n_votes(), expected.len(), "{folder:?}: cells beyond participants-votes.csv");
    let participants: BTreeSet<&Id> = expected.iter().map(|e| &e.participant).collect();
    assert_eq!(matrix.n_participants(), participants.len(), "{folder:?}");
}

// ---------------------------------------------------------------------------------------------
// Real data
// ---------------------------------------------------------------------------------------------

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn every_opendata_export_loads_every_vote_and_statement_with_agree_positive_detected() {
    let Some(data_dir) = shared_data() else { return };
    let folders: BTreeSet<String> = fs::read_dir(data_dir.join("opendata"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = OPENDATA.iter().map(|(name, _, _)| name.to_string()).collect();
    assert_eq!(folders, expected);

    for (name, n_votes, n_statements) in OPENDATA {
        let folder = data_dir.join("opendata").join(name);
        let data = io::load(&folder).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.votes.len(), line_count(&folder.join("votes.csv")) - 1, "{name}: votes = wc -l votes.csv - 1");
        assert_eq!(data.votes.len(), n_votes, "{name}");
        assert_eq!(data.statements.len(), csv_record_count(&folder.join("comments.csv")), "{name}: statements");
        assert_eq!(data.statements.len(), n_statements, "{name}");
        assert_eq!(data.source.format, InputFormat::PolisExport, "{name}");
        assert_eq!(data.source.sign, SignDetection::DetectedAgreePositive, "{name}: {:?}", data.source.notes);
        // Polis's agrees/disagrees count every vote event, superseded ones included: exactly.
        assert!(
            data.source.notes.iter().any(|n| n.contains("error 0 if agree = +1")),
            "{name}: {:?}",
            data.source.notes
        );
        assert!(
            data.votes.events().all(|e| e.timestamp.is_some_and(|t| t > 1_000_000_000_000)),
            "{name}: ms timestamps"
        );
        assert!(data.statements.windows(2).all(|w| w[0].id < w[1].id), "{name}: statements sorted by id");
        assert_eq!(data.source.path, folder);
    }
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn vtaiwan_uberx_latest_votes_reproduce_participants_votes_csv_cell_for_cell() {
    let Some(data_dir) = shared_data() else { return };
    assert_reproduces_participants_votes(&data_dir.join("opendata/vtaiwan.uberx"));
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn every_other_opendata_export_reproduces_its_participants_votes_csv_too() {
    let Some(data_dir) = shared_data() else { return };
    for (name, _, _) in OPENDATA.iter().filter(|(name, _, _)| *name != "vtaiwan.uberx") {
        assert_reproduces_participants_votes(&data_dir.join("opendata").join(name));
    }
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn an_export_folder_without_votes_csv_reads_the_participants_votes_matrix() {
    let Some(data_dir) = shared_data() else { return };
    let source = data_dir.join("opendata/london.youth.policing");
    let scratch = Scratch::new("matrix-only");
    for file in ["participants-votes.csv", "comments.csv"] {
        fs::copy(source.join(file), scratch.path().join(file)).unwrap();
    }
    let data = io::load(scratch.path()).unwrap();
    assert_eq!(data.source.format, InputFormat::PolisExportMatrix);
    assert_eq!(data.votes.len(), 638, "one event per non-blank cell");
    assert!(data.votes.events().all(|e| e.timestamp.is_none()));
    assert_eq!(data.statements.len(), 39);
    assert_eq!(data.source.sign, SignDetection::DetectedAgreePositive, "{:?}", data.source.notes);
    // Row order, then column order: participant 1 voted -1 on statement 1 and 1 on statement 4.
    assert_eq!(data.votes.event(0), VoteEvent::new(1, 1, Vote::Disagree));
    assert_eq!(data.votes.event(1), VoteEvent::new(1, 4, Vote::Agree));
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn polis_math_api_dumps_load_with_agree_positive_and_the_readme_moderation() {
    let Some(data_dir) = shared_data() else { return };
    struct Dump {
        name: &'static str,
        votes: usize,
        /// Rows of comments.json.
        statements: usize,
        /// Statements with at least one vote (the README's "statements" column).
        voted: usize,
        moderated_out: &'static [i64],
        meta: &'static [i64],
    }
    let cases = [
        Dump { name: "below-100-ptpts", votes: 504, statements: 44, voted: 44, moderated_out: &[11, 33], meta: &[] },
        Dump {
            name: "25ptpt-3gp-no-strict-with-meta",
            votes: 1386,
            statements: 57,
            voted: 57,
            moderated_out: &[0, 1, 2, 3],
            meta: &[0, 1, 2, 3],
        },
        Dump {
            name: "above-100-ptpts",
            votes: 5216,
            statements: 63,
            voted: 60,
            moderated_out: &[0, 6, 23, 24, 42, 43, 51],
            meta: &[6, 23],
        },
    ];
    for Dump { name, votes: n_votes, statements: n_statements, voted: n_voted, moderated_out: mod_out, meta } in cases {
        let data = io::load(&data_dir.join("polis-math").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.source.format, InputFormat::PolisApiDump, "{name}");
        assert_eq!(data.source.sign, SignDetection::DetectedAgreePositive, "{name}: {:?}", data.source.notes);
        assert!(data.source.notes.iter().any(|n| n.contains("error 0 if agree = +1")), "{name}");
        assert!(data.source.notes.iter().any(|n| n.starts_with("topic: ")), "{name}: conversation.json topic");
        assert_eq!(data.votes.len(), n_votes, "{name}");
        assert_eq!(data.statements.len(), n_statements, "{name}");
        assert_eq!(VoteMatrix::from_batch(&data.votes).n_statements(), n_voted, "{name}");
        assert_eq!(moderated_out(&data), mod_out.iter().copied().collect(), "{name}: moderated out");
        let metas: BTreeSet<i64> = data
            .statements
            .iter()
            .filter(|s| s.is_meta)
            .filter_map(|s| if let Id::Int(n) = s.id { Some(n) } else { None })
            .collect();
        assert_eq!(metas, meta.iter().copied().collect(), "{name}: meta");
        assert!(data.votes.events().all(|e| e.timestamp.is_some_and(|t| t > 1_000_000_000_000)), "{name}");
        assert!(data.statements.iter().all(|s| s.text.is_some() && s.created.is_some()), "{name}");
    }
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn api_dump_fields_are_read_in_both_naming_generations() {
    let Some(data_dir) = shared_data() else { return };
    // Polis API names (pid, tid, mod; times as epoch-ms strings).
    let below = io::load(&data_dir.join("polis-math/below-100-ptpts")).unwrap();
    assert_eq!(below.votes.event(0), VoteEvent::new(0, 0, Vote::Pass).at(1_714_782_753_431));
    let s0 = &below.statements[0];
    assert_eq!((s0.id.clone(), s0.author.clone(), s0.created), (Id::Int(0), Some(Id::Int(0)), Some(1_714_613_201_691)));
    assert_eq!(s0.text.as_deref(), Some("Polis is perfect just the way it is. No changes are necessary."));
    assert_eq!(below.statements[11].moderation, ModerationStatus::Rejected);

    // red-dwarf names (participant_id, statement_id, moderated; float and ISO-8601 times).
    let above = io::load(&data_dir.join("polis-math/above-100-ptpts")).unwrap();
    assert_eq!(above.votes.event(0), VoteEvent::new(0, 1, Vote::Agree).at(1_515_620_784_141));
    let s1 = above.statements.iter().find(|s| s.id == Id::Int(1)).unwrap();
    assert_eq!(s1.created, Some(1_515_611_017_255), "2018-01-10T19:03:37.255000Z");
    assert_eq!(s1.moderation, ModerationStatus::Accepted);
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn polis_math_vw_is_an_export_with_epoch_seconds_converted_to_milliseconds() {
    let Some(data_dir) = shared_data() else { return };
    let data = io::load(&data_dir.join("polis-math/vw")).unwrap();
    assert_eq!(data.source.format, InputFormat::PolisExport);
    assert_eq!(data.source.sign, SignDetection::DetectedAgreePositive, "{:?}", data.source.notes);
    assert_eq!(data.votes.len(), 4683);
    assert_eq!(data.statements.len(), 125);
    assert_eq!(data.votes.event(0), VoteEvent::new(2, 0, Vote::Agree).at(1_732_028_760_000));
    assert!(data.votes.events().all(|e| e.timestamp.is_some_and(|t| t > 1_000_000_000_000)));
    assert_eq!(data.statements.iter().find(|s| s.id == Id::Int(97)).unwrap().created, Some(1_732_029_245_000));
    for file in ["votes.csv", "comments.csv"] {
        assert!(
            data.source.notes.iter().any(|n| n.starts_with(file) && n.contains("epoch seconds")),
            "{file}: {:?}",
            data.source.notes
        );
    }
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn load_takes_the_path_of_a_votes_csv_as_its_folder() {
    let Some(data_dir) = shared_data() else { return };
    let folder = data_dir.join("opendata/london.youth.policing");
    let data = io::load(&folder.join("votes.csv")).unwrap();
    assert_eq!(data.source.path, folder);
    assert_eq!(data.votes.len(), 640);
}

#[test]
fn each_reader_recognises_its_own_files_and_only_them() {
    let detected = |scratch: &Scratch| -> Vec<InputFormat> {
        io::READERS.iter().filter(|r| r.detect(scratch.path())).map(|r| r.format()).collect()
    };
    let export = Scratch::new("detect-export").with("votes.csv", "").with("comments.csv", "");
    assert_eq!(detected(&export), [InputFormat::PolisExport]);
    let matrix = Scratch::new("detect-matrix").with("participants-votes.csv", "").with("comments.csv", "");
    assert_eq!(detected(&matrix), [InputFormat::PolisExportMatrix]);
    let dump = Scratch::new("detect-dump").with("votes.json", "").with("comments.json", "");
    assert_eq!(detected(&dump), [InputFormat::PolisApiDump]);
    // A full export has both CSVs: the vote events win over the matrix of latest votes.
    let full = Scratch::new("detect-full").with("votes.csv", "").with("participants-votes.csv", "");
    assert_eq!(detected(&full), [InputFormat::PolisExport]);
    assert!(detected(&Scratch::new("detect-none").with("comments.csv", "")).is_empty());
}

#[test]
fn an_export_beside_an_api_dump_is_read_as_the_export_and_the_dump_noted() {
    let scratch = Scratch::new("export-and-dump")
        .with("votes.csv", &format!("{VOTES_HEADER}1435654192085,x,0,0,1\n"))
        .with("votes.json", r#"[{"pid":1,"tid":2,"vote":1}]"#);
    for path in [scratch.path().to_path_buf(), scratch.path().join("votes.json")] {
        let data = io::load(&path).unwrap();
        assert_eq!(data.source.format, InputFormat::PolisExport);
        assert!(
            data.source.notes.iter().any(|n| n == "votes.json is also present; read the CSV export and ignored it"),
            "{:?}",
            data.source.notes
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Sign detection on synthetic folders
// ---------------------------------------------------------------------------------------------

/// A small conversation in agree = +1: 12 participants x 4 statements, every cell voted.
fn true_votes() -> Vec<(i64, i64, i64)> {
    let pattern = [1, 1, -1, 0, 1, -1, 1];
    (0..12).flat_map(|p| (0..4).map(move |t| (p, t, pattern[((p * 3 + t) % 7) as usize]))).collect()
}

fn true_tallies() -> HashMap<i64, (usize, usize)> {
    let mut t: HashMap<i64, (usize, usize)> = HashMap::new();
    for (_, s, v) in true_votes() {
        let e = t.entry(s).or_default();
        match v {
            1 => e.0 += 1,
            -1 => e.1 += 1,
            _ => {}
        }
    }
    t
}

fn expected_events() -> Vec<VoteEvent> {
    true_votes()
        .into_iter()
        .enumerate()
        .map(|(i, (p, s, v))| VoteEvent::new(p, s, Vote::from_value(v).unwrap()).at(1_700_000_000_000 + i as i64))
        .collect()
}

#[test]
fn a_raw_polis_api_dump_with_agree_negative_is_detected_and_flipped() {
    let votes: Vec<String> = true_votes()
        .into_iter()
        .enumerate()
        .map(|(i, (p, t, v))| {
            format!(r#"{{"pid":{p},"tid":{t},"vote":{},"modified":"{}"}}"#, -v, 1_700_000_000_000 + i as i64)
        })
        .collect();
    let comments: Vec<String> = true_tallies()
        .into_iter()
        .map(|(t, (a, d))| {
            format!(r#"{{"tid":{t},"txt":"s{t}","mod":0,"is_meta":false,"agree_count":{a},"disagree_count":{d}}}"#)
        })
        .collect();
    let scratch = Scratch::new("raw-dump")
        .with("votes.json", &format!("[{}]", votes.join(",\n")))
        .with("comments.json", &format!("[{}]", comments.join(",\n")));
    let data = io::load(scratch.path()).unwrap();
    assert_eq!(data.source.format, InputFormat::PolisApiDump);
    assert_eq!(data.source.sign, SignDetection::DetectedAgreeNegative, "{:?}", data.source.notes);
    assert_eq!(data.votes.to_events(), expected_events(), "flipped to agree = +1");
    let note = data.source.notes.iter().find(|n| n.starts_with("sign:")).unwrap();
    assert!(note.contains("if agree = +1") && note.contains("0 if agree = -1"), "{note}");
}

#[test]
fn an_api_dump_without_agree_counts_assumes_agree_positive() {
    let scratch = Scratch::new("dump-no-counts")
        .with("votes.json", r#"[{"participant_id":0,"statement_id":0,"vote":-1.0,"modified":1515620784141.0}]"#)
        .with("comments.json", r#"[{"statement_id":0,"txt":"a","moderated":1,"is_meta":false}]"#);
    let data = io::load(scratch.path()).unwrap();
    assert_eq!(data.source.sign, SignDetection::Assumed);
    assert_eq!(data.votes.to_events(), vec![VoteEvent::new(0, 0, Vote::Disagree).at(1_515_620_784_141)]);
    assert!(data.source.warnings.iter().any(|n| n.contains("assumed")), "{:?}", data.source.warnings);
}

#[test]
fn an_export_votes_csv_with_the_raw_sign_is_detected_and_flipped() {
    let mut votes = String::from("timestamp,datetime,comment-id,voter-id,vote\n");
    for (i, (p, t, v)) in true_votes().into_iter().enumerate() {
        votes += &format!("{},x,{t},{p},{}\n", 1_700_000_000_000 + i as i64, -v);
    }
    let mut comments =
        String::from("timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n");
    for (t, (a, d)) in true_tallies() {
        comments += &format!("1700000000000,x,{t},0,{a},{d},1,statement {t}\n");
    }
    let scratch = Scratch::new("flipped-export").with("votes.csv", &votes).with("comments.csv", &comments);
    let data = io::load(scratch.path()).unwrap();
    assert_eq!(data.source.sign, SignDetection::DetectedAgreeNegative, "{:?}", data.source.notes);
    assert_eq!(data.votes.to_events(), expected_events());
}

#[test]
fn an_export_without_comments_csv_makes_statements_from_the_votes() {
    let scratch = Scratch::new("no-comments")
        .with("votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n1,x,5,0,1\n2,x,2,1,-1\n3,x,5,1,0\n");
    let data = io::load(scratch.path()).unwrap();
    assert_eq!(data.source.sign, SignDetection::ExportConvention);
    let ids: Vec<Id> = data.statements.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, vec![Id::Int(2), Id::Int(5)]);
    assert!(data.statements.iter().all(|s| s.text.is_none()));
    assert!(data.source.warnings.iter().any(|n| n.starts_with("no comments.csv")), "{:?}", data.source.warnings);
    assert_eq!(data.source.files, vec!["votes.csv"], "the files read, and only those");
    assert_eq!(data.votes.event(0).timestamp, Some(1000), "epoch seconds become ms");
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear error naming the file and the line (CSV) or record (JSON)
// ---------------------------------------------------------------------------------------------

const VOTES_HEADER: &str = "timestamp,datetime,comment-id,voter-id,vote\n";

fn export_error(name: &str, votes_rows: &str) -> (Error, String) {
    let scratch = Scratch::new(name).with("votes.csv", &format!("{VOTES_HEADER}{votes_rows}"));
    let err = io::load(scratch.path()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("votes.csv"), "{text}");
    (err, text)
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_a_parse_error_at_its_line() {
    let (err, text) = export_error("bad-fields", "1435654192085,x,0,0,1\n1435654192086,x,0,1\n");
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    assert!(text.contains("votes.csv:3:"), "{text}");
}

#[test]
fn a_vote_of_2_is_an_invalid_vote_at_its_line() {
    let (err, text) = export_error("vote-2", "1435654192085,x,0,0,2\n");
    assert!(matches!(err, Error::InvalidVote { ref value, .. } if value == "2"), "{err:?}");
    assert!(text.contains("votes.csv:2:"), "{text}");
}

#[test]
fn a_vote_of_abc_is_an_invalid_vote_at_its_line() {
    let (err, text) =
        export_error("vote-abc", "1435654192085,x,0,0,1\n1435654192085,x,0,1,0.0\n1435654192085,x,1,1,abc\n");
    assert!(matches!(err, Error::InvalidVote { .. }), "{err:?}");
    assert!(text.contains("votes.csv:4:") && text.contains("abc"), "{text}");
}

#[test]
fn a_non_numeric_timestamp_is_a_parse_error_at_its_line() {
    let (err, text) = export_error("bad-time", "yesterday,x,0,0,1\n");
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    assert!(text.contains("votes.csv:2:") && text.contains("yesterday"), "{text}");
}

#[test]
fn a_vote_on_a_statement_missing_from_comments_csv_is_an_unknown_statement() {
    let scratch = Scratch::new("unknown-statement")
        .with("votes.csv", &format!("{VOTES_HEADER}1,x,1,0,1\n2,x,9,0,1\n"))
        .with("comments.csv", "comment-id,comment-body\n1,the only statement\n");
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::UnknownStatement { statement: Id::Int(9), .. }), "{err:?}");
    assert!(err.to_string().contains("votes.csv:3:"), "{err}");
}

#[test]
fn a_statement_listed_twice_with_different_text_is_a_conflict() {
    let scratch = Scratch::new("conflict")
        .with("votes.csv", &format!("{VOTES_HEADER}1,x,1,0,1\n"))
        .with("comments.csv", "comment-id,comment-body\n1,same\n1,same\n1,different\n");
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::ConflictingStatement { field: "text", .. }), "{err:?}");
    assert!(err.to_string().contains("comments.csv:4:"), "{err}");
}

#[test]
fn a_folder_without_votes_is_an_empty_conversation() {
    let scratch = Scratch::new("empty").with("votes.csv", VOTES_HEADER);
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::EmptyConversation(_)), "{err:?}");
    assert!(err.to_string().contains(&scratch.path().display().to_string()), "{err}");
}

#[test]
fn a_folder_of_unknown_format_lists_what_was_expected() {
    let scratch = Scratch::new("unknown-format").with("notes.txt", "hello");
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("unknown-format") && text.contains("votes.csv") && text.contains("votes.json"), "{text}");
    assert!(text.contains("notes.txt"), "says what it found: {text}");
}

#[test]
fn a_missing_path_is_an_io_error_naming_it() {
    let err = io::load(Path::new("/nonexistent/commonground/folder")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/commonground/folder"));
}

#[test]
fn invalid_json_is_a_parse_error_at_its_line() {
    let scratch =
        Scratch::new("bad-json").with("votes.json", "[{\"pid\": 1, \"tid\": 2, \"vote\": 1},\n {\"pid\": 2,, }]");
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("votes.json:2:") && text.contains("line 2"), "{text}");
}

#[test]
fn a_bad_json_vote_names_its_record_index() {
    let scratch =
        Scratch::new("json-vote").with("votes.json", r#"[{"pid":1,"tid":2,"vote":1},{"pid":1,"tid":3,"vote":2}]"#);
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::InvalidVote { .. }), "{err:?}");
    assert!(err.to_string().contains("votes.json:2:"), "{err}");
}

#[test]
fn a_json_vote_on_an_unknown_statement_names_its_record_index() {
    let scratch = Scratch::new("json-unknown")
        .with("votes.json", r#"[{"pid":1,"tid":2,"vote":1},{"pid":1,"tid":3,"vote":1},{"pid":1,"tid":4,"vote":1}]"#)
        .with("comments.json", r#"[{"tid":2,"txt":"a"},{"tid":3,"txt":"b"}]"#);
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::UnknownStatement { statement: Id::Int(4), .. }), "{err:?}");
    assert!(err.to_string().contains("votes.json:3:"), "{err}");
}

#[test]
fn a_json_record_without_ids_is_a_parse_error_naming_the_record() {
    let scratch =
        Scratch::new("json-no-id").with("votes.json", r#"[{"pid":1,"tid":2,"vote":1},{"voter":1,"tid":3,"vote":1}]"#);
    let err = io::load(scratch.path()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("votes.json:2:") && text.contains("record 2") && text.contains("participant_id"), "{text}");
}

/// Deterministic byte mutations of valid inputs: every outcome must be `Ok` or `Err`, never a panic.
#[test]
fn no_mutation_of_valid_input_makes_a_reader_panic() {
    let votes = format!("{VOTES_HEADER}1435654192085,x,0,0,1\n1435654192086,x,1,0,-1\n1435654192087,x,1,1,0\n");
    let comments = "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,comment-body\n\
                    1,0,3,1,0,1,false,\"a, \"\"quoted\"\"\nbody\"\n2,1,4,0,1,-1,true,b\n";
    let matrix =
        "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n0,,0,1,2,1,1,1,-1\n1,,,0,1,0,0,,0\n";
    let json = r#"[{"pid":0,"tid":0,"vote":-1,"modified":"1714782753431"},{"participant_id":"a","statement_id":1,"vote":1.0,"modified":1.5e12}]"#;
    let comments_json = r#"[{"tid":0,"txt":"a","mod":1,"is_meta":false,"created":"2018-01-10T19:03:37.255000Z","agree_count":0,"disagree_count":1}]"#;
    let alphabet = b",\"\n\r-12x. \xff:{}[]0Z";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let scratch = Scratch::new("mutations");
    for round in 0..4000 {
        let source: &str = [votes.as_str(), comments, matrix, json, comments_json][round % 5];
        let mut bytes = source.as_bytes().to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % bytes.len().max(1);
            match next() % 3 {
                0 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at.min(bytes.len()), alphabet[(next() as usize) % alphabet.len()]),
                _ if !bytes.is_empty() => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                _ => {}
            }
        }
        let _ = io::read_votes_csv(bytes.as_slice(), Path::new("votes.csv"));
        let _ = io::read_comments_csv(bytes.as_slice(), Path::new("comments.csv"));
        let _ = io::read_participants_votes_csv(bytes.as_slice(), Path::new("participants-votes.csv"));
        if round % 5 >= 3 {
            let file = if round % 5 == 3 { "votes.json" } else { "comments.json" };
            fs::write(scratch.path().join(file), &bytes).unwrap();
            if !scratch.path().join("votes.json").exists() {
                fs::write(scratch.path().join("votes.json"), json).unwrap();
            }
            let _ = io::load(scratch.path());
        }
    }
}
