//! The ratings the factorization fits, read in place from the vote matrix.
//!
//! Community Notes rates a note helpful (1) or not (0); here agree is 1 and disagree 0, a pass is
//! left out unless [`MfParams::pass_rating`](super::MfParams::pass_rating) gives it a value, and
//! votes on moderated-out statements are left out. The first pass over the matrix's CSR rows
//! ([`Ratings::count`]) keeps the ratings that enter the fit, compacted (a statement column and
//! the rating's index in one [`Code`], 2 bytes each up to 16,384 statements), so that every sweep
//! reads only those, with no test per vote: sorting out passes and excluded statements was about a
//! third of a sweep's time when each sweep did it again. The rows go in chunks of consecutive rows that depend only on the number of
//! participants, so that the chunks' sums, added in chunk order, are the same whatever the number
//! of threads.

use std::sync::OnceLock;

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
    /// Whether the statements' codes fit a `u16`.
    narrow: bool,
    /// Per chunk of rows, the ratings that enter the fit, as [`Ratings::count`] found them.
    chunks: OnceLock<Kept>,
}

/// A kept rating, coded as `4 c + v` for statement column `c` and rating index `v` (the vote plus
/// one): 2 bytes a rating when the statements number at most [`MAX_U16_CODED_STATEMENTS`], else 4.
/// A sweep streams every kept rating once, and the 5 bytes of a `u32` column and a `u8` index were
/// what it read; the code's shift and mask cost less than the bytes they save.
pub(super) trait Code: Copy + Send + Sync + 'static {
    /// The code of column `c` and rating index `v` (`c` within the coded range).
    fn new(c: u32, v: u8) -> Self;
    /// The statement column and the rating index.
    fn split(self) -> (usize, usize);
}

impl Code for u16 {
    #[inline]
    fn new(c: u32, v: u8) -> u16 {
        ((c << 2) | v as u32) as u16
    }
    #[inline]
    fn split(self) -> (usize, usize) {
        ((self >> 2) as usize, (self & 3) as usize)
    }
}

impl Code for u32 {
    #[inline]
    fn new(c: u32, v: u8) -> u32 {
        (c << 2) | v as u32
    }
    #[inline]
    fn split(self) -> (usize, usize) {
        ((self >> 2) as usize, (self & 3) as usize)
    }
}

/// The most statements whose codes fit a `u16`: `4 c + 3 <= u16::MAX` for every `c` below it.
pub(super) const MAX_U16_CODED_STATEMENTS: usize = (u16::MAX as usize + 1) / 4;

/// One chunk of consecutive rows' ratings that enter the fit, in row order and, within a row, in
/// the matrix's order.
pub(super) struct Chunk<C> {
    /// Per row of the chunk, where its ratings end.
    ends: Vec<usize>,
    /// Per rating, its statement column and its index into [`Ratings::values`] ([`Code`]).
    codes: Vec<C>,
}

impl<C: Code> Chunk<C> {
    /// The `local`-th row of the chunk's ratings, coded.
    #[inline]
    pub(super) fn row(&self, local: usize) -> &[C] {
        let range = if local == 0 { 0 } else { self.ends[local - 1] }..self.ends[local];
        &self.codes[range]
    }
}

/// One chunk's count: its kept ratings, the ratings per row and per statement, and their sum.
type CountedChunk<C> = (Chunk<C>, Vec<u32>, Vec<u32>, f64);

