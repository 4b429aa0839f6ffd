//! Robustness in the suite (issue 14): the fuzz targets of `fuzz/` run here through proptest, over
//! arbitrary bytes and over CSV- and JSON-like text, and the properties users rely on are checked
//! on random conversations:
//!
//! - shuffling the rows of a `votes.csv` whose timestamps are distinct changes no output byte
//!   (Polis orders votes by statement, participant and time, not by file position);
//! - renaming participants and statements with an order-preserving map changes nothing but the
//!   names (an order-changing one may legitimately move groups: Polis's k-means start depends on
//!   the order, so it is not asserted);
//! - adding a pass vote changes no statement's agree or disagree count;
//! - a conversation split into batches and replayed equals the same batches fed to `update`.
//!
//! proptest's seeds are fixed by its default configuration per test name, and every case count
//! is small, so the file runs in seconds.

#[path = "robustness/targets.rs"]
mod targets;

use std::collections::HashMap;
use std::path::Path;

use commonground::io::read_votes_csv;
use commonground::{
    Batching, Conversation, Id, Mode, Params, Request, Restarts, Statement, Vote, VoteBatch, VoteEvent,
};
use proptest::prelude::*;
use serde_json::Value;

/// Text that looks like a CSV file: a header most of the time, then rows from a small alphabet
/// (digits, commas, quotes, line ends, signs, dots, letters, a BOM and a NUL).
fn csv_like(header: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), "[0-9,\"\r\n.a-z +\u{feff}\u{0}-]{0,400}")
        .prop_map(move |(with_header, body)| if with_header { format!("{header}\n{body}") } else { body }.into_bytes())
}

