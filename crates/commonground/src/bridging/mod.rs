//! Bridging: the statements that every opinion group agrees with, scored several ways, each with
//! its uncertainty.
//!
//! Polis ranks common ground by group-aware consensus (GAC), a product over groups of smoothed
//! agree rates. That product shrinks as the number of groups grows and, as a point estimate, it
//! cannot tell a statement three people saw from one three thousand saw. This module reports, for
//! every statement ([`StatementBridging`]):
//!
//! - Polis's GAC, its geometric mean `GAC^(1/k)` (comparable across numbers of groups), and the
//!   minimum group agreement `min_g (A_g + 1) / (S_g + 2)`, each with a credible interval from the
//!   per-group Beta posteriors `Beta(A_g + 1, S_g − A_g + 1)` (see [`group_agreement`]);
//! - each group's agree rate with its exact Beta interval;
//! - each group's agreement among those who took a side, `(A_g + 1) / (A_g + D_g + 2)`, and its
//!   pass rate, each with its exact Beta interval ([`side_agreement`]): Polis counts a pass as
//!   "seen, not agreed", so a statement that many pass on looks rejected by Polis's rate. These
//!   read cross-fitted counts: each vote in the group its participant would be in without it
//!   (`cluster/crossfit.rs`), since the groups were formed from the same votes and a member's
//!   votes look more like their group than their opinions do;
//! - whether it is **common ground**: the lower bound of its minimum side-takers' agreement clears
//!   [`BridgingParams::common_ground_threshold`] (default: with 90% credibility, in every group
//!   more of those who took a side agreed than disagreed), no subgroup credibly disagrees, and
//!   the votes are enough to show a 5% minority that would ([`resolves_a_minority`]; otherwise
//!   the statement is *unresolved*, [`Bridging::unresolved`]), and which group is the weakest;
//! - the statements many pass on, listed apart as *uncertain* ([`Bridging::uncertain`]);
//! - the Community Notes matrix-factorization score ([`fit_mf`]): the statement's intercept in
//!   `r = μ + i_participant + i_statement + f_participant · f_statement`, which needs no groups at
//!   all, and its factor (polarity).
//!
//! Each score that can rank the statements is listed once in [`SCORES`] (`scores.rs`), which the
//! ranking, the summary, the CLI's `--rank-by` and the Python bindings read.
//!
//! ```
//! use commonground::{analyze, Params, Vote, VoteEvent};
//! // Two camps of 50 split on statements 1-5; both agree with statement 0.
//! let votes: Vec<VoteEvent> = (0..100)
//!     .flat_map(|p| (0..6).map(move |s| {
//!         let camp = if p < 50 { Vote::Agree } else { Vote::Disagree };
//!         VoteEvent::new(p, s, if s == 0 { Vote::Agree } else if s % 2 == 0 { camp } else { camp.flipped() })
//!     }))
//!     .collect();
//! let analysis = analyze(&votes, &[], &Params::default()).unwrap();
//! let bridging = analysis.bridging.as_ref().unwrap();
//! assert_eq!(bridging.common_ground, vec![0.into()]);
//! assert_eq!(bridging.ranking[0], 0.into());
//! let s0 = &bridging.statements[0];
//! assert!(s0.min_group_agreement.lower > 0.85);
//! // The matrix factorization finds it too, without looking at the groups.
//! assert!(bridging.statements.iter().all(|s| s.mf_intercept <= s0.mf_intercept));
//! ```
//!
//! Cost: the intervals are O(statements × groups), a few microseconds per statement (the
//! product's interval by a saddlepoint approximation; Monte Carlo draws are opt-in, see
//! [`GacInterval`]); the factorization is O(votes) per sweep (see [`fit_mf`]), warm-started from
//! the previous update in a live conversation. Both run in parallel over statements or
//! participants, with results independent of the thread count.

mod agreement;
pub mod distributions;
mod mf;
mod params;
mod scores;
mod subgroups;

