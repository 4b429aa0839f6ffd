//! A conversation analysed as votes stream in, with Polis's warm starts, and the stateless
//! [`analyze`] built on it.
//!
//! Polis recomputes the whole analysis on every update (one poll of new votes), but starts each
//! stage from the previous update's result (`conversation.clj`): the PCA from the previous
//! components, the base clusters from the previous base clusters, each candidate number of groups
//! from its previous clustering; the number of groups changes only after it has been the best for
//! four updates; and a participant once in conversation stays in. [`Conversation`] keeps exactly
//! that state, so feeding it Polis's batches reproduces Polis's history, and its group ids stay
//! stable across updates.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::analysis::{
    Analysis, BaseCluster, Consensus, Group, KSelection, ModerationSets, ParticipantResult, PcaResult, StatementResult,
};
use crate::clojure::{hasheq, map_order};
use crate::cluster::{
    group_clusterings, group_stability, kmeans, Cluster, GroupKSmoother, MultiStart, Points, Reclustering,
};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::pca::{comment_projections, participant_projections, Pca};
use crate::stats::{self, count_votes, VoteCounts};
use crate::votes::{Id, Statement, StatementList, VoteBatch, VoteMatrix, Votes};

mod request;
mod state;
pub use request::{Mode, Request};
pub use state::{ConversationState, WarmParts, STATE_FORMAT, STATE_VERSION};

/// The state Polis carries from one update to the next.
#[derive(Debug, Clone, Default)]
struct WarmState {
    comps: Option<[Vec<f64>; 2]>,
    base_clusters: Vec<Cluster>,
    group_clusterings: BTreeMap<usize, Vec<Cluster>>,
    smoother: GroupKSmoother,
    /// In-conversation flag per participant row; monotone.
    in_conv: Vec<bool>,
    /// Previous update's in-conversation vote totals per statement id (summed over groups), which
    /// Polis's comment priorities read one update late (Q2).
    previous_group_totals: Option<HashMap<Id, VoteCounts>>,
    /// Where the next matrix factorization starts: the last fit's statements (not Polis's).
    mf: Option<crate::bridging::MfWarmStart>,
}

/// A conversation that takes vote batches and keeps its analysis current.
///
/// ```
/// use commonground::{Conversation, Params, Vote, VoteEvent};
/// let mut conv = Conversation::new(Params::default()).unwrap();
/// let votes: Vec<VoteEvent> = (0..20)
///     .flat_map(|p| (0..6).map(move |s| {
///         let camp = if p % 2 == 0 { Vote::Agree } else { Vote::Disagree };
///         VoteEvent::new(p, s, if s == 0 { Vote::Agree } else { camp })
///     }))
///     .collect();
/// let analysis = conv.update(&votes).unwrap();
/// assert_eq!(analysis.groups.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Conversation {
    params: Params,
    matrix: VoteMatrix,
    statements: StatementList,
    state: WarmState,
    tick: u64,
    analysis: Option<Analysis>,
    timings: StageTimings,
    /// Whether updates compute the extensions that carry no state between updates (bridging
    /// intervals, group stability). A replay turns them off for every batch but the last, whose
    /// analysis is the only one it returns: same result, a fraction of the cost. The matrix
    /// factorization carries its fit to the next update (a warm start), so it runs in every update.
    extensions: bool,
}

/// Wall time of each stage of the last update. Not part of the [`Analysis`], so that its JSON
/// stays byte-identical from run to run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    /// Applying the batch to the sparse matrix.
    pub matrix: Duration,
    /// PCA and projections.
    pub pca: Duration,
    /// Base clusters, group clusterings, silhouettes.
    pub clustering: Duration,
    /// Counts, repness, consensus, priorities, and assembling the result.
    pub statistics: Duration,
    /// Bridging scores and their intervals (the matrix factorization is in `mf`).
    pub bridging: Duration,
    /// The bridging matrix factorization, which runs beside the PCA and the clustering: its time
    /// overlaps theirs, so the stages add up to more than `total`.
    pub mf: Duration,
    /// Bootstrap stability of the groups (when enabled).
    pub stability: Duration,
    /// The whole update, wall time: the matrix, then the analysis.
    pub total: Duration,
}