/// Every chunk's kept ratings, in the narrowest code the statements allow.
pub(super) enum Kept {
    Narrow(Vec<Chunk<u16>>),
    Wide(Vec<Chunk<u32>>),
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
            chunks: OnceLock::new(),
            narrow: matrix.n_statements() <= MAX_U16_CODED_STATEMENTS,
        }
    }

    /// The same ratings kept in 4-byte codes whatever the number of statements, as beyond
    /// [`MAX_U16_CODED_STATEMENTS`]: the tests compare the two codes on small conversations.
    #[cfg(test)]
    pub(super) fn wide(mut self) -> Ratings<'a> {
        self.narrow = false;
        self
    }

    /// The rating of each index a [`Chunk`] holds: disagree 0, pass, agree 1.
    pub(super) fn values(&self) -> [f64; 3] {
        self.values
    }

    /// Every chunk of rows' ratings, once [`Ratings::count`] has kept them.
    pub(super) fn kept(&self) -> &Kept {
        self.chunks.get().expect("Ratings::count keeps the chunks before any sweep")
    }

    /// Appends participant `r`'s ratings, coded, to `codes` and returns how many there are. Every
    /// vote is written and only the kept ones move the end on, with no branch: whether a vote is a
    /// pass is a coin flip to the branch predictor.
    fn gather<C: Code>(&self, r: usize, codes: &mut Vec<C>) -> usize {
        let range = self.indptr[r]..self.indptr[r + 1];
        let start = codes.len();
        codes.resize(start + range.len(), C::new(0, 0));
        let mut kept = start;
        for (&c, &v) in self.columns[range.clone()].iter().zip(&self.votes[range]) {
            let v = (v + 1) as u8;
            codes[kept] = C::new(c, v);
            kept += (self.included[c as usize] & self.kept[v as usize]) as usize;
        }
        codes.truncate(kept);
        kept - start
    }

    /// Counts the ratings per participant and per statement, and sums them, over the `n`
    /// participants and `m` statements, chunk by chunk (the chunks' results added in order); keeps
    /// each chunk's ratings for the sweeps ([`Ratings::kept`]).
    pub(super) fn count(&self, n: usize, m: usize, chunk_rows: usize) -> Counts {
        if self.narrow {
            let (counts, chunks) = self.count_coded::<u16>(n, m, chunk_rows);
            // Counted once per fit; a second count of the same rows would keep the same chunks.
            let _ = self.chunks.set(Kept::Narrow(chunks));
            counts
        } else {
            let (counts, chunks) = self.count_coded::<u32>(n, m, chunk_rows);
            let _ = self.chunks.set(Kept::Wide(chunks));
            counts
        }
    }

    /// [`Ratings::count`] with the ratings kept in codes `C`.
    fn count_coded<C: Code>(&self, n: usize, m: usize, chunk_rows: usize) -> (Counts, Vec<Chunk<C>>) {
        let counted: Vec<CountedChunk<C>> = (0..n.div_ceil(chunk_rows))
            .into_par_iter()
            .map(|k| {
                let rows = k * chunk_rows..((k + 1) * chunk_rows).min(n);
                let votes = self.indptr[rows.end] - self.indptr[rows.start];
                let mut chunk = Chunk::<C> { ends: Vec::with_capacity(rows.len()), codes: Vec::with_capacity(votes) };
                let mut per_statement = vec![0u32; m];
                let mut sum = 0.0;
                let per_row = rows
                    .map(|r| {
                        let start = chunk.codes.len();
                        let count = self.gather(r, &mut chunk.codes);
                        for &code in &chunk.codes[start..] {
                            let (c, v) = code.split();
                            per_statement[c] += 1;
                            sum += self.values[v];
                        }
                        chunk.ends.push(chunk.codes.len());
                        count as u32
                    })
                    .collect();
                chunk.codes.shrink_to_fit();
                (chunk, per_row, per_statement, sum)
            })
            .collect();
        let mut row_counts = Vec::with_capacity(n);
        let mut statement_ratings = vec![0u32; m];
        let mut rating_sum = 0.0;
        let mut chunks = Vec::with_capacity(counted.len());
        for (chunk, rows, statements, sum) in counted {
            chunks.push(chunk);
            row_counts.extend(rows);
            statement_ratings.iter_mut().zip(statements).for_each(|(total, c)| *total += c);
            rating_sum += sum;
        }
        let n_ratings: usize = statement_ratings.iter().map(|&c| c as usize).sum();
        (Counts { row_counts, statement_ratings, rating_sum, n_ratings }, chunks)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::votes::{Vote, VoteEvent};

    /// `n` participants voting on 20 statements: agree, disagree or pass at random, some unseen.
    pub(in crate::bridging::mf) fn random_votes(n: i64, seed: u64) -> VoteMatrix {
        let mut rng = Rng::new(seed);
        let mut events = Vec::new();
        for p in 0..n {
            for s in 0..20i64 {
                let u = rng.uniform();
                let vote = if u < 0.2 {
                    continue;
                } else if u < 0.5 {
                    Vote::Pass
                } else if u < 0.75 {
                    Vote::Agree
                } else {
                    Vote::Disagree
                };
                events.push(VoteEvent::new(p, s, vote));
            }
        }
        VoteMatrix::from_events(&events)
    }

    /// Chunk `k`'s row `local`, decoded: (statement column, rating index) per rating.
    fn decoded(ratings: &Ratings, k: usize, local: usize) -> Vec<(u32, usize)> {
        let split = |(c, v): (usize, usize)| (c as u32, v);
        match ratings.kept() {
            Kept::Narrow(chunks) => chunks[k].row(local).iter().map(|code| split(code.split())).collect(),
            Kept::Wide(chunks) => chunks[k].row(local).iter().map(|code| split(code.split())).collect(),
        }
    }

    #[test]
    fn count_keeps_each_rows_ratings_that_enter_the_fit_in_the_matrix_order_chunk_by_chunk_in_either_code() {
        // 2500 rows in chunks of 1024: three chunks, the last one short.
        let matrix = random_votes(2500, 4);
        let (n, m) = (matrix.n_participants(), matrix.n_statements());
        let mut excluded = vec![false; m];
        (excluded[3], excluded[11]) = (true, true);
        for (pass_rating, wide) in [(None, false), (Some(0.25), false), (None, true), (Some(0.25), true)] {
            let ratings = Ratings::new(&matrix, &excluded, pass_rating);
            let ratings = if wide { ratings.wide() } else { ratings };
            let chunk_rows = chunk_rows(n);
            assert_eq!(n.div_ceil(chunk_rows), 3);
            let counts = ratings.count(n, m, chunk_rows);
            assert_eq!(matches!(ratings.kept(), Kept::Wide(_)), wide);
            let (mut n_ratings, mut sum) = (0, 0.0);
            for r in 0..n {
                // Brute force: the row's votes, less passes (without a pass rating) and excluded statements.
                let (cols, votes) = matrix.row(r);
                let expected: Vec<(u32, f64)> = cols
                    .iter()
                    .zip(votes)
                    .filter(|&(&c, &v)| !excluded[c as usize] && (v != 0 || pass_rating.is_some()))
                    .map(|(&c, &v)| (c, [0.0, pass_rating.unwrap_or(f64::NAN), 1.0][(v + 1) as usize]))
                    .collect();
                let kept: Vec<(u32, f64)> = decoded(&ratings, r / chunk_rows, r % chunk_rows)
                    .into_iter()
                    .map(|(c, v)| (c, ratings.values()[v]))
                    .collect();
                assert_eq!(kept, expected, "row {r}, pass rating {pass_rating:?}, wide {wide}");
                assert_eq!(counts.row_counts[r] as usize, expected.len());
                n_ratings += expected.len();
                sum += expected.iter().map(|&(_, rating)| rating).sum::<f64>();
            }
            assert_eq!(counts.n_ratings, n_ratings);
            assert!((counts.rating_sum - sum).abs() < 1e-9, "{} against {sum}", counts.rating_sum);
            assert_eq!(counts.statement_ratings[3] + counts.statement_ratings[11], 0);
        }
    }

    #[test]
    fn u16_codes_hold_every_column_and_rating_index_up_to_their_statement_limit() {
        for c in [0, 1, 5000, MAX_U16_CODED_STATEMENTS as u32 - 1] {
            for v in 0..3u8 {
                assert_eq!(<u16 as Code>::new(c, v).split(), (c as usize, v as usize));
                assert_eq!(<u32 as Code>::new(c, v).split(), (c as usize, v as usize));
            }
        }
        assert_eq!(<u32 as Code>::new(MAX_U16_CODED_STATEMENTS as u32, 2).split(), (MAX_U16_CODED_STATEMENTS, 2));
    }
}
