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
fn replay_restarts_after_a_quiet_spell_longer_than_the_gap_and_after_the_last_vote() {
    let day = 86_400_000;
    let mut votes = camps(0..30, 0);
    votes.extend(camps(30..45, 3 * day));
    let batching = Batching { window_ms: 10_000, max_updates: None, restarts: Restarts::Gaps(day) };
    let batches = batching.split(&VoteBatch::from_events(&votes));
    assert_eq!(batches.len(), 2);

    let replayed = Conversation::replay(Params::default(), vec![], &votes, &batching).unwrap();
    let mut manual = Conversation::new(Params::default()).unwrap();
    manual.advance(&batches[0]).unwrap();
    manual.restart();
    manual.advance(&batches[1]).unwrap();
    manual.restart();
    manual.update(&VoteBatch::new()).unwrap();
    assert_eq!(replayed.analysis().unwrap().to_json(), manual.analysis().unwrap().to_json());
    assert_eq!(replayed.state.group_clusterings, manual.state.group_clusterings);
    assert_eq!(replayed.analysis().unwrap().tick, 3);

    // A gap no longer than the limit keeps the warm state: the same as the final restart alone.
    let long = Batching { restarts: Restarts::Gaps(3 * day), ..batching.clone() };
    let last = Batching { restarts: Restarts::Final, ..batching.clone() };
    let a = Conversation::replay(Params::default(), vec![], &votes, &long).unwrap();
    let b = Conversation::replay(Params::default(), vec![], &votes, &last).unwrap();
    assert_eq!(a.analysis().unwrap().to_json(), b.analysis().unwrap().to_json());

    // Without restarts, the last batch's update is the result.
    let none = Batching { restarts: Restarts::None, ..batching };
    let replayed = Conversation::replay(Params::default(), vec![], &votes, &none).unwrap();
    let mut manual = Conversation::new(Params::default()).unwrap();
    manual.advance(&batches[0]).unwrap();
    manual.update(&batches[1]).unwrap();
    assert_eq!(replayed.analysis().unwrap().to_json(), manual.analysis().unwrap().to_json());
    assert_eq!(replayed.analysis().unwrap().tick, 2);
}

#[test]
fn advance_carries_the_same_state_as_a_full_update_but_the_factorization() {
    // A replay advances through every batch but the last without computing the analysis; the
    // next update must be the one a full update would have led to. The matrix factorization,
    // which advance does not fit, is off here so that the whole analysis can be compared.
    let mut params = Params::default();
    params.bridging.mf.enabled = false;
    let batches: Vec<Vec<VoteEvent>> = (0..6).map(|b| camps(b * 10..b * 10 + 10, b)).collect();
    let mut full = Conversation::new(params.clone()).unwrap();
    let mut light = Conversation::new(params).unwrap();
    for batch in &batches[..5] {
        full.update(batch).unwrap();
        light.advance(batch).unwrap();
        assert!(light.analysis().is_none());
    }
    assert_eq!(light.state(), full.state());
    assert_eq!(light.update(&batches[5]).unwrap().to_json(), full.update(&batches[5]).unwrap().to_json());
}

#[test]
fn restarts_parse_and_print_alike() {
    for (text, restarts) in [
        ("none", Restarts::None),
        ("final", Restarts::Final),
        ("gaps:1d", Restarts::Gaps(86_400_000)),
        ("gaps:90m", Restarts::Gaps(5_400_000)),
        ("gaps:1500ms", Restarts::Gaps(1_500)),
        ("gaps:2w", Restarts::Gaps(1_209_600_000)),
    ] {
        assert_eq!(Restarts::parse(text).unwrap(), restarts, "{text}");
        assert_eq!(restarts.to_string(), text);
    }
    for bad in ["", "always", "gaps:", "gaps:1", "gaps:-1d", "gaps:1.5h", "gaps:1y"] {
        assert!(
            matches!(Restarts::parse(bad), Err(Error::InvalidParameter { ref name, .. }) if name == "restarts"),
            "{bad}"
        );
    }
    assert_eq!(Batching::default().restarts, Restarts::Final);
}
