//! One update: Polis's stages in order over the current matrix, each started from the warm state
//! (`conv-update`, `conversation.clj`; docs/algorithm.md, "One update, end to end").
//!
//! In order: moderation and who is in conversation (§1); the PCA and the projections (§2); the base
//! clusters, a group clustering per k and the smoothed choice of k (§3); group votes and repness
//! (§4); consensus and group-aware consensus (§5); comment priorities, one update late (§6); then
//! the warm state for the next update (§8). The extensions (§10) run beside them: the matrix
//! factorization beside every other stage, from the PCA to the bridging scores (which it only
//! joins to be ranked), the bootstrap stability and the bridging scores after the clustering.
//! Each stage's math lives in the folder named after it; this file only passes one stage's
//! results to the next and times them.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::assemble::AssembleInput;
use super::{Conversation, StageTimings, WarmState};
use crate::analysis::{Analysis, KSelection};
use crate::bridging::Unranked;
use crate::cluster::{
    cross_fitted_votes, discover_groups, discovered_clustering, fixed_group_clustering, group_clusterings,
    group_stability, kmeans, kmeans_presolved, kmeans_settling, map_reassignments, silhouette, Cluster, GroupCount,
    MultiStart, Points, ReassignedVote, Reclustering, DISCOVER_MAX_K,
};
use crate::error::Result;
use crate::params::Params;
use crate::pca::{comment_projections, participant_projections, Pca};
use crate::progress::Progress;
use crate::stats::{self, ClusterVotes, VoteCounts};
use crate::votes::{Id, StatementList, VoteMatrix};

/// What the stages that carry state give, before the statistics: who is in conversation, the
/// PCA and projections, the base clusters and a group clustering per k.
struct Clustered {
    moderated_out: Vec<bool>,
    meta: Vec<bool>,
    vote_counts: Vec<usize>,
    pca: Pca,
    projections: Vec<[f64; 2]>,
    statement_projections: Vec<[f64; 2]>,
    extremity: Vec<f64>,
    points: Points,
    base: Vec<Cluster>,
    cold: MultiStart,
    clusterings: BTreeMap<usize, (Vec<Cluster>, f64)>,
    silhouettes: BTreeMap<usize, f64>,
    best_k: Option<(usize, f64)>,
    /// The smoothed k (the smoother has seen this update).
    k: Option<usize>,
    groups: Vec<Cluster>,
    /// What discovery found, when the groups were discovered from the votes.
    discovery: Option<crate::cluster::Discovery>,
    /// Discovery's pivotal votes (the bridging intervals' cross-fitting), with discovery only.
    discovered_reassigned: Option<Vec<ReassignedVote>>,
}

/// What an update computes beside the matrix factorization: the clustered state, then the group
/// stability, the statistics and the bridging scores, which wait for the fit only to be ranked.
struct Counted {
    c: Clustered,
    group_stability: Option<crate::cluster::GroupStability>,
    votes_base: Vec<Vec<VoteCounts>>,
    everyone: Vec<VoteCounts>,
    group_votes: Vec<Vec<VoteCounts>>,
    repness: Vec<Vec<stats::RepnessEntry>>,
    consensus: (Vec<stats::ConsensusEntry>, Vec<stats::ConsensusEntry>),
    gac: Vec<f64>,
    /// The bridging scores, with groups, and the pivotal votes their intervals counted.
    bridging: Option<(Unranked, Vec<ReassignedVote>)>,
}

/// The parts of a conversation that an update's stages read and write, borrowed apart from the
/// rest so that the matrix factorization can read the matrix on the other core meanwhile.
struct Stages<'a> {
    params: &'a Params,
    matrix: &'a VoteMatrix,
    statements: &'a StatementList,
    state: &'a mut WarmState,
    timings: &'a mut StageTimings,
    progress: Option<&'a dyn Progress>,
}

