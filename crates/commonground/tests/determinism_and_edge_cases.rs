//! Reproducibility and well-defined results on awkward input.
//!
//! - The same input and parameters give byte-identical JSON, with one thread and with many.
//! - Awkward conversations (one participant, identical votes, duplicates, a statement nobody voted
//!   on, no votes) give a clear error or a well-defined result, never a panic or a NaN.

mod common;

use commonground::io::{self, PolisMath};
use commonground::{analyze, Analysis, Conversation, Error, Params, Statement, Vote, VoteEvent};

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

/// Every number in the analysis's JSON is finite: serde_json writes NaN and infinities as `null`,
/// so a non-finite value would show up as a null where a number belongs.
fn assert_all_finite(a: &Analysis) {
    fn walk(v: &serde_json::Value, path: &str) {
        match v {
            serde_json::Value::Number(n) => assert!(n.as_f64().is_some_and(f64::is_finite), "{path}: {n}"),
            serde_json::Value::Array(xs) => xs.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| walk(x, &format!("{path}.{k}"))),
            _ => {}
        }
    }
    for p in &a.participants {
        assert!(p.x.is_finite() && p.y.is_finite(), "participant {} at ({}, {})", p.id, p.x, p.y);
    }
    for s in &a.statements {
        for x in [s.mean, s.projection[0], s.projection[1], s.extremity, s.group_aware_consensus, s.priority] {
            assert!(x.is_finite(), "statement {}: {x}", s.id);
        }
    }
    walk(&serde_json::to_value(a).unwrap(), "analysis");
    walk(&serde_json::to_value(PolisMath::from_analysis(a)).unwrap(), "polis");
}

#[test]
fn same_input_gives_byte_identical_json_with_one_thread_and_many() {
    let data = io::load(&common::bundled_example()).unwrap();
    let run = |threads| {
        in_pool(threads, || {
            let a = analyze(&data.votes, &data.statements, &Params::default()).unwrap();
            (a.to_json(), PolisMath::from_analysis(&a).to_json())
        })
    };
    let one = run(1);
    assert_eq!(one, run(1), "two runs with one thread");
    assert_eq!(one, run(4), "one thread against four");
}

#[test]
fn incremental_updates_are_deterministic_across_thread_counts() {
    let data = io::load(&common::bundled_example()).unwrap();
    let run = |threads| {
        in_pool(threads, || {
            let mut conv = Conversation::new(Params::default()).unwrap();
            conv.set_statements(data.statements.clone());
            for chunk in data.votes.to_events().chunks(10_000) {
                conv.update(chunk).unwrap();
            }
            conv.analysis().unwrap().to_json()
        })
    };
    assert_eq!(run(1), run(3));
}

fn votes(rows: &[(i64, i64, Vote)]) -> Vec<VoteEvent> {
    rows.iter().map(|&(p, s, v)| VoteEvent::new(p, s, v)).collect()
}

#[test]
fn no_votes_is_an_empty_conversation_error() {
    let e = analyze(&[], &[], &Params::default()).unwrap_err();
    assert!(matches!(e, Error::EmptyConversation(_)), "{e}");
    let mut conv = Conversation::new(Params::default()).unwrap();
    assert!(matches!(conv.update(&[]), Err(Error::EmptyConversation(_))));
}

#[test]
fn a_single_participant_gets_a_well_defined_analysis() {
    let a =
        analyze(&votes(&[(7, 0, Vote::Agree), (7, 1, Vote::Disagree), (7, 2, Vote::Pass)]), &[], &Params::default())
            .unwrap();
    assert_eq!(a.n_participants, 1);
    // One row supports no principal component: the participant sits at the origin, alone in one group.
    assert_eq!((a.participants[0].x, a.participants[0].y), (0.0, 0.0));
    assert_eq!(a.groups.len(), 1);
    assert_eq!(a.participants[0].group, Some(a.groups[0].id));
    assert_all_finite(&a);
}

#[test]
fn identical_votes_everywhere_give_one_point_and_no_nan() {
    let rows: Vec<(i64, i64, Vote)> = (0..30).flat_map(|p| (0..5).map(move |s| (p, s, Vote::Agree))).collect();
    let a = analyze(&votes(&rows), &[], &Params::default()).unwrap();
    assert!(a.participants.iter().all(|p| p.x == 0.0 && p.y == 0.0));
    assert_eq!(a.base_clusters.len(), 1, "all participants coincide");
    // Everyone agrees with everything: all of it is consensus.
    assert_eq!(a.consensus.agree.len(), 5);
    assert_all_finite(&a);
}

