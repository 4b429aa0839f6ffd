//! Choosing the number of opinion groups (`Params::groups`): a fixed k is honoured exactly when
//! the data allow it, and refused with an error that says why when they do not; Polis's rule stays
//! the default.
//!
//! Tests that need the shared data print a message and pass when it is absent (and fail under CI).

mod common;

use std::collections::BTreeSet;

use common::shared_data;
use commonground::cluster::GroupCount;
use commonground::{analyze, io, Analysis, Conversation, Error, Params, Vote, VoteEvent};

/// Params with a fixed k and no matrix factorization (it does not depend on the groups).
fn fixed(k: usize) -> Params {
    let mut p = Params { groups: GroupCount::Fixed(k), ..Params::default() };
    p.bridging.mf.enabled = false;
    p
}

/// Each in-conversation participant is in exactly one group, and no one else is.
fn assert_groups_partition_the_clustered(a: &Analysis, what: &str) {
    let ids: BTreeSet<u32> = a.groups.iter().map(|g| g.id).collect();
    for p in &a.participants {
        match p.group {
            Some(g) => assert!(p.in_conv && ids.contains(&g), "{what}: participant {} in group {g}", p.id),
            None => assert!(!p.in_conv, "{what}: in-conversation participant {} has no group", p.id),
        }
    }
    let sizes: usize = a.groups.iter().map(|g| g.n_members).sum();
    assert_eq!(sizes, a.participants.iter().filter(|p| p.in_conv).count(), "{what}");
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn a_fixed_number_of_groups_is_honoured_on_every_opendata_export() {
    let Some(data) = shared_data() else { return };
    let mut folders: Vec<_> = std::fs::read_dir(data.join("opendata")).unwrap().map(|e| e.unwrap().path()).collect();
    folders.sort();
    assert_eq!(folders.len(), 9);
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let d = io::load(&folder).unwrap();
        let mut polis_params = Params::default();
        polis_params.bridging.mf.enabled = false;
        let polis = analyze(&d.votes, &d.statements, &polis_params).unwrap();
        let polis_k = polis.k_selection.k.unwrap();
        for k in [2, 4, 7] {
            let a = analyze(&d.votes, &d.statements, &fixed(k)).unwrap_or_else(|e| panic!("{name}, k = {k}: {e}"));
            let what = format!("{name}, k = {k}");
            assert_eq!(a.groups.len(), k, "{what}");
            assert_eq!(a.k_selection.k, Some(k), "{what}");
            assert_eq!(a.k_selection.silhouettes.keys().copied().collect::<Vec<_>>(), vec![k], "{what}");
            assert_eq!(a.bridging.as_ref().unwrap().groups.len(), k, "{what}");
            assert_eq!(a.repness.len(), k, "{what}");
            assert_groups_partition_the_clustered(&a, &what);
        }
        // Asking for the k Polis's rule chose gives Polis's groups: the same clustering, by the
        // same k-means from the same start.
        let same = analyze(&d.votes, &d.statements, &fixed(polis_k)).unwrap();
        assert_eq!(same.groups, polis.groups, "{name}: k = {polis_k}");
        assert_eq!(same.repness, polis.repness, "{name}");
    }
}

/// Three camps of 12 with opposite views on six statements (camp c agrees with statement s when
/// (s + c) is even, except camp 2, which disagrees with everything but statement 0), and every
/// participant agrees with statement 6.
fn three_camps() -> Vec<VoteEvent> {
    (0..36i64)
        .flat_map(|p| {
            let camp = p / 12;
            (0..7i64).map(move |s| {
                let agree = s == 6 || if camp == 2 { s == 0 } else { (s + camp) % 2 == 0 };
                VoteEvent::new(p, s, if agree { Vote::Agree } else { Vote::Disagree })
            })
        })
        .collect()
}

