//! Replaying a conversation's history: timestamped votes fed through in time order, in the
//! batches Polis's poller would have collected (`poller.clj`, one poll a second), with the worker
//! restarts that real histories contain (docs/algorithm.md §8).
//!
//! Each update's warm start depends on the last, so one batch of all votes is not many small
//! batches: the in-conversation set, the group ids and the number of groups are history. A replay
//! reproduces that history; a restart ([`Conversation::restart`]) forgets what Polis's worker keeps
//! only in memory, as its deployments and crashes did.
//!
//! Which restarts to model is [`Restarts`]. Polis's stored blobs are the state of a worker that
//! restarted after the conversation's last vote: replayed with that final restart, the four
//! conversations of `shared/data/polis-math` get Polis's groups (group ARI 1.00 on each), where a
//! replay without it gets 0.49 to 0.89 (docs/algorithm.md §8, "Which history a replay models").

use std::fmt;

use super::Conversation;
use crate::cluster::GroupKSmoother;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::votes::{Statement, VoteBatch, Votes};

/// Which restarts of Polis's math worker a replay models. A restart keeps the PCA, the base
/// clusters and the in-conversation set, and forgets the per-k group clusterings and the k
/// smoother ([`Conversation::restart`]); the update that follows clusters the groups cold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restarts {
    /// The worker ran through the whole history without a restart.
    None,
    /// One restart after the last vote, then an update: the state Polis's stored blobs hold
    /// (the groups a cold clustering of the final base clusters). The default, because it is what
    /// reproduces Polis's blobs.
    #[default]
    Final,
    /// A restart at every quiet spell longer than this many ms between two batches (a deployment
    /// or crash while nobody voted), and the final one.
    Gaps(i64),
}

impl Restarts {
    /// Parses `none`, `final` or `gaps:DURATION`, where DURATION is a whole number with a unit
    /// (`ms`, `s`, `m`, `h`, `d`, `w`), e.g. `gaps:1d`. An unknown form is an
    /// [`Error::InvalidParameter`] named `restarts`.
    pub fn parse(text: &str) -> Result<Restarts> {
        let invalid = |message: String| Error::InvalidParameter { name: "restarts".into(), message };
        match text.trim() {
            "none" => Ok(Restarts::None),
            "final" => Ok(Restarts::Final),
            other => {
                let Some(duration) = other.strip_prefix("gaps:") else {
                    return Err(invalid(format!("{other:?}: expected none, final or gaps:DURATION (e.g. gaps:1d)")));
                };
                let split = duration.find(|c: char| !c.is_ascii_digit()).unwrap_or(duration.len());
                let (number, unit) = duration.split_at(split);
                let scale = match unit {
                    "ms" => 1,
                    "s" => 1_000,
                    "m" => 60_000,
                    "h" => 3_600_000,
                    "d" => 86_400_000,
                    "w" => 604_800_000,
                    _ => return Err(invalid(format!("{other:?}: the duration's unit is one of ms, s, m, h, d, w"))),
                };
                number
                    .parse::<i64>()
                    .ok()
                    .and_then(|n| n.checked_mul(scale))
                    .map(Restarts::Gaps)
                    .ok_or_else(|| invalid(format!("{other:?}: the duration is a whole number, e.g. gaps:1d")))
            }
        }
    }

    /// Whether a quiet spell of `gap_ms` between two batches restarts the worker.
    fn at_gap(self, gap_ms: i64) -> bool {
        matches!(self, Restarts::Gaps(limit) if gap_ms > limit)
    }
}

/// The form [`Restarts::parse`] reads: `none`, `final`, or `gaps:` with the largest unit that
/// divides the gap.
impl fmt::Display for Restarts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restarts::None => f.write_str("none"),
            Restarts::Final => f.write_str("final"),
            Restarts::Gaps(ms) => {
                let units = [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)];
                match units.iter().find(|(_, scale)| *ms != 0 && ms % scale == 0) {
                    Some((unit, scale)) => write!(f, "gaps:{}{unit}", ms / scale),
                    None => write!(f, "gaps:{ms}ms"),
                }
            }
        }
    }
}