fn json_like() -> impl Strategy<Value = Vec<u8>> {
    let record =
        (0i64..5, prop_oneof![Just("1".to_string()), "-?[0-9.e]{1,4}", "\"[0-9a-z]{0,3}\"", Just("null".into())])
            .prop_map(|(pid, vote)| {
                format!("{{\"pid\": {pid}, \"tid\": {vote}, \"vote\": {vote}, \"txt\": \"t\", \"mod\": {vote}}}")
            });
    prop_oneof![
        prop::collection::vec(record, 0..6).prop_map(|r| format!("[{}]", r.join(",")).into_bytes()),
        "[\\[\\]{}\":,0-9a-z .\\\\-]{0,200}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn the_csv_readers_never_panic_and_refuse_in_one_line(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                                          votes in csv_like("timestamp,datetime,comment-id,voter-id,vote"),
                                                          comments in csv_like("timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body"),
                                                          matrix in csv_like("participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1")) {
        for data in [&bytes, &votes, &comments, &matrix] {
            targets::votes_csv(data);
            targets::comments_csv(data);
            targets::participants_votes_csv(data);
        }
    }

    #[test]
    fn the_json_readers_never_panic_and_refuse_in_one_line(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                                           json in json_like()) {
        for data in [&bytes, &json] {
            targets::api_json(data);
            targets::polis_blob(data);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn the_pipeline_on_any_small_vote_set_is_finite_and_consistent(bytes in prop::collection::vec(any::<u8>(), 0..450)) {
        targets::pipeline(&bytes);
    }
}

/// A random conversation: `(participant, statement, vote)` for the cells that voted.
fn conversation() -> impl Strategy<Value = Vec<(i64, i64, Vote)>> {
    conversation_of(0)
}

/// A random conversation where every participant votes on every statement (cells from `first`:
/// 0 leaves some empty, 1 none).
fn conversation_of(first: u8) -> impl Strategy<Value = Vec<(i64, i64, Vote)>> {
    (10usize..28, 3usize..8).prop_flat_map(move |(n_p, n_s)| {
        prop::collection::vec(first..5, n_p * n_s).prop_map(move |cells| {
            cells
                .iter()
                .enumerate()
                .filter_map(|(i, &c)| {
                    let vote = match c {
                        0 => return None,
                        1 => Vote::Pass,
                        2 => Vote::Disagree,
                        _ => Vote::Agree,
                    };
                    Some(((i / n_s) as i64, (i % n_s) as i64, vote))
                })
                .collect()
        })
    })
}

fn params() -> Params {
    let mut params = Params::default();
    params.bridging.draws = 200;
    params
}

fn analyze(votes: &VoteBatch) -> String {
    let request = Request { params: params(), mode: Mode::OneBatch, ..Default::default() };
    match Conversation::run(&request, Vec::<Statement>::new(), votes) {
        Ok(conv) => conv.analysis().expect("an update ran").to_json(),
        Err(e) => format!("error: {e}"),
    }
}

fn csv(rows: &[(i64, i64, Vote, i64)]) -> String {
    let mut text = String::from("timestamp,datetime,comment-id,voter-id,vote\n");
    for &(p, s, v, t) in rows {
        text += &format!("{t},x,{s},{p},{}\n", v.value());
    }
    text
}

fn batch(events: &[VoteEvent]) -> VoteBatch {
    VoteBatch::from_events(events)
}

/// Whether two analyses' JSON are equal up to ids renamed by `rename` (an integer of `a` may
/// become any of its renamings in `b`): every other value, key and order must match.
fn same_up_to_ids(a: &Value, b: &Value, rename: &dyn Fn(i64) -> [i64; 2]) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_up_to_ids(x, y, rename))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((kx, vx), (ky, vy))| {
                    let key_same = kx == ky
                        || kx.parse::<i64>().is_ok_and(|k| ky.parse::<i64>().is_ok_and(|r| rename(k).contains(&r)));
                    key_same && same_up_to_ids(vx, vy, rename)
                })
        }
        (Value::Number(x), Value::Number(y)) => {
            x == y || x.as_i64().is_some_and(|k| y.as_i64().is_some_and(|r| rename(k).contains(&r)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn shuffling_the_rows_of_a_votes_csv_with_distinct_timestamps_changes_no_output_byte(
        (rows, shuffled) in conversation().prop_flat_map(|cells| {
            let rows: Vec<(i64, i64, Vote, i64)> =
                cells.iter().enumerate().map(|(i, &(p, s, v))| (p, s, v, 1_700_000_000_000 + i as i64)).collect();
            (Just(rows.clone()), Just(rows).prop_shuffle())
        })
    ) {
        let read = |rows: &[(i64, i64, Vote, i64)]| {
            batch(&read_votes_csv(csv(rows).as_bytes(), Path::new("votes.csv")).expect("a valid votes.csv"))
        };
        prop_assert_eq!(analyze(&read(&rows)), analyze(&read(&shuffled)));
    }

    /// Every participant votes on every statement, so that all are in the conversation by Polis's
    /// threshold: below `min_in_conv` (15) participants qualifying, Polis tops them up from the
    /// most active, ties in the iteration order of a Clojure hash map of the participant ids
    /// (`stats/in_conv.rs`), which a renaming changes even when it keeps the order.
    #[test]
    fn an_order_preserving_renaming_changes_nothing_but_the_names(cells in conversation_of(1)) {
        // Participants and statements move to ranges no count or index of a small conversation
        // reaches, so a renamed id is never mistaken for another value.
        let (p_new, s_new) = (|p: i64| 1_000_000 + 7 * p, |s: i64| 2_000_000 + 3 * s);
        let events = |rename: bool| -> Vec<VoteEvent> {
            cells
                .iter()
                .enumerate()
                .map(|(i, &(p, s, v))| {
                    let (p, s) = if rename { (p_new(p), s_new(s)) } else { (p, s) };
                    VoteEvent::new(p, s, v).at(1_700_000_000_000 + i as i64)
                })
                .collect()
        };
        let a: Value = serde_json::from_str(&analyze(&batch(&events(false)))).unwrap();
        let b: Value = serde_json::from_str(&analyze(&batch(&events(true)))).unwrap();
        prop_assert!(same_up_to_ids(&a, &b, &|x| [p_new(x), s_new(x)]), "renamed analysis differs:\n{a}\n{b}");
    }

    #[test]
    fn adding_a_pass_vote_changes_no_agree_or_disagree_count(cells in conversation(), which in any::<prop::sample::Index>()) {
        let events: Vec<VoteEvent> = cells
            .iter()
            .enumerate()
            .map(|(i, &(p, s, v))| VoteEvent::new(p, s, v).at(1_700_000_000_000 + i as i64))
            .collect();
        let voted: std::collections::HashSet<(i64, i64)> = cells.iter().map(|c| (c.0, c.1)).collect();
        let n_p = cells.iter().map(|c| c.0).max().unwrap_or(0) + 1;
        let n_s = cells.iter().map(|c| c.1).max().unwrap_or(0) + 1;
        // An empty cell of the grid, or a newcomer's first vote.
        let empty: Vec<(i64, i64)> =
            (0..n_p).flat_map(|p| (0..n_s).map(move |s| (p, s))).filter(|c| !voted.contains(c)).collect();
        let (p, s) = if empty.is_empty() { (n_p, which.index(n_s as usize) as i64) } else { *which.get(&empty) };
        let mut more = events.clone();
        more.push(VoteEvent::new(p, s, Vote::Pass).at(1_800_000_000_000));
        let counts = |events: &[VoteEvent]| -> HashMap<Id, (u32, u32)> {
            let conv = Conversation::run(&Request { params: params(), mode: Mode::OneBatch, ..Default::default() }, Vec::<Statement>::new(), &batch(events));
            match conv {
                Ok(conv) => conv.analysis().expect("an update ran").statements.iter().map(|s| (s.id.clone(), (s.n_agree, s.n_disagree))).collect(),
                Err(_) => HashMap::new(),
            }
        };
        let (before, after) = (counts(&events), counts(&more));
        for (id, c) in &before {
            prop_assert_eq!(Some(c), after.get(id), "statement {}", id);
        }
    }

    #[test]
    fn batches_replayed_equal_the_same_batches_fed_to_update(cells in conversation(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..4)) {
        // Batch b's votes are stamped b * 100 s apart, far beyond the one-second window, so the
        // replay cuts exactly these batches.
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(cells.len() + 1)).collect();
        bounds.push(0);
        bounds.push(cells.len());
        bounds.sort_unstable();
        bounds.dedup();
        let batches: Vec<Vec<VoteEvent>> = bounds
            .windows(2)
            .enumerate()
            .map(|(b, w)| {
                cells[w[0]..w[1]]
                    .iter()
                    .enumerate()
                    .map(|(i, &(p, s, v))| VoteEvent::new(p, s, v).at(1_700_000_000_000 + b as i64 * 100_000 + i as i64))
                    .collect()
            })
            .collect();
        let all: Vec<VoteEvent> = batches.concat();
        // No restart: a replay that models one worker through the whole history is the same updates.
        let batching = Batching { window_ms: 1000, max_updates: None, restarts: Restarts::None };
        // The matrix factorization is the one stage a replay runs differently by design: once, at
        // its last update, where updates warm-start it batch by batch; everything else must match.
        let mut params = params();
        params.bridging.mf.enabled = false;
        let replayed = Conversation::run(&Request { params: params.clone(), mode: Mode::Replay(batching), ..Default::default() }, Vec::<Statement>::new(), &batch(&all));
        let mut updated = Conversation::new(params).unwrap();
        let mut update_error = None;
        for b in batches.iter().filter(|b| !b.is_empty()) {
            if let Err(e) = updated.update(&batch(b)) {
                update_error = Some(e.to_string());
                break;
            }
        }
        match (replayed, update_error) {
            (Ok(replayed), None) => prop_assert_eq!(
                replayed.analysis().map(|a| a.to_json()),
                updated.analysis().map(|a| a.to_json())
            ),
            (Err(a), Some(b)) => prop_assert_eq!(a.to_string(), b),
            (a, b) => prop_assert!(false, "replay {:?} but update {:?}", a.map(|_| ()), b),
        }
    }
}
