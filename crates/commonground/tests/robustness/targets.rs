//! The robustness targets: one function per input the outside world controls, each taking raw
//! bytes and checking what must hold whatever they are. The cargo-fuzz targets (`fuzz/`, a longer
//! run with libFuzzer) and the property tests of the suite (`tests/robustness.rs`, proptest) call
//! these same functions, so the two exercise one contract:
//!
//! - no input panics, aborts or hangs (a panic is the failure both tools report);
//! - a refused input is one error line, of bounded length, naming the file;
//! - an analysis of any small vote set is finite and consistent: the group sizes add up to the
//!   participants in the conversation, every interval lies within [0, 1].

#![allow(dead_code)] // each harness uses its own part

use std::path::Path;

use commonground::io::{
    read_comments_csv, read_comments_json, read_participants_votes_csv, read_votes_csv, read_votes_json, PolisState,
};
use commonground::{Conversation, Error, Id, Params, Request, Statement, Vote, VoteBatch};

/// Longest error message accepted: a message quotes at most an excerpt of the input.
pub const MAX_MESSAGE: usize = 1_000;

/// A refused input's error: one line, bounded, naming `file`.
pub fn check_error(err: &Error, file: &str) {
    let message = err.to_string();
    assert!(!message.contains('\n') && !message.contains('\r'), "error on more than one line: {message:?}");
    let start: String = message.chars().take(200).collect();
    assert!(message.len() <= MAX_MESSAGE, "error of {} bytes: {start}", message.len());
    assert!(message.contains(file), "error does not name {file}: {message}");
}

pub fn votes_csv(data: &[u8]) {
    if let Err(e) = read_votes_csv(data, Path::new("votes.csv")) {
        check_error(&e, "votes.csv");
    }
}

pub fn comments_csv(data: &[u8]) {
    if let Err(e) = read_comments_csv(data, Path::new("comments.csv")) {
        check_error(&e, "comments.csv");
    }
}

pub fn participants_votes_csv(data: &[u8]) {
    if let Err(e) = read_participants_votes_csv(data, Path::new("participants-votes.csv")) {
        check_error(&e, "participants-votes.csv");
    }
}

/// An API dump's records: the same bytes read as `votes.json` and as `comments.json`.
pub fn api_json(data: &[u8]) {
    if let Err(e) = read_votes_json(data, Path::new("votes.json")) {
        check_error(&e, "votes.json");
    }
    if let Err(e) = read_comments_json(data, Path::new("comments.json")) {
        check_error(&e, "comments.json");
    }
}

/// A Polis math blob (`math-pca2.json`), as `Conversation::resume_from_polis` reads it.
pub fn polis_blob(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = PolisState::from_json(text, Path::new("math-pca2.json")) {
        check_error(&e, "math-pca2.json");
    }
}

/// A small vote set from bytes: each 3 bytes are one vote (participant, statement, value) on at
/// most 24 participants and 8 statements, so that arbitrary bytes make dense-enough
/// conversations for groups to form.
pub fn votes_from_bytes(data: &[u8]) -> VoteBatch {
    let mut votes = VoteBatch::new();
    for (i, v) in data.chunks_exact(3).enumerate() {
        let vote = match v[2] % 3 {
            0 => Vote::Disagree,
            1 => Vote::Pass,
            _ => Vote::Agree,
        };
        votes.push(&Id::Int(i64::from(v[0] % 24)), &Id::Int(i64::from(v[1] % 8)), vote, Some(i as i64 * 1000));
    }
    votes
}

/// The whole pipeline on an arbitrary small vote set: no panic, and the analysis is finite and
/// consistent. Bootstrap stability is on (few replicates) so that it is exercised too.
pub fn pipeline(data: &[u8]) {
    let votes = votes_from_bytes(data);
    let mut params = Params::default();
    params.group_stability.enabled = true;
    params.group_stability.replicates = 3;
    params.bridging.draws = 200;
    let request = Request { params, ..Request::default() };
    let statements: Vec<Statement> = Vec::new();
    let conv = match Conversation::run(&request, statements, &votes) {
        Ok(conv) => conv,
        Err(Error::EmptyConversation(_)) if votes.is_empty() => return,
        Err(e) => panic!("a valid vote set was refused: {e}"),
    };
    let a = conv.analysis().expect("an update ran");
    check_analysis(a);
}

/// What any analysis must satisfy.
pub fn check_analysis(a: &commonground::Analysis) {
    let in_conv = a.participants.iter().filter(|p| p.in_conv).count();
    let grouped: usize = a.groups.iter().map(|g| g.n_members).sum();
    if !a.groups.is_empty() {
        assert_eq!(grouped, in_conv, "group sizes add up to the participants in the conversation");
    }
    for p in &a.participants {
        assert!(p.x.is_finite() && p.y.is_finite(), "participant {} projected to ({}, {})", p.id, p.x, p.y);
        assert_eq!(p.group.is_some(), p.in_conv && !a.groups.is_empty(), "participant {} group", p.id);
    }
    for s in &a.statements {
        for x in [s.mean, s.extremity, s.group_aware_consensus, s.priority, s.projection[0], s.projection[1]] {
            assert!(x.is_finite(), "statement {}: a value is {x}", s.id);
        }
    }
    for c in a.pca.center.iter().chain(&a.pca.comps[0]).chain(&a.pca.comps[1]) {
        assert!(c.is_finite(), "a PCA value is {c}");
    }
    if let Some(b) = &a.bridging {
        for s in &b.statements {
            let estimates =
                s.group_agreement.iter().chain([&s.group_aware_consensus, &s.geometric_mean, &s.min_group_agreement]);
            for e in estimates {
                for x in [e.value, e.lower, e.upper] {
                    assert!((0.0..=1.0).contains(&x), "statement {}: interval {e:?} leaves [0, 1]", s.statement);
                }
                assert!(e.lower <= e.upper, "statement {}: interval {e:?}", s.statement);
            }
            if let Some(x) = s.mf_intercept {
                assert!(x.is_finite(), "statement {}: MF intercept {x}", s.statement);
            }
        }
    }
    if let Some(s) = &a.group_stability {
        for (k, v) in &s.by_k {
            for x in [v.mean_jaccard, v.min_jaccard] {
                assert!((0.0..=1.0).contains(&x), "k = {k}: Jaccard {x}");
            }
        }
    }
}
