//! Who is in conversation: Polis's `in-conv` (`conversation.clj`; docs/algorithm.md §1), the
//! participants the clustering sees.
//!
//! Everyone enters the PCA and consensus, but only participants who have voted enough are
//! clustered, so that a drive-by voter with one vote does not become a base cluster of their own.
//! Polis's rule has three parts, each reproduced:
//!
//! - a participant joins once they have voted on `min(7, statements)` statements, counting passes
//!   and moderated-out statements (`user-vote-counts` counts the raw matrix);
//! - once in, always in: the set only grows, so a participant stays clustered after moderation
//!   removes the statements they voted on;
//! - while fewer than 15 are in, the most active others are added, and stay in. Ties among them
//!   fall in the order Clojure iterates `user-vote-counts`, a hash map, because Polis's `sort-by`
//!   is stable over that order (PR #2623); `clojure.rs` reproduces it.

use crate::clojure::{hasheq, map_order};
use crate::params::Params;
use crate::votes::Id;

/// The in-conversation flag of each participant row after an update, from the flags before it
/// (`previous`, shorter when participants have joined since) and each row's raw vote count.
/// `participants` names the rows, whose external ids give Clojure's iteration order for ties;
/// `n_statements` counts every statement, moderated-out ones included. Reads
/// [`Params::min_votes_in_conv`] and [`Params::min_in_conv`].
pub fn in_conversation(
    previous: &[bool],
    vote_counts: &[usize],
    participants: &[Id],
    n_statements: usize,
    params: &Params,
) -> Vec<bool> {
    let mut in_conv = previous.to_vec();
    in_conv.resize(participants.len(), false);
    let threshold = params.min_votes_in_conv.min(n_statements);
    for (row, &c) in vote_counts.iter().enumerate() {
        if c >= threshold {
            in_conv[row] = true;
        }
    }
    let n_in = in_conv.iter().filter(|&&b| b).count();
    if n_in < params.min_in_conv {
        let hashes: Vec<u32> = participants.iter().map(hasheq).collect();
        let mut candidates: Vec<usize> = map_order(&hashes).into_iter().filter(|&r| !in_conv[r]).collect();
        candidates.sort_by_key(|&r| std::cmp::Reverse(vote_counts[r]));
        for r in candidates.into_iter().take(params.min_in_conv - n_in) {
            in_conv[r] = true;
        }
    }
    in_conv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: i64) -> Vec<Id> {
        (0..n).map(Id::Int).collect()
    }

    #[test]
    fn a_participant_joins_after_min_7_statements_votes_and_never_leaves() {
        let params = Params { min_in_conv: 0, ..Params::default() };
        // Row 0 was in before and has no votes now; row 1 has 7 votes; row 2 has 6.
        let flags = in_conversation(&[true], &[0, 7, 6], &ids(3), 100, &params);
        assert_eq!(flags, vec![true, true, false]);
        // With 3 statements, voting on all 3 is enough.
        let flags = in_conversation(&[], &[0, 3, 2], &ids(3), 3, &params);
        assert_eq!(flags, vec![false, true, false]);
    }

    #[test]
    fn below_min_in_conv_the_most_active_others_are_added_ties_in_clojure_map_order() {
        let params = Params { min_in_conv: 3, ..Params::default() };
        // Nobody reaches 7 votes. Row 5 has the most; rows 1, 2 and 3 tie for the remaining two
        // places, and a map of at most 8 entries iterates in insertion order: rows 1 and 2.
        let flags = in_conversation(&[], &[1, 2, 2, 2, 0, 4], &ids(6), 100, &params);
        assert_eq!(flags, vec![false, true, true, false, false, true]);
        // Those already in count towards min_in_conv.
        let flags = in_conversation(&[false, false, false, true], &[1, 2, 2, 2, 0, 4], &ids(6), 100, &params);
        assert_eq!(flags, vec![false, true, false, true, false, true]);
    }
}
