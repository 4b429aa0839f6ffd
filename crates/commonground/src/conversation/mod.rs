//! A conversation analysed as votes stream in, with Polis's warm starts, and the stateless
//! [`analyze`] built on it.
//!
//! Polis recomputes the whole analysis on every update (one poll of new votes), but starts each
//! stage from the previous update's result (`conversation.clj`): the PCA from the previous
//! components, the base clusters from the previous base clusters, each candidate number of groups
//! from its previous clustering; the number of groups changes only after it has been the best for
//! four updates; and a participant once in conversation stays in. [`Conversation`] keeps exactly
//! that state, so feeding it Polis's batches reproduces Polis's history, and its group ids stay
//! stable across updates (docs/algorithm.md §8).
//!
//! This file holds the conversation and its state; each other file has one job:
//!
//! - `pipeline.rs`: one update's stages in order, from the warm state ([`Conversation::update`]
//!   calls it);
//! - `assemble.rs`: the stages' results turned into the one [`Analysis`];
//! - `replay.rs`: timestamped votes fed through in Polis's batches ([`Batching`],
//!   [`Conversation::replay`]), and the worker restarts a replay models ([`Restarts`],
//!   [`Conversation::restart`]);
//! - `resume.rs`: a conversation reloaded from a Polis math blob
//!   ([`Conversation::resume_from_polis`]);
//! - `state.rs`: the whole state as bytes ([`ConversationState`]);
//! - `request.rs`: the one entry point every front end calls ([`Request`], [`Conversation::run`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::Analysis;
use crate::cluster::{Cluster, GroupCount, GroupKSmoother};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::progress::Progress;
use crate::stats::VoteCounts;
use crate::votes::{Id, Statement, StatementList, VoteBatch, VoteMatrix, Votes};