impl Conversation {
    /// One full Polis update over the current matrix, from the warm state. Fails only when a fixed
    /// number of groups cannot be made from this update's base clusters (see
    /// [`fixed_group_clustering`]); the caller then restores the state it had.
    pub(super) fn compute(&mut self) -> Result<Analysis> {
        let params = self.params.clone();
        let m = self.matrix.n_statements();
        // The matrix factorization reads only the votes, the moderation and its previous fit, and
        // every other stage leaves it alone until the bridging ranking, which may be by its
        // intercepts. So it runs beside all of them, from the PCA to the bridging scores, and
        // fills the cores their sequential steps leave idle; it is joined last. It is kept only
        // when there are groups, as before.
        let warm = self.state.mf.take();
        let (moderated_out, _) = moderation_flags(&self.statements, &self.matrix);
        let Conversation { matrix, statements, state, timings, progress, .. } = self;
        let matrix: &VoteMatrix = matrix;
        let mut stages = Stages { params: &params, matrix, statements, state, timings, progress: progress.as_deref() };
        let fit_mf = || {
            let start = Instant::now();
            let fit = params
                .bridging
                .mf
                .enabled
                .then(|| crate::bridging::fit_mf(matrix, &moderated_out, &params.mf(), params.seed, warm.as_ref()));
            (fit, start.elapsed())
        };
        let (counted, (mf, mf_time)) = rayon::join(|| stages.count(), fit_mf);
        let counted = match counted {
            Ok(counted) => counted,
            Err(e) => {
                self.state.mf = warm;
                return Err(e);
            }
        };
        let Counted { c, group_stability, votes_base, everyone, group_votes, repness, consensus, gac, bridging } =
            counted;
        let (groups, base, clusterings) = (c.groups, c.base, c.clusterings);
        let mf = mf.filter(|_| !groups.is_empty());
        self.state.mf = match &mf {
            Some(fit) => Some(crate::bridging::MfWarmStart::of(fit, &self.matrix)),
            None => warm,
        };
        self.timings.mf = mf_time;

        let start = Instant::now();
        let (bridging, reassigned) =
            bridging.map(|(unranked, reassigned)| (unranked.rank(mf.as_ref()), reassigned)).unzip();
        self.reassigned = reassigned.unwrap_or_default();
        self.timings.bridging += start.elapsed();

        // Priorities read the previous update's group counts (Q2).
        let start = Instant::now();
        let ids = self.matrix.statements();
        let priorities: Vec<f64> = (0..m)
            .map(|j| {
                if params.polis_all_priorities_49 {
                    return 49.0;
                }
                let counts =
                    self.state.previous_group_totals.as_ref().and_then(|t| t.get(&ids[j]).copied()).unwrap_or_default();
                stats::comment_priority(c.meta[j], &counts, c.extremity[j])
            })
            .collect();

        self.carry_forward(&c.pca, &base, &clusterings, Some(&group_votes));
        let analysis = self.assemble(AssembleInput {
            pca: c.pca,
            projections: c.projections,
            statement_projections: c.statement_projections,
            extremity: c.extremity,
            base,
            groups,
            group_votes,
            votes_base,
            repness,
            everyone,
            consensus,
            gac,
            priorities,
            moderated_out: c.moderated_out,
            meta: c.meta,
            vote_counts: c.vote_counts,
            selection: KSelection { silhouettes: c.silhouettes, best_k: c.best_k.map(|(k, _)| k), k: c.k },
            bridging,
            group_stability,
            discovery: c.discovery,
        });
        self.timings.statistics += start.elapsed();
        Ok(analysis)
    }

    /// The part of an update that the next update reads (docs/algorithm.md §8): who is in
    /// conversation, the PCA, the base clusters, the group clusterings and the smoother, and, when
    /// `totals`, the group vote totals the next update's priorities read; no statistics, no
    /// extensions, no matrix factorization.
    pub(super) fn compute_state(&mut self, totals: bool) -> Result<()> {
        let params = self.params.clone();
        let Conversation { matrix, statements, state, timings, progress, .. } = self;
        let mut stages = Stages { params: &params, matrix, statements, state, timings, progress: progress.as_deref() };
        let Clustered { pca, base, clusterings, groups, .. } = stages.cluster()?;
        let start = Instant::now();
        let group_votes =
            if totals { stats::base_and_group_votes(&self.matrix, &base, &groups).group_votes } else { Vec::new() };
        self.carry_forward(&pca, &base, &clusterings, totals.then_some(group_votes.as_slice()));
        self.timings.statistics = start.elapsed();
        (self.timings.bridging, self.timings.mf, self.timings.stability) = Default::default();
        self.reassigned = Vec::new();
        Ok(())
    }
    /// Carries the warm state forward to the next update (§8); the group vote totals only when
    /// `group_votes` are given.
    fn carry_forward(
        &mut self,
        pca: &Pca,
        base: &[Cluster],
        clusterings: &BTreeMap<usize, (Vec<Cluster>, f64)>,
        group_votes: Option<&[Vec<VoteCounts>]>,
    ) {
        if let Some(group_votes) = group_votes {
            let ids = self.matrix.statements();
            let mut totals: HashMap<Id, VoteCounts> = HashMap::new();
            for g in group_votes {
                for (j, c) in g.iter().enumerate() {
                    totals.entry(ids[j].clone()).or_default().add(c);
                }
            }
            self.state.previous_group_totals = Some(totals);
        }
        self.state.comps = Some(pca.comps.clone());
        self.state.base_clusters = base.to_vec();
        self.state.group_clusterings = clusterings.iter().map(|(&k, (c, _))| (k, c.clone())).collect();
    }
}