#[test]
fn three_planted_camps_are_the_three_fixed_groups() {
    let a = analyze(&three_camps(), &[], &fixed(3)).unwrap();
    assert_eq!(a.groups.len(), 3);
    // By hand: the camps vote identically within and differently between, so each group is one camp.
    let groups: BTreeSet<BTreeSet<i64>> = a
        .groups
        .iter()
        .map(|g| {
            a.participants
                .iter()
                .filter(|p| p.group == Some(g.id))
                .map(|p| match p.id {
                    commonground::Id::Int(i) => i / 12,
                    _ => unreachable!(),
                })
                .collect()
        })
        .collect();
    assert_eq!(groups, [0, 1, 2].into_iter().map(|c| BTreeSet::from([c])).collect());
    for g in &a.groups {
        assert_eq!(g.n_members, 12);
    }
}

#[test]
fn more_groups_than_the_data_can_give_is_an_error_that_says_why() {
    // 36 participants in three camps, so three distinct base clusters: four groups cannot be made.
    let e = analyze(&three_camps(), &[], &fixed(4)).unwrap_err();
    let Error::InvalidParameter { name, message } = &e else { panic!("{e}") };
    assert_eq!(name, "groups");
    assert!(message.contains("4 groups need at least 4 base clusters at distinct places"), "{message}");
    assert!(message.contains("(3 distinct) from 36 participants in conversation"), "{message}");
    // Out of range whatever the data: one group, or more than base_k.
    for k in [1, 101] {
        let e = Conversation::new(fixed(k)).unwrap_err();
        assert!(e.to_string().starts_with("invalid parameter groups:"), "{e}");
    }
}

#[test]
fn an_update_that_cannot_give_the_groups_leaves_the_conversation_as_it_was() {
    // A conversation whose participants all voted alike cannot have two groups.
    let alike: Vec<VoteEvent> =
        (0..10i64).flat_map(|p| (0..7).map(move |s| VoteEvent::new(p, s, Vote::Agree))).collect();
    let mut conv = Conversation::new(fixed(2)).unwrap();
    let e = conv.update(&alike).unwrap_err();
    assert!(e.to_string().contains("(1 distinct) from 10 participants in conversation"), "{e}");
    assert!(conv.analysis().is_none() && conv.matrix().n_votes() == 0);
    // Two groups, then every participant of camps 1 and 2 comes round to camp 0's views: the
    // failed update keeps the previous analysis, votes and warm state.
    let mut conv = Conversation::new(fixed(2)).unwrap();
    conv.update(&three_camps()).unwrap();
    let kept = (conv.analysis().cloned(), conv.matrix().n_votes(), conv.state().to_bytes());
    let camp0 = |s: i64| s == 6 || s % 2 == 0;
    let converted: Vec<VoteEvent> = (12..36i64)
        .flat_map(|p| (0..7).map(move |s| VoteEvent::new(p, s, if camp0(s) { Vote::Agree } else { Vote::Disagree })))
        .collect();
    let e = conv.update(&converted).unwrap_err();
    assert!(e.to_string().contains("invalid parameter groups: 2 groups need"), "{e}");
    assert_eq!((conv.analysis().cloned(), conv.matrix().n_votes(), conv.state().to_bytes()), kept);
}

#[test]
fn polis_rule_stays_the_default() {
    assert_eq!(Params::default().groups, GroupCount::Polis);
    let votes = three_camps();
    let mut p = Params::default();
    p.bridging.mf.enabled = false;
    let a = analyze(&votes, &[], &p).unwrap();
    assert_eq!(a.k_selection.k, a.k_selection.best_k);
}

