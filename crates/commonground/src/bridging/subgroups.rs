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

use super::agreement::{side_pair, side_posterior, side_rate, Estimate, PosteriorBounds};
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
///
/// Only the lowest upper bound and that subgroup's lower bound are reported, so only the bounds
/// that can be the lowest are computed: starting from the subgroup whose bound looks lowest (the
/// normal approximation), every other subgroup's CDF at the lowest bound so far says whether its
/// own bound is above it ([`Beta::quantile_unless_above`]); the reported numbers are the very
/// quantiles of the side-takers' posteriors, as computing every bound would give them.
pub fn weakest_subgroup(subgroups: &Subgroups, j: usize, interval: f64, threshold: f64) -> Option<WeakestSubgroup> {
    weakest_subgroup_with(subgroups, j, threshold, &PosteriorBounds::direct(interval))
}

/// [`weakest_subgroup`], a bound read from `bounds` when it holds the subgroup's counts (a
/// subgroup's counts often equal some group's, or a pass count's, in the table the scores read:
/// the same number, not computed again).
pub(crate) fn weakest_subgroup_with(
    subgroups: &Subgroups,
    j: usize,
    threshold: f64,
    bounds: &PosteriorBounds,
) -> Option<WeakestSubgroup> {
    let q_hi = bounds.q.1;
    let pairs: Vec<(u32, u32)> = subgroups.votes.iter().map(|v| side_pair(&v[j])).collect();
    let posteriors: Vec<Beta> = pairs.iter().map(|&(s, n)| Beta::posterior(s, n)).collect();
    let approximate = |b: &Beta| b.mean() + 1.645 * (b.a * b.b / ((b.a + b.b).powi(2) * (b.a + b.b + 1.0))).sqrt();
    let first =
        (0..posteriors.len()).min_by(|&s, &t| approximate(&posteriors[s]).total_cmp(&approximate(&posteriors[t])))?;
    let mut weakest = (first, bounds.upper(pairs[first].0, pairs[first].1));
    for (s, b) in posteriors.iter().enumerate().filter(|&(s, _)| s != first) {
        let upper = if b.a == posteriors[weakest.0].a && b.b == posteriors[weakest.0].b {
            weakest.1 // the same counts, the same bound
        } else if b.median_bracket().0 > weakest.1 {
            continue; // its upper bound is above its median, above the lowest so far
        } else if let Some((_, upper)) = bounds.stored(pairs[s].0, pairs[s].1) {
            upper
        } else {
            match b.quantile_unless_above(q_hi, weakest.1) {
                Some(upper) => upper,
                None => continue,
            }
        };
        if upper < weakest.1 || (upper == weakest.1 && s < weakest.0) {
            weakest = (s, upper);
        }
    }
    let (w, upper) = weakest;
    let side_agreement =
        Estimate { value: side_rate(&subgroups.votes[w][j]), lower: bounds.lower(pairs[w].0, pairs[w].1), upper };
    let pool = &subgroups.list[w];
    Some(WeakestSubgroup {
        subgroup: pool.id,
        group: pool.group,
        n_members: pool.n_members,
        side_agreement,
        disagrees: upper < threshold,
    })
}