pub use agreement::{
    group_agreement, group_agreement_monte_carlo, min_quantile, side_agreement, Estimate, GroupAgreement, SideAgreement,
};
pub use mf::{fit_mf, MfFit, MfWarmStart};
pub use params::{BridgingParams, GacInterval, MfParams};
pub use scores::{BridgingScore, Reading, ScoreSpec, SCORES};
pub use subgroups::{
    merged_subgroups, pool_base_clusters, weakest_subgroup, MergedSubgroup, Subgroup, Subgroups, WeakestSubgroup,
    MERGED_MIN_STATEMENTS,
};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::stats::VoteCounts;
use crate::votes::{Id, VoteMatrix};
use distributions::Sampler;

/// Stream tag of the Monte Carlo draws, so that they differ from other users of the seed.
const DRAWS_STREAM: u64 = 0x6272_6964_6765_0000; // "bridge"

/// The bridging scores of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bridging {
    /// Credible mass of every interval (e.g. 0.9).
    pub interval: f64,
    /// The common-ground threshold on the lower bound of the minimum side-takers' agreement.
    pub threshold: f64,
    /// The score that orders `ranking`.
    pub rank_by: BridgingScore,
    /// Group ids, in the order of every per-group list.
    pub groups: Vec<u32>,
    /// Per statement, in [`crate::Analysis::statements`] order.
    pub statements: Vec<StatementBridging>,
    /// Statements by `rank_by`, best first (ties in statement order). Moderated-out and meta
    /// statements are left out.
    pub ranking: Vec<Id>,
    /// The common-ground statements, in `ranking` order.
    pub common_ground: Vec<Id>,
    /// The statements many pass on (Polis's report has a section for them): with the interval's
    /// credibility, at least [`BridgingParams::uncertain_pass_rate`] of the clustered participants
    /// who saw the statement passed. Highest pass rate first; moderated-out and meta statements
    /// left out.
    #[serde(default)]
    pub uncertain: Vec<Id>,
    /// The pass rate `uncertain` is measured against ([`BridgingParams::uncertain_pass_rate`]),
    /// so that every output states the one rule it applies.
    #[serde(default = "default_uncertain_pass_rate")]
    pub uncertain_pass_rate: f64,
    /// The statements every group agrees with (the lower bound of the minimum side-takers'
    /// agreement clears the threshold) that are not common ground because a subgroup hidden in a
    /// group credibly disagrees (see [`StatementBridging::weakest_subgroup`]), in `ranking` order.
    #[serde(default)]
    pub hidden_disagreement: Vec<Id>,
    /// The statements every group agrees with and no subgroup credibly disagrees with that are
    /// nonetheless not common ground, because they have too few votes to rule out a hidden
    /// minority: a subgroup of [`BridgingParams::subgroup_min_share`] of the side-takers that
    /// disagreed as clearly as the weakest group agrees would not show credible disagreement (see
    /// [`StatementBridging::unresolved`]), in `ranking` order.
    #[serde(default)]
    pub unresolved: Vec<Id>,
    /// The subgroups the flag checks beyond the groups: each group's base clusters pooled along
    /// the map to at least [`BridgingParams::subgroup_min_share`] of the clustered participants
    /// (see [`pool_base_clusters`]).
    #[serde(default)]
    pub subgroups: Vec<Subgroup>,
    /// The smallest subgroup's share of the grouped participants ([`BridgingParams::subgroup_min_share`]).
    #[serde(default = "default_subgroup_min_share")]
    pub subgroup_min_share: f64,
    /// What the groups merged: the subgroups whose side-takers differ credibly from their group's
    /// core (its largest subgroup) on several statements (see [`merged_subgroups`]).
    #[serde(default)]
    pub merged: Vec<MergedSubgroup>,
    /// How the matrix factorization went, when it ran.
    pub mf: Option<MfSummary>,
}

fn default_subgroup_min_share() -> f64 {
    BridgingParams::default().subgroup_min_share
}

fn default_uncertain_pass_rate() -> f64 {
    BridgingParams::default().uncertain_pass_rate
}

