//! A conversation's whole state as data: what a worker stores between updates and a Python pickle
//! carries, so that a conversation restored from it gives exactly the next update an uninterrupted
//! one would.
//!
//! The state holds the vote matrix (in row and column order, which k-means' starts and tie-breaks
//! depend on), the statements, the parameters, the tick and every warm start Polis carries from
//! one update to the next, plus the two it keeps only in memory (the per-k group clusterings and
//! the k smoother) and our matrix factorization's. A Polis blob carries less
//! ([`Conversation::resume_from_polis`]); this carries everything.
//!
//! [`ConversationState`] is plain serde data. [`ConversationState::to_bytes`] encodes it as
//! MessagePack with named fields (compact, self-describing, exact for every `f64`), headed by a
//! format name and version: a state of another version is refused with an error that names both
//! versions, never read as something else. Restoring checks every invariant the pipeline relies
//! on, so that damaged bytes are an error, never a panic.

use serde::{Deserialize, Serialize};

use super::{Conversation, StageTimings, WarmState};
use crate::analysis::Analysis;
use crate::bridging::MfWarmStart;
use crate::cluster::{Cluster, GroupKSmoother};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::stats::VoteCounts;
use crate::votes::{Id, MatrixParts, Statement, StatementList, VoteMatrix};

/// The name every serialised state carries first.
pub const STATE_FORMAT: &str = "commonground.conversation-state";
/// The version this build writes and reads. Raise it whenever the state's meaning or layout
/// changes; older states are then refused ([`Error::InvalidState`]).
pub const STATE_VERSION: u32 = 1;

/// Everything a [`Conversation`] carries from one update to the next ([`Conversation::state`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// [`STATE_VERSION`] of the build that wrote it.
    pub version: u32,
    pub params: Params,
    /// Statement metadata in the order it was first set.
    pub statements: Vec<Statement>,
    pub matrix: MatrixParts,
    /// Number of updates so far (Polis's `math_tick` of the conversation).
    pub tick: u64,
    pub warm: WarmParts,
    /// The last analysis, when the state is to show it again on restore (a Python pickle,
    /// [`Conversation::state_with_analysis`]); a worker leaves it out, since the next update
    /// recomputes it.
    #[serde(default)]
    pub analysis: Option<Analysis>,
}

/// The warm starts, as data. Participant rows and statement columns refer to [`MatrixParts`]'s order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmParts {
    /// The last update's two components, by statement column.
    pub comps: Option<[Vec<f64>; 2]>,
    /// The last update's base clusters (members are participant rows).
    pub base_clusters: Vec<Cluster>,
    /// The last update's group clustering for each candidate k (members are base-cluster ids).
    pub group_clusterings: Vec<(usize, Vec<Cluster>)>,
    pub smoother: GroupKSmoother,
    /// In-conversation flag per participant row.
    pub in_conv: Vec<bool>,
    /// The last update's in-conversation vote totals per statement id, in id order.
    pub previous_group_totals: Option<Vec<(Id, VoteCounts)>>,
    /// Where the next matrix factorization starts.
    pub mf: Option<MfWarmStart>,
}

/// The head of an encoded state, read first so that another version is named, not misread.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl ConversationState {
    /// The state as MessagePack bytes (named fields; every `f64` exact).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data into a Vec cannot fail: every map key is a string and every
        // sequence has a known length.
        rmp_serde::to_vec_named(self).unwrap_or_default()
    }

    /// Reads a state written by [`ConversationState::to_bytes`]; refuses another format or version.
    pub fn from_bytes(bytes: &[u8]) -> Result<ConversationState> {
        let header: Header = rmp_serde::from_slice(bytes)
            .map_err(|e| Error::InvalidState(format!("not a commonground conversation state ({e})")))?;
        if header.format != STATE_FORMAT {
            return Err(Error::InvalidState(format!("format {:?}, expected {STATE_FORMAT:?}", header.format)));
        }
        if header.version != STATE_VERSION {
            return Err(Error::InvalidState(format!(
                "written by format version {}, and this build reads version {STATE_VERSION} only: \
                 rebuild the conversation from its votes",
                header.version
            )));
        }
        rmp_serde::from_slice(bytes).map_err(|e| Error::InvalidState(format!("damaged state ({e})")))
    }
}

