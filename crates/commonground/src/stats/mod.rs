//! Per-group vote counts and the statistics Polis derives from them: representativeness (repness),
//! consensus, group-aware consensus and comment priorities (`repness.clj`, `stats.clj`,
//! `conversation.clj`).
//!
//! Everything here is a function of vote *counts*. Who is in conversation, and so clustered, reads
//! each participant's number of votes (`in_conv.rs`, docs/algorithm.md §1). Every statistic after
//! the clustering reads counts per (group, statement): agree A, disagree D and seen S (passes
//! included), gathered per base cluster and summed per group (`group_votes.rs`, §4). Counting is
//! one pass over the votes, O(votes); every statistic after that is O(groups x statements).

mod counts;
mod group_votes;
mod in_conv;
mod repness;

pub use counts::{count_votes, percent, VoteCounts};
pub use group_votes::{base_and_group_votes, ClusterVotes};
pub use in_conv::in_conversation;
pub use repness::{
    comment_priority, consensus, group_aware_consensus, prop_test, select_repness, two_prop_test, ConsensusEntry,
    RepfulFor, RepnessEntry, Z_90,
};
