//! The result of an analysis: plain serde structs, the one place every output reads from (the
//! Polis math JSON, commonground's own JSON, the human summary, and the Python DataFrames).
//!
//! Signs are commonground's (agree = +1). Participants are in vote-matrix row order, statements in
//! column order, and every output names them by their external ids.
//!
//! The matrices among the results are also handed out as `ndarray` arrays
//! ([`Analysis::projections`], [`Analysis::components`], [`Analysis::group_votes`]), copied from
//! the fields in the same orders, so that a Rust researcher can go on with ndarray or linfa.

use std::collections::BTreeMap;

use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

use crate::bridging::Bridging;
use crate::cluster::{Discovery, GroupStability};
use crate::stats::{ConsensusEntry, RepnessEntry, VoteCounts};
use crate::votes::Id;

/// Polis's report counts a statement as uncertain when more than this share of its votes are passes.
const UNCERTAIN_PASS_SHARE: f64 = 0.3;
/// Polis's report lists this many uncertain statements.
const UNCERTAIN_SHOWN: usize = 5;

/// Everything one analysis of a conversation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// How many updates the conversation has had, this one included (Polis's `math_tick`).
    pub tick: u64,
    pub n_participants: usize,
    pub n_statements: usize,
    pub n_votes: usize,
    /// Latest vote timestamp seen (epoch ms), when votes carried timestamps.
    pub last_vote_timestamp: Option<i64>,
    pub participants: Vec<ParticipantResult>,
    pub statements: Vec<StatementResult>,
    pub pca: PcaResult,
    /// Base clusters (Polis: up to 100 on the opinion map), sorted by id.
    pub base_clusters: Vec<BaseCluster>,
    /// Opinion groups, sorted by id.
    pub groups: Vec<Group>,
    pub k_selection: KSelection,
    /// Vote counts per base cluster (in `base_clusters` order) and statement (column order), over
    /// the raw votes: Polis's `votes-base`.
    pub votes_base: Vec<Vec<VoteCounts>>,
    /// Representative statements per group, in `groups` order.
    pub repness: Vec<Vec<RepnessEntry<Id>>>,
    pub consensus: Consensus,
    pub moderation: ModerationSets,
    /// Bridging scores with credible intervals (an extension beyond Polis); `None` when there are
    /// no groups.
    #[serde(default)]
    pub bridging: Option<Bridging>,
    /// Bootstrap stability of the groups per candidate k, when `Params::group_stability` asks for it.
    #[serde(default)]
    pub group_stability: Option<GroupStability>,
    /// How discovery chose the number of groups (BIC per k), with `groups = "discover"`.
    #[serde(default)]
    pub group_discovery: Option<Discovery>,
}

/// One participant on the opinion map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantResult {
    pub id: Id,
    /// Position on the opinion map (Polis's sparsity-aware projection), commonground's sign.
    pub x: f64,
    pub y: f64,
    /// Opinion group, when the participant is clustered (in conversation).
    pub group: Option<u32>,
    pub base_cluster: Option<u32>,
    /// Whether the participant is clustered: enough votes, now or earlier (Polis's `in-conv`).
    pub in_conv: bool,
    /// Votes cast, passes and votes on moderated-out statements included (`user-vote-counts`).
    pub n_votes: usize,
}

/// One statement and its statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementResult {
    pub id: Id,
    pub text: Option<String>,
    /// Counts over every participant's latest vote.
    pub n_agree: u32,
    pub n_disagree: u32,
    pub n_pass: u32,
    /// Moderated out (rejected or meta): kept in the matrix as zeros, never representative.
    pub moderated_out: bool,
    pub is_meta: bool,
    /// Mean vote (the PCA centre), 0 for moderated-out statements.
    pub mean: f64,
    /// Where a participant who agreed with only this statement would sit on the map.
    pub projection: [f64; 2],
    /// Norm of `projection` (Polis's `comment-extremity`).
    pub extremity: f64,
    /// Polis's group-aware consensus: product over groups of (A + 1) / (S + 2).
    pub group_aware_consensus: f64,
    /// Polis's comment priority for routing (from the previous update's group counts).
    pub priority: f64,
}