impl Conversation {
    /// The conversation's whole state: restored with [`Conversation::from_state`], it gives
    /// exactly the next update this conversation would give. The last analysis is not part of it
    /// (it is an output, recomputed by the next update). O(votes) copy.
    pub fn state(&self) -> ConversationState {
        let s = &self.state;
        let mut totals: Option<Vec<(Id, VoteCounts)>> =
            s.previous_group_totals.as_ref().map(|t| t.iter().map(|(id, c)| (id.clone(), *c)).collect());
        if let Some(t) = totals.as_mut() {
            t.sort_by(|a, b| a.0.cmp(&b.0));
        }
        ConversationState {
            format: STATE_FORMAT.to_string(),
            version: STATE_VERSION,
            params: self.params.clone(),
            statements: self.statements.as_slice().to_vec(),
            matrix: self.matrix.to_parts(),
            tick: self.tick,
            warm: WarmParts {
                comps: s.comps.clone(),
                base_clusters: s.base_clusters.clone(),
                group_clusterings: s.group_clusterings.iter().map(|(&k, c)| (k, c.clone())).collect(),
                smoother: s.smoother.clone(),
                in_conv: s.in_conv.clone(),
                previous_group_totals: totals,
                mf: s.mf.clone(),
            },
            analysis: None,
        }
    }

    /// [`Conversation::state`] with the last analysis, so that the restored conversation shows
    /// it ([`Conversation::analysis`]) before any update.
    pub fn state_with_analysis(&self) -> ConversationState {
        ConversationState { analysis: self.analysis.clone(), ..self.state() }
    }

    /// Restores a conversation from [`Conversation::state`]. Checks the format version, the
    /// parameters and that the arrays agree with each other (rows, columns, cluster members), so
    /// that a damaged state is an error. [`Conversation::analysis`] is the state's analysis, if it
    /// carries one, else empty until the next update.
    pub fn from_state(state: ConversationState) -> Result<Conversation> {
        let bad = |what: String| Error::InvalidState(what);
        if state.format != STATE_FORMAT || state.version != STATE_VERSION {
            return Err(bad(format!(
                "format {:?} version {}, expected {STATE_FORMAT:?} version {STATE_VERSION}",
                state.format, state.version
            )));
        }
        state.params.check()?;
        let matrix = VoteMatrix::from_parts(state.matrix).map_err(bad)?;
        let (n, m) = (matrix.n_participants(), matrix.n_statements());
        let w = state.warm;
        if w.in_conv.len() > n {
            return Err(bad(format!("{} in-conversation flags for {n} participants", w.in_conv.len())));
        }
        if let Some(c) = w.comps.iter().flatten().find(|c| c.len() > m || c.iter().any(|x| !x.is_finite())) {
            return Err(bad(format!("a component of {} values for {m} statements, or not finite", c.len())));
        }
        if let Some(c) = w.base_clusters.iter().find(|c| c.members.iter().any(|&r| r >= n)) {
            return Err(bad(format!("base cluster {} names a participant row beyond {n}", c.id)));
        }
        let mut statements = StatementList::new();
        state.statements.into_iter().for_each(|s| statements.upsert(s));
        Ok(Conversation {
            params: state.params,
            matrix,
            statements,
            state: WarmState {
                comps: w.comps,
                base_clusters: w.base_clusters,
                group_clusterings: w.group_clusterings.into_iter().collect(),
                smoother: w.smoother,
                in_conv: w.in_conv,
                previous_group_totals: w.previous_group_totals.map(|t| t.into_iter().collect()),
                mf: w.mf,
            },
            tick: state.tick,
            analysis: state.analysis,
            timings: StageTimings::default(),
            reassigned: Vec::new(),
            progress: None,
        })
    }
}
