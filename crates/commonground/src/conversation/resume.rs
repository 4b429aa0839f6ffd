//! Reloading a conversation from the math blob a Polis worker persisted, as Polis's worker does
//! when it restarts (`load-or-init`, `conv_man.clj`; docs/algorithm.md §8), so that a site
//! migrating from Polis's worker keeps its groups.
//!
//! A blob carries less than a [`super::ConversationState`]: the PCA components, the base clusters,
//! the in-conversation set and the last group votes, in Polis's sign and by external id. The
//! matrix is rebuilt from all votes, and the blob's state is mapped onto its rows and columns.

use super::Conversation;
use crate::cluster::{Cluster, GroupKSmoother};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::stats::VoteCounts;
use crate::votes::{Id, Statement, VoteBatch, VoteMatrix, Votes};

/// The part of a Polis math blob that the Polis worker reloads when it restarts (`load-or-init`,
/// docs/algorithm.md §8): PCA components, base clusters, the in-conversation set and the last group
/// votes, plus the groups and the tick. A [`crate::Conversation`] resumed from it continues the
/// conversation as the Polis worker would after a restart, with the same group ids: the way to
/// move a live deliberation from the Polis math worker to commonground without its map jumping.
#[derive(Debug, Clone, PartialEq)]
pub struct PolisState {
    pub tick: u64,
    /// Statement ids in the blob's column order (`tids`).
    pub tids: Vec<Id>,
    /// Components as stored, in Polis's sign and `tids` order.
    pub comps: Vec<Vec<f64>>,
    pub in_conv: Vec<Id>,
    /// (id, members, centre) of each base cluster.
    pub base_clusters: Vec<(u32, Vec<Id>, [f64; 2])>,
    /// (id, member base-cluster ids, centre) of each group.
    pub group_clusters: Vec<(u32, Vec<u32>, [f64; 2])>,
    /// In-conversation vote totals per statement, summed over groups (`group-votes`).
    pub group_totals: Vec<(Id, VoteCounts)>,
}

impl PolisState {
    /// Each grouped participant's group id, through the base clusters (a group's members are base
    /// cluster ids, a base cluster's are participants), as Polis's clients read the blob.
    pub fn participant_groups(&self) -> std::collections::HashMap<Id, u32> {
        let base: std::collections::HashMap<u32, &Vec<Id>> =
            self.base_clusters.iter().map(|(id, members, _)| (*id, members)).collect();
        let mut out = std::collections::HashMap::new();
        for (group, members, _) in &self.group_clusters {
            for b in members {
                for p in base.get(b).into_iter().flat_map(|m| m.iter()) {
                    out.insert(p.clone(), *group);
                }
            }
        }
        out
    }
}

impl Conversation {
    /// Resumes a conversation from the state a Polis math worker persisted (its math blob), with
    /// all votes so far, as the Polis worker does when it restarts: the matrix is rebuilt from the
    /// votes, and PCA, base clusters, in-conversation set and last group votes are reloaded. Then
    /// one update runs. Unlike a Polis restart, the group clustering and the group-count smoother
    /// are seeded from the blob's groups too, so the number of groups and the group ids do not
    /// jump; given a state without `group_clusters`, the update clusters the groups cold and takes
    /// its best k at once, exactly as Polis's worker does after a restart.
    pub fn resume_from_polis<V: Votes + ?Sized>(
        params: Params,
        statements: Vec<Statement>,
        votes: &V,
        state: &PolisState,
    ) -> Result<Conversation> {
        let mut conv = Conversation::new(params)?;
        conv.set_statements(statements);
        conv.matrix = VoteMatrix::default().with_batch(&votes.as_batch());
        if conv.matrix.n_votes() == 0 {
            return Err(Error::EmptyConversation("no votes to resume from".into()));
        }
        let m = conv.matrix.n_statements();
        // Polis sign -> ours: negated components (see io::PolisMath), re-indexed by statement id.
        if state.comps.len() >= 2 {
            let mut comps = [vec![1.0; m], vec![1.0; m]];
            for (pos, tid) in state.tids.iter().enumerate() {
                if let Some(j) = conv.matrix.statement_index(tid) {
                    for c in 0..2 {
                        if let Some(&x) = state.comps[c].get(pos) {
                            comps[c][j] = -x;
                        }
                    }
                }
            }
            conv.state.comps = Some(comps);
        }
        conv.state.in_conv = vec![false; conv.matrix.n_participants()];
        for pid in &state.in_conv {
            if let Some(r) = conv.matrix.participant_index(pid) {
                conv.state.in_conv[r] = true;
            }
        }
        conv.state.base_clusters = state
            .base_clusters
            .iter()
            .map(|(id, members, center)| Cluster {
                id: *id,
                members: members.iter().filter_map(|p| conv.matrix.participant_index(p)).collect(),
                center: *center,
            })
            .collect();
        if !state.group_clusters.is_empty() {
            let k = state.group_clusters.len();
            let groups = state
                .group_clusters
                .iter()
                .map(|(id, members, center)| Cluster {
                    id: *id,
                    members: members.iter().map(|&b| b as usize).collect(),
                    center: *center,
                })
                .collect();
            conv.state.group_clusterings.insert(k, groups);
            conv.state.smoother =
                GroupKSmoother { last_k: Some(k), last_k_count: conv.params.group_k_buffer, smoothed_k: Some(k) };
        }
        conv.state.previous_group_totals = Some(state.group_totals.iter().cloned().collect());
        conv.tick = state.tick;
        conv.update(&VoteBatch::new())?;
        Ok(conv)
    }
}