impl Conversation {
    /// A new, empty conversation. The parameters are checked here, once.
    pub fn new(params: Params) -> Result<Conversation> {
        params.check()?;
        Ok(Conversation {
            params,
            matrix: VoteMatrix::default(),
            statements: StatementList::new(),
            state: WarmState::default(),
            tick: 0,
            analysis: None,
            timings: StageTimings::default(),
            extensions: true,
        })
    }

    /// Adds or replaces statement metadata (texts, moderation, meta flags). Once statements are
    /// known, a vote on a statement that is not among them is an error. Takes effect at the next
    /// update, as Polis applies moderation on its next tick.
    pub fn set_statements(&mut self, statements: impl IntoIterator<Item = Statement>) {
        statements.into_iter().for_each(|s| self.statements.upsert(s));
    }

    pub fn params(&self) -> &Params {
        &self.params
    }
    /// The statements known to the conversation, in the order they were first set.
    pub fn statements(&self) -> &[Statement] {
        self.statements.as_slice()
    }
    pub fn matrix(&self) -> &VoteMatrix {
        &self.matrix
    }
    /// The latest analysis, if any update has run.
    pub fn analysis(&self) -> Option<&Analysis> {
        self.analysis.as_ref()
    }
    /// Wall time of each stage of the last update.
    pub fn timings(&self) -> StageTimings {
        self.timings
    }

    /// Applies one batch of votes and recomputes the analysis with warm starts. The batch is
    /// validated first: on error nothing changes. An empty batch recomputes (as a Polis tick does
    /// after moderation), but a conversation with no votes at all is an error.
    ///
    /// `votes`: a slice of [`VoteEvent`]s, or a [`crate::VoteBatch`] for large batches.
    pub fn update<V: Votes + ?Sized>(&mut self, votes: &V) -> Result<&Analysis> {
        let votes = votes.as_batch();
        self.statements.check_votes(&votes)?;
        let start = Instant::now();
        let total = start;
        let matrix = self.matrix.with_batch(&votes);
        self.timings.matrix = start.elapsed();
        if matrix.n_votes() == 0 {
            return Err(Error::EmptyConversation("no votes to analyse".into()));
        }
        self.matrix = matrix;
        self.tick += 1;
        let analysis = self.compute();
        self.timings.total = total.elapsed();
        Ok(self.analysis.insert(analysis))
    }