#[test]
fn discovery_finds_a_five_percent_group_that_polis_rule_merges() {
    // Four camps of 60%, 25%, 10% and 5% of 400 participants on 30 statements, every participant
    // voting on every statement, one vote in ten (at random) against their camp. Camp c agrees with statement
    // s when bit c of s + 1 is set.
    let (votes, planted) = commonground::generate::planted_camps(&[240, 100, 40, 20], 30, 7);
    let mut params = Params { groups: GroupCount::Discover, ..Params::default() };
    params.bridging.mf.enabled = false;
    let a = analyze(&votes, &[], &params).unwrap();
    assert_eq!(a.groups.len(), 4, "{:?}", a.group_discovery);
    assert_eq!(a.group_discovery.as_ref().unwrap().k, 4);
    let ours: Vec<u32> = a.participants.iter().map(|p| p.group.unwrap()).collect();
    assert_eq!(commonground::cluster::adjusted_rand_index(&ours, &planted), 1.0);
    assert_groups_partition_the_clustered(&a, "discover");
    // Every base cluster lies inside one group.
    for g in &a.groups {
        for b in &g.base_clusters {
            let members = &a.base_clusters.iter().find(|c| c.id == *b).unwrap().members;
            assert!(members.iter().all(|m| a.group_of(m) == Some(g.id)));
        }
    }
    params.groups = GroupCount::Polis;
    assert!(analyze(&votes, &[], &params).unwrap().groups.len() < 4, "Polis's rule merges the small camps");
    // Stability measures the map's k-means groups: refused with discovery.
    params.groups = GroupCount::Discover;
    params.group_stability.enabled = true;
    assert!(Conversation::new(params).unwrap_err().to_string().contains("group_stability"));
}

/// Polis's rule on planted camps of 60/25/10/5% merges the small camps into bigger groups; the
/// analysis then says what it merged: a pool of base clusters, mostly one planted camp other than
/// its group's main camp, that differs from the rest of its group on several statements (the
/// statements where the camps' views, bit patterns of the statement number, differ).
#[test]
fn what_polis_rule_merges_on_planted_60_25_10_5_camps_is_reported() {
    let (votes, planted) = commonground::generate::planted_camps(&[240, 100, 40, 20], 30, 7);
    let mut params = Params::default();
    params.bridging.mf.enabled = false;
    let a = analyze(&votes, &[], &params).unwrap();
    assert!(a.groups.len() < 4, "Polis's rule merges a small camp");
    let b = a.bridging.as_ref().unwrap();
    assert!(!b.merged.is_empty(), "nothing reported merged with {} groups", a.groups.len());
    let camp = |id: &commonground::Id| match id {
        commonground::Id::Int(p) => planted[*p as usize],
        _ => usize::MAX,
    };
    // The camp most of a set of participants come from, and its share of them.
    let main_camp = |members: &mut dyn Iterator<Item = usize>| {
        let mut n = [0usize; 4];
        let mut total = 0;
        members.for_each(|c| {
            n[c] += 1;
            total += 1;
        });
        let best = (0..4).max_by_key(|&c| n[c]).unwrap();
        (best, n[best] as f64 / total.max(1) as f64)
    };
    for m in &b.merged {
        let pool = b.subgroups.iter().find(|s| s.id == m.subgroup).unwrap();
        let (pool_camp, purity) = main_camp(
            &mut pool
                .base_clusters
                .iter()
                .flat_map(|id| a.base_clusters.iter().find(|c| c.id == *id).unwrap().members.iter().map(camp)),
        );
        let (group_camp, _) =
            main_camp(&mut a.participants.iter().filter(|p| p.group == Some(m.group)).map(|p| camp(&p.id)));
        assert!(m.statements.len() >= commonground::bridging::MERGED_MIN_STATEMENTS);
        assert!(
            pool_camp != group_camp && purity >= 0.8,
            "subgroup {} is {:.0}% camp {pool_camp}, inside group {} of camp {group_camp}",
            m.subgroup,
            100.0 * purity,
            m.group
        );
    }
    // Discovery finds the four camps: nothing is merged then.
    params.groups = GroupCount::Discover;
    let found = analyze(&votes, &[], &params).unwrap();
    assert_eq!(found.groups.len(), 4);
    assert!(found.bridging.as_ref().unwrap().merged.is_empty(), "{:?}", found.bridging.as_ref().unwrap().merged);
}
