//! Votes, ids, statements, moderation, and the sparse vote matrix.
//!
//! Sign convention of every public API: agree = +1, disagree = -1, pass = 0, and a missing vote is
//! absent (not stored). Polis's own math uses agree = -1; that sign is converted at the io/ boundary
//! only (see [`crate::io`]).

mod batch;
mod dense;
mod matrix;
mod runs;
mod statements;
mod times;

#[cfg(feature = "columnar")]
pub(crate) use batch::first_appearances;
pub use batch::{VoteBatch, Votes};
pub use matrix::{MatrixParts, VoteMatrix};
pub use statements::StatementList;

pub use crate::id::Id;

use serde::{Deserialize, Serialize};

/// One vote: agree (+1), disagree (-1) or pass (0). Pass is a cast vote, not a missing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i8", try_from = "i8")]
pub enum Vote {
    Disagree = -1,
    Pass = 0,
    Agree = 1,
}

impl Vote {
    /// The vote's value in commonground's sign: agree = +1.
    pub fn value(self) -> i8 {
        self as i8
    }
    /// From commonground's sign (agree = +1); `None` outside {-1, 0, 1}.
    pub fn from_value(v: i64) -> Option<Vote> {
        match v {
            1 => Some(Vote::Agree),
            0 => Some(Vote::Pass),
            -1 => Some(Vote::Disagree),
            _ => None,
        }
    }
    /// From a float field (JSON dumps write `1.0`): only exactly -1, 0 or 1 are votes.
    pub fn from_f64(v: f64) -> Option<Vote> {
        if v == 1.0 {
            Some(Vote::Agree)
        } else if v == 0.0 {
            Some(Vote::Pass)
        } else if v == -1.0 {
            Some(Vote::Disagree)
        } else {
            None
        }
    }
    /// The same vote in the opposite sign convention (Polis's database: agree = -1).
    pub fn flipped(self) -> Vote {
        match self {
            Vote::Agree => Vote::Disagree,
            Vote::Disagree => Vote::Agree,
            Vote::Pass => Vote::Pass,
        }
    }
}

impl From<Vote> for i8 {
    fn from(v: Vote) -> i8 {
        v.value()
    }
}

impl TryFrom<i8> for Vote {
    type Error = String;
    fn try_from(v: i8) -> Result<Self, String> {
        Vote::from_value(v as i64).ok_or_else(|| format!("vote {v} is not -1, 0 or 1"))
    }
}

/// A vote event: who voted what on which statement, and when (epoch milliseconds, when known).
/// Of several events on one (participant, statement), the latest wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteEvent {
    pub participant: Id,
    pub statement: Id,
    pub vote: Vote,
    pub timestamp: Option<i64>,
}

impl VoteEvent {
    pub fn new(participant: impl Into<Id>, statement: impl Into<Id>, vote: Vote) -> Self {
        VoteEvent { participant: participant.into(), statement: statement.into(), vote, timestamp: None }
    }
    pub fn at(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// A moderator's decision on a statement (Polis's `mod` / `moderated` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ModerationStatus {
    /// `mod = -1`: moderated out; its votes stay in the matrix as zeros (Polis) and it is never
    /// reported as representative or consensus.
    Rejected,
    /// `mod = 0`.
    #[default]
    Unmoderated,
    /// `mod = 1`.
    Accepted,
}

impl ModerationStatus {
    pub fn from_value(v: i64) -> Option<Self> {
        match v {
            -1 => Some(ModerationStatus::Rejected),
            0 => Some(ModerationStatus::Unmoderated),
            1 => Some(ModerationStatus::Accepted),
            _ => None,
        }
    }
    /// Polis's value: -1 rejected, 0 unmoderated, 1 accepted (the inverse of [`Self::from_value`]).
    pub fn value(self) -> i64 {
        match self {
            ModerationStatus::Rejected => -1,
            ModerationStatus::Unmoderated => 0,
            ModerationStatus::Accepted => 1,
        }
    }
}

/// A statement (Polis: comment) with its metadata. Only `id` is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub id: Id,
    pub text: Option<String>,
    pub moderation: ModerationStatus,
    /// Meta statements ("I work in government") describe the participant, not an opinion: Polis
    /// treats them as moderated out for the math.
    pub is_meta: bool,
    pub author: Option<Id>,
    pub created: Option<i64>,
}

impl Statement {
    pub fn new(id: impl Into<Id>) -> Self {
        Statement {
            id: id.into(),
            text: None,
            moderation: ModerationStatus::Unmoderated,
            is_meta: false,
            author: None,
            created: None,
        }
    }
    /// Polis's `mod-out` rule (`conversation.clj` mod-update): meta or rejected.
    pub fn is_moderated_out(&self) -> bool {
        self.is_meta || self.moderation == ModerationStatus::Rejected
    }
}