    /// Resumes a conversation from the state a Polis math worker persisted (its math blob), with
    /// all votes so far, as the Polis worker does when it restarts: the matrix is rebuilt from the
    /// votes, and PCA, base clusters, in-conversation set and last group votes are reloaded. Then
    /// one update runs. Unlike a Polis restart, the group clustering and the group-count smoother
    /// are seeded from the blob too, so the number of groups and the group ids do not jump.
    pub fn resume_from_polis<V: Votes + ?Sized>(
        params: Params,
        statements: Vec<Statement>,
        votes: &V,
        state: &crate::io::PolisState,
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

    /// Forgets what a Polis math worker keeps only in memory, as a worker restart does
    /// (`load-or-init`, docs/algorithm.md §8): the per-k group clusterings and the k smoother. The
    /// persisted state (PCA components, base clusters, in-conversation set, last group votes)
    /// stays. After a restart the next update clusters the groups cold, from the first k distinct
    /// base-cluster centres, and takes that update's best k at once.
    pub fn restart(&mut self) {
        self.state.group_clusterings.clear();
        self.state.smoother = GroupKSmoother::default();
    }

    /// Feeds timestamped votes through the conversation in time order, in batches as Polis's
    /// poller would have seen them, and returns the conversation after the last batch. With
    /// [`Batching::restart_gap_ms`], a quiet spell longer than that between two batches restarts
    /// the worker's memory first ([`Conversation::restart`]).
    pub fn replay<V: Votes + ?Sized>(
        params: Params,
        statements: Vec<Statement>,
        votes: &V,
        batching: &Batching,
    ) -> Result<Conversation> {
        let mut conv = Conversation::new(params)?;
        conv.set_statements(statements);
        let batches = batching.split(&votes.as_batch());
        if batches.is_empty() {
            return Err(Error::EmptyConversation("no votes to replay".into()));
        }
        let mut last_time: Option<i64> = None;
        let last = batches.len() - 1;
        for (i, batch) in batches.into_iter().enumerate() {
            conv.extensions = i == last;
            let times = || (0..batch.len()).filter_map(|i| batch.timestamp(i));
            if let (Some(gap), Some(prev), Some(first)) = (batching.restart_gap_ms, last_time, times().min()) {
                if first.saturating_sub(prev) > gap {
                    conv.restart();
                }
            }
            last_time = times().max().or(last_time);
            conv.update(&batch)?;
        }
        conv.extensions = true;
        Ok(conv)
    }

    fn moderation_flags(&self) -> (Vec<bool>, Vec<bool>) {
        let m = self.matrix.n_statements();
        let mut out = vec![false; m];
        let mut meta = vec![false; m];
        for (j, id) in self.matrix.statements().iter().enumerate() {
            if let Some(s) = self.statements.get(id) {
                out[j] = s.is_moderated_out();
                meta[j] = s.is_meta;
            }
        }
        (out, meta)
    }

    /// Polis's `in-conv` (`conversation.clj`): everyone with at least `min(7, statements)` votes
    /// joins, for good; if fewer than 15 are in, the most active others are added, ties in the
    /// order Clojure iterates `user-vote-counts` (PR #2623).
    fn update_in_conv(&mut self, vote_counts: &[usize]) {
        let n = self.matrix.n_participants();
        let in_conv = &mut self.state.in_conv;
        in_conv.resize(n, false);
        let threshold = self.params.min_votes_in_conv.min(self.matrix.n_statements());
        for (row, &c) in vote_counts.iter().enumerate() {
            if c >= threshold {
                in_conv[row] = true;
            }
        }
        let n_in = in_conv.iter().filter(|&&b| b).count();
        if n_in < self.params.min_in_conv {
            let hashes: Vec<u32> = self.matrix.participants().iter().map(hasheq).collect();
            let mut candidates: Vec<usize> = map_order(&hashes).into_iter().filter(|&r| !in_conv[r]).collect();
            candidates.sort_by_key(|&r| std::cmp::Reverse(vote_counts[r]));
            for r in candidates.into_iter().take(self.params.min_in_conv - n_in) {
                in_conv[r] = true;
            }
        }
    }

    /// One full Polis update over the current matrix, from the warm state.
    fn compute(&mut self) -> Analysis {
        let params = self.params.clone();
        let m = self.matrix.n_statements();
        let n = self.matrix.n_participants();
        let (moderated_out, meta) = self.moderation_flags();
        // user-vote-counts: raw votes per participant, passes and moderated-out included. O(participants).
        let vote_counts: Vec<usize> = (0..n).map(|r| self.matrix.row_len(r)).collect();
        self.update_in_conv(&vote_counts);

        // The matrix factorization needs only the votes, so it runs beside the PCA and the
        // clustering and fills the cores they leave idle (their sequential steps). It is kept
        // only when there are groups, as before.
        let mf_warm = self.state.mf.as_ref();
        let fit_mf = || {
            let start = Instant::now();
            let fit = params.bridging.mf.enabled.then(|| {
                crate::bridging::fit_mf(&self.matrix, &moderated_out, &params.bridging.mf, params.seed, mf_warm)
            });
            (fit, start.elapsed())
        };
        let map_and_groups = || {
            // PCA over every participant, warm-started. O(votes) per iteration.
            let start = Instant::now();
            let pca = Pca::fit(&self.matrix, &moderated_out, self.state.comps.as_ref(), &params.pca());
            let projections = participant_projections(&self.matrix, &moderated_out, &pca);
            let (statement_projections, extremity) = comment_projections(&pca);
            let pca_time = start.elapsed();

            // Base clusters over in-conversation participants, in row order. O(in-conv x k) per step.
            let start = Instant::now();
            let in_rows: Vec<usize> = (0..n).filter(|&r| self.state.in_conv[r]).collect();
            let points = Points::new(in_rows.clone(), in_rows.iter().map(|&r| projections[r]).collect(), None);
            let previous_base = (!self.state.base_clusters.is_empty()).then_some(self.state.base_clusters.as_slice());
            let base = kmeans(&points, params.base_k, previous_base, params.base_iters);

            // Groups: every k from 2 to max, warm-started per k; silhouette. O(k x 100²).
            let cold = MultiStart { starts: params.group_cold_starts, seed: params.seed };
            let clusterings =
                group_clusterings(&base, params.max_k, &self.state.group_clusterings, params.group_iters, cold);
            let stages = (pca_time, start.elapsed());
            (pca, projections, statement_projections, extremity, points, base, cold, clusterings, stages)
        };
        let (
            (pca, projections, statement_projections, extremity, points, base, cold, clusterings, stages),
            (mf, mf_time),
        ) = rayon::join(map_and_groups, fit_mf);
        let start = Instant::now();
        let silhouettes: BTreeMap<usize, f64> = clusterings.iter().map(|(&k, (_, s))| (k, *s)).collect();
        let best_k = silhouettes.iter().fold(None, |best: Option<(usize, f64)>, (&k, &s)| match best {
            Some((_, bs)) if s < bs => best,
            _ => Some((k, s)),
        });
        let k = self.state.smoother.update(&silhouettes, params.group_k_buffer);
        let groups: Vec<Cluster> = k.and_then(|k| clusterings.get(&k)).map(|(c, _)| c.clone()).unwrap_or_default();
        let mf = mf.filter(|_| !groups.is_empty());

        (self.timings.pca, self.timings.clustering) = (stages.0, stages.1 + start.elapsed());

        // Bootstrap stability of the groups at every candidate k (opt-in).
        let start = Instant::now();
        let group_stability = (self.extensions && params.group_stability.enabled).then(|| {
            let settings = Reclustering {
                base_k: params.base_k,
                base_iters: params.base_iters,
                max_k: params.max_k,
                group_iters: params.group_iters,
                cold,
            };
            group_stability(&points, &base, &clusterings, &settings, params.group_stability.replicates, params.seed)
        });
        self.timings.stability = start.elapsed();

        // Counts per base cluster (votes-base) over raw votes; groups sum their base clusters. O(votes).
        let start = Instant::now();
        // One pass counts both: participants outside the base clusters go to one more bucket, and
        // everyone's counts are the sum of all buckets.
        let rest = base.len() as u32;
        let mut bucket_of: Vec<Option<u32>> = vec![Some(rest); n];
        let base_position: HashMap<u32, usize> = base.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        for (i, c) in base.iter().enumerate() {
            for &row in &c.members {
                bucket_of[row] = Some(i as u32);
            }
        }
        let mut votes_base = count_votes(&self.matrix, &bucket_of, base.len() + 1);
        let mut everyone = votes_base.pop().unwrap_or_default();
        for counts in &votes_base {
            everyone.iter_mut().zip(counts).for_each(|(e, c)| e.add(c));
        }
        let group_votes: Vec<Vec<VoteCounts>> = groups
            .iter()
            .map(|g| {
                let mut v = vec![VoteCounts::default(); m];
                for bid in &g.members {
                    if let Some(&i) = base_position.get(&(*bid as u32)) {
                        for (acc, c) in v.iter_mut().zip(&votes_base[i]) {
                            acc.add(c);
                        }
                    }
                }
                v
            })
            .collect();

        let repness = stats::select_repness(&group_votes, &moderated_out);
        let (agree, disagree) = stats::consensus(&everyone, &moderated_out);
        let gac = stats::group_aware_consensus(&group_votes, m);

        // Bridging scores beyond Polis: intervals per statement, matrix factorization over votes.
        let bridging_start = Instant::now();
        if let Some(fit) = &mf {
            self.state.mf = Some(crate::bridging::MfWarmStart::of(fit, &self.matrix));
        }
        let bridging = (self.extensions && !groups.is_empty()).then(|| {
            let group_ids: Vec<u32> = groups.iter().map(|g| g.id).collect();
            let (matrix, seed, bp) = (&self.matrix, params.seed, &params.bridging);
            crate::bridging::bridging(matrix, &group_ids, &group_votes, &moderated_out, &meta, bp, seed, mf.as_ref())
        });
        self.timings.bridging = bridging_start.elapsed();
        self.timings.mf = mf_time;

        // Priorities read the previous update's group counts (Q2).
        let ids = self.matrix.statements();
        let priorities: Vec<f64> = (0..m)
            .map(|j| {
                if params.polis_all_priorities_49 {
                    return 49.0;
                }
                let counts =
                    self.state.previous_group_totals.as_ref().and_then(|t| t.get(&ids[j]).copied()).unwrap_or_default();
                stats::comment_priority(meta[j], &counts, extremity[j])
            })
            .collect();

        // Carry the warm state forward.
        let mut totals: HashMap<Id, VoteCounts> = HashMap::new();
        for g in &group_votes {
            for (j, c) in g.iter().enumerate() {
                totals.entry(ids[j].clone()).or_default().add(c);
            }
        }
        self.state.previous_group_totals = Some(totals);
        self.state.comps = Some(pca.comps.clone());
        self.state.base_clusters = base.clone();
        self.state.group_clusterings = clusterings.iter().map(|(&k, (c, _))| (k, c.clone())).collect();

        let analysis = self.assemble(AssembleInput {
            pca,
            projections,
            statement_projections,
            extremity,
            base,
            groups,
            group_votes,
            votes_base,
            repness,
            everyone,
            consensus: (agree, disagree),
            gac,
            priorities,
            moderated_out,
            meta,
            vote_counts,
            selection: KSelection { silhouettes, best_k: best_k.map(|(k, _)| k), k },
            bridging,
            group_stability,
        });
        self.timings.statistics = start.elapsed().saturating_sub(self.timings.bridging);
        analysis
    }

    fn assemble(&self, a: AssembleInput) -> Analysis {
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
        }
    }
}