/// The bridging scores of one statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementBridging {
    pub statement: Id,
    /// Per group (in [`Bridging::groups`] order): the smoothed agree rate `(A + 1) / (S + 2)`
    /// (the Beta posterior mean) and its exact credible interval.
    pub group_agreement: Vec<Estimate>,
    /// Polis's group-aware consensus and its credible interval (see [`GacInterval`]).
    pub group_aware_consensus: Estimate,
    /// `GAC^(1/k)`, with the GAC interval raised to `1/k`.
    pub geometric_mean: Estimate,
    /// The lowest smoothed group agree rate, with the exact interval of the lowest group rate.
    pub min_group_agreement: Estimate,
    /// Per group: agreement among those who took a side, `(A + 1) / (A + D + 2)`, and its exact
    /// interval (see [`side_agreement`]): passes neither for nor against. Counted cross-fitted:
    /// each vote in the group its participant would be in without it
    /// ([`crate::Conversation::reassigned_votes`]), so the counts can differ from Polis's
    /// group-votes by the few votes that decided their participant's group.
    #[serde(default)]
    pub side_agreement: Vec<Estimate>,
    /// Per group: the pass rate among those who saw it, `(P + 1) / (S + 2)`, and its interval,
    /// over the same cross-fitted counts as `side_agreement`.
    #[serde(default)]
    pub pass_rate: Vec<Estimate>,
    /// The lowest side-takers' agreement over groups, with the exact interval of the lowest rate.
    #[serde(default)]
    pub min_side_agreement: Estimate,
    /// The group whose side-takers agree least: the group the common-ground test hinges on.
    #[serde(default)]
    pub weakest_group: Option<u32>,
    /// The subgroup (see [`Bridging::subgroups`]) most credibly against the statement, and
    /// whether it vetoes the flag; `None` without subgroups.
    #[serde(default)]
    pub weakest_subgroup: Option<WeakestSubgroup>,
    /// Every group agrees and no subgroup credibly disagrees, but the statement has too few
    /// side-takers to rule out a hidden minority: see [`resolves_a_minority`]. Not common ground.
    #[serde(default)]
    pub unresolved: bool,
    /// Common ground: the lower bound of `min_side_agreement` is at least the threshold, so with
    /// the interval's credibility, in every group more of those who took a side agreed than
    /// disagreed, and no subgroup hidden in the groups credibly disagrees (the upper bound of
    /// its side-takers' agreement is below the threshold), and its votes could have shown a
    /// minority that disagrees (not `unresolved`); never for moderated-out or meta statements.
    pub common_ground: bool,
    /// The statement's intercept in the matrix factorization: its bridging score there (`None`
    /// when the factorization did not run or no rating of the statement entered it).
    pub mf_intercept: Option<f64>,
    /// The statement's factor: its polarity on the axis that divides participants.
    pub mf_factor: Option<f64>,
}

/// A summary of the matrix-factorization fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MfSummary {
    pub global_intercept: f64,
    pub n_ratings: usize,
    /// Sweeps over the whole conversation (a fast-profile fit's sweeps over its prefixes, which
    /// start it, are not counted).
    pub sweeps: usize,
    /// Whether a sweep lowered the loss by less than the tolerance; false when the fit stopped at
    /// its sweep budget instead (`max_sweeps`, or the fast profile's 2 whole sweeps from 100,000
    /// participants on, see [`crate::Profile`]).
    pub converged: bool,
    pub loss: f64,
    pub rmse: f64,
}

impl StatementBridging {
    /// This statement's score under `score`, read as [`SCORES`] says; `None` for the
    /// factorization's score when it did not run.
    pub fn score(&self, score: BridgingScore) -> Option<f64> {
        score.spec()?.value(self)
    }
}

/// Scores every statement of `matrix` for bridging. `group_ids[g]` names the group whose counts per
/// statement (column order) are `group_votes[g]` (Polis's group-votes, which Polis's rate and GAC
/// read) and `side_votes[g]` (the cross-fitted counts, each vote in the group its participant
/// would be in without it: [`crate::cluster::cross_fitted_votes`], which the side-takers'
/// agreement, the pass rates, their minimum and the flag read); `moderated_out` and `meta` flag statements by
/// column (they are scored, but never ranked or common ground). `mf` is the matrix factorization
/// fitted to the same matrix ([`fit_mf`]), when it ran. Deterministic for a given `seed` (which only
/// the Monte Carlo intervals use), whatever the number of threads. `subgroups` are the pools the
/// flag checks beyond the groups ([`pool_base_clusters`]; empty: the groups alone).
#[allow(clippy::too_many_arguments)]
pub fn bridging(
    matrix: &VoteMatrix,
    group_ids: &[u32],
    group_votes: &[Vec<VoteCounts>],
    side_votes: &[Vec<VoteCounts>],
    subgroups: &Subgroups,
    moderated_out: &[bool],
    meta: &[bool],
    params: &BridgingParams,
    seed: u64,
    mf: Option<&MfFit>,
) -> Bridging {
    score(matrix, group_ids, group_votes, side_votes, subgroups, moderated_out, meta, params, seed).rank(mf)
}

