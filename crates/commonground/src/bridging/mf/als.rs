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

use super::ratings::Ratings;

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
        // A rating less μ, per rating index: `rating − μ − i_n` is `(rating − μ) − i_n`, so the
        // same bits as computed per vote.
        let less_mu = ratings.values().map(|rating| rating - mu);
        let participant_moments = self
            .iu
            .par_chunks_mut(chunk_rows)
            .zip(self.fu.par_chunks_mut(chunk_rows))
            .zip(self.partial_sums.par_iter_mut())
            .enumerate()
            .map(|(k, ((iu, fu), partial))| {
                partial.fill([0.0; 5]);
                let mut moments = Moments::default();
                let chunk = ratings.chunk(k);
                for (local, r) in (k * chunk_rows..).take(iu.len()).enumerate() {
                    let count = row_counts[r];
                    if count == 0 {
                        continue;
                    }
                    let (columns, values) = chunk.row(local);
                    let (mut sx, mut sxx, mut sy, mut sxy) = (0.0, 0.0, 0.0, 0.0);
                    for (&c, &v) in columns.iter().zip(values) {
                        let [i_n, x] = statements[c as usize];
                        let y = less_mu[v as usize] - i_n;
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
                    let y = ratings.values().map(|rating| rating - base);
                    let terms = y.map(|y| [y, f * y, y * y]);
                    for (&c, &v) in columns.iter().zip(values) {
                        let [y, fy, yy] = terms[v as usize];
                        let s = &mut partial[c as usize];
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
            .fold(Moments::default(), Moments::plus);
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

/// μ, in closed form from the residuals' sum (moved to `mu`); returns the new squared error,
/// which follows from the old.
pub(super) fn solve_global(mu: &mut f64, (sum_e, sum_e2): (f64, f64), objective: &Objective) -> f64 {
    let (big_n, li) = (objective.big_n, objective.li);
    let delta = (sum_e - big_n * li * *mu) / (big_n * (1.0 + li));
    *mu += delta;
    (sum_e2 - 2.0 * delta * sum_e + big_n * delta * delta).max(0.0)
}
