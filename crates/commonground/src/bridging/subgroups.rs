//! The subgroups hidden in the opinion groups: what the common-ground flag checks beyond the
//! groups, and what the report says was merged.
//!
//! Polis's rule (and, with sparse votes, discovery) merges small opinion groups into big ones
//! (docs/groups.md): a statement every *found* group agrees with can still be rejected by a 5-10%
//! minority inside one of them. The finer partition checked here is Polis's own base clusters
//! (up to 100 small k-means clusters on the opinion map), pooled within each group along the map
//! until each pool holds at least [`super::BridgingParams::subgroup_min_share`] of the clustered
//! participants ([`pool_base_clusters`]). Every pool lies inside one group, so a pool that
//! disagrees is a disagreement that group's figures hide.
//!
//! - **The flag's veto**: a statement is not common ground when some pool's side-takers
//!   credibly disagree (the upper bound of its side-takers' agreement is below the threshold):
//!   the pool most credibly against is the statement's `weakest_subgroup`. Requiring every pool
//!   to agree credibly (its lower bound above the threshold) would ask 20 small samples for
//!   proof and lose most true common ground at 30% of votes; a credible *disagreement* is what
//!   a hidden minority shows, and a statement agreed by 70% or more is almost never vetoed by
//!   chance (its pools' upper bounds stay above one half).
//! - **What was merged** ([`merged_subgroups`]): a pool whose side-takers' agreement differs
//!   credibly from its group's core (the group's largest pool) on several statements, with
//!   intervals widened for the number of statements compared (Bonferroni), so that chance
//!   differences over a hundred statements do not count. The core, not the rest of the group: the
//!   rest holds the merged minorities too, and a pool of the group's main view would differ from
//!   that mix.

use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use super::agreement::{side_estimates, Estimate, PosteriorBounds};
use super::distributions::Beta;
use crate::cluster::Cluster;
use crate::stats::VoteCounts;
use crate::votes::Id;

/// A pool of base clusters inside one group, the unit the common-ground flag checks beyond the
/// groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subgroup {
    /// Numbered from 0 in group order, then by the pool's smallest base-cluster id.
    pub id: u32,
    /// The group it lies in.
    pub group: u32,
    /// Its base clusters (ids, ascending).
    pub base_clusters: Vec<u32>,
    pub n_members: usize,
}

/// The subgroups and their vote counts per statement (column order), as [`super::bridging`]
/// reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subgroups {
    pub list: Vec<Subgroup>,
    pub votes: Vec<Vec<VoteCounts>>,
}

/// The subgroup a statement's flag hinges on beyond the groups.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeakestSubgroup {
    /// Its id in [`super::Bridging::subgroups`].
    pub subgroup: u32,
    /// The group it lies in.
    pub group: u32,
    pub n_members: usize,
    /// Its side-takers' agreement `(A + 1) / (A + D + 2)` and exact interval.
    pub side_agreement: Estimate,
    /// Its side-takers credibly disagree (the upper bound is below the threshold): the
    /// statement is not common ground, whatever the groups say.
    pub disagrees: bool,
}

/// A subgroup that the chosen groups merged away: its side-takers differ credibly from its group's
/// core (largest pool) on at least [`MERGED_MIN_STATEMENTS`] statements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedSubgroup {
    pub subgroup: u32,
    pub group: u32,
    pub n_members: usize,
    /// The group's core it is compared with: the group's largest subgroup.
    pub core: u32,
    /// Its share of the clustered participants.
    pub share: f64,
    /// The statements it differs on, in column order.
    pub statements: Vec<Id>,
}

/// "Several statements": a pool that differs from its group on fewer is not reported as merged.
pub const MERGED_MIN_STATEMENTS: usize = 3;