/// The bridging scores before the matrix factorization is known: every statement scored from the
/// votes alone, with no `mf_intercept`, `mf_factor` or ranking yet. A conversation's update scores
/// the statements while the factorization is still fitting on the other core, then ranks them
/// with the fit ([`Unranked::rank`]), since the ranking may be by `mf_intercept`.
pub(crate) struct Unranked {
    /// Everything but the ranking's lists and the factorization's numbers.
    bridging: Bridging,
    /// Per statement: moderated out or meta, so never ranked or common ground.
    excluded: Vec<bool>,
}

/// [`bridging`] without the matrix factorization and the ranking (see [`Unranked`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn score(
    matrix: &VoteMatrix,
    group_ids: &[u32],
    group_votes: &[Vec<VoteCounts>],
    side_votes: &[Vec<VoteCounts>],
    subgroups: &Subgroups,
    moderated_out: &[bool],
    meta: &[bool],
    params: &BridgingParams,
    seed: u64,
) -> Unranked {
    let ids = matrix.statements();
    let m = ids.len();
    let bounds = agreement::PosteriorBounds::for_counts(
        group_votes.iter().flatten(),
        side_votes.iter().flatten(),
        params.interval,
    );
    let scores: Vec<GroupAgreement> = (0..m)
        .into_par_iter()
        .with_min_len(64)
        .map(|j| {
            let counts: Vec<VoteCounts> = group_votes.iter().map(|g| g[j]).collect();
            match params.gac_interval {
                GacInterval::Saddlepoint => agreement::group_agreement_with(&counts, &bounds),
                GacInterval::MonteCarlo => {
                    let mut sampler = Sampler::new(Rng::fork(seed ^ DRAWS_STREAM, j as u64));
                    agreement::group_agreement_monte_carlo_with(&counts, &bounds, params.draws, &mut sampler)
                }
            }
        })
        .collect();
    let sides: Vec<SideAgreement> = (0..m)
        .into_par_iter()
        .with_min_len(64)
        .map(|j| agreement::side_agreement_with(&side_votes.iter().map(|g| g[j]).collect::<Vec<_>>(), &bounds))
        .collect();
    // The clustered participants' pass rate, pooled over groups, and whether its lower bound
    // reaches the uncertain rate (the bound itself is not reported, so mostly its CDF decides).
    let q_lo = (1.0 - params.interval) / 2.0;
    let pooled_pass: Vec<(f64, bool)> = (0..m)
        .map(|j| {
            let mut c = VoteCounts::default();
            group_votes.iter().for_each(|g| c.add(&g[j]));
            let rate = (c.passes() as f64 + 1.0) / (c.seen as f64 + 2.0);
            let bound = distributions::Beta::posterior(c.passes(), c.seen);
            (rate, bound.compare_quantile(q_lo, params.uncertain_pass_rate) != std::cmp::Ordering::Less)
        })
        .collect();
    // The subgroup check per statement, in parallel (each is independent; collected in order).
    let weakest: Vec<Option<WeakestSubgroup>> = (0..m)
        .into_par_iter()
        .map(|j| subgroups::weakest_subgroup_with(subgroups, j, params.common_ground_threshold, &bounds))
        .collect();
    let excluded: Vec<bool> = (0..m)
        .map(|j| moderated_out.get(j).copied().unwrap_or(false) || meta.get(j).copied().unwrap_or(false))
        .collect();
    let statements: Vec<StatementBridging> = scores
        .into_iter()
        .zip(sides)
        .enumerate()
        .map(|(j, (a, side))| {
            let threshold = params.common_ground_threshold;
            let weakest_subgroup = weakest[j];
            let vetoed = weakest_subgroup.is_some_and(|w| w.disagrees);
            let agreed = side.min_group.lower >= threshold && !vetoed;
            let side_takers: u32 = group_votes.iter().map(|g| g[j].agree + g[j].disagree).sum();
            let unresolved = !excluded[j]
                && agreed
                && !resolves_a_minority(
                    params.subgroup_min_share * side_takers as f64,
                    side.min_group.value,
                    params.interval,
                    threshold,
                );
            StatementBridging {
                statement: ids[j].clone(),
                common_ground: !excluded[j] && agreed && !unresolved,
                unresolved,
                weakest_subgroup,
                side_agreement: side.per_group,
                pass_rate: side.pass_rate,
                min_side_agreement: side.min_group,
                weakest_group: side.weakest.map(|g| group_ids[g]),
                group_agreement: a.per_group,
                group_aware_consensus: a.group_aware_consensus,
                geometric_mean: a.geometric_mean,
                min_group_agreement: a.min_group,
                mf_intercept: None,
                mf_factor: None,
            }
        })
        .collect();
    let mut uncertain: Vec<usize> = (0..m).filter(|&j| !excluded[j] && pooled_pass[j].1).collect();
    uncertain.sort_by(|&a, &b| pooled_pass[b].0.total_cmp(&pooled_pass[a].0));
    let scored: Vec<usize> = (0..m).filter(|&j| !excluded[j]).collect();
    let merged = merged_subgroups(subgroups, ids, &scored, params.interval);
    let bridging = Bridging {
        interval: params.interval,
        threshold: params.common_ground_threshold,
        rank_by: params.rank_by,
        groups: group_ids.to_vec(),
        statements,
        ranking: Vec::new(),
        common_ground: Vec::new(),
        uncertain: uncertain.into_iter().map(|j| ids[j].clone()).collect(),
        uncertain_pass_rate: params.uncertain_pass_rate,
        hidden_disagreement: Vec::new(),
        unresolved: Vec::new(),
        subgroups: subgroups.list.clone(),
        subgroup_min_share: params.subgroup_min_share,
        merged,
        mf: None,
    };
    Unranked { bridging, excluded }
}