/// The PCA in commonground's sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaResult {
    pub center: Vec<f64>,
    pub comps: [Vec<f64>; 2],
    pub n_comps: usize,
    /// Power-iteration products per component in this update.
    pub iterations: [usize; 2],
}

/// A base cluster: participants close together on the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseCluster {
    pub id: u32,
    pub members: Vec<Id>,
    pub center: [f64; 2],
}

/// An opinion group: a set of base clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: u32,
    pub base_clusters: Vec<u32>,
    pub center: [f64; 2],
    /// Number of participants.
    pub n_members: usize,
    /// Vote counts of the group's participants per statement (column order): `group-votes`.
    pub votes: Vec<VoteCounts>,
}

/// How the number of groups was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KSelection {
    /// Silhouette of the clustering for each k tried.
    pub silhouettes: BTreeMap<usize, f64>,
    /// The k with the best silhouette in this update.
    pub best_k: Option<usize>,
    /// The k used, after Polis's smoother.
    pub k: Option<usize>,
}

/// Statements most agreed (or disagreed) across everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Consensus {
    pub agree: Vec<ConsensusEntry<Id>>,
    pub disagree: Vec<ConsensusEntry<Id>>,
}

/// Polis's moderation sets, as the math saw them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ModerationSets {
    pub moderated_out: Vec<Id>,
    pub moderated_in: Vec<Id>,
    pub meta: Vec<Id>,
}

impl Analysis {
    /// Serialises this analysis as commonground's JSON (pretty-printed, stable key order).
    pub fn to_json(&self) -> String {
        // Analysis holds only finite numbers and string-keyed maps, so serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Writes [`Analysis::to_json`]'s bytes to `w` as they are serialised, without holding them in
    /// memory: a million participants' JSON is about 300 MB, and built as one string it was the
    /// CLI's peak memory, at the end of the run.
    pub fn write_json(&self, w: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(w, self).map_err(std::io::Error::from)
    }

    /// The group a participant belongs to, by external id.
    pub fn group_of(&self, participant: &Id) -> Option<u32> {
        self.participants.iter().find(|p| &p.id == participant).and_then(|p| p.group)
    }

    /// Polis's "areas of uncertainty" (its report, `client-report/src/components/app.js`), for
    /// callers that want Polis's report exactly; commonground's own outputs (summary, HTML, JSON,
    /// Python) show [`crate::bridging::Bridging::uncertain`] instead, one credible rule. Polis's: the
    /// statements on which more than 30% of the votes were passes, most uncertain first (by
    /// `share² × passes`, ties in statement order), at most five. Moderated-out and meta
    /// statements are left out. Column indices into `statements`.
    pub fn uncertain_statements(&self) -> Vec<usize> {
        let mut uncertain: Vec<(usize, f64)> = self
            .statements
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.moderated_out && !s.is_meta)
            .filter_map(|(j, s)| {
                let votes = s.n_agree + s.n_disagree + s.n_pass;
                let share = s.n_pass as f64 / votes.max(1) as f64;
                (share > UNCERTAIN_PASS_SHARE).then_some((j, share * share * s.n_pass as f64))
            })
            .collect();
        uncertain.sort_by(|x, y| y.1.total_cmp(&x.1));
        uncertain.into_iter().take(UNCERTAIN_SHOWN).map(|(j, _)| j).collect()
    }

