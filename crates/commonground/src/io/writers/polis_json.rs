//! Writes an [`Analysis`] as the Polis math JSON: the shape of the `math_main.data` blob that the
//! Polis API serves at `/api/v3/math/pca2` (`conv_man.clj` whitelist, docs/algorithm.md §7), so that a
//! Polis client or report can read commonground's results unchanged.
//!
//! Polis's math uses agree = -1: the centre and components are negated here (projections,
//! statement projections and cluster centres are unchanged under negating both). Map keys are ids
//! as strings, as cheshire writes integer keys; `repness-test` is a 32-bit float, as Polis stores it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::stats::{RepfulFor, VoteCounts};
use crate::votes::Id;

fn key(id: &Id) -> String {
    match id {
        Id::Int(n) => n.to_string(),
        Id::Str(s) => s.clone(),
    }
}

/// The Polis math blob.
#[derive(Debug, Serialize)]
pub struct PolisMath {
    pub pca: PolisPca,
    #[serde(rename = "base-clusters")]
    pub base_clusters: FoldedClusters,
    #[serde(rename = "group-clusters")]
    pub group_clusters: Vec<PolisGroupCluster>,
    pub repness: BTreeMap<String, Vec<PolisRepness>>,
    pub consensus: PolisConsensus,
    #[serde(rename = "group-aware-consensus")]
    pub group_aware_consensus: BTreeMap<String, f64>,
    #[serde(rename = "comment-priorities")]
    pub comment_priorities: BTreeMap<String, f64>,
    #[serde(rename = "votes-base")]
    pub votes_base: BTreeMap<String, BucketVotes>,
    #[serde(rename = "group-votes")]
    pub group_votes: BTreeMap<String, PolisGroupVotes>,
    #[serde(rename = "in-conv")]
    pub in_conv: Vec<Id>,
    #[serde(rename = "user-vote-counts")]
    pub user_vote_counts: BTreeMap<String, usize>,
    pub tids: Vec<Id>,
    pub n: usize,
    #[serde(rename = "n-cmts")]
    pub n_cmts: usize,
    #[serde(rename = "mod-out")]
    pub mod_out: Vec<Id>,
    #[serde(rename = "mod-in")]
    pub mod_in: Vec<Id>,
    #[serde(rename = "meta-tids")]
    pub meta_tids: Vec<Id>,
    #[serde(rename = "lastVoteTimestamp")]
    pub last_vote_timestamp: Option<i64>,
    #[serde(rename = "lastModTimestamp")]
    pub last_mod_timestamp: Option<i64>,
    pub math_tick: u64,
}

#[derive(Debug, Serialize)]
pub struct PolisPca {
    pub center: Vec<f64>,
    pub comps: Vec<Vec<f64>>,
    #[serde(rename = "comment-projection")]
    pub comment_projection: [Vec<f64>; 2],
    #[serde(rename = "comment-extremity")]
    pub comment_extremity: Vec<f64>,
}

