//! Replaying a conversation's history: timestamped votes fed through in time order, in the
//! batches Polis's poller would have collected (`poller.clj`, one poll a second), with the worker
//! restarts that real histories contain (docs/algorithm.md §8).
//!
//! Each update's warm start depends on the last, so one batch of all votes is not many small
//! batches: the in-conversation set, the group ids and the number of groups are history. A replay
//! reproduces that history; a restart ([`Conversation::restart`]) forgets what Polis's worker keeps
//! only in memory, as its deployments and crashes did.

use super::Conversation;
use crate::cluster::GroupKSmoother;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::votes::{Statement, VoteBatch, Votes};

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

impl Conversation {
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
}