impl Unranked {
    /// Attaches the factorization `mf` (fitted to the same matrix, when it ran): each rated
    /// statement's `mf_intercept` and `mf_factor`, and the summary; then orders the statements by
    /// `rank_by` into the ranking and its filtered lists.
    pub(crate) fn rank(self, mf: Option<&MfFit>) -> Bridging {
        let Unranked { mut bridging, excluded } = self;
        if let Some(f) = mf {
            for (j, s) in bridging.statements.iter_mut().enumerate().filter(|&(j, _)| f.statement_ratings[j] > 0) {
                (s.mf_intercept, s.mf_factor) = (Some(f.statement_intercepts[j]), Some(f.statement_factors[j]));
            }
            bridging.mf = Some(MfSummary {
                global_intercept: f.global_intercept,
                n_ratings: f.n_ratings,
                sweeps: f.sweeps,
                converged: f.converged,
                loss: f.loss,
                rmse: f.rmse,
            });
        }
        let (statements, rank_by, threshold) = (&bridging.statements, bridging.rank_by, bridging.threshold);
        let id = |j: usize| statements[j].statement.clone();
        let mut order: Vec<usize> =
            (0..statements.len()).filter(|&j| !excluded[j] && statements[j].score(rank_by).is_some()).collect();
        let score = |j: usize| statements[j].score(rank_by).unwrap_or(f64::NEG_INFINITY);
        order.sort_by(|&a, &b| score(b).total_cmp(&score(a)));
        let ranking: Vec<Id> = order.iter().map(|&j| id(j)).collect();
        let common_ground = order.iter().filter(|&&j| statements[j].common_ground).map(|&j| id(j)).collect();
        let hidden_disagreement = order
            .iter()
            .filter(|&&j| {
                let s = &statements[j];
                s.min_side_agreement.lower >= threshold && s.weakest_subgroup.is_some_and(|w| w.disagrees)
            })
            .map(|&j| id(j))
            .collect();
        let unresolved = order.iter().filter(|&&j| statements[j].unresolved).map(|&j| id(j)).collect();
        Bridging { ranking, common_ground, hidden_disagreement, unresolved, ..bridging }
    }
}