mod assemble;
mod pipeline;
mod replay;
mod request;
mod resume;
mod state;
#[cfg(test)]
mod tests;
pub use replay::{Batching, Restarts};
pub use request::{Mode, Request};
pub use resume::PolisState;
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
    /// The last update's pivotal votes, which the bridging intervals count in another group than
    /// their participant's ([`Conversation::reassigned_votes`]); like the timings, not part of
    /// the state or the results.
    reassigned: Vec<crate::cluster::ReassignedVote>,
    /// Where long stages report their progress ([`Conversation::set_progress`]); never part of the
    /// state or the results.
    progress: Option<Arc<dyn Progress>>,
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
    /// The bridging matrix factorization, which runs beside every other stage from the PCA to the
    /// bridging scores: its time overlaps theirs, so the stages add up to more than `total`.
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
            reassigned: Vec::new(),
            progress: None,
        })
    }

    /// Reports the progress of the long stages of later updates (the groups' bootstrap
    /// stability) to `progress`, e.g. a front end's progress bar. Results do not change.
    pub fn set_progress(&mut self, progress: Arc<dyn Progress>) {
        self.progress = Some(progress);
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
    /// The last update's pivotal votes: each a participant's vote that the bridging intervals
    /// count in the group the participant would be in without it, because that group is not
    /// theirs (cross-fitting, against the bias of counting the votes that formed the groups; see
    /// docs/groups.md). Every other vote counts in its participant's group. Empty before the
    /// first update, without groups, and after a replay step that computed no statistics.
    pub fn reassigned_votes(&self) -> &[crate::cluster::ReassignedVote] {
        &self.reassigned
    }

    /// Applies one batch of votes and recomputes the analysis with warm starts. The batch is
    /// validated first: on error nothing changes. An empty batch recomputes (as a Polis tick does
    /// after moderation), but a conversation with no votes at all is an error.
    ///
    /// `votes`: a slice of [`VoteEvent`]s, or a [`crate::VoteBatch`] for large batches.
    pub fn update<V: Votes + ?Sized>(&mut self, votes: &V) -> Result<&Analysis> {
        self.update_batch(votes.as_batch())
    }

    /// [`Conversation::update`], taking the votes: a first update builds the vote matrix out of
    /// the batch's own arrays and frees them before the analysis, the least memory a large
    /// conversation can be analysed in (see [`VoteMatrix::with_owned_batch`]).
    pub fn update_owned(&mut self, votes: VoteBatch) -> Result<&Analysis> {
        self.update_batch(Cow::Owned(votes))
    }

    fn update_batch(&mut self, votes: Cow<'_, VoteBatch>) -> Result<&Analysis> {
        // The whole update runs on rayon's pool, handed over once: a parallel stage started from
        // a thread outside the pool (the CLI's main thread) queues its job and sleeps until a
        // worker has run it, once per stage (a dozen per update), where from inside the pool it
        // is pushed on the worker's own queue. The same bytes either way.
        let (total, analysis) = rayon::scope(|_| self.apply_then(votes, Self::compute))?;
        self.timings.total = total.elapsed();
        Ok(self.analysis.insert(analysis))
    }

    /// Applies one batch of votes and carries the warm state forward as [`Conversation::update`]
    /// does (in-conversation set, PCA, base clusters, group clusterings, k smoother, group vote
    /// totals), without computing the analysis: what a replay does for every batch but its last.
    /// The next update gives what it would give after a full update, except for the matrix
    /// factorization, which is not fitted here and so starts from its last fit. The previous
    /// analysis, now stale, is dropped.
    pub fn advance<V: Votes + ?Sized>(&mut self, votes: &V) -> Result<()> {
        self.advance_keeping(votes, true)
    }

    /// [`Conversation::advance`]; without `totals` the group vote totals are not counted and the
    /// previous ones stay, stale: for a replay's batches whose next update is not the last, since
    /// only the last update's priorities read them (one O(votes) count saved per batch).
    fn advance_keeping<V: Votes + ?Sized>(&mut self, votes: &V, totals: bool) -> Result<()> {
        let (total, ()) = self.apply_then(votes.as_batch(), |conv| conv.compute_state(totals))?;
        self.analysis = None;
        self.timings.total = total.elapsed();
        Ok(())
    }

    /// Checks a batch, applies it to the matrix, counts the update and runs `step` over it;
    /// returns when it started and what `step` gave. On error nothing changes, whether the batch
    /// was refused (a conversation with no votes at all is an error) or `step` failed (a fixed
    /// number of groups the data cannot give).
    fn apply_then<T>(
        &mut self,
        votes: Cow<'_, VoteBatch>,
        step: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<(Instant, T)> {
        self.statements.check_votes(&votes)?;
        let start = Instant::now();
        let matrix = match votes {
            Cow::Borrowed(votes) => self.matrix.with_batch(votes),
            Cow::Owned(votes) => self.matrix.with_owned_batch(votes),
        };
        self.timings.matrix = start.elapsed();
        if matrix.n_votes() == 0 {
            return Err(Error::EmptyConversation("no votes to analyse".into()));
        }
        // Kept until the step succeeds. Only a fixed number of groups can fail, so only then is
        // the state copied.
        let previous_matrix = std::mem::replace(&mut self.matrix, matrix);
        let previous_state = matches!(self.params.groups, GroupCount::Fixed(_)).then(|| self.state.clone());
        self.tick += 1;
        match step(self) {
            Ok(done) => Ok((start, done)),
            Err(e) => {
                self.matrix = previous_matrix;
                if let Some(state) = previous_state {
                    self.state = state;
                }
                self.tick -= 1;
                Err(e)
            }
        }
    }
}

/// Analyses votes in one batch (a cold start), with optional statement metadata: the stateless
/// form of [`Conversation`].
/// `votes`: a slice of [`VoteEvent`](crate::VoteEvent)s, or a [`VoteBatch`](crate::VoteBatch).
pub fn analyze<V: Votes + ?Sized>(votes: &V, statements: &[Statement], params: &Params) -> Result<Analysis> {
    let mut conv = Conversation::new(params.clone())?;
    conv.set_statements(statements.iter().cloned());
    conv.update(votes)?;
    conv.analysis.take().ok_or_else(|| Error::EmptyConversation("no analysis".into()))
}