/// Base clusters "folded" into parallel arrays (`fold-clusters`), sorted by id.
#[derive(Debug, Serialize)]
pub struct FoldedClusters {
    pub id: Vec<u32>,
    pub members: Vec<Vec<Id>>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub count: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct PolisGroupCluster {
    pub id: u32,
    pub members: Vec<u32>,
    pub center: [f64; 2],
}

/// A representative statement: the consensus entry's fields, then the group comparison.
#[derive(Debug, Serialize)]
pub struct PolisRepness {
    #[serde(flatten)]
    pub entry: PolisConsensusEntry,
    pub repness: f64,
    #[serde(rename = "repness-test")]
    pub repness_test: f32,
    #[serde(rename = "repful-for")]
    pub repful_for: RepfulFor,
    #[serde(rename = "n-agree", skip_serializing_if = "Option::is_none")]
    pub n_agree: Option<u32>,
    #[serde(rename = "best-agree", skip_serializing_if = "Option::is_none")]
    pub best_agree: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct PolisConsensusEntry {
    pub tid: Id,
    #[serde(rename = "n-success")]
    pub n_success: u32,
    #[serde(rename = "n-trials")]
    pub n_trials: u32,
    #[serde(rename = "p-success")]
    pub p_success: f64,
    #[serde(rename = "p-test")]
    pub p_test: f64,
}

#[derive(Debug, Serialize)]
pub struct PolisConsensus {
    pub agree: Vec<PolisConsensusEntry>,
    pub disagree: Vec<PolisConsensusEntry>,
}

/// Per-statement counts over base clusters, indexed by position in sorted base-cluster ids.
#[derive(Debug, Serialize)]
pub struct BucketVotes {
    #[serde(rename = "A")]
    pub agree: Vec<u32>,
    #[serde(rename = "D")]
    pub disagree: Vec<u32>,
    #[serde(rename = "S")]
    pub seen: Vec<u32>,
}

#[derive(Debug, Serialize)]
pub struct PolisGroupVotes {
    pub id: u32,
    #[serde(rename = "n-members")]
    pub n_members: usize,
    pub votes: BTreeMap<String, VoteCounts>,
}

impl PolisMath {
    /// Builds the Polis blob from an analysis.
    pub fn from_analysis(a: &Analysis) -> PolisMath {
        let tids: Vec<Id> = a.statements.iter().map(|s| s.id.clone()).collect();
        let by_tid = |f: &dyn Fn(usize) -> f64| -> BTreeMap<String, f64> {
            tids.iter().enumerate().map(|(j, t)| (key(t), f(j))).collect()
        };
        let repness = a
            .groups
            .iter()
            .zip(&a.repness)
            .map(|(g, entries)| {
                let list = entries
                    .iter()
                    .map(|e| PolisRepness {
                        entry: PolisConsensusEntry {
                            tid: e.statement.clone(),
                            n_success: e.n_success,
                            n_trials: e.n_trials,
                            p_success: e.p_success,
                            p_test: e.p_test,
                        },
                        repness: e.repness,
                        repness_test: e.repness_test,
                        repful_for: e.repful_for,
                        n_agree: e.n_agree,
                        best_agree: e.best_agree.then_some(true),
                    })
                    .collect();
                (g.id.to_string(), list)
            })
            .collect();
        let consensus_list = |list: &[crate::stats::ConsensusEntry<Id>]| {
            list.iter()
                .map(|e| PolisConsensusEntry {
                    tid: e.statement.clone(),
                    n_success: e.n_success,
                    n_trials: e.n_trials,
                    p_success: e.p_success,
                    p_test: e.p_test,
                })
                .collect()
        };
        let votes_base = tids
            .iter()
            .enumerate()
            .map(|(j, t)| {
                let col = |f: fn(&VoteCounts) -> u32| a.votes_base.iter().map(|b| f(&b[j])).collect();
                (key(t), BucketVotes { agree: col(|c| c.agree), disagree: col(|c| c.disagree), seen: col(|c| c.seen) })
            })
            .collect();
        PolisMath {
            pca: PolisPca {
                center: a.pca.center.iter().map(|c| -c).collect(),
                comps: a.pca.comps.iter().map(|pc| pc.iter().map(|x| -x).collect()).collect(),
                comment_projection: [
                    a.statements.iter().map(|s| s.projection[0]).collect(),
                    a.statements.iter().map(|s| s.projection[1]).collect(),
                ],
                comment_extremity: a.statements.iter().map(|s| s.extremity).collect(),
            },
            base_clusters: FoldedClusters {
                id: a.base_clusters.iter().map(|c| c.id).collect(),
                members: a.base_clusters.iter().map(|c| c.members.clone()).collect(),
                x: a.base_clusters.iter().map(|c| c.center[0]).collect(),
                y: a.base_clusters.iter().map(|c| c.center[1]).collect(),
                count: a.base_clusters.iter().map(|c| c.members.len()).collect(),
            },
            group_clusters: a
                .groups
                .iter()
                .map(|g| PolisGroupCluster { id: g.id, members: g.base_clusters.clone(), center: g.center })
                .collect(),
            repness,
            consensus: PolisConsensus {
                agree: consensus_list(&a.consensus.agree),
                disagree: consensus_list(&a.consensus.disagree),
            },
            group_aware_consensus: by_tid(&|j| a.statements[j].group_aware_consensus),
            comment_priorities: by_tid(&|j| a.statements[j].priority),
            votes_base,
            group_votes: a
                .groups
                .iter()
                .map(|g| {
                    let votes = tids.iter().zip(&g.votes).map(|(t, c)| (key(t), *c)).collect();
                    (g.id.to_string(), PolisGroupVotes { id: g.id, n_members: g.n_members, votes })
                })
                .collect(),
            in_conv: a.participants.iter().filter(|p| p.in_conv).map(|p| p.id.clone()).collect(),
            user_vote_counts: a.participants.iter().map(|p| (key(&p.id), p.n_votes)).collect(),
            tids: tids.clone(),
            n: a.n_participants,
            n_cmts: a.n_statements,
            mod_out: a.moderation.moderated_out.clone(),
            mod_in: a.moderation.moderated_in.clone(),
            meta_tids: a.moderation.meta.clone(),
            last_vote_timestamp: a.last_vote_timestamp,
            last_mod_timestamp: None,
            math_tick: a.tick,
        }
    }

    /// The blob as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Writes [`PolisMath::to_json`]'s bytes to `w` as they are serialised (see
    /// [`crate::Analysis::write_json`]).
    pub fn write_json(&self, w: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(w, self).map_err(std::io::Error::from)
    }
}