/// Pools each group's base clusters along the opinion map until every pool has at least
/// `min_members` participants (or is the whole group): the smallest pool joins the pool whose
/// centre is nearest its own (member-weighted centres; ties to the first), until none is too
/// small. Returns the pools and their vote counts, summed from `votes_base` (rows in `base`
/// order). `groups[g].members` name base-cluster ids, as the group clustering gives them.
pub fn pool_base_clusters(
    base: &[Cluster],
    groups: &[Cluster],
    votes_base: &[Vec<VoteCounts>],
    min_members: usize,
) -> Subgroups {
    struct Pool {
        rows: Vec<usize>,
        size: usize,
        center: [f64; 2],
    }
    let m = votes_base.first().map_or(0, Vec::len);
    let mut out = Subgroups::default();
    for group in groups {
        let mut pools: Vec<Pool> = group
            .members
            .iter()
            .filter_map(|&id| base.iter().position(|b| b.id as usize == id))
            .map(|i| Pool { rows: vec![i], size: base[i].members.len(), center: base[i].center })
            .collect();
        pools.sort_by_key(|p| base[p.rows[0]].id);
        while pools.len() > 1 {
            let Some(small) = (0..pools.len()).filter(|&i| pools[i].size < min_members).min_by_key(|&i| pools[i].size)
            else {
                break;
            };
            let d2 = |p: &Pool| (0..2).map(|a| (p.center[a] - pools[small].center[a]).powi(2)).sum::<f64>();
            let Some(near) =
                (0..pools.len()).filter(|&i| i != small).min_by(|&a, &b| d2(&pools[a]).total_cmp(&d2(&pools[b])))
            else {
                break;
            };
            let gone = pools.remove(small);
            let near = if near > small { near - 1 } else { near };
            let into = &mut pools[near];
            let total = (into.size + gone.size).max(1) as f64;
            for a in 0..2 {
                into.center[a] = (into.center[a] * into.size as f64 + gone.center[a] * gone.size as f64) / total;
            }
            into.size += gone.size;
            into.rows.extend(gone.rows);
        }
        for pool in pools {
            let mut votes = vec![VoteCounts::default(); m];
            for &i in &pool.rows {
                votes.iter_mut().zip(&votes_base[i]).for_each(|(acc, c)| acc.add(c));
            }
            let mut ids: Vec<u32> = pool.rows.iter().map(|&i| base[i].id).collect();
            ids.sort_unstable();
            out.list.push(Subgroup {
                id: out.list.len() as u32,
                group: group.id,
                base_clusters: ids,
                n_members: pool.size,
            });
            out.votes.push(votes);
        }
    }
    out
}

/// The subgroup most credibly against statement `j` (lowest upper bound of its side-takers'
/// agreement; the first on a tie), and whether it vetoes the flag; `None` without subgroups.
pub fn weakest_subgroup(subgroups: &Subgroups, j: usize, interval: f64, threshold: f64) -> Option<WeakestSubgroup> {
    let counts: Vec<VoteCounts> = subgroups.votes.iter().map(|v| v[j]).collect();
    // Only the subgroups' own intervals: the pass rates and the minimum over subgroups that
    // `side_agreement` also computes are not read here, and cost most of the time at scale.
    let side = side_estimates(&counts, &PosteriorBounds::direct(interval));
    let w = (0..side.len()).reduce(|w, s| if side[s].upper < side[w].upper { s } else { w })?;
    let pool = &subgroups.list[w];
    Some(WeakestSubgroup {
        subgroup: pool.id,
        group: pool.group,
        n_members: pool.n_members,
        side_agreement: side[w],
        disagrees: side[w].upper < threshold,
    })
}