struct AssembleInput {
    pca: Pca,
    projections: Vec<[f64; 2]>,
    statement_projections: Vec<[f64; 2]>,
    extremity: Vec<f64>,
    base: Vec<Cluster>,
    groups: Vec<Cluster>,
    group_votes: Vec<Vec<VoteCounts>>,
    votes_base: Vec<Vec<VoteCounts>>,
    repness: Vec<Vec<stats::RepnessEntry>>,
    everyone: Vec<VoteCounts>,
    consensus: (Vec<stats::ConsensusEntry>, Vec<stats::ConsensusEntry>),
    gac: Vec<f64>,
    priorities: Vec<f64>,
    moderated_out: Vec<bool>,
    meta: Vec<bool>,
    vote_counts: Vec<usize>,
    selection: KSelection,
    bridging: Option<crate::bridging::Bridging>,
    group_stability: Option<crate::cluster::GroupStability>,
}

/// How a replay cuts timestamped votes into updates.
#[derive(Debug, Clone, PartialEq)]
pub struct Batching {
    /// Votes within one window (ms) of the batch's first vote form one update, as Polis's poller
    /// collects what arrived since its last poll (every second by default).
    pub window_ms: i64,
    /// At most this many updates: when windows would make more, consecutive windows are merged
    /// into batches of about equal vote counts. Keeps replays of large conversations affordable.
    pub max_updates: Option<usize>,
    /// When set, a gap of more than this many ms between two batches is taken as a restart of the
    /// Polis math worker, which loses its in-memory group state ([`Conversation::restart`]).
    /// Polis's worker restarts with every deployment and crash (docs/algorithm.md §8), so a
    /// conversation's straggler votes months or years later were clustered after a restart.
    pub restart_gap_ms: Option<i64>,
}

