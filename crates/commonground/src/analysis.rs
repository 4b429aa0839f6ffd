//! The result of an analysis: plain serde structs, the one place every output reads from (the
//! Polis math JSON, commonground's own JSON, the human summary, and the Python DataFrames).
//!
//! Signs are commonground's (agree = +1). Participants are in vote-matrix row order, statements in
//! column order, and every output names them by their external ids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bridging::Bridging;
use crate::cluster::GroupStability;
use crate::stats::{ConsensusEntry, RepnessEntry, VoteCounts};
use crate::votes::Id;

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

    /// The group a participant belongs to, by external id.
    pub fn group_of(&self, participant: &Id) -> Option<u32> {
        self.participants.iter().find(|p| &p.id == participant).and_then(|p| p.group)
    }
}
