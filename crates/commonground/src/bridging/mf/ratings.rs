//! The ratings the factorization fits, read in place from the vote matrix.
//!
//! Community Notes rates a note helpful (1) or not (0); here agree is 1 and disagree 0, a pass is
//! left out unless [`MfParams::pass_rating`](super::MfParams::pass_rating) gives it a value, and
//! votes on moderated-out statements are left out. Nothing is copied: a sweep reads the matrix's
//! CSR rows directly, in chunks of consecutive rows that depend only on the number of
//! participants, so that the chunks' sums, added in chunk order, are the same whatever the number
//! of threads.

use rayon::prelude::*;

use crate::votes::VoteMatrix;

/// A sweep reads the participants in at most this many chunks of consecutive rows. The chunks
/// depend only on the number of participants, never on the number of threads, and their sums are
/// added in chunk order, so the fit is bit-identical whatever the thread count.
const MAX_CHUNKS: usize = 32;
/// The fewest participants per chunk: smaller conversations run in fewer chunks.
const MIN_CHUNK_ROWS: usize = 1024;

/// The participants per chunk of rows, for `n` participants.
pub(super) fn chunk_rows(n: usize) -> usize {
    n.div_ceil(MAX_CHUNKS).max(MIN_CHUNK_ROWS)
}

/// What the first pass over the ratings counts.
pub(super) struct Counts {
    /// Ratings per participant (row).
    pub(super) row_counts: Vec<u32>,
    /// Ratings per statement (column).
    pub(super) statement_ratings: Vec<u32>,
    /// The sum of every rating.
    pub(super) rating_sum: f64,
    /// Ratings in the fit (N).
    pub(super) n_ratings: usize,
}

/// The ratings that enter the fit, read straight from the vote matrix's rows, skipping what is
/// left out. A vote `v` rates `values[v + 1]`: disagree 0, pass `pass_rating`, agree 1.
pub(super) struct Ratings<'a> {
    indptr: &'a [usize],
    columns: &'a [u32],
    votes: &'a [i8],
    /// Per statement column: whether its votes enter the fit.
    included: Vec<bool>,
    /// Per vote `v + 1`: whether it enters the fit (a pass only with a `pass_rating`).
    kept: [bool; 3],
    values: [f64; 3],
}

impl<'a> Ratings<'a> {
    pub(super) fn new(matrix: &'a VoteMatrix, excluded: &[bool], pass_rating: Option<f64>) -> Ratings<'a> {
        let (indptr, columns, votes) = matrix.csr();
        Ratings {
            indptr,
            columns,
            votes,
            included: (0..matrix.n_statements()).map(|j| !excluded.get(j).copied().unwrap_or(false)).collect(),
            kept: [true, pass_rating.is_some(), true],
            values: [0.0, pass_rating.unwrap_or(0.5), 1.0],
        }
    }

    /// The most votes in one row: the length [`Ratings::gather`] needs.
    pub(super) fn longest_row(&self) -> usize {
        self.indptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }

    /// Writes participant `r`'s ratings, as (statement column, rating), to the front of `buffer`
    /// (at least the row's length long) and returns how many there are. Every vote is written and
    /// only the kept ones move the end on, with no branch: whether a vote is a pass is a coin flip
    /// to the branch predictor. A sweep gathers each row once and reads it twice from the buffer.
    #[inline]
    pub(super) fn gather(&self, r: usize, buffer: &mut [(u32, f64)]) -> usize {
        let range = self.indptr[r]..self.indptr[r + 1];
        let mut kept = 0;
        for (&c, &v) in self.columns[range.clone()].iter().zip(&self.votes[range]) {
            let v = (v + 1) as usize;
            buffer[kept] = (c, self.values[v]);
            kept += (self.included[c as usize] & self.kept[v]) as usize;
        }
        kept
    }

    /// Counts the ratings per participant and per statement, and sums them, over the `n`
    /// participants and `m` statements, chunk by chunk (the chunks' results added in order).
    pub(super) fn count(&self, n: usize, m: usize, chunk_rows: usize) -> Counts {
        let longest_row = self.longest_row();
        let counted: Vec<(Vec<u32>, Vec<u32>, f64)> = (0..n.div_ceil(chunk_rows))
            .into_par_iter()
            .map(|k| {
                let rows = k * chunk_rows..((k + 1) * chunk_rows).min(n);
                let mut per_statement = vec![0u32; m];
                let mut sum = 0.0;
                let mut row = vec![(0, 0.0); longest_row];
                let per_row = rows
                    .map(|r| {
                        let count = self.gather(r, &mut row);
                        for &(c, rating) in &row[..count] {
                            per_statement[c as usize] += 1;
                            sum += rating;
                        }
                        count as u32
                    })
                    .collect();
                (per_row, per_statement, sum)
            })
            .collect();
        let mut row_counts = Vec::with_capacity(n);
        let mut statement_ratings = vec![0u32; m];
        let mut rating_sum = 0.0;
        for (rows, statements, sum) in counted {
            row_counts.extend(rows);
            statement_ratings.iter_mut().zip(statements).for_each(|(total, c)| *total += c);
            rating_sum += sum;
        }
        let n_ratings: usize = statement_ratings.iter().map(|&c| c as usize).sum();
        Counts { row_counts, statement_ratings, rating_sum, n_ratings }
    }
}
