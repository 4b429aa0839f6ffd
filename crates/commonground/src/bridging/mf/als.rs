//! The alternating least squares sweep: every participant's `(i_u, f_u)`, then every statement's
//! `(i_n, f_n)`, then `μ`, each solved exactly given the rest.
//!
//! Community Notes fits its loss by full-batch gradient descent (Adam); with one factor, each
//! block is a 2-variable ridge regression whose optimum is a 2x2 solve, so a sweep never raises
//! the loss and needs no learning rate. A sweep reads the votes once: a participant is solved from
//! the statements, and its ratings, with its new parameters, go straight into the statements'
//! sufficient statistics (per chunk of rows, added in chunk order); the statements, the squared
//! error and `μ` then follow from those sums in closed form, with no second pass.

use rayon::prelude::*;

use super::ratings::{Chunk, Code, Kept, Ratings};

/// Solves the 2x2 ridge system `[[s1 + a_i, sx], [sx, sxx + a_f]] · (i, f) = (sy, sxy)`. The
/// penalties are positive, so the matrix is positive definite.
pub(super) fn solve_ridge(s1: f64, sx: f64, sxx: f64, sy: f64, sxy: f64, a_i: f64, a_f: f64) -> (f64, f64) {
    let (p, q) = (s1 + a_i, sxx + a_f);
    let det = p * q - sx * sx;
    ((q * sy - sx * sxy) / det, (p * sxy - sx * sy) / det)
}

/// Sums over one side's (participants' or statements') intercepts i and factors f: what the
/// penalty and the gauge steps need.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Moments {
    pub(super) f: f64,
    pub(super) ff: f64,
    pub(super) i: f64,
    pub(super) ii: f64,
    pub(super) fi: f64,
}

impl Moments {
    #[inline]
    pub(super) fn add(&mut self, i: f64, f: f64) {
        self.f += f;
        self.ff += f * f;
        self.i += i;
        self.ii += i * i;
        self.fi += f * i;
    }

    fn plus(self, o: Moments) -> Moments {
        Moments { f: self.f + o.f, ff: self.ff + o.ff, i: self.i + o.i, ii: self.ii + o.ii, fi: self.fi + o.fi }
    }
}

/// One statement's sufficient statistics over its ratings, given the participants: with `x` the
/// participant's factor and `y = rating − μ − i_participant`, the sums of x, x², y, x·y and y².
pub(super) type StatementSums = [f64; 5];

/// The loss's constants (see the module docs of [`super`]): the number of ratings N, the numbers
/// of participants U and statements M with a rating, and the penalties λ_f and λ_i.
#[derive(Debug, Clone, Copy)]
pub(super) struct Objective {
    pub(super) big_n: f64,
    pub(super) rated_participants: f64,
    pub(super) rated_statements: f64,
    pub(super) lf: f64,
    pub(super) li: f64,
}

impl Objective {
    /// The loss from the squared error `sse`, the participants' `(Σ i_u², Σ f_u²)`, the statements
    /// and `μ`.
    pub(super) fn loss(&self, sse: f64, (p_ii, p_ff): (f64, f64), statements: &[[f64; 2]], mu: f64) -> f64 {
        let Objective { big_n, rated_participants, rated_statements, lf, li } = *self;
        let (s_ii, s_ff) = statements.iter().fold((0.0, 0.0), |(a, b), [i, f]| (a + i * i, b + f * f));
        let penalty = lf * (p_ff / rated_participants + s_ff / rated_statements)
            + li * (p_ii / rated_participants + s_ii / rated_statements)
            + li * mu * mu;
        sse / big_n + penalty
    }
}