/// Whether a statement's votes could show a hidden minority that disagrees: a subgroup of
/// `side_takers` (the expected number of side-takers of the smallest subgroup the flag promises
/// about, [`BridgingParams::subgroup_min_share`] of the statement's side-takers) whose agreement
/// is the weakest group's `agreement` mirrored about the threshold (`2 t − p`: it disagrees as
/// clearly as that group agrees) would have its upper bound below the threshold, so that the
/// subgroup check could veto it.
///
/// Why: the check vetoes a statement only when a subgroup it can see credibly disagrees. When
/// even a subgroup of the promised size that disagreed that clearly would not be credible, a
/// silence of the check is no evidence, and calling the statement common ground would rest on
/// the groups alone, which merge minorities (docs/groups.md). Derived from the flag's own terms
/// (threshold, credibility, subgroup size) and the statement's votes, nothing fitted to data. For
/// a group at 0.8 and 90% credibility it asks a 5% subgroup for about 9 side-takers, so about
/// 180 side-takers on the statement.
pub fn resolves_a_minority(side_takers: f64, agreement: f64, interval: f64, threshold: f64) -> bool {
    let mirrored = (2.0 * threshold - agreement).clamp(0.0, 1.0);
    let subgroup = distributions::Beta::new(side_takers * mirrored + 1.0, side_takers * (1.0 - mirrored) + 1.0);
    // The upper bound below the threshold, mostly told from the CDF there.
    subgroup.compare_quantile(1.0 - (1.0 - interval) / 2.0, threshold) == std::cmp::Ordering::Less
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::count_votes;
    use crate::votes::{Vote, VoteEvent};

    /// Three groups of 100 on 6 statements: 0 agreed by 80 of each group, 1 agreed by all who saw
    /// it but seen by only three per group, 2 agreed by groups 0 and 1 only, 3-5 divisive, 5 moderated out.
    /// (A hundred per group, so that statement 0's 300 side-takers can resolve a 5% minority.)
    fn three_groups() -> (VoteMatrix, Vec<Option<u32>>) {
        let mut events = Vec::new();
        for p in 0..300i64 {
            let g = p / 100;
            for s in 0..6i64 {
                let vote = match s {
                    0 => Some(if p % 5 == 0 { Vote::Disagree } else { Vote::Agree }),
                    1 => (p % 100 < 3).then_some(Vote::Agree),
                    2 => Some(if g < 2 { Vote::Agree } else { Vote::Disagree }),
                    _ => Some(if (g + s) % 2 == 0 { Vote::Agree } else { Vote::Disagree }),
                };
                if let Some(v) = vote {
                    events.push(VoteEvent::new(p, s, v));
                }
            }
        }
        let matrix = VoteMatrix::from_events(&events);
        let group_of = (0..matrix.n_participants())
            .map(|r| match matrix.participants()[r] {
                Id::Int(p) => Some((p / 100) as u32),
                _ => None,
            })
            .collect();
        (matrix, group_of)
    }

    #[test]
    fn common_ground_needs_every_group_and_enough_votes() {
        let (matrix, group_of) = three_groups();
        let votes = count_votes(&matrix, &group_of, 3);
        let mut moderated_out = vec![false; 6];
        moderated_out[5] = true;
        let b = bridging(
            &matrix,
            &[0, 1, 2],
            &votes,
            &votes,
            &Subgroups::default(),
            &moderated_out,
            &[false; 6],
            &BridgingParams::default(),
            0,
            None,
        );
        // Statement 1 has the highest point estimates (4/5 in every group) but only 3 votes per
        // group, so its lower bound is low: statement 0 (80 of 100 in each group, 81/102) ranks first.
        assert_eq!(b.common_ground, vec![Id::Int(0)]);
        assert_eq!(b.ranking[0], Id::Int(0));
        let s1 = &b.statements[1];
        assert!(s1.min_group_agreement.value > b.statements[0].min_group_agreement.value);
        assert!(!s1.common_ground && s1.min_group_agreement.lower < 0.5);
        assert!(!b.ranking.contains(&Id::Int(5)));
        // Statement 2 is rejected by group 2: its min-group agreement is group 2's 1/102.
        assert!((b.statements[2].min_group_agreement.value - 1.0 / 102.0).abs() < 1e-15);
        // Ranked by Polis's GAC instead, the rarely seen statement 1 comes first.
        let by_gac = BridgingParams { rank_by: BridgingScore::GroupAwareConsensus, ..BridgingParams::default() };
        let b = bridging(
            &matrix,
            &[0, 1, 2],
            &votes,
            &votes,
            &Subgroups::default(),
            &moderated_out,
            &[false; 6],
            &by_gac,
            0,
            None,
        );
        assert_eq!(b.ranking[0], Id::Int(1));
    }

    #[test]
    fn a_minority_is_resolved_when_a_mirrored_five_percent_subgroup_would_be_credibly_against() {
        // By the binomial tail, for integer a, b: the CDF of Beta(a, b) at 1/2 is
        // P(Binomial(a + b − 1, 1/2) ≥ a). 200 side-takers, weakest group at 0.8: a 5% subgroup is
        // 10 side-takers at 0.2, Beta(3, 9), whose CDF at 1/2 is 1 − (1 + 11 + 55) / 2048 = 0.967:
        // its 95% bound is below one half, the check could veto.
        assert!(resolves_a_minority(10.0, 0.8, 0.9, 0.5));
        // 100 side-takers: 5 at 0.2, Beta(2, 5), CDF 1 − 7 / 64 = 0.891 < 0.95: it could not.
        assert!(!resolves_a_minority(5.0, 0.8, 0.9, 0.5));
        // The mirror is about the threshold: at 0.6 a group at 0.8 asks the subgroup for 0.4.
        // 10 side-takers at 0.4: Beta(5, 7), CDF at 0.6 = P(Bin(11, 0.6) ≥ 5) = 0.901 < 0.95.
        assert!(!resolves_a_minority(10.0, 0.8, 0.9, 0.6));
    }

    #[test]
    fn every_group_agreeing_with_too_few_votes_to_rule_out_a_minority_is_unresolved_not_common_ground() {
        // Two groups of 100: all agree with statement 0; statement 1 seen by 10 per group, all
        // agree (group bounds 0.05^(1/11) = 0.76, above one half); statement 2 by everyone, split.
        let mut events = Vec::new();
        for p in 0..200i64 {
            events.push(VoteEvent::new(p, 0, Vote::Agree));
            if p % 100 < 10 {
                events.push(VoteEvent::new(p, 1, Vote::Agree));
            }
            events.push(VoteEvent::new(p, 2, if p < 100 { Vote::Agree } else { Vote::Disagree }));
        }
        let matrix = VoteMatrix::from_events(&events);
        let group_of: Vec<Option<u32>> = (0..200).map(|r| Some((r >= 100) as u32)).collect();
        let votes = count_votes(&matrix, &group_of, 2);
        let none = [false; 3];
        let b = bridging(
            &matrix,
            &[0, 1],
            &votes,
            &votes,
            &Subgroups::default(),
            &none,
            &none,
            &BridgingParams::default(),
            0,
            None,
        );
        assert!(b.statements[1].min_side_agreement.lower > 0.5);
        // Statement 1: 20 side-takers, a 5% subgroup is one of them: not common ground.
        assert_eq!(b.common_ground, vec![Id::Int(0)]);
        assert_eq!(b.unresolved, vec![Id::Int(1)]);
        assert!(b.statements[1].unresolved && !b.statements[0].unresolved && !b.statements[2].unresolved);
    }

    #[test]
    fn same_scores_with_one_thread_and_four() {
        let (matrix, group_of) = three_groups();
        let votes = count_votes(&matrix, &group_of, 3);
        let run = |threads: usize, params: &BridgingParams| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
                let mf = fit_mf(&matrix, &[false; 6], &params.mf, 3, None);
                bridging(
                    &matrix,
                    &[0, 1, 2],
                    &votes,
                    &votes,
                    &Subgroups::default(),
                    &[false; 6],
                    &[false; 6],
                    params,
                    3,
                    Some(&mf),
                )
            })
        };
        for gac_interval in [GacInterval::Saddlepoint, GacInterval::MonteCarlo] {
            let params = BridgingParams { gac_interval, ..BridgingParams::default() };
            assert_eq!(run(1, &params), run(4, &params));
        }
    }
}