/// The subgroups the groups hide: for every subgroup with less than half of its group, other than
/// the group's core (its largest subgroup, the first on a tie), the statements (among `scored`
/// columns) on which its side-takers' interval and the core's are disjoint, both at credibility
/// `1 − (1 − interval) / scored` (Bonferroni over the statements compared); reported when there
/// are at least [`MERGED_MIN_STATEMENTS`].
pub fn merged_subgroups(
    subgroups: &Subgroups,
    statements: &[Id],
    scored: &[usize],
    interval: f64,
) -> Vec<MergedSubgroup> {
    let q = (1.0 - interval) / (2.0 * scored.len().max(1) as f64);
    let bounds = |c: &VoteCounts| {
        let b = Beta::posterior(c.agree, c.agree + c.disagree);
        (b.quantile(q), b.quantile(1.0 - q))
    };
    // Each subgroup's bounds on each scored statement, computed once (a core is compared with
    // every other subgroup of its group), in parallel; indexed like `scored`.
    let pool_bounds: Vec<Vec<(f64, f64)>> = subgroups
        .votes
        .par_iter()
        .map(|votes| scored.par_iter().with_min_len(64).map(|&j| bounds(&votes[j])).collect())
        .collect();
    let clustered: usize = subgroups.list.iter().map(|s| s.n_members).sum();
    subgroups
        .list
        .iter()
        .zip(&pool_bounds)
        .filter_map(|(s, own)| {
            // A smaller group inside its parent: less than half of it (the rest is the parent's
            // own view, which differs from the minority's as much, and is not what was merged).
            let siblings = || subgroups.list.iter().enumerate().filter(|(_, o)| o.group == s.group);
            let parent: usize = siblings().map(|(_, o)| o.n_members).sum();
            let core = siblings().reduce(|c, o| if o.1.n_members > c.1.n_members { o } else { c })?;
            if 2 * s.n_members >= parent || core.1.id == s.id {
                return None;
            }
            let core_bounds = &pool_bounds[core.0];
            let differ: Vec<Id> = scored
                .iter()
                .zip(own.iter().zip(core_bounds))
                .filter(|(_, (&(lo, hi), &(core_lo, core_hi)))| hi < core_lo || core_hi < lo)
                .map(|(&j, _)| statements[j].clone())
                .collect();
            (differ.len() >= MERGED_MIN_STATEMENTS).then(|| MergedSubgroup {
                subgroup: s.id,
                group: s.group,
                n_members: s.n_members,
                core: core.1.id,
                share: s.n_members as f64 / clustered.max(1) as f64,
                statements: differ,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridging::{bridging, BridgingParams};
    use crate::stats::base_and_group_votes;
    use crate::votes::{Vote, VoteEvent, VoteMatrix};

    /// 100 participants in two groups of 50. Group 0: base cluster 0 (participants 0-41) and base
    /// cluster 1 (42-49, 8% of everyone), which disagrees with statements 0, 2 and 3 where
    /// everyone else agrees. Group 1: base clusters 2 (50-74), 3 (75-77, three participants, on
    /// the map next to 4) and 4 (78-99). Statement 1: everyone agrees.
    fn hidden_minority() -> (VoteMatrix, Vec<Cluster>, Vec<Cluster>) {
        let minority = |p: i64| (42..50).contains(&p);
        let events: Vec<VoteEvent> = (0..100i64)
            .flat_map(|p| {
                (0..4i64).map(move |s| {
                    VoteEvent::new(p, s, if s != 1 && minority(p) { Vote::Disagree } else { Vote::Agree })
                })
            })
            .collect();
        let matrix = VoteMatrix::from_events(&events);
        let row = |p: i64| matrix.participants().iter().position(|id| *id == Id::Int(p)).unwrap_or(usize::MAX);
        let cluster = |id: u32, people: std::ops::Range<i64>, center: [f64; 2]| Cluster {
            id,
            members: people.map(row).collect(),
            center,
        };
        let base = vec![
            cluster(0, 0..42, [0.0, 0.0]),
            cluster(1, 42..50, [1.0, 0.0]),
            cluster(2, 50..75, [5.0, 0.0]),
            cluster(3, 75..78, [5.0, 0.9]),
            cluster(4, 78..100, [5.0, 1.0]),
        ];
        let groups = vec![
            Cluster { id: 0, members: vec![0, 1], center: [0.2, 0.0] },
            Cluster { id: 1, members: vec![2, 3, 4], center: [5.0, 0.5] },
        ];
        (matrix, base, groups)
    }

    #[test]
    fn base_clusters_pool_along_the_map_to_the_minimum_size_within_each_group() {
        let (matrix, base, groups) = hidden_minority();
        let votes = base_and_group_votes(&matrix, &base, &groups);
        let pools = pool_base_clusters(&base, &groups, &votes.votes_base, 5);
        // By hand: base cluster 3 (three participants) joins 4, its nearest (0.1 away against 0.9);
        // the others have at least five.
        let got: Vec<(u32, u32, Vec<u32>, usize)> =
            pools.list.iter().map(|s| (s.id, s.group, s.base_clusters.clone(), s.n_members)).collect();
        assert_eq!(got, vec![(0, 0, vec![0], 42), (1, 0, vec![1], 8), (2, 1, vec![2], 25), (3, 1, vec![3, 4], 25)]);
        // Counts are the sums of the base clusters': pool 3 saw statement 0 25 times, all agree.
        assert_eq!(pools.votes[3][0], VoteCounts { agree: 25, disagree: 0, seen: 25 });
        // Asked for pools of 60, each group is one pool.
        let whole = pool_base_clusters(&base, &groups, &votes.votes_base, 60);
        assert_eq!(whole.list.iter().map(|s| s.n_members).collect::<Vec<_>>(), vec![50, 50]);
    }

    #[test]
    fn a_statement_every_group_agrees_on_is_not_common_ground_when_an_eight_percent_pool_disagrees() {
        let (matrix, base, groups) = hidden_minority();
        let votes = base_and_group_votes(&matrix, &base, &groups);
        let pools = pool_base_clusters(&base, &groups, &votes.votes_base, 5);
        let params = BridgingParams::default();
        let none = [false; 4];
        let b =
            bridging(&matrix, &[0, 1], &votes.group_votes, &votes.group_votes, &pools, &none, &none, &params, 0, None);
        let s0 = &b.statements[0];
        // Group 0 agrees 42 to 8: its side-takers' 5% bound (Beta(43, 9)) is well above one half,
        // so the groups alone would flag statement 0.
        assert!(s0.min_side_agreement.lower > 0.7, "{:?}", s0.min_side_agreement);
        // Pool 1 (the 8%) disagrees 8 to 0: Beta(1, 9), whose 95% quantile is 1 − 0.05^(1/9).
        let w = s0.weakest_subgroup.unwrap();
        assert_eq!((w.subgroup, w.group, w.n_members, w.disagrees), (1, 0, 8, true));
        assert!((w.side_agreement.upper - (1.0 - 0.05f64.powf(1.0 / 9.0))).abs() < 1e-12);
        assert!(!s0.common_ground);
        // Statement 1, agreed by everyone, stays common ground; no pool disagrees.
        assert!(b.statements[1].common_ground && !b.statements[1].weakest_subgroup.unwrap().disagrees);
        assert_eq!(b.common_ground, vec![Id::Int(1)]);
        // Without the pools nothing vetoes statements 0, 2 and 3, but with 100 participants a 5%
        // minority is 5 side-takers, too few to show a disagreement as clear as group 0's
        // agreement (43/52 mirrored, Beta(1.9, 5.1), upper bound above one half): unresolved, not
        // common ground.
        let alone = bridging(
            &matrix,
            &[0, 1],
            &votes.group_votes,
            &votes.group_votes,
            &Subgroups::default(),
            &none,
            &none,
            &params,
            0,
            None,
        );
        assert_eq!(alone.common_ground, vec![Id::Int(1)]);
        assert!(alone.hidden_disagreement.is_empty());
        let mut unresolved = alone.unresolved.clone();
        unresolved.sort_by_key(|id| format!("{id:?}"));
        assert_eq!(unresolved, vec![Id::Int(0), Id::Int(2), Id::Int(3)]);
    }

    #[test]
    fn the_merged_minority_is_reported_with_the_statements_it_differs_on() {
        let (matrix, base, groups) = hidden_minority();
        let votes = base_and_group_votes(&matrix, &base, &groups);
        let pools = pool_base_clusters(&base, &groups, &votes.votes_base, 5);
        let none = [false; 4];
        let b = bridging(
            &matrix,
            &[0, 1],
            &votes.group_votes,
            &votes.group_votes,
            &pools,
            &none,
            &none,
            &BridgingParams::default(),
            0,
            None,
        );
        // By hand, at 1 − 0.1/4 credibility (four statements compared): the minority's Beta(1, 9)
        // is below 1 − 0.0125^(1/9) = 0.385 and group 0's core (pool 0)'s Beta(43, 1) above
        // 0.0125^(1/43) = 0.903 on statements 0, 2 and 3; the core itself is not reported; group
        // 1's pools agree with each other.
        assert_eq!(
            b.merged,
            vec![MergedSubgroup {
                subgroup: 1,
                group: 0,
                n_members: 8,
                core: 0,
                share: 0.08,
                statements: vec![Id::Int(0), Id::Int(2), Id::Int(3)],
            }]
        );
    }
}