/// The sweeps' working state: the participants' parameters, solved afresh every sweep, and the
/// statements' sums that a sweep gathers from them.
pub(super) struct Als<'a> {
    ratings: &'a Ratings<'a>,
    /// Ratings per participant and per statement.
    row_counts: &'a [u32],
    statement_ratings: &'a [u32],
    chunk_rows: usize,
    /// The ridge penalties of one participant's and one statement's intercept and factor: the loss
    /// times N, so each participant's penalty is N λ / U and each statement's N λ / M.
    participant_penalties: (f64, f64),
    statement_penalties: (f64, f64),
    /// Per chunk of rows, the statements' sums over that chunk's ratings.
    partial_sums: Vec<Vec<StatementSums>>,
    /// The statements' sums over every rating.
    sums: Vec<StatementSums>,
    /// Participant intercepts and factors, in row order.
    iu: Vec<f64>,
    fu: Vec<f64>,
}

impl<'a> Als<'a> {
    pub(super) fn new(
        ratings: &'a Ratings<'a>,
        row_counts: &'a [u32],
        statement_ratings: &'a [u32],
        chunk_rows: usize,
        objective: &Objective,
    ) -> Als<'a> {
        let (n, m) = (row_counts.len(), statement_ratings.len());
        let Objective { big_n, rated_participants, rated_statements, lf, li } = *objective;
        let (pi_u, pf_u) = (big_n * li / rated_participants, big_n * lf / rated_participants);
        let (pi_n, pf_n) = (big_n * li / rated_statements, big_n * lf / rated_statements);
        Als {
            ratings,
            row_counts,
            statement_ratings,
            chunk_rows,
            participant_penalties: (pi_u, pf_u),
            statement_penalties: (pi_n, pf_n),
            partial_sums: vec![vec![[0.0; 5]; m]; n.div_ceil(chunk_rows)],
            sums: vec![[0.0; 5]; m],
            iu: vec![0.0; n],
            fu: vec![0.0; n],
        }
    }

    /// One pass over the votes: each participant solved given the statements and μ, then its
    /// ratings added to the statements' sums with its new parameters. Returns the participants'
    /// [`Moments`].
    pub(super) fn solve_participants(&mut self, statements: &[[f64; 2]], mu: f64) -> Moments {
        let (ratings, row_counts, chunk_rows) = (self.ratings, self.row_counts, self.chunk_rows);
        let (pi_u, pf_u) = self.participant_penalties;
        let values = ratings.values();
        let (iu, fu, partial_sums) = (&mut self.iu, &mut self.fu, &mut self.partial_sums);
        let participant_moments = match ratings.kept() {
            Kept::Narrow(chunks) => {
                solve_chunks(chunks, row_counts, chunk_rows, iu, fu, partial_sums, statements, mu, values, (pi_u, pf_u))
            }
            Kept::Wide(chunks) => {
                solve_chunks(chunks, row_counts, chunk_rows, iu, fu, partial_sums, statements, mu, values, (pi_u, pf_u))
            }
        };
        let partial_sums = &self.partial_sums;
        self.sums.par_iter_mut().enumerate().with_min_len(256).for_each(|(c, total)| {
            *total = [0.0; 5];
            for partial in partial_sums {
                for (t, p) in total.iter_mut().zip(&partial[c]) {
                    *t += p;
                }
            }
        });
        participant_moments
    }

    /// The statements, given the participants and μ, from the sums of
    /// [`Als::solve_participants`]; returns the sums of the residuals and of their squares, which
    /// follow from the statements' sums with no second pass over the votes.
    pub(super) fn solve_statements(&self, statements: &mut [[f64; 2]]) -> (f64, f64) {
        let (pi_n, pf_n) = self.statement_penalties;
        let (sums, statement_ratings) = (&self.sums, self.statement_ratings);
        let (mut sum_e, mut sum_e2) = (0.0, 0.0);
        for ((s, &[sx, sxx, sy, sxy, syy]), &count) in statements.iter_mut().zip(sums).zip(statement_ratings) {
            if count == 0 {
                continue;
            }
            let c = count as f64;
            let (i, f) = solve_ridge(c, sx, sxx, sy, sxy, pi_n, pf_n);
            *s = [i, f];
            sum_e += sy - c * i - f * sx;
            sum_e2 += syy - 2.0 * i * sy - 2.0 * f * sxy + c * i * i + 2.0 * i * f * sx + f * f * sxx;
        }
        (sum_e, sum_e2)
    }

    /// The participants' intercepts and factors as the last sweep solved them.
    pub(super) fn into_participants(self) -> (Vec<f64>, Vec<f64>) {
        (self.iu, self.fu)
    }
}

