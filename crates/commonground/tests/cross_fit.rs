//! Cross-fitted counts for the bridging intervals (`cluster/crossfit.rs`): each vote is counted in
//! the group its participant would be in without it, and only there; Polis's outputs keep every
//! vote in its participant's group.

use std::collections::{BTreeSet, HashMap};

use commonground::cluster::{GroupCount, ReassignedVote};
use commonground::generate::{Synthetic, SyntheticParams};
use commonground::pca::{participant_projections, Pca};
use commonground::stats::VoteCounts;
use commonground::{Conversation, Id, Params, VoteEvent, VoteMatrix};

/// A sparse planted conversation (four groups of 55/25/12/8%, 15% passes, about 12 votes each),
/// where many participants sit near a border on the map.
fn sparse_conversation(groups: GroupCount) -> (Vec<VoteEvent>, Conversation) {
    let synthetic = Synthetic::new(SyntheticParams {
        participants: 240,
        statements: 30,
        votes: 2900,
        groups: 4,
        seed: 5,
        bridging: Some(3),
        pass_rate: 0.15,
        group_shares: Some(vec![55.0, 25.0, 12.0, 8.0]),
        staggered: false,
    })
    .unwrap();
    let votes = synthetic.votes();
    let mut params = Params { groups, ..Params::default() };
    params.bridging.mf.enabled = false;
    let mut conv = Conversation::new(params).unwrap();
    conv.set_statements(synthetic.statements());
    conv.update(&votes).unwrap();
    (votes, conv)
}

/// The side-takers' agreement and pass rate of every group and statement are those of Polis's
/// group-votes with the reassigned votes moved, and of nothing else.
fn assert_intervals_read_the_moved_counts(conv: &Conversation) {
    let a = conv.analysis().unwrap();
    let b = a.bridging.as_ref().unwrap();
    let position: HashMap<u32, usize> = b.groups.iter().enumerate().map(|(i, &g)| (g, i)).collect();
    let mut counts: Vec<Vec<VoteCounts>> = a.groups.iter().map(|g| g.votes.clone()).collect();
    for r in conv.reassigned_votes() {
        let one = VoteCounts { agree: u32::from(r.vote == 1), disagree: u32::from(r.vote == -1), seen: 1 };
        let from = &mut counts[position[&r.from]][r.column];
        (from.agree, from.disagree, from.seen) = (from.agree - one.agree, from.disagree - one.disagree, from.seen - 1);
        counts[position[&r.to]][r.column].add(&one);
    }
    for (j, s) in b.statements.iter().enumerate() {
        for (g, c) in counts.iter().enumerate() {
            let c = c[j];
            let side = (c.agree as f64 + 1.0) / ((c.agree + c.disagree) as f64 + 2.0);
            let pass = (c.passes() as f64 + 1.0) / (c.seen as f64 + 2.0);
            assert_eq!((s.side_agreement[g].value, s.pass_rate[g].value), (side, pass), "statement {j}, group {g}");
            // Polis's rate keeps Polis's group-votes.
            let polis = a.groups[g].votes[j];
            assert_eq!(s.group_agreement[g].value, (polis.agree as f64 + 1.0) / (polis.seen as f64 + 2.0));
        }
    }
}

#[test]
fn on_the_map_a_vote_is_reassigned_exactly_when_the_projection_without_it_lands_in_another_group() {
    let (votes, conv) = sparse_conversation(GroupCount::Polis);
    let a = conv.analysis().unwrap();
    let matrix = conv.matrix();
    let pca =
        Pca { center: a.pca.center.clone(), comps: a.pca.comps.clone(), n_comps: a.pca.n_comps, iterations: [0; 2] };
    let moderated_out = vec![false; matrix.n_statements()];
    // Brute force: every clustered participant's every vote taken out of the votes, the matrix
    // rebuilt and projected afresh with the same components, the nearest base-cluster centre's
    // group read.
    let group_of_base: HashMap<u32, u32> =
        a.groups.iter().flat_map(|g| g.base_clusters.iter().map(move |&b| (b, g.id))).collect();
    let rule = |x: [f64; 2]| {
        let d = |c: [f64; 2]| (x[0] - c[0]).powi(2) + (x[1] - c[1]).powi(2);
        let nearest =
            a.base_clusters.iter().fold(&a.base_clusters[0], |b, c| if d(c.center) < d(b.center) { c } else { b });
        group_of_base[&nearest.id]
    };
    let row_of: HashMap<&Id, usize> = matrix.participants().iter().enumerate().map(|(r, id)| (id, r)).collect();
    let column_of: HashMap<&Id, usize> = matrix.statements().iter().enumerate().map(|(c, id)| (id, c)).collect();
    let full = participant_projections(matrix, &moderated_out, &pca);
    let mut expected = BTreeSet::new();
    for (i, e) in votes.iter().enumerate() {
        let row = row_of[&e.participant];
        let Some(own) = a.participants[row].group else { continue };
        let rest: Vec<VoteEvent> = votes.iter().enumerate().filter(|&(k, _)| k != i).map(|(_, e)| e.clone()).collect();
        let without = VoteMatrix::from_events(&rest);
        assert_eq!(without.statements(), matrix.statements(), "the brute force keeps every column");
        // Rows are numbered by first vote, so the participant's row there can differ.
        let there = without.participants().iter().position(|id| id == &e.participant).unwrap();
        let moved = participant_projections(&without, &moderated_out, &pca)[there];
        let to = rule(moved);
        if to != rule(full[row]) && to != own {
            expected.insert((row, column_of[&e.statement], to));
        }
    }
    let found: BTreeSet<(usize, usize, u32)> =
        conv.reassigned_votes().iter().map(|r| (r.row, r.column, r.to)).collect();
    assert!(expected.len() >= 10, "the case has pivotal votes: {}", expected.len());
    assert_eq!(found, expected);
    for &ReassignedVote { row, from, .. } in conv.reassigned_votes() {
        assert_eq!(a.participants[row].group, Some(from));
    }
    assert_intervals_read_the_moved_counts(&conv);
}

#[test]
fn with_discovery_and_a_fixed_k_the_intervals_read_the_moved_counts() {
    for groups in [GroupCount::Discover, GroupCount::Fixed(4)] {
        let (_, conv) = sparse_conversation(groups);
        assert!(!conv.reassigned_votes().is_empty(), "{groups}: sparse votes decide some participants' group");
        assert_intervals_read_the_moved_counts(&conv);
    }
}