#[test]
fn duplicate_votes_count_once_and_the_latest_wins() {
    let mut events = votes(&[(1, 0, Vote::Agree), (2, 0, Vote::Agree), (3, 0, Vote::Disagree)]);
    events.push(VoteEvent::new(1, 0, Vote::Disagree).at(10));
    events.push(VoteEvent::new(1, 0, Vote::Pass).at(5));
    events.push(VoteEvent::new(2, 0, Vote::Agree));
    let a = analyze(&events, &[], &Params::default()).unwrap();
    let s = &a.statements[0];
    assert_eq!((s.n_agree, s.n_disagree, s.n_pass), (1, 2, 0), "participant 1's latest vote (t=10) is disagree");
    assert_eq!(a.n_votes, 3);
}

#[test]
fn a_statement_nobody_voted_on_is_not_a_column_and_breaks_nothing() {
    // Polis's rating matrix has a column per statement with at least one vote (named_matrix.clj).
    let statements: Vec<Statement> = (0..4).map(Statement::new).collect();
    let rows: Vec<(i64, i64, Vote)> = (0..20)
        .flat_map(|p| (0..3).map(move |s| (p, s, if (p + s) % 3 == 0 { Vote::Agree } else { Vote::Disagree })))
        .collect();
    let a = analyze(&votes(&rows), &statements, &Params::default()).unwrap();
    assert_eq!(a.n_statements, 3);
    assert!(a.statements.iter().all(|s| s.id != 3.into()));
    assert_all_finite(&a);
}

#[test]
fn a_vote_on_an_unknown_statement_is_rejected_and_the_conversation_is_unchanged() {
    let mut conv = Conversation::new(Params::default()).unwrap();
    conv.set_statements((0..3).map(Statement::new));
    conv.update(&votes(&[(1, 0, Vote::Agree), (2, 1, Vote::Disagree)])).unwrap();
    let before = conv.analysis().unwrap().clone();
    let e = conv.update(&votes(&[(3, 2, Vote::Agree), (3, 9, Vote::Agree)])).unwrap_err();
    assert!(matches!(&e, Error::UnknownStatement { statement, .. } if *statement == 9.into()), "{e}");
    assert!(e.to_string().contains('9'));
    assert_eq!(conv.analysis().unwrap(), &before, "nothing already accepted is lost, nothing half-applied");
    assert_eq!(conv.matrix().n_votes(), 2);
}

#[test]
fn invalid_parameters_are_rejected_before_any_work() {
    let e = Conversation::new(Params { max_k: 0, ..Params::default() }).unwrap_err();
    assert!(matches!(&e, Error::InvalidParameter { name, .. } if name == "max_k"), "{e}");
}

#[test]
fn the_bundled_example_analysis_is_finite_everywhere() {
    let data = io::load(&common::bundled_example()).unwrap();
    let a = analyze(&data.votes, &data.statements, &Params::default()).unwrap();
    assert_eq!((a.n_participants, a.n_statements), (1921, 197));
    assert_eq!(a.groups.len(), 2);
    assert_all_finite(&a);
}

#[test]
fn a_conversation_large_enough_to_run_in_parallel_is_identical_with_one_thread_and_many() {
    // 20,000 participants: several parallel jobs in the PCA products and k-means assignment.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut events = Vec::new();
    for p in 0..20_000i64 {
        let camp = p % 3;
        for _ in 0..(3 + next() % 12) {
            let s = (next() % 60) as i64;
            let leaning = if s % 3 == camp { 2 } else { 0 };
            let v = match (next() % 4) as i64 + leaning {
                0 => Vote::Disagree,
                1 => Vote::Pass,
                _ => Vote::Agree,
            };
            events.push(VoteEvent::new(p, s, v));
        }
    }
    let run = |threads| in_pool(threads, || analyze(&events, &[], &Params::default()).unwrap().to_json());
    assert_eq!(run(1), run(4));
}

#[test]
fn two_exactly_opposite_camps_are_found_although_all_ones_is_orthogonal_to_the_data() {
    // Every participant agrees with half the statements and disagrees with the other half, so each
    // centred row sums to zero: a PCA started from all ones alone would see nothing.
    let rows: Vec<(i64, i64, Vote)> = (0..40)
        .flat_map(|p| (0..8).map(move |s| (p, s, if (p < 20) == (s < 4) { Vote::Agree } else { Vote::Disagree })))
        .collect();
    let a = analyze(&votes(&rows), &[], &Params::default()).unwrap();
    assert_eq!(a.groups.len(), 2, "two camps");
    let camp_of = |id: &commonground::Id| matches!(id, commonground::Id::Int(p) if *p < 20);
    for g in &a.groups {
        let members: Vec<bool> =
            a.participants.iter().filter(|p| p.group == Some(g.id)).map(|p| camp_of(&p.id)).collect();
        assert!(members.iter().all(|&c| c == members[0]), "a group mixes the camps");
    }
    assert_all_finite(&a);
}
