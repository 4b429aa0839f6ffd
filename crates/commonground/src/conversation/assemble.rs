//! The end of an update: the stages' results, indexed by matrix row and column, turned into the
//! one [`Analysis`], which names participants and statements by their external ids.
//!
//! Nothing is computed here beyond bookkeeping: which group each participant is in (through their
//! base cluster), the statement metadata, the moderation sets sorted by id. The arrays keep
//! Polis's shapes (docs/algorithm.md §7): `votes_base` by position among the base clusters, groups
//! and repness in group order.

use std::collections::HashMap;

use super::Conversation;
use crate::analysis::{
    Analysis, BaseCluster, Consensus, Group, KSelection, ModerationSets, ParticipantResult, PcaResult, StatementResult,
};
use crate::cluster::Cluster;
use crate::pca::Pca;
use crate::stats::{self, VoteCounts};

/// Everything one update computed, handed from the pipeline to [`Conversation::assemble`].
pub(super) struct AssembleInput {
    pub(super) pca: Pca,
    pub(super) projections: Vec<[f64; 2]>,
    pub(super) statement_projections: Vec<[f64; 2]>,
    pub(super) extremity: Vec<f64>,
    pub(super) base: Vec<Cluster>,
    pub(super) groups: Vec<Cluster>,
    pub(super) group_votes: Vec<Vec<VoteCounts>>,
    pub(super) votes_base: Vec<Vec<VoteCounts>>,
    pub(super) repness: Vec<Vec<stats::RepnessEntry>>,
    pub(super) everyone: Vec<VoteCounts>,
    pub(super) consensus: (Vec<stats::ConsensusEntry>, Vec<stats::ConsensusEntry>),
    pub(super) gac: Vec<f64>,
    pub(super) priorities: Vec<f64>,
    pub(super) moderated_out: Vec<bool>,
    pub(super) meta: Vec<bool>,
    pub(super) vote_counts: Vec<usize>,
    pub(super) selection: KSelection,
    pub(super) bridging: Option<crate::bridging::Bridging>,
    pub(super) group_stability: Option<crate::cluster::GroupStability>,
    pub(super) discovery: Option<crate::cluster::Discovery>,
}

impl Conversation {
    pub(super) fn assemble(&self, a: AssembleInput) -> Analysis {
        let ids = self.matrix.statements();
        let pids = self.matrix.participants();
        let mut group_of_base: HashMap<usize, u32> = HashMap::new();
        for g in &a.groups {
            for &b in &g.members {
                group_of_base.insert(b, g.id);
            }
        }
        let mut base_of_row: Vec<Option<u32>> = vec![None; self.matrix.n_participants()];
        for c in &a.base {
            for &r in &c.members {
                base_of_row[r] = Some(c.id);
            }
        }
        let participants = (0..self.matrix.n_participants())
            .map(|r| {
                let base_cluster = base_of_row[r];
                ParticipantResult {
                    id: pids[r].clone(),
                    x: a.projections[r][0],
                    y: a.projections[r][1],
                    group: base_cluster.and_then(|b| group_of_base.get(&(b as usize)).copied()),
                    base_cluster,
                    in_conv: self.state.in_conv[r],
                    n_votes: a.vote_counts[r],
                }
            })
            .collect();
        let statements = (0..self.matrix.n_statements())
            .map(|j| {
                let meta = self.statements.get(&ids[j]);
                let c = a.everyone[j];
                StatementResult {
                    id: ids[j].clone(),
                    text: meta.and_then(|s| s.text.clone()),
                    n_agree: c.agree,
                    n_disagree: c.disagree,
                    n_pass: c.passes(),
                    moderated_out: a.moderated_out[j],
                    is_meta: a.meta[j],
                    mean: a.pca.center[j],
                    projection: a.statement_projections[j],
                    extremity: a.extremity[j],
                    group_aware_consensus: a.gac[j],
                    priority: a.priorities[j],
                }
            })
            .collect();
        let base_clusters = a
            .base
            .iter()
            .map(|c| BaseCluster {
                id: c.id,
                members: c.members.iter().map(|&r| pids[r].clone()).collect(),
                center: c.center,
            })
            .collect();
        let groups = a
            .groups
            .iter()
            .zip(a.group_votes)
            .map(|(g, votes)| Group {
                id: g.id,
                base_clusters: g.members.iter().map(|&b| b as u32).collect(),
                center: g.center,
                n_members: a
                    .base
                    .iter()
                    .filter(|c| g.members.contains(&(c.id as usize)))
                    .map(|c| c.members.len())
                    .sum(),
                votes,
            })
            .collect();
        let id_of = |j: usize| ids[j].clone();
        let mut moderation = ModerationSets::default();
        for s in self.statements.as_slice() {
            if s.is_moderated_out() {
                moderation.moderated_out.push(s.id.clone());
            }
            if s.is_meta || s.moderation == crate::votes::ModerationStatus::Accepted {
                moderation.moderated_in.push(s.id.clone());
            }
            if s.is_meta {
                moderation.meta.push(s.id.clone());
            }
        }
        // By id, whatever order the statements were given in.
        moderation.moderated_out.sort();
        moderation.moderated_in.sort();
        moderation.meta.sort();
        Analysis {
            tick: self.tick,
            n_participants: self.matrix.n_participants(),
            n_statements: self.matrix.n_statements(),
            n_votes: self.matrix.n_votes(),
            last_vote_timestamp: self.matrix.last_timestamp(),
            participants,
            statements,
            pca: PcaResult {
                center: a.pca.center,
                comps: a.pca.comps,
                n_comps: a.pca.n_comps,
                iterations: a.pca.iterations,
            },
            base_clusters,
            groups,
            k_selection: a.selection,
            votes_base: a.votes_base,
            repness: a.repness.into_iter().map(|g| g.into_iter().map(|e| e.map_statement(id_of)).collect()).collect(),
            consensus: Consensus {
                agree: a.consensus.0.into_iter().map(|e| e.map_statement(id_of)).collect(),
                disagree: a.consensus.1.into_iter().map(|e| e.map_statement(id_of)).collect(),
            },
            moderation,
            bridging: a.bridging,
            group_stability: a.group_stability,
            group_discovery: a.discovery,
        }
    }
}