impl Default for Batching {
    fn default() -> Self {
        Batching { window_ms: 1000, max_updates: Some(2000), restart_gap_ms: None }
    }
}

impl Batching {
    /// Splits votes into update batches in time order (stable for equal timestamps; votes without
    /// a timestamp come first, in input order).
    pub fn split(&self, votes: &VoteBatch) -> Vec<VoteBatch> {
        let mut sorted: Vec<usize> = (0..votes.len()).collect();
        sorted.sort_by_key(|&i| votes.timestamp(i).unwrap_or(i64::MIN));
        let mut windows: Vec<Vec<usize>> = Vec::new();
        let mut start: Option<i64> = None;
        for i in sorted {
            let t = votes.timestamp(i).unwrap_or(i64::MIN);
            match start {
                Some(s) if t.saturating_sub(s) < self.window_ms.max(1) => {}
                _ => {
                    windows.push(Vec::new());
                    start = Some(t);
                }
            }
            if let Some(w) = windows.last_mut() {
                w.push(i);
            }
        }
        let windows = match self.max_updates {
            Some(max) if max > 0 && windows.len() > max => {
                let per = votes.len().div_ceil(max);
                let mut merged: Vec<Vec<usize>> = Vec::new();
                for w in windows {
                    match merged.last_mut() {
                        Some(last) if last.len() < per => last.extend(w),
                        _ => merged.push(w),
                    }
                }
                merged
            }
            _ => windows,
        };
        windows.iter().map(|w| votes.select(w)).collect()
    }
}

