//! # commonground
//!
//! Finds the opinion groups in a deliberation and the statements that bridge them: the math of
//! Pol.is, done faithfully, fast and reproducibly.

pub mod error;
pub mod io;
pub mod votes;

pub use error::{Error, Location, Result};
pub use votes::{Id, ModerationStatus, Statement, Vote, VoteEvent, VoteMatrix};
