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
    if bucket_of.len() >= ROW_ORDER_MIN_ROWS && n_buckets * TALLY_WIDTH * m * size_of::<u32>() <= MAX_ROW_ORDER_TABLES {
        return count_in_row_order(matrix, bucket_of, n_buckets);
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

/// Counters per statement in [`count_in_row_order`]'s tables: disagree, pass, agree.
const TALLY_WIDTH: usize = 3;

/// The fewest participants [`count_votes`] counts in row order: below, the matrix sits in the
/// cache, the bucket-by-bucket gather costs nothing, and a table of every bucket would only be
/// more memory to zero (1 MB for 101 buckets of 900 statements, against a 30 ms analysis).
const ROW_ORDER_MIN_ROWS: usize = 65_536;

/// The largest set of tables (every bucket's counters) one job of [`count_in_row_order`] holds:
/// 101 buckets of 10,000 statements take 12 MB.
const MAX_ROW_ORDER_TABLES: usize = 32 << 20;

/// [`count_votes`] over several buckets, reading the rows in order. Counting bucket by bucket
/// reads each bucket's members' rows where they lie, one scattered row after another: at a
/// million participants in 100 base clusters, two or three cache misses per row (its bounds,
/// its columns, its values) that the tally, a few instructions a vote, cannot hide. Here each
/// job streams a contiguous range of rows, which the prefetcher follows, and adds each vote to
/// its row's bucket's table (one counter per statement and vote, in a table of every bucket:
/// kept in the cache at 12 MB for 101 buckets of 10,000 statements); the jobs' tables are summed.
/// Integer sums: the same counts whatever the split, and the same as counting by bucket.
fn count_in_row_order(matrix: &VoteMatrix, bucket_of: &[Option<u32>], n_buckets: usize) -> Vec<Vec<VoteCounts>> {
    const MIN_ROWS: usize = 16_384;
    let m = matrix.n_statements();
    let width = TALLY_WIDTH * m;
    let n = bucket_of.len();
    // A few jobs per thread, so that a thread kept busy elsewhere leaves its share to the other,
    // and no more: each job fills a table of every bucket.
    let jobs = (2 * rayon::current_num_threads()).min(n.div_ceil(MIN_ROWS)).max(1);
    let per_job = n.div_ceil(jobs).max(1);
    let tables: Vec<Vec<u32>> = bucket_of
        .par_chunks(per_job)
        .enumerate()
        .map(|(job, buckets)| {
            let mut table = vec![0u32; n_buckets * width];
            for (k, bucket) in buckets.iter().enumerate() {
                let Some(b) = bucket else { continue };
                let (cols, vals) = matrix.row(job * per_job + k);
                let counters = &mut table[*b as usize * width..][..width];
                for (&c, &v) in cols.iter().zip(vals) {
                    counters[TALLY_WIDTH * c as usize + (v + 1) as usize] += 1;
                }
            }
            table
        })
        .collect();
    let mut tables = tables.into_iter();
    let mut total = tables.next().unwrap_or_else(|| vec![0; n_buckets * width]);
    for table in tables {
        total.iter_mut().zip(&table).for_each(|(t, c)| *t += c);
    }
    total
        .chunks_exact(width.max(1))
        .take(n_buckets)
        .map(|counters| {
            counters
                .chunks_exact(TALLY_WIDTH)
                .map(|c| VoteCounts { agree: c[2], disagree: c[0], seen: c[0] + c[1] + c[2] })
                .collect()
        })
        .chain(std::iter::repeat_with(Vec::new))
        .take(n_buckets)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    #[test]
    fn counts_by_bucket_in_row_order_equal_a_plain_count_of_every_cell() {
        // 50,000 participants (several jobs of the row-order pass; `count_votes` itself counts
        // them bucket by bucket), 37 statements, 9 buckets and participants in none, repeated
        // cells (the latest counts).
        let mut rng = crate::rng::Rng::new(3);
        let events: Vec<VoteEvent> = (0..400_000)
            .map(|t| {
                let (p, s) = (rng.below(50_000) as i64, rng.below(37) as i64);
                VoteEvent::new(p, s, Vote::from_value(rng.below(3) as i64 - 1).unwrap()).at(t)
            })
            .collect();
        let matrix = VoteMatrix::from_events(&events);
        let n_buckets = 9;
        let bucket_of: Vec<Option<u32>> = (0..matrix.n_participants())
            .map(|_| match rng.below(n_buckets as u64 + 1) as u32 {
                b if b == n_buckets as u32 => None,
                b => Some(b),
            })
            .collect();
        // The oracle: every cell of the matrix, looked up one by one.
        let mut expected = vec![vec![VoteCounts::default(); matrix.n_statements()]; n_buckets];
        for (row, bucket) in bucket_of.iter().enumerate() {
            let Some(b) = bucket else { continue };
            for column in 0..matrix.n_statements() {
                let cell = &mut expected[*b as usize][column];
                match matrix.get(row, column) {
                    Some(Vote::Agree) => (cell.agree, cell.seen) = (cell.agree + 1, cell.seen + 1),
                    Some(Vote::Disagree) => (cell.disagree, cell.seen) = (cell.disagree + 1, cell.seen + 1),
                    Some(Vote::Pass) => cell.seen += 1,
                    None => {}
                }
            }
        }
        assert_eq!(count_votes(&matrix, &bucket_of, n_buckets), expected);
        assert_eq!(count_in_row_order(&matrix, &bucket_of, n_buckets), expected);
        // Buckets nobody is in, and no statement at all.
        let none = vec![None; matrix.n_participants()];
        assert_eq!(count_votes(&matrix, &none, 2), vec![vec![VoteCounts::default(); matrix.n_statements()]; 2]);
        assert_eq!(count_votes(&VoteMatrix::default(), &[], 3), vec![Vec::<VoteCounts>::new(); 3]);
    }

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