/// [`Als::solve_participants`]'s pass over the chunks of rows kept in codes `C`: each participant
/// solved given the statements and μ, then its ratings added to its chunk's statement sums.
#[allow(clippy::too_many_arguments)]
fn solve_chunks<C: Code>(
    chunks: &[Chunk<C>],
    row_counts: &[u32],
    chunk_rows: usize,
    iu: &mut [f64],
    fu: &mut [f64],
    partial_sums: &mut [Vec<StatementSums>],
    statements: &[[f64; 2]],
    mu: f64,
    values: [f64; 3],
    (pi_u, pf_u): (f64, f64),
) -> Moments {
    // A rating less μ, per rating index: `rating − μ − i_n` is `(rating − μ) − i_n`, so the
    // same bits as computed per vote. (Index 3 is no rating's.)
    let less_mu = [values[0] - mu, values[1] - mu, values[2] - mu, 0.0];
    iu.par_chunks_mut(chunk_rows)
        .zip(fu.par_chunks_mut(chunk_rows))
        .zip(partial_sums.par_iter_mut())
        .zip(chunks.par_iter())
        .enumerate()
        .map(|(k, (((iu, fu), partial), chunk))| {
            partial.fill([0.0; 5]);
            let mut moments = Moments::default();
            for (local, r) in (k * chunk_rows..).take(iu.len()).enumerate() {
                let count = row_counts[r];
                if count == 0 {
                    continue;
                }
                let codes = chunk.row(local);
                let (mut sx, mut sxx, mut sy, mut sxy) = (0.0, 0.0, 0.0, 0.0);
                for &code in codes {
                    let (c, v) = code.split();
                    let [i_n, x] = statements[c];
                    let y = less_mu[v] - i_n;
                    sx += x;
                    sxx += x * x;
                    sy += y;
                    sxy += x * y;
                }
                let (i, f) = solve_ridge(count as f64, sx, sxx, sy, sxy, pi_u, pf_u);
                (iu[local], fu[local]) = (i, f);
                moments.add(i, f);
                // A rating's residual takes one value per rating index in this row: the same
                // expressions as per vote (`rating − (μ + i)`, `f·y`, `y·y`), computed once.
                let base = mu + i;
                let ff = f * f;
                let y = [values[0] - base, values[1] - base, values[2] - base, 0.0];
                let terms = y.map(|y| [y, f * y, y * y]);
                for &code in codes {
                    let (c, v) = code.split();
                    let [y, fy, yy] = terms[v];
                    let s = &mut partial[c];
                    s[0] += f;
                    s[1] += ff;
                    s[2] += y;
                    s[3] += fy;
                    s[4] += yy;
                }
            }
            moments
        })
        .collect::<Vec<Moments>>()
        .into_iter()
        .fold(Moments::default(), Moments::plus)
}