    /// The opinion map: one row per participant in `participants` order, columns x and y.
    pub fn projections(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.participants.len(), 2), |(i, axis)| {
            let p = &self.participants[i];
            if axis == 0 {
                p.x
            } else {
                p.y
            }
        })
    }

    /// The two principal components: one row per component, one column per statement (in
    /// `statements` order), commonground's sign. A component the data does not support is a row
    /// of zeros, as in [`PcaResult::comps`].
    pub fn components(&self) -> Array2<f64> {
        Array2::from_shape_fn((2, self.statements.len()), |(c, j)| self.pca.comps[c].get(j).copied().unwrap_or(0.0))
    }

    /// Each group's vote counts (Polis's `group-votes`) as groups x statements x {agree, disagree,
    /// seen}: `[g, j, 0]` is how many of group g (in `groups` order) agreed with statement j (in
    /// `statements` order), `[g, j, 1]` disagreed, `[g, j, 2]` voted at all, passes included.
    pub fn group_votes(&self) -> Array3<u32> {
        Array3::from_shape_fn((self.groups.len(), self.statements.len(), 3), |(g, j, k)| {
            let c = self.groups[g].votes.get(j).copied().unwrap_or_default();
            [c.agree, c.disagree, c.seen][k]
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{analyze, Params, Vote, VoteEvent};

    /// Two camps of 12 that disagree on statements 1-6 and all agree on statement 0; participant
    /// 24 votes on two statements only.
    fn two_camps() -> super::Analysis {
        let mut votes: Vec<VoteEvent> = (0..24)
            .flat_map(|p| {
                (0..7).map(move |s| {
                    let camp = if p < 12 { Vote::Agree } else { Vote::Disagree };
                    let vote = if s == 0 {
                        Vote::Agree
                    } else if (p + s) % 5 == 0 {
                        Vote::Pass
                    } else {
                        camp
                    };
                    VoteEvent::new(p, s, vote)
                })
            })
            .collect();
        votes.extend([VoteEvent::new(24, 1, Vote::Agree), VoteEvent::new(24, 2, Vote::Disagree)]);
        analyze(&votes, &[], &Params::default()).unwrap()
    }

    #[test]
    fn projections_are_participants_by_x_and_y_in_participant_order() {
        let a = two_camps();
        let p = a.projections();
        assert_eq!(p.dim(), (25, 2));
        for (row, participant) in p.rows().into_iter().zip(&a.participants) {
            assert_eq!((row[0], row[1]), (participant.x, participant.y));
        }
    }

    #[test]
    fn components_are_two_rows_over_the_statements() {
        let a = two_camps();
        let c = a.components();
        assert_eq!(c.dim(), (2, a.n_statements));
        for k in 0..2 {
            assert_eq!(c.row(k).to_vec(), a.pca.comps[k]);
        }
    }

    #[test]
    fn group_votes_are_groups_by_statements_by_agree_disagree_seen() {
        let a = two_camps();
        assert_eq!(a.groups.len(), 2);
        let v = a.group_votes();
        assert_eq!(v.dim(), (2, a.n_statements, 3));
        for (g, group) in a.groups.iter().enumerate() {
            for (j, c) in group.votes.iter().enumerate() {
                assert_eq!([v[[g, j, 0]], v[[g, j, 1]], v[[g, j, 2]]], [c.agree, c.disagree, c.seen]);
            }
        }
        // Statement 0 (column 0: columns are in statement order) is agreed by everyone in both groups.
        for g in 0..2 {
            assert_eq!(v[[g, 0, 0]], v[[g, 0, 2]]);
            assert_eq!(v[[g, 0, 1]], 0);
        }
    }

    #[test]
    fn uncertain_statements_are_those_passed_by_more_than_30_percent_most_uncertain_first() {
        // Hand-made counts: (agree, disagree, pass). Share of passes and share² × passes:
        // #0 0/10 -> out; #1 3/10 = 0.3 -> out (Polis: strictly more); #2 4/10 -> 0.64;
        // #3 8/10 -> 5.12; #4 4/10 but moderated out; #5 5/10 -> 1.25; #6 1/2 -> 0.25.
        let mut a = two_camps();
        let counts = [(5, 5, 0), (4, 3, 3), (3, 3, 4), (1, 1, 8), (3, 3, 4), (3, 2, 5), (1, 0, 1)];
        let template = a.statements[0].clone();
        a.statements = counts
            .iter()
            .enumerate()
            .map(|(j, &(n_agree, n_disagree, n_pass))| crate::analysis::StatementResult {
                id: (j as i64).into(),
                n_agree,
                n_disagree,
                n_pass,
                moderated_out: j == 4,
                ..template.clone()
            })
            .collect();
        assert_eq!(a.uncertain_statements(), vec![3, 5, 2, 6]);
    }
}
