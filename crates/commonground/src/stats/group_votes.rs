//! Polis's `votes-base` and `group-votes` (`conversation.clj`; docs/algorithm.md §4): the vote
//! counts every statistic after the clustering reads.
//!
//! Polis counts votes per base cluster, then gives each group the sum of its base clusters'
//! counts, so a group's counts are those of its members without a second pass over the votes.
//! Consensus (§5) needs everyone's counts, in a base cluster or not, so the same pass counts the
//! participants outside the base clusters in one more bucket, and everyone's counts are the sum
//! of all buckets. One pass over the raw votes, O(votes); the sums are O(base clusters ×
//! statements).

use std::collections::HashMap;

use super::{count_votes, VoteCounts};
use crate::cluster::Cluster;
use crate::votes::VoteMatrix;

/// Vote counts per base cluster, per group and over everyone, each indexed by statement column.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterVotes {
    /// Polis's `votes-base`: one row per base cluster, in the order of the base clusters given.
    pub votes_base: Vec<Vec<VoteCounts>>,
    /// Every participant's votes, in a base cluster or not, as consensus reads them.
    pub everyone: Vec<VoteCounts>,
    /// Polis's `group-votes`: one row per group, in the order of the groups given, each the sum of
    /// its base clusters' rows.
    pub group_votes: Vec<Vec<VoteCounts>>,
}

/// Counts the raw votes (passes and moderated-out statements included) of each base cluster's
/// members and of everyone, and sums each group's base clusters. A group member that names no
/// base cluster among `base` adds nothing.
pub fn base_and_group_votes(matrix: &VoteMatrix, base: &[Cluster], groups: &[Cluster]) -> ClusterVotes {
    let m = matrix.n_statements();
    let n = matrix.n_participants();
    let rest = base.len() as u32;
    let mut bucket_of: Vec<Option<u32>> = vec![Some(rest); n];
    let base_position: HashMap<u32, usize> = base.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    for (i, c) in base.iter().enumerate() {
        for &row in &c.members {
            bucket_of[row] = Some(i as u32);
        }
    }
    let mut votes_base = count_votes(matrix, &bucket_of, base.len() + 1);
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
    ClusterVotes { votes_base, everyone, group_votes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    fn counts(agree: u32, disagree: u32, seen: u32) -> VoteCounts {
        VoteCounts { agree, disagree, seen }
    }

    #[test]
    fn groups_sum_their_base_clusters_and_everyone_includes_the_unclustered() {
        // Participants 0..5 in rows 0..5; statement 0 in column 0, statement 1 in column 1.
        let votes = [
            VoteEvent::new(0, 0, Vote::Agree),
            VoteEvent::new(1, 0, Vote::Agree),
            VoteEvent::new(2, 0, Vote::Disagree),
            VoteEvent::new(3, 0, Vote::Pass),
            VoteEvent::new(4, 0, Vote::Agree),
            VoteEvent::new(1, 1, Vote::Disagree),
        ];
        let matrix = VoteMatrix::from_events(&votes);
        let base = [
            Cluster { id: 7, members: vec![0, 1], center: [0.0, 0.0] },
            Cluster { id: 3, members: vec![2], center: [1.0, 0.0] },
        ];
        // Rows 3 and 4 are in no base cluster; group 1 also names a base cluster that does not exist.
        let groups = [
            Cluster { id: 0, members: vec![7, 3], center: [0.0, 0.0] },
            Cluster { id: 1, members: vec![3, 99], center: [1.0, 0.0] },
        ];
        let votes = base_and_group_votes(&matrix, &base, &groups);
        assert_eq!(
            votes.votes_base,
            vec![vec![counts(2, 0, 2), counts(0, 1, 1)], vec![counts(0, 1, 1), counts(0, 0, 0)]]
        );
        assert_eq!(votes.everyone, vec![counts(3, 1, 5), counts(0, 1, 1)]);
        assert_eq!(
            votes.group_votes,
            vec![vec![counts(2, 1, 3), counts(0, 1, 1)], vec![counts(0, 1, 1), counts(0, 0, 0)]]
        );
    }
}
