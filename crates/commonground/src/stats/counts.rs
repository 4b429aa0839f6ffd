use serde::{Deserialize, Serialize};

use rayon::prelude::*;

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

/// The one percentage every output shows for "n of those who voted": `n / of`, passes counted
/// among the votes, rounded half up to a whole percent (`None` when nobody voted). The summary,
/// the Python frames (`percent` columns) and the examples all print it, so one statement reads
/// the same everywhere. It is the raw share, not Polis's pseudo-counted `p-success`
/// (`(n + 1) / (of + 2)`, `repness.clj`), which smooths small groups for the statistics but is not
/// what a reader counting the votes would find (87% where 14 of 16 is 88%).
pub fn percent(n: u32, of: u32) -> Option<u32> {
    // Integer arithmetic: no float rounding makes 12.5% read 12 in one place and 13 in another.
    (of > 0).then(|| ((200 * u64::from(n) + u64::from(of)) / (2 * u64::from(of))) as u32)
}

/// Counts votes per (bucket, statement) over the raw vote matrix: `bucket_of[row]` is the bucket of
/// each participant (`None`: not counted). Returns `counts[bucket][statement]`. One pass over the
/// counted participants' votes, O(votes), parallel: over buckets when there are several, over
/// fixed chunks of participants when there is one. Counts are integers, so the result is the same
/// however the work is split.
pub fn count_votes(matrix: &VoteMatrix, bucket_of: &[Option<u32>], n_buckets: usize) -> Vec<Vec<VoteCounts>> {
    let m = matrix.n_statements();
    let tally = |target: &mut [VoteCounts], row: usize| {
        let (cols, vals) = matrix.row(row);
        for (&c, &v) in cols.iter().zip(vals) {
            // Branch-free: votes are as unpredictable as the participants casting them.
            let cell = &mut target[c as usize];
            cell.seen += 1;
            cell.agree += u32::from(v == 1);
            cell.disagree += u32::from(v == -1);
        }
    };
    if n_buckets == 1 {
        const CHUNK: usize = 16_384;
        let partials: Vec<Vec<VoteCounts>> = (0..bucket_of.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|ci| {
                let mut counts = vec![VoteCounts::default(); m];
                for row in ci * CHUNK..((ci + 1) * CHUNK).min(bucket_of.len()) {
                    if bucket_of[row].is_some() {
                        tally(&mut counts, row);
                    }
                }
                counts
            })
            .collect();
        let mut total = vec![VoteCounts::default(); m];
        for p in partials {
            total.iter_mut().zip(&p).for_each(|(t, c)| t.add(c));
        }
        return vec![total];
    }
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n_buckets];
    for (row, bucket) in bucket_of.iter().enumerate() {
        if let Some(b) = bucket {
            rows[*b as usize].push(row);
        }
    }
    rows.par_iter()
        .map(|members| {
            let mut counts = vec![VoteCounts::default(); m];
            members.iter().for_each(|&row| tally(&mut counts, row));
            counts
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn a_percentage_is_the_raw_share_rounded_half_up() {
        // By hand: 14/16 = 87.5% reads 88 (Polis's pseudo-counted 15/18 would read 83);
        // 1/8 = 12.5% reads 13; 2/3 = 66.7% reads 67; 1/3 = 33.3% reads 33.
        assert_eq!(percent(14, 16), Some(88));
        assert_eq!(percent(1, 8), Some(13));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!((percent(0, 5), percent(5, 5)), (Some(0), Some(100)));
        assert_eq!(percent(0, 0), None, "nobody voted: no percentage");
        assert_eq!(percent(u32::MAX, u32::MAX), Some(100), "no overflow");
    }
}