/// μ, in closed form from the residuals' sum (moved to `mu`); returns the new squared error,
/// which follows from the old.
pub(super) fn solve_global(mu: &mut f64, (sum_e, sum_e2): (f64, f64), objective: &Objective) -> f64 {
    let (big_n, li) = (objective.big_n, objective.li);
    let delta = (sum_e - big_n * li * *mu) / (big_n * (1.0 + li));
    *mu += delta;
    (sum_e2 - 2.0 * delta * sum_e + big_n * delta * delta).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridging::mf::ratings::{chunk_rows, tests::random_votes};

    /// Brute force: participant `r`'s `(i, f)` from its votes read off the matrix, passes and
    /// excluded statements left out, the same expressions added in the matrix's order.
    fn brute_participant(
        matrix: &crate::votes::VoteMatrix,
        r: usize,
        excluded: &[bool],
        values: [f64; 3],
        statements: &[[f64; 2]],
        mu: f64,
        (pi_u, pf_u): (f64, f64),
    ) -> Option<(f64, f64)> {
        let (cols, votes) = matrix.row(r);
        let (mut n, mut sx, mut sxx, mut sy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&c, &v) in cols.iter().zip(votes) {
            if excluded[c as usize] || v == 0 {
                continue;
            }
            let [i_n, x] = statements[c as usize];
            let y = (values[(v + 1) as usize] - mu) - i_n;
            n += 1.0;
            sx += x;
            sxx += x * x;
            sy += y;
            sxy += x * y;
        }
        (n > 0.0).then(|| solve_ridge(n, sx, sxx, sy, sxy, pi_u, pf_u))
    }

    #[test]
    fn a_participant_pass_gives_the_brute_force_solutions_bit_for_bit_and_the_same_sums_in_either_code() {
        let matrix = random_votes(2500, 9);
        let (n, m) = (matrix.n_participants(), matrix.n_statements());
        let mut excluded = vec![false; m];
        excluded[7] = true;
        let statements: Vec<[f64; 2]> = (0..m).map(|j| [0.01 * j as f64 - 0.1, 0.3 - 0.02 * j as f64]).collect();
        let mu = 0.4;
        let mut results = Vec::new();
        for wide in [false, true] {
            let ratings = Ratings::new(&matrix, &excluded, None);
            let ratings = if wide { ratings.wide() } else { ratings };
            let rows = chunk_rows(n);
            let counts = ratings.count(n, m, rows);
            let objective = Objective {
                big_n: counts.n_ratings as f64,
                rated_participants: counts.row_counts.iter().filter(|&&c| c > 0).count() as f64,
                rated_statements: counts.statement_ratings.iter().filter(|&&c| c > 0).count() as f64,
                lf: 0.03,
                li: 0.15,
            };
            let mut als = Als::new(&ratings, &counts.row_counts, &counts.statement_ratings, rows, &objective);
            als.solve_participants(&statements, mu);
            for r in 0..n {
                let expected = brute_participant(
                    &matrix,
                    r,
                    &excluded,
                    ratings.values(),
                    &statements,
                    mu,
                    als.participant_penalties,
                );
                if let Some((i, f)) = expected {
                    assert_eq!(
                        (als.iu[r].to_bits(), als.fu[r].to_bits()),
                        (i.to_bits(), f.to_bits()),
                        "row {r}, wide {wide}"
                    );
                }
            }
            // The statements' sums against the brute force's, up to the order of the additions.
            let mut sums = vec![[0.0f64; 5]; m];
            for r in 0..n {
                let (cols, votes) = matrix.row(r);
                let (i, f) = (als.iu[r], als.fu[r]);
                for (&c, &v) in cols.iter().zip(votes) {
                    if excluded[c as usize] || v == 0 {
                        continue;
                    }
                    let y = ratings.values()[(v + 1) as usize] - (mu + i);
                    let s = &mut sums[c as usize];
                    (s[0], s[1], s[2], s[3], s[4]) = (s[0] + f, s[1] + f * f, s[2] + y, s[3] + f * y, s[4] + y * y);
                }
            }
            for (got, want) in als.sums.iter().zip(&sums) {
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "{g} against {w}");
                }
            }
            results.push((als.iu.clone(), als.fu.clone(), als.sums.clone()));
        }
        let bits = |(iu, fu, sums): &(Vec<f64>, Vec<f64>, Vec<StatementSums>)| {
            let flat = sums.iter().flatten();
            iu.iter().chain(fu).chain(flat).map(|x| x.to_bits()).collect::<Vec<u64>>()
        };
        assert_eq!(bits(&results[0]), bits(&results[1]));
    }
}
