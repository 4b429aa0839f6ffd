use serde::{Deserialize, Serialize};

use crate::votes::VoteMatrix;

/// Vote counts on one statement within one set of participants: agree, disagree, and seen
/// (every cast vote, passes included). Pass count is `seen - agree - disagree`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteCounts {
    #[serde(rename = "A")]
    pub agree: u32,
    #[serde(rename = "D")]
    pub disagree: u32,
    #[serde(rename = "S")]
    pub seen: u32,
}

impl VoteCounts {
    pub fn passes(&self) -> u32 {
        self.seen - self.agree - self.disagree
    }
    pub fn add(&mut self, other: &VoteCounts) {
        self.agree += other.agree;
        self.disagree += other.disagree;
        self.seen += other.seen;
    }
}

/// Counts votes per (bucket, statement) over the raw vote matrix: `bucket_of[row]` is the bucket of
/// each participant (`None`: not counted). Returns `counts[bucket][statement]`. One pass, O(votes).
pub fn count_votes(matrix: &VoteMatrix, bucket_of: &[Option<u32>], n_buckets: usize) -> Vec<Vec<VoteCounts>> {
    let m = matrix.n_statements();
    let mut counts = vec![vec![VoteCounts::default(); m]; n_buckets];
    for (row, bucket) in bucket_of.iter().enumerate() {
        let Some(b) = bucket else { continue };
        let target = &mut counts[*b as usize];
        let (cols, vals) = matrix.row(row);
        for (&c, &v) in cols.iter().zip(vals) {
            let cell = &mut target[c as usize];
            cell.seen += 1;
            match v {
                1 => cell.agree += 1,
                -1 => cell.disagree += 1,
                _ => {}
            }
        }
    }
    counts
}