/// Analyses votes in one batch (a cold start), with optional statement metadata: the stateless
/// form of [`Conversation`].
/// `votes`: a slice of [`VoteEvent`]s, or a [`VoteBatch`].
pub fn analyze<V: Votes + ?Sized>(votes: &V, statements: &[Statement], params: &Params) -> Result<Analysis> {
    let mut conv = Conversation::new(params.clone())?;
    conv.set_statements(statements.iter().cloned());
    conv.update(votes)?;
    conv.analysis.take().ok_or_else(|| Error::EmptyConversation("no analysis".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    /// Two camps voting on 8 statements; participant p votes at time `t0 + p` ms.
    fn camps(participants: std::ops::Range<i64>, t0: i64) -> Vec<VoteEvent> {
        participants
            .flat_map(|p| {
                (0..8i64).map(move |s| {
                    let camp = if (p + s / 4) % 3 == 0 { Vote::Agree } else { Vote::Disagree };
                    VoteEvent::new(p, s, if s == 0 { Vote::Agree } else { camp }).at(t0 + p)
                })
            })
            .collect()
    }

    #[test]
    fn restart_forgets_only_what_polis_keeps_in_memory() {
        let mut conv = Conversation::new(Params::default()).unwrap();
        conv.update(&camps(0..40, 0)).unwrap();
        assert!(!conv.state.group_clusterings.is_empty());
        assert!(conv.state.smoother.smoothed_k.is_some());
        let (base, comps, in_conv) =
            (conv.state.base_clusters.clone(), conv.state.comps.clone(), conv.state.in_conv.clone());
        conv.restart();
        assert!(conv.state.group_clusterings.is_empty());
        assert_eq!(conv.state.smoother, GroupKSmoother::default());
        assert_eq!(
            (conv.state.base_clusters.clone(), conv.state.comps.clone(), conv.state.in_conv.clone()),
            (base, comps, in_conv)
        );
        assert!(conv.update(&VoteBatch::new()).is_ok());
    }

    #[test]
    fn replay_restarts_after_a_quiet_spell_longer_than_the_gap() {
        let day = 86_400_000;
        let mut votes = camps(0..30, 0);
        votes.extend(camps(30..45, 3 * day));
        let batching = Batching { window_ms: 10_000, max_updates: None, restart_gap_ms: Some(day) };
        let batches = batching.split(&VoteBatch::from_events(&votes));
        assert_eq!(batches.len(), 2);

        let replayed = Conversation::replay(Params::default(), vec![], &votes, &batching).unwrap();
        let mut manual = Conversation::new(Params::default()).unwrap();
        manual.update(&batches[0]).unwrap();
        manual.restart();
        manual.update(&batches[1]).unwrap();
        assert_eq!(replayed.analysis().unwrap().to_json(), manual.analysis().unwrap().to_json());
        assert_eq!(replayed.state.group_clusterings, manual.state.group_clusterings);

        // A gap no longer than restart_gap_ms keeps the warm state: same as no restarts at all.
        let long = Batching { restart_gap_ms: Some(3 * day), ..batching.clone() };
        let none = Batching { restart_gap_ms: None, ..batching };
        let a = Conversation::replay(Params::default(), vec![], &votes, &long).unwrap();
        let b = Conversation::replay(Params::default(), vec![], &votes, &none).unwrap();
        assert_eq!(a.analysis().unwrap().to_json(), b.analysis().unwrap().to_json());
    }
}
