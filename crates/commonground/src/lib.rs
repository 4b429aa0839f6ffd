//! # commonground
//!
//! Finds the opinion groups in a deliberation and the statements that bridge them: the math of
//! Pol.is, done faithfully, fast and reproducibly.
//!
//! Votes (agree = +1, disagree = -1, pass = 0) go into a sparse [`VoteMatrix`]; the pipeline places
//! participants on a 2-D opinion map by sparse PCA ([`pca`]), clusters them into base clusters and
//! opinion groups ([`cluster`]), and computes representative statements, consensus and
//! group-aware consensus ([`stats`]), then scores bridging statements with credible intervals and a
//! Community Notes-style matrix factorization ([`bridging`]). [`analyze`] runs it once; [`Conversation`] keeps it current
//! as votes arrive, with Polis's warm starts. Every output reads from one [`Analysis`].
//!
//! Matrices come and go as `ndarray` arrays where a researcher wants them ([`Analysis::projections`],
//! [`VoteMatrix::from_dense`], ...), and the k-means and PCA implement linfa's traits ([`linfa`]) so
//! that they plug into linfa pipelines.
//!
//! ```
//! use commonground::{analyze, Params, Vote, VoteEvent};
//! // Two camps of 10 that disagree on statements 1-5 and all agree on statement 0.
//! let votes: Vec<VoteEvent> = (0..20)
//!     .flat_map(|p| (0..6).map(move |s| {
//!         let camp = if p < 10 { Vote::Agree } else { Vote::Disagree };
//!         VoteEvent::new(p, s, if s == 0 { Vote::Agree } else { camp })
//!     }))
//!     .collect();
//! let analysis = analyze(&votes, &[], &Params::default()).unwrap();
//! assert_eq!(analysis.groups.len(), 2);
//! // Statement 0 is the common ground: both groups agree with it.
//! let top = analysis.statements.iter()
//!     .max_by(|a, b| a.group_aware_consensus.total_cmp(&b.group_aware_consensus)).unwrap();
//! assert_eq!(top.id, 0.into());
//! ```

// Numeric loops over parallel arrays (centre, components, counts) read more clearly with an index.
#![allow(clippy::needless_range_loop)]

pub mod analysis;
pub mod bridging;
mod clojure;
pub mod cluster;
pub mod compare;
mod conversation;
pub mod error;
pub mod generate;
mod id;
pub mod io;
pub mod linfa;
mod params;
pub mod pca;
pub mod progress;
pub mod rng;
pub mod stats;
pub mod votes;

pub use analysis::Analysis;
pub use conversation::{
    analyze, Batching, Conversation, ConversationState, Mode, Request, Restarts, StageTimings, WarmParts, STATE_FORMAT,
    STATE_VERSION,
};
pub use error::{Error, Location, Result};
pub use params::{Params, Profile};
pub use progress::Progress;
pub use votes::{Id, ModerationStatus, Statement, StatementList, Vote, VoteBatch, VoteEvent, VoteMatrix, Votes};

/// The README's code examples, compiled as doctests so that the README cannot drift from the API.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
