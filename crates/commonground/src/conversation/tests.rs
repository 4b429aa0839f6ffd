//! The conversation's behaviours that no single stage owns: what a restart forgets, and that a
//! replay equals the same batches fed by hand.

use super::*;
use crate::votes::{Vote, VoteBatch, VoteEvent};

/// Two camps voting on 8 statements; participant p votes at time `t0 + p` ms.
fn camps(participants: std::ops::Range<i64>, t0: i64) -> Vec<VoteEvent> {
    participants
        .flat_map(|p| {
            (0..8i64).map(move |s| {
                let camp = if (p + s / 4) % 3 == 0 { Vote::Agree } else { Vote::Disagree };
                VoteEvent::new(p, s, if s == 0 { Vote::Agree } else { camp }).at(t0 + p)
            })
        })
        .collect()
}

#[test]
fn restart_forgets_only_what_polis_keeps_in_memory() {
    let mut conv = Conversation::new(Params::default()).unwrap();
    conv.update(&camps(0..40, 0)).unwrap();
    assert!(!conv.state.group_clusterings.is_empty());
    assert!(conv.state.smoother.smoothed_k.is_some());
    let (base, comps, in_conv) =
        (conv.state.base_clusters.clone(), conv.state.comps.clone(), conv.state.in_conv.clone());
    conv.restart();
    assert!(conv.state.group_clusterings.is_empty());
    assert_eq!(conv.state.smoother, GroupKSmoother::default());
    assert_eq!(
        (conv.state.base_clusters.clone(), conv.state.comps.clone(), conv.state.in_conv.clone()),
        (base, comps, in_conv)
    );
    assert!(conv.update(&VoteBatch::new()).is_ok());
}

#[test]
fn replay_restarts_after_a_quiet_spell_longer_than_the_gap() {
    let day = 86_400_000;
    let mut votes = camps(0..30, 0);
    votes.extend(camps(30..45, 3 * day));
    let batching = Batching { window_ms: 10_000, max_updates: None, restart_gap_ms: Some(day) };
    let batches = batching.split(&VoteBatch::from_events(&votes));
    assert_eq!(batches.len(), 2);

    let replayed = Conversation::replay(Params::default(), vec![], &votes, &batching).unwrap();
    let mut manual = Conversation::new(Params::default()).unwrap();
    manual.update(&batches[0]).unwrap();
    manual.restart();
    manual.update(&batches[1]).unwrap();
    assert_eq!(replayed.analysis().unwrap().to_json(), manual.analysis().unwrap().to_json());
    assert_eq!(replayed.state.group_clusterings, manual.state.group_clusterings);

    // A gap no longer than restart_gap_ms keeps the warm state: same as no restarts at all.
    let long = Batching { restart_gap_ms: Some(3 * day), ..batching.clone() };
    let none = Batching { restart_gap_ms: None, ..batching };
    let a = Conversation::replay(Params::default(), vec![], &votes, &long).unwrap();
    let b = Conversation::replay(Params::default(), vec![], &votes, &none).unwrap();
    assert_eq!(a.analysis().unwrap().to_json(), b.analysis().unwrap().to_json());
}