/// How a replay cuts timestamped votes into updates, and which worker restarts it models.
#[derive(Debug, Clone, PartialEq)]
pub struct Batching {
    /// Votes within one window (ms) of the batch's first vote form one update, as Polis's poller
    /// collects what arrived since its last poll (every second by default).
    pub window_ms: i64,
    /// At most this many updates: when windows would make more, consecutive windows are merged
    /// into batches of about equal vote counts. Off by default: merging windows changes the
    /// history, and so the groups (above-100-ptpts: group ARI 0.99 with a 2,000-update cap, 0.68
    /// without, before the final restart was modelled). For tests that want a few batches.
    pub max_updates: Option<usize>,
    /// Which worker restarts the replay models.
    pub restarts: Restarts,
}

impl Default for Batching {
    fn default() -> Self {
        Batching { window_ms: 1000, max_updates: None, restarts: Restarts::default() }
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
    /// Restarts as a Polis math worker restarts (`load-or-init`, docs/algorithm.md §8): it forgets
    /// what the worker keeps only in memory, the per-k group clusterings and the k smoother, and
    /// rebuilds the matrix from all votes, in cold-build order ([`crate::VoteMatrix::rebuilt`]). The
    /// persisted state (PCA components, base clusters, in-conversation set, last group votes)
    /// stays, moved to the rebuilt rows and columns. After a restart the next update clusters the
    /// groups cold, from the first k distinct base-cluster centres, and takes that update's best k
    /// at once.
    pub fn restart(&mut self) {
        self.state.group_clusterings.clear();
        self.state.smoother = GroupKSmoother::default();
        let rebuilt = self.matrix.rebuilt();
        // Old row -> new row, old column -> new column: the same ids, in the rebuilt order.
        let rows: Vec<Option<usize>> =
            self.matrix.participants().iter().map(|p| rebuilt.participant_index(p)).collect();
        let columns: Vec<Option<usize>> = self.matrix.statements().iter().map(|s| rebuilt.statement_index(s)).collect();
        if let Some(comps) = &mut self.state.comps {
            for comp in comps.iter_mut() {
                let mut moved = vec![0.0; rebuilt.n_statements()];
                for (old, new) in columns.iter().enumerate() {
                    if let (Some(new), Some(&x)) = (new, comp.get(old)) {
                        moved[*new] = x;
                    }
                }
                *comp = moved;
            }
        }
        let mut in_conv = vec![false; rebuilt.n_participants()];
        for (old, new) in rows.iter().enumerate() {
            if let (Some(new), Some(&true)) = (new, self.state.in_conv.get(old)) {
                in_conv[*new] = true;
            }
        }
        self.state.in_conv = in_conv;
        for cluster in &mut self.state.base_clusters {
            let mut members: Vec<usize> =
                cluster.members.iter().filter_map(|&r| rows.get(r).copied().flatten()).collect();
            members.sort_unstable();
            cluster.members = members;
        }
        self.matrix = rebuilt;
    }

    /// Feeds timestamped votes through the conversation in time order, in batches as Polis's
    /// poller would have seen them, and returns the conversation after the last update. The
    /// worker restarts of [`Batching::restarts`] come between batches (a quiet spell longer than
    /// the gap) and after the last batch (a restart, then one update over the same votes, as
    /// Polis's worker runs at once after `load-or-init`).
    ///
    /// Only the last update computes the full analysis; the others carry the warm state forward
    /// and nothing else (see [`Conversation::advance`]), so a replay of tens of thousands of
    /// one-second batches stays affordable.
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
        let final_restart = batching.restarts != Restarts::None;
        let mut last_time: Option<i64> = None;
        let last = batches.len() - 1;
        for (i, batch) in batches.into_iter().enumerate() {
            let times = || (0..batch.len()).filter_map(|i| batch.timestamp(i));
            if let (Some(prev), Some(first)) = (last_time, times().min()) {
                if batching.restarts.at_gap(first.saturating_sub(prev)) {
                    conv.restart();
                }
            }
            last_time = times().max().or(last_time);
            if i == last && !final_restart {
                conv.update(&batch)?;
            } else {
                // The last update's priorities read the group vote totals of the update before it.
                conv.advance_keeping(&batch, i + 2 > last)?;
            }
        }
        if final_restart {
            conv.restart();
            conv.update(&VoteBatch::new())?;
        }
        Ok(conv)
    }
}