impl Stages<'_> {
    /// Everything an update computes but the matrix factorization: the stages that carry state
    /// ([`Stages::cluster`]), the bootstrap stability of the groups (opt-in), the statistics and the
    /// bridging scores, unranked. Records their times.
    fn count(&mut self) -> Result<Counted> {
        let params = self.params;
        let m = self.matrix.n_statements();
        let mut c = self.cluster()?;

        // Bootstrap stability of the groups at every candidate k (opt-in).
        let start = Instant::now();
        let group_stability = params.group_stability.enabled.then(|| {
            let settings = Reclustering {
                base_k: params.base_k,
                base_iters: params.base_iters,
                max_k: params.max_k,
                groups: params.groups,
                group_iters: params.group_iters,
                cold: c.cold,
            };
            let replicates = params.group_stability.replicates;
            crate::progress::report(self.progress, "group stability", replicates as u64, |done| {
                group_stability(&c.points, &c.base, &c.clusterings, &settings, replicates, params.seed, done)
            })
        });
        self.timings.stability = start.elapsed();

        // Counts per base cluster (votes-base) over raw votes; groups sum their base clusters. O(votes).
        let start = Instant::now();
        let ClusterVotes { votes_base, everyone, group_votes } =
            stats::base_and_group_votes(self.matrix, &c.base, &c.groups);
        let repness = stats::select_repness(&group_votes, &c.moderated_out);
        let consensus = stats::consensus(&everyone, &c.moderated_out);
        let gac = stats::group_aware_consensus(&group_votes, m);
        self.timings.statistics = start.elapsed();

        // Bridging scores beyond Polis: intervals per statement; the matrix factorization's
        // numbers and the ranking come when the fit has joined.
        let start = Instant::now();
        let bridging = (!c.groups.is_empty()).then(|| {
            let group_ids: Vec<u32> = c.groups.iter().map(|g| g.id).collect();
            let (matrix, seed, bp) = (self.matrix, params.seed, &params.bridging);
            // The intervals count each vote in the group its participant would be in without it
            // (`cluster/crossfit.rs`): by discovery's own rule, or by the map's.
            let reassigned = c.discovered_reassigned.take().unwrap_or_else(|| {
                map_reassignments(matrix, &c.moderated_out, &c.pca, &c.projections, &c.base, &c.groups)
            });
            let side_votes = cross_fitted_votes(&group_ids, &group_votes, &reassigned);
            // The pools the flag checks beyond the groups: at least subgroup_min_share of the
            // clustered participants each.
            let clustered: usize = c.base.iter().map(|b| b.members.len()).sum();
            let min_members = (bp.subgroup_min_share * clustered as f64).ceil() as usize;
            let subgroups = crate::bridging::pool_base_clusters(&c.base, &c.groups, &votes_base, min_members.max(1));
            let scores = crate::bridging::score(
                matrix,
                &group_ids,
                &group_votes,
                &side_votes,
                &subgroups,
                &c.moderated_out,
                &c.meta,
                bp,
                seed,
            );
            (scores, reassigned)
        });
        self.timings.bridging = start.elapsed();
        Ok(Counted { c, group_stability, votes_base, everyone, group_votes, repness, consensus, gac, bridging })
    }

    /// The stages that carry state: moderation and who is in conversation (§1); the PCA and the
    /// projections (§2); the base clusters, a group clustering per k and the smoothed choice of k
    /// (§3).
    fn cluster(&mut self) -> Result<Clustered> {
        let params = self.params;
        let m = self.matrix.n_statements();
        let n = self.matrix.n_participants();
        let (moderated_out, meta) = moderation_flags(self.statements, self.matrix);
        // user-vote-counts: raw votes per participant, passes and moderated-out included. O(participants).
        let vote_counts: Vec<usize> = (0..n).map(|r| self.matrix.row_len(r)).collect();
        self.state.in_conv =
            stats::in_conversation(&self.state.in_conv, &vote_counts, self.matrix.participants(), m, params);

        let map_and_groups = || {
            // PCA over every participant, warm-started. O(votes) per iteration.
            let start = Instant::now();
            let pca = Pca::fit(self.matrix, &moderated_out, self.state.comps.as_ref(), &params.pca());
            let projections = participant_projections(self.matrix, &moderated_out, &pca);
            let (statement_projections, extremity) = comment_projections(&pca);
            let pca_time = start.elapsed();

            // Base clusters over in-conversation participants, in row order. O(in-conv x k) per step.
            let start = Instant::now();
            let in_rows: Vec<usize> = (0..n).filter(|&r| self.state.in_conv[r]).collect();
            let points = Points::new(in_rows.clone(), in_rows.iter().map(|&r| projections[r]).collect(), None);
            let previous_base = (!self.state.base_clusters.is_empty()).then_some(self.state.base_clusters.as_slice());
            let cold = MultiStart { starts: params.group_cold_starts, seed: params.seed };
            let previous = &self.state.group_clusterings;
            let mut discovery = None;
            let mut discovered_reassigned = None;
            let (base, clusterings) = if params.groups == GroupCount::Discover {
                // Groups from the votes (a mixture model), then base clusters inside each group.
                let max_k = params.max_k.max(DISCOVER_MAX_K);
                match discover_groups(self.matrix, &in_rows, &moderated_out, max_k, params.seed) {
                    Some((group_of, found, reassigned)) => {
                        let (base, groups) =
                            discovered_clustering(&points, &group_of, params.base_k, params.base_iters);
                        let centers: Vec<[f64; 2]> = base.iter().map(|c| c.center).collect();
                        let names: Vec<usize> = base.iter().map(|c| c.id as usize).collect();
                        let s = silhouette(&names, &centers, &groups);
                        discovery = Some(found);
                        discovered_reassigned = Some(reassigned);
                        (base, Ok(BTreeMap::from([(groups.len(), (groups, s))])))
                    }
                    None => (kmeans(&points, params.base_k, None, params.base_iters), Ok(BTreeMap::new())),
                }
            } else {
                // Base clusters; then groups: every k from 2 to max, warm-started per k;
                // silhouette. O(k x 100²). Or the one k asked for.
                let base = match params.base_presolve(points.len()).filter(|_| previous_base.is_none()) {
                    Some(stride) => {
                        kmeans_presolved(&points, params.base_k, params.base_iters, stride, |n| params.base_settled(n))
                    }
                    None => {
                        let settled = params.base_settled(points.len());
                        kmeans_settling(&points, params.base_k, previous_base, params.base_iters, settled)
                    }
                };
                let clusterings = match params.groups {
                    GroupCount::Fixed(k) => fixed_group_clustering(&base, k, previous, params.group_iters, cold),
                    _ => Ok(group_clusterings(&base, params.max_k, previous, params.group_iters, cold)),
                };
                (base, clusterings)
            };
            let stages = (pca_time, start.elapsed());
            let discovered = (discovery, discovered_reassigned);
            (pca, projections, statement_projections, extremity, points, base, cold, clusterings, discovered, stages)
        };
        let (pca, projections, statement_projections, extremity, points, base, cold, clusterings, discovered, stages) =
            map_and_groups();
        let clusterings = clusterings?;
        let (discovery, discovered_reassigned) = discovered;
        let start = Instant::now();
        let silhouettes: BTreeMap<usize, f64> = clusterings.iter().map(|(&k, (_, s))| (k, *s)).collect();
        let best_k = silhouettes.iter().fold(None, |best: Option<(usize, f64)>, (&k, &s)| match best {
            Some((_, bs)) if s < bs => best,
            _ => Some((k, s)),
        });
        // A fixed number of groups is used as asked, without Polis's smoother.
        let k = match params.groups {
            GroupCount::Polis => self.state.smoother.update(&silhouettes, params.group_k_buffer),
            GroupCount::Fixed(k) => Some(k),
            GroupCount::Discover => best_k.map(|(k, _)| k),
        };
        let groups: Vec<Cluster> = k.and_then(|k| clusterings.get(&k)).map(|(c, _)| c.clone()).unwrap_or_default();
        (self.timings.pca, self.timings.clustering) = (stages.0, stages.1 + start.elapsed());
        Ok(Clustered {
            moderated_out,
            meta,
            vote_counts,
            pca,
            projections,
            statement_projections,
            extremity,
            points,
            base,
            cold,
            clusterings,
            silhouettes,
            best_k,
            k,
            groups,
            discovery,
            discovered_reassigned,
        })
    }
}

/// Polis's `mod-out` and `meta-tids` (docs/algorithm.md §1) as one flag per statement column of
/// `matrix`; a statement without metadata is neither.
fn moderation_flags(statements: &StatementList, matrix: &VoteMatrix) -> (Vec<bool>, Vec<bool>) {
    let m = matrix.n_statements();
    let mut out = vec![false; m];
    let mut meta = vec![false; m];
    for (j, id) in matrix.statements().iter().enumerate() {
        if let Some(s) = statements.get(id) {
            out[j] = s.is_moderated_out();
            meta[j] = s.is_meta;
        }
    }
    (out, meta)
}