/// The subgroups the groups hide: for every subgroup with less than half of its group, other than
/// the group's core (its largest subgroup, the first on a tie), the statements (among `scored`
/// columns) on which its side-takers' interval and the core's are disjoint, both at credibility
/// `1 − (1 − interval) / scored` (Bonferroni over the statements compared); reported when there
/// are at least [`MERGED_MIN_STATEMENTS`].
///
/// Only the cores' bounds are computed; whether a subgroup's bound lies beyond its core's is
/// mostly told from its CDF there ([`Beta::compare_quantile`]), with the same answer as
/// comparing the computed bounds.
pub fn merged_subgroups(
    subgroups: &Subgroups,
    statements: &[Id],
    scored: &[usize],
    interval: f64,
) -> Vec<MergedSubgroup> {
    let q = (1.0 - interval) / (2.0 * scored.len().max(1) as f64);
    let clustered: usize = subgroups.list.iter().map(|s| s.n_members).sum();
    // Each compared subgroup with its core: a smaller group inside its parent, less than half of
    // it (the rest is the parent's own view, which differs from the minority's as much, and is
    // not what was merged).
    let compared: Vec<(usize, usize)> = subgroups
        .list
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let siblings = || subgroups.list.iter().enumerate().filter(|(_, o)| o.group == s.group);
            let parent: usize = siblings().map(|(_, o)| o.n_members).sum();
            let core = siblings().reduce(|c, o| if o.1.n_members > c.1.n_members { o } else { c })?;
            (2 * s.n_members < parent && core.1.id != s.id).then_some((i, core.0))
        })
        .collect();
    let mut cores: Vec<usize> = compared.iter().map(|&(_, core)| core).collect();
    cores.sort_unstable();
    cores.dedup();
    // Each core's bounds on each scored statement, computed once per distinct count (a core is
    // compared with every other subgroup of its group, and counts repeat over statements);
    // indexed like `scored`.
    let mut pairs: Vec<(u32, u32)> =
        cores.iter().flat_map(|&core| scored.iter().map(move |&j| side_pair(&subgroups.votes[core][j]))).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let table = PosteriorBounds::of_pairs(pairs, (q, 1.0 - q));
    let core_bounds: Vec<Vec<(f64, f64)>> = cores
        .iter()
        .map(|&core| {
            scored
                .iter()
                .map(|&j| {
                    let (s, n) = side_pair(&subgroups.votes[core][j]);
                    table.get(s, n)
                })
                .collect()
        })
        .collect();
    compared
        .par_iter()
        .filter_map(|&(i, core)| {
            use std::cmp::Ordering;
            let s = &subgroups.list[i];
            let core_bounds = cores.binary_search(&core).ok().map(|c| &core_bounds[c])?;
            let differ: Vec<Id> = scored
                .iter()
                .zip(core_bounds)
                .filter(|&(&j, &(core_lo, core_hi))| {
                    // Its upper bound below the core's lower, or its lower above the core's upper.
                    // Its upper bound is above its median, its lower below: when the median lies
                    // inside the core's interval, neither can be.
                    let own = side_posterior(&subgroups.votes[i][j]);
                    let (low, high) = own.median_bracket();
                    (low <= core_lo && own.compare_quantile(1.0 - q, core_lo) == Ordering::Less)
                        || (high >= core_hi && own.compare_quantile(q, core_hi) == Ordering::Greater)
                })
                .map(|(&j, _)| statements[j].clone())
                .collect();
            (differ.len() >= MERGED_MIN_STATEMENTS).then(|| MergedSubgroup {
                subgroup: s.id,
                group: s.group,
                n_members: s.n_members,
                core: subgroups.list[core].id,
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

    /// Twelve subgroups in three groups over 300 statements, with counts that repeat (ties) and
    /// counts that differ a little and a lot.
    fn many_subgroups() -> (Subgroups, Vec<Id>) {
        let sizes = [40, 9, 7, 30, 30, 5, 25, 12, 6, 3, 2, 1];
        let list = (0..12u32)
            .map(|i| Subgroup { id: i, group: i / 4, base_clusters: vec![i], n_members: sizes[i as usize] })
            .collect();
        let votes = (0..12u32)
            .map(|i| {
                (0..300u32)
                    .map(|j| {
                        let seen = (j * 7 + i * 3) % 41;
                        let agree = if j % 5 == 0 { seen / 2 } else { (seen * ((i * 13 + j) % 11)) / 10 };
                        let disagree = (seen - agree) * ((j + i) % 3) / 2;
                        VoteCounts { agree, disagree, seen }
                    })
                    .collect()
            })
            .collect();
        (Subgroups { list, votes }, (0..300).map(Id::Int).collect())
    }

    #[test]
    fn the_weakest_subgroup_is_the_one_every_bound_computed_would_name() {
        // Brute force: every subgroup's interval computed, the lowest upper bound (first on a tie).
        let (subgroups, _) = many_subgroups();
        let (q_lo, q_hi) = ((1.0 - 0.9) / 2.0, (1.0 + 0.9) / 2.0);
        for j in 0..300 {
            let bounds: Vec<(f64, f64)> = subgroups
                .votes
                .iter()
                .map(|v| {
                    let b = Beta::posterior(v[j].agree, v[j].agree + v[j].disagree);
                    (b.quantile(q_lo), b.quantile(q_hi))
                })
                .collect();
            let w = (0..12).reduce(|w, s| if bounds[s].1 < bounds[w].1 { s } else { w }).unwrap();
            let got = weakest_subgroup(&subgroups, j, 0.9, 0.5).unwrap();
            assert_eq!(got.subgroup, w as u32, "statement {j}");
            let e = got.side_agreement;
            assert_eq!((e.lower.to_bits(), e.upper.to_bits()), (bounds[w].0.to_bits(), bounds[w].1.to_bits()));
            assert_eq!(got.disagrees, bounds[w].1 < 0.5);
        }
        assert_eq!(weakest_subgroup(&Subgroups::default(), 0, 0.9, 0.5), None);
    }

    #[test]
    fn the_weakest_subgroup_read_from_a_table_of_bounds_is_the_one_computed_alone() {
        // A table holding every other subgroup's counts (and counts no subgroup has): the bounds
        // read from it are the computed ones, so the choice and the numbers are the same.
        let (subgroups, _) = many_subgroups();
        let counts =
            subgroups.votes.iter().step_by(2).flatten().chain(&[VoteCounts { agree: 999, disagree: 1, seen: 1000 }]);
        let table = PosteriorBounds::for_counts(std::iter::empty(), counts, 0.9);
        for j in 0..300 {
            assert_eq!(
                weakest_subgroup_with(&subgroups, j, 0.5, &table),
                weakest_subgroup(&subgroups, j, 0.9, 0.5),
                "statement {j}"
            );
        }
    }

    #[test]
    fn what_was_merged_is_what_comparing_every_computed_bound_says() {
        // Brute force: both bounds of every subgroup on every statement, compared with its core's.
        let (subgroups, ids) = many_subgroups();
        let scored: Vec<usize> = (0..300).filter(|j| j % 7 != 3).collect();
        let q = (1.0 - 0.9) / (2.0 * scored.len() as f64);
        let bound = |s: usize, j: usize| {
            let c = subgroups.votes[s][j];
            let b = Beta::posterior(c.agree, c.agree + c.disagree);
            (b.quantile(q), b.quantile(1.0 - q))
        };
        let mut expected = Vec::new();
        for (group, core) in [(0, 0), (1, 4), (2, 8)] {
            for s in (4 * group..4 * group + 4).filter(|&s| s != core) {
                let parent: usize = subgroups.list[4 * group..4 * group + 4].iter().map(|o| o.n_members).sum();
                if 2 * subgroups.list[s].n_members >= parent {
                    continue;
                }
                let differ: Vec<Id> = scored
                    .iter()
                    .filter(|&&j| {
                        let ((lo, hi), (core_lo, core_hi)) = (bound(s, j), bound(core, j));
                        hi < core_lo || core_hi < lo
                    })
                    .map(|&j| ids[j].clone())
                    .collect();
                if differ.len() >= MERGED_MIN_STATEMENTS {
                    expected.push((s as u32, core as u32, differ));
                }
            }
        }
        let got: Vec<(u32, u32, Vec<Id>)> = merged_subgroups(&subgroups, &ids, &scored, 0.9)
            .into_iter()
            .map(|m| (m.subgroup, m.core, m.statements))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(got, expected);
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
