//! Community Notes' matrix-factorization bridging, fitted by alternating least squares.
//!
//! The model (`BiasedMatrixFactorization`) predicts participant u's rating of statement n as
//! `r̂ = μ + i_u + i_n + f_u · f_n`, with one factor. Ratings are agree = 1 and disagree = 0; passes
//! are left out unless [`MfParams::pass_rating`] gives them a value; votes on moderated-out
//! statements are left out. Only cast votes enter the loss, so nothing is imputed.
//!
//! The loss is Community Notes' code's (`_get_loss` + `_get_reg_loss`), with means over parameters:
//!
//! ```text
//! L = (1/N) Σ_ratings (r − r̂)²
//!   + λ_f · (mean_u f_u² + mean_n f_n²)
//!   + λ_i · (mean_u i_u² + mean_n i_n² + μ²)
//! ```
//!
//! with N ratings, the means over the U participants and M statements that have at least one
//! rating, `λ_f = 0.03` and `λ_i = 5 λ_f = 0.15`. A statement that one side of the factor axis
//! agrees with is explained by its factor; only agreement from both sides raises its intercept,
//! which is its bridging score.
//!
//! **Fitting.** Fixing everything but one participant's `(i_u, f_u)`, the loss is a 2-variable
//! ridge regression with the closed-form solution of a 2x2 system (penalties `N λ / U` after
//! multiplying the loss by N); the same holds for each statement's `(i_n, f_n)` and for `μ`.
//! Each sweep solves every participant, then every statement, then `μ`; each step minimises the
//! loss exactly over its block, so the loss never increases. A sweep reads the votes once, row by
//! row: a participant is solved from the statements, then its ratings are added, with its new
//! parameters, to the statements' sufficient statistics (per chunk of rows, in parallel); the
//! statements are then solved from those sums, and the squared error and `μ` follow from the same
//! sums in closed form. The sweeps stop when one lowers the loss by less than
//! [`MfParams::tolerance`] of it (1e-9: statement intercepts within about 1e-5 of the optimum), or
//! after [`MfParams::max_sweeps`].
//! Community Notes fits the same loss by full-batch Adam; alternating least squares reaches a
//! stationary point without a learning rate, and deterministically.
//!
//! **Warm starts.** In a live conversation ([`crate::Conversation::update`]) each fit starts from
//! the previous one ([`MfWarmStart`]): its statements' intercepts and factors, matched by statement
//! id (new statements start at zero), and its `μ`. Participants need no warm start, since every
//! sweep solves them first from the statements alone. A batch of new votes moves the optimum
//! little, so a warm fit settles in two or three sweeps instead of 20–30, at the same optimum
//! within the tolerance (tested below against a cold fit).
//!
//! **Identification.** `(f_u, f_n)` and `(−f_u, −f_n)` fit equally well; as Community Notes does
//! (`_flip_factors_for_identification`), signs are flipped so that the larger share of participants
//! has a negative factor (an exact tie: so that the participant factors sum to a negative number).
//!
//! **Speed.** With the exact moves along the directions that leave every prediction unchanged
//! ([`MfParams::gauge_steps`]), plain alternating least squares takes about 15–30 sweeps cold:
//! 15 on the vTaiwan example (43k ratings), 25 on generated conversations of 100,000 participants,
//! 2,000 statements and 5M votes, and of 1M participants, 10,000 statements and 50M votes; without
//! them, about 120 and 44. Most of the late sweeps crawl along one slow direction, each shortening
//! the remaining way by the same ratio: once the loss drops show that ratio, the statements and μ
//! jump ahead to where the crawl would end ([`Extrapolation`]; a jump that does not lower the loss
//! is undone). With the jumps a cold fit takes 11 sweeps on vTaiwan and at 100k, 16 at 1M, and
//! ends at a loss no higher than plain alternating least squares reaches (tested below); a sweep
//! at 100k costs about 25 ms on two shared cores. A warm fit after a batch of 1,000 votes takes
//! 3 sweeps. Memory: the fit itself
//! plus 40 bytes per statement per chunk of rows; the votes are read from the matrix.
//!
//! **Determinism.** Statement factors start from `Rng::fork(seed, statement)` (cold) or the
//! previous fit (warm); the rows are split into chunks that depend only on the number of
//! participants, and the chunks' sums are added in order, so the fit is bit-identical whatever the
//! number of threads.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::params::MfParams;
use crate::rng::Rng;
use crate::votes::{Id, VoteMatrix};

/// A sweep reads the participants in at most this many chunks of consecutive rows. The chunks
/// depend only on the number of participants, never on the number of threads, and their sums are
/// added in chunk order, so the fit is bit-identical whatever the thread count.
const MAX_CHUNKS: usize = 32;
/// The fewest participants per chunk: smaller conversations run in fewer chunks.
const MIN_CHUNK_ROWS: usize = 1024;
/// Stream tag of the factor initialisation, so that it draws differently from other users of the seed.
const INIT_STREAM: u64 = 0x6d66_5f69_6e69_7400; // "mf_init"

/// A fitted factorization. Participants are in vote-matrix row order, statements in column order;
/// participants and statements without a rating keep all-zero parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MfFit {
    /// The global intercept μ.
    pub global_intercept: f64,
    pub participant_intercepts: Vec<f64>,
    pub participant_factors: Vec<f64>,
    /// The statements' intercepts: the bridging scores.
    pub statement_intercepts: Vec<f64>,
    /// The statements' factors: their polarity on the one axis of disagreement.
    pub statement_factors: Vec<f64>,
    /// Ratings per statement that entered the fit.
    pub statement_ratings: Vec<u32>,
    /// Ratings in the fit (N).
    pub n_ratings: usize,
    /// Sweeps run.
    pub sweeps: usize,
    /// Whether the loss settled within [`MfParams::tolerance`] before [`MfParams::max_sweeps`].
    pub converged: bool,
    /// The final loss L (see the module docs).
    pub loss: f64,
    /// Root mean squared error over the ratings (Community Notes rejects fits above 0.16 at first,
    /// 0.09 at last).
    pub rmse: f64,
}

/// Where a later fit starts: a previous fit's statement parameters, by statement id, and its
/// global intercept. Participants need nothing: each sweep solves them first, from the statements
/// alone, so their previous values would be overwritten unread.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MfWarmStart {
    pub global_intercept: f64,
    /// Statement ids, with their intercepts and factors in the same order.
    pub statements: Vec<Id>,
    pub statement_intercepts: Vec<f64>,
    pub statement_factors: Vec<f64>,
}

impl MfWarmStart {
    /// The warm start that `fit`, fitted to `matrix`, leaves for the next fit.
    pub fn of(fit: &MfFit, matrix: &VoteMatrix) -> MfWarmStart {
        MfWarmStart {
            global_intercept: fit.global_intercept,
            statements: matrix.statements().to_vec(),
            statement_intercepts: fit.statement_intercepts.clone(),
            statement_factors: fit.statement_factors.clone(),
        }
    }

    /// `(intercept, factor)` for each of `ids`, from the statement of the same id (a statement the
    /// previous fit did not know starts at zero).
    fn parameters_of(&self, ids: &[Id]) -> Vec<[f64; 2]> {
        let known = self.statements.len().min(ids.len());
        let by_position = |j: usize| [self.statement_intercepts[j], self.statement_factors[j]];
        // Columns are only ever appended, so the previous statements are usually a prefix.
        if self.statements[..known] == ids[..known] {
            return (0..ids.len()).map(|j| if j < known { by_position(j) } else { [0.0, 0.0] }).collect();
        }
        let index: HashMap<&Id, usize> = self.statements.iter().enumerate().map(|(j, id)| (id, j)).collect();
        ids.iter().map(|id| index.get(id).map_or([0.0, 0.0], |&j| by_position(j))).collect()
    }
}

/// The ratings that enter the fit, read straight from the vote matrix's rows, skipping what is
/// left out. A vote `v` rates `values[v + 1]`: disagree 0, pass `pass_rating`, agree 1.
struct Ratings<'a> {
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
    fn new(matrix: &'a VoteMatrix, excluded: &[bool], pass_rating: Option<f64>) -> Ratings<'a> {
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
    fn longest_row(&self) -> usize {
        self.indptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }

    /// Writes participant `r`'s ratings, as (statement column, rating), to the front of `buffer`
    /// (at least the row's length long) and returns how many there are. Every vote is written and
    /// only the kept ones move the end on, with no branch: whether a vote is a pass is a coin flip
    /// to the branch predictor. A sweep gathers each row once and reads it twice from the buffer.
    #[inline]
    fn gather(&self, r: usize, buffer: &mut [(u32, f64)]) -> usize {
        let range = self.indptr[r]..self.indptr[r + 1];
        let mut kept = 0;
        for (&c, &v) in self.columns[range.clone()].iter().zip(&self.votes[range]) {
            let v = (v + 1) as usize;
            buffer[kept] = (c, self.values[v]);
            kept += (self.included[c as usize] & self.kept[v]) as usize;
        }
        kept
    }
}

/// Solves the 2x2 ridge system `[[s1 + a_i, sx], [sx, sxx + a_f]] · (i, f) = (sy, sxy)`. The
/// penalties are positive, so the matrix is positive definite.
fn solve_ridge(s1: f64, sx: f64, sxx: f64, sy: f64, sxy: f64, a_i: f64, a_f: f64) -> (f64, f64) {
    let (p, q) = (s1 + a_i, sxx + a_f);
    let det = p * q - sx * sx;
    ((q * sy - sx * sxy) / det, (p * sxy - sx * sy) / det)
}

/// Sums over one side's (participants' or statements') intercepts i and factors f: what the
/// penalty and the gauge steps need.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    f: f64,
    ff: f64,
    i: f64,
    ii: f64,
    fi: f64,
}

impl Moments {
    #[inline]
    fn add(&mut self, i: f64, f: f64) {
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
type StatementSums = [f64; 5];

/// The moves of [`gauge_steps`], which the participants receive only once, after the last sweep
/// (each sweep solves them afresh from the statements).
#[derive(Debug, Clone, Copy)]
struct Gauge {
    scale: f64,
    /// Statement factors moved into participant intercepts.
    into_participants: f64,
    /// Participant factors moved into statement intercepts.
    into_statements: f64,
    /// Moved from the participant intercepts into μ.
    participant_shift: f64,
}

impl Gauge {
    const NONE: Gauge = Gauge { scale: 1.0, into_participants: 0.0, into_statements: 0.0, participant_shift: 0.0 };

    /// A participant's `(i_u, f_u)` after the moves.
    #[inline]
    fn participant(&self, i: f64, f: f64) -> (f64, f64) {
        let scaled = self.scale * f;
        (i + self.into_participants * scaled - self.participant_shift, scaled - self.into_statements)
    }

    /// `(Σ i_u², Σ f_u²)` after the moves, from the sums before them over `u` participants.
    fn participant_squares(&self, p: &Moments, u: f64) -> (f64, f64) {
        let (s, t, t2, c1) = (self.scale, self.into_participants, self.into_statements, self.participant_shift);
        let a = t * s;
        let ff = s * s * p.ff - 2.0 * s * t2 * p.f + t2 * t2 * u;
        let ii = p.ii + a * a * p.ff + c1 * c1 * u + 2.0 * a * p.fi - 2.0 * c1 * p.i - 2.0 * a * c1 * p.f;
        (ii, ff)
    }
}

/// Fits the factorization to the votes of `matrix`, leaving out statements with `excluded[j]`,
/// from `warm` (a previous fit) when given, else from the seeded cold start. O(votes) per sweep and
/// O(participants + statements × chunks) memory besides the fit itself.
pub fn fit_mf(
    matrix: &VoteMatrix,
    excluded: &[bool],
    params: &MfParams,
    seed: u64,
    warm: Option<&MfWarmStart>,
) -> MfFit {
    fit_mf_extrapolating(matrix, excluded, params, seed, warm, true)
}

/// [`fit_mf`], with the jumps along the slow direction ([`Extrapolation`]) or without: plain
/// alternating least squares, which the tests compare against.
fn fit_mf_extrapolating(
    matrix: &VoteMatrix,
    excluded: &[bool],
    params: &MfParams,
    seed: u64,
    warm: Option<&MfWarmStart>,
    extrapolate: bool,
) -> MfFit {
    let ratings = Ratings::new(matrix, excluded, params.pass_rating);
    let (n, m) = (matrix.n_participants(), matrix.n_statements());
    let chunk_rows = n.div_ceil(MAX_CHUNKS).max(MIN_CHUNK_ROWS);
    let longest_row = ratings.longest_row();

    // Ratings per participant and per statement, and their sum.
    let counted: Vec<(Vec<u32>, Vec<u32>, f64)> = (0..n.div_ceil(chunk_rows))
        .into_par_iter()
        .map(|k| {
            let rows = k * chunk_rows..((k + 1) * chunk_rows).min(n);
            let mut per_statement = vec![0u32; m];
            let mut sum = 0.0;
            let mut row = vec![(0, 0.0); longest_row];
            let per_row = rows
                .map(|r| {
                    let count = ratings.gather(r, &mut row);
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
    if n_ratings == 0 {
        return MfFit {
            global_intercept: 0.0,
            participant_intercepts: vec![0.0; n],
            participant_factors: vec![0.0; n],
            statement_intercepts: vec![0.0; m],
            statement_factors: vec![0.0; m],
            statement_ratings,
            n_ratings: 0,
            sweeps: 0,
            converged: true,
            loss: 0.0,
            rmse: 0.0,
        };
    }
    let rated_participants = row_counts.iter().filter(|&&c| c > 0).count() as f64;
    let rated_statements = statement_ratings.iter().filter(|&&c| c > 0).count() as f64;
    let big_n = n_ratings as f64;
    let (lf, li) = (params.factor_lambda, params.intercept_lambda);
    // The loss times N: each participant's penalty is N λ / U, each statement's N λ / M.
    let (pi_u, pf_u) = (big_n * li / rated_participants, big_n * lf / rated_participants);
    let (pi_n, pf_n) = (big_n * li / rated_statements, big_n * lf / rated_statements);

    // Statements as (intercept, factor), from the warm start or the cold one.
    let (mut mu, mut statements) = match warm {
        Some(w) => (w.global_intercept, w.parameters_of(matrix.statements())),
        None => {
            let factor = |j: usize| Rng::fork(seed ^ INIT_STREAM, j as u64).uniform() - 0.5;
            (rating_sum / big_n / (1.0 + li), (0..m).map(|j| [0.0, factor(j)]).collect())
        }
    };
    for (s, &count) in statements.iter_mut().zip(&statement_ratings) {
        if count == 0 {
            *s = [0.0, 0.0];
        }
    }
    let mut iu = vec![0.0; n];
    let mut fu = vec![0.0; n];
    let mut partial_sums: Vec<Vec<StatementSums>> = vec![vec![[0.0; 5]; m]; n.div_ceil(chunk_rows)];
    let mut sums: Vec<StatementSums> = vec![[0.0; 5]; m];

    let mut loss = f64::INFINITY;
    let mut sweeps = 0;
    let mut converged = false;
    let mut sse = 0.0;
    let mut gauge = Gauge::NONE;
    let mut extrapolation = Extrapolation::new(mu, &statements, extrapolate);
    while sweeps < params.max_sweeps {
        sweeps += 1;
        // One pass over the votes: each participant solved given the statements and μ, then its
        // ratings added to the statements' sums with its new parameters.
        let fixed = (&statements, mu);
        let participant_moments = iu
            .par_chunks_mut(chunk_rows)
            .zip(fu.par_chunks_mut(chunk_rows))
            .zip(partial_sums.par_iter_mut())
            .enumerate()
            .map(|(k, ((iu, fu), partial))| {
                let (statements, mu) = fixed;
                partial.fill([0.0; 5]);
                let mut moments = Moments::default();
                let mut row = vec![(0, 0.0); longest_row];
                for (local, r) in (k * chunk_rows..).take(iu.len()).enumerate() {
                    let count = row_counts[r];
                    if count == 0 {
                        continue;
                    }
                    let kept = ratings.gather(r, &mut row);
                    let row = &row[..kept];
                    let (mut sx, mut sxx, mut sy, mut sxy) = (0.0, 0.0, 0.0, 0.0);
                    for &(c, rating) in row {
                        let [i_n, x] = statements[c as usize];
                        let y = rating - mu - i_n;
                        sx += x;
                        sxx += x * x;
                        sy += y;
                        sxy += x * y;
                    }
                    let (i, f) = solve_ridge(count as f64, sx, sxx, sy, sxy, pi_u, pf_u);
                    (iu[local], fu[local]) = (i, f);
                    moments.add(i, f);
                    let base = mu + i;
                    for &(c, rating) in row {
                        let y = rating - base;
                        let s = &mut partial[c as usize];
                        s[0] += f;
                        s[1] += f * f;
                        s[2] += y;
                        s[3] += f * y;
                        s[4] += y * y;
                    }
                }
                moments
            })
            .collect::<Vec<Moments>>()
            .into_iter()
            .fold(Moments::default(), Moments::plus);
        sums.par_iter_mut().enumerate().with_min_len(256).for_each(|(c, total)| {
            *total = [0.0; 5];
            for partial in &partial_sums {
                for (t, p) in total.iter_mut().zip(&partial[c]) {
                    *t += p;
                }
            }
        });

        // Statements, given the participants and μ; then the residuals' sums follow from the
        // statements' sums, with no second pass over the votes.
        let (mut sum_e, mut sum_e2) = (0.0, 0.0);
        for ((s, &[sx, sxx, sy, sxy, syy]), &count) in statements.iter_mut().zip(&sums).zip(&statement_ratings) {
            if count == 0 {
                continue;
            }
            let c = count as f64;
            let (i, f) = solve_ridge(c, sx, sxx, sy, sxy, pi_n, pf_n);
            *s = [i, f];
            sum_e += sy - c * i - f * sx;
            sum_e2 += syy - 2.0 * i * sy - 2.0 * f * sxy + c * i * i + 2.0 * i * f * sx + f * f * sxx;
        }

        // μ, in closed form from the residuals' sum; the new squared error follows from the old.
        let delta = (sum_e - big_n * li * mu) / (big_n * (1.0 + li));
        mu += delta;
        sse = (sum_e2 - 2.0 * delta * sum_e + big_n * delta * delta).max(0.0);
        gauge = if params.gauge_steps {
            gauge_steps(&participant_moments, rated_participants, &mut statements, &statement_ratings, &mut mu, lf, li)
        } else {
            Gauge::NONE
        };
        let (p_ii, p_ff) = gauge.participant_squares(&participant_moments, rated_participants);
        let (s_ii, s_ff) = statements.iter().fold((0.0, 0.0), |(a, b), [i, f]| (a + i * i, b + f * f));
        let penalty = lf * (p_ff / rated_participants + s_ff / rated_statements)
            + li * (p_ii / rated_participants + s_ii / rated_statements)
            + li * mu * mu;
        let new_loss = sse / big_n + penalty;
        match extrapolation.after_sweep(loss, new_loss, &mut mu, &mut statements) {
            Sweep::Rejected => continue,
            Sweep::Accepted => loss = new_loss,
            Sweep::Plain => {
                let settled = loss - new_loss <= params.tolerance * new_loss;
                loss = new_loss;
                if settled {
                    converged = true;
                    break;
                }
                if sweeps + 2 <= params.max_sweeps {
                    extrapolation.extrapolate(&mut mu, &mut statements, &statement_ratings);
                }
            }
        }
    }
    for r in 0..n {
        if row_counts[r] > 0 {
            (iu[r], fu[r]) = gauge.participant(iu[r], fu[r]);
        }
    }
    let (mut statement_intercepts, mut statement_factors): (Vec<f64>, Vec<f64>) =
        statements.into_iter().map(|[i, f]| (i, f)).unzip();

    // Identification: the larger share of participants gets a negative factor.
    let rated = |r: &usize| row_counts[*r] > 0;
    let negative = (0..n).filter(rated).filter(|&r| fu[r] < 0.0).count();
    let nonzero = (0..n).filter(rated).filter(|&r| fu[r] != 0.0).count();
    let flip = if 2 * negative == nonzero { fu.iter().sum::<f64>() > 0.0 } else { 2 * negative < nonzero };
    if flip {
        fu.iter_mut().for_each(|f| *f = -*f);
        statement_factors.iter_mut().for_each(|f| *f = -*f);
    }
    // (A warm start may leave a statement without ratings holding its old values: clear them.)
    for ((i, f), &count) in statement_intercepts.iter_mut().zip(&mut statement_factors).zip(&statement_ratings) {
        if count == 0 {
            (*i, *f) = (0.0, 0.0);
        }
    }

    MfFit {
        global_intercept: mu,
        participant_intercepts: iu,
        participant_factors: fu,
        statement_intercepts,
        statement_factors,
        statement_ratings,
        n_ratings,
        sweeps,
        converged,
        loss,
        rmse: (sse / big_n).sqrt(),
    }
}

/// What a sweep was, for [`Extrapolation::after_sweep`].
enum Sweep {
    /// From the previous sweep's statements: its loss drop says whether the fit has settled.
    Plain,
    /// From extrapolated statements, and it lowered the loss: kept, but its drop proves nothing
    /// about settling.
    Accepted,
    /// From extrapolated statements, and it raised the loss: the statements and μ are back where
    /// the last plain sweep left them, and the next sweep starts from there.
    Rejected,
}

/// Once the loss drops settle into a geometric sequence (ratio ρ), alternating least squares is
/// crawling along one slow direction whose remaining length is a multiple of the last step:
/// the statements and μ then jump `√ρ / (1 − √ρ)` steps ahead (the parameters' error shrinks by
/// √ρ a sweep while the loss's shrinks by ρ). The next sweep solves everything from there; if
/// its loss is higher than before the jump, the jump is undone and no other is tried, so the
/// loss never increases.
struct Extrapolation {
    enabled: bool,
    /// μ and statements after the last plain sweep, before any jump.
    last: (f64, Vec<[f64; 2]>),
    /// The previous sweeps' loss drops, newest last.
    drops: [f64; 2],
    /// The ratio of the last two drops, when it was computed after the previous sweep.
    previous_ratio: Option<f64>,
    /// μ and statements before the pending jump, to undo it.
    pending: Option<(f64, Vec<[f64; 2]>)>,
}

impl Extrapolation {
    /// The longest jump, in steps.
    const MAX_STEPS: f64 = 20.0;

    fn new(mu: f64, statements: &[[f64; 2]], enabled: bool) -> Extrapolation {
        Extrapolation {
            enabled,
            last: (mu, statements.to_vec()),
            drops: [f64::NAN; 2],
            previous_ratio: None,
            pending: None,
        }
    }

    /// Sorts out the sweep that just lowered the loss from `loss` to `new_loss` (or raised it).
    fn after_sweep(&mut self, loss: f64, new_loss: f64, mu: &mut f64, statements: &mut Vec<[f64; 2]>) -> Sweep {
        match self.pending.take() {
            Some((before_mu, before)) if new_loss > loss => {
                (*mu, *statements) = (before_mu, before);
                self.enabled = false;
                Sweep::Rejected
            }
            Some(_) => {
                self.drops = [f64::NAN; 2];
                self.previous_ratio = None;
                self.last = (*mu, statements.clone());
                Sweep::Accepted
            }
            None => {
                self.drops = [self.drops[1], loss - new_loss];
                Sweep::Plain
            }
        }
    }

    /// After a plain sweep: jumps ahead if the last drops are geometric.
    fn extrapolate(&mut self, mu: &mut f64, statements: &mut [[f64; 2]], statement_ratings: &[u32]) {
        let [older, newer] = self.drops;
        let now = (*mu, statements.to_vec());
        let last = std::mem::replace(&mut self.last, now);
        if !(self.enabled && older > 0.0 && newer > 0.0 && newer < older) {
            return;
        }
        // Settled into a geometric sequence: the last two ratios agree within 10%.
        let ratio = newer / older;
        let previous_ratio = self.previous_ratio.replace(ratio);
        if !previous_ratio.is_some_and(|p| (p - ratio).abs() < 0.1 * ratio) {
            return;
        }
        let root = ratio.sqrt();
        let steps = (root / (1.0 - root)).min(Self::MAX_STEPS);
        self.pending = Some(self.last.clone());
        *mu += steps * (*mu - last.0);
        for ((s, old), &count) in statements.iter_mut().zip(&last.1).zip(statement_ratings) {
            if count > 0 {
                s[0] += steps * (s[0] - old[0]);
                s[1] += steps * (s[1] - old[1]);
            }
        }
    }
}

/// Moves along the directions in which every prediction stays the same, to the least penalty on
/// each: exact line minimisations that never raise the loss. Alternating least squares crawls
/// along these directions, because only the small penalties curve the loss there. Three kinds:
/// - scale: `f_u · s`, `f_n / s` (the product is unchanged);
/// - intercept for factor: `f_n − t`, `i_u + t f_u` (and the same with participants and statements
///   swapped), since `i_u + f_u f_n` is unchanged;
/// - global for intercepts: `μ + c1 + c2`, `i_u − c1`, `i_n − c2`.
///
/// Every move is found from the participants' [`Moments`] (over `u` rated participants) and the
/// statements' sums, and applied to the statements and μ here, O(statements); the participants
/// receive the returned moves after the last sweep only.
fn gauge_steps(
    participants: &Moments,
    u: f64,
    statements: &mut [[f64; 2]],
    statement_ratings: &[u32],
    mu: &mut f64,
    lf: f64,
    li: f64,
) -> Gauge {
    let mut s = Moments::default();
    let mut rated = 0.0;
    for (&[i, f], &count) in statements.iter().zip(statement_ratings) {
        if count > 0 {
            s.add(i, f);
            rated += 1.0;
        }
    }
    // Means over rated participants (p) and statements (n).
    let (pf, pff, pi, pfi) = (participants.f / u, participants.ff / u, participants.i / u, participants.fi / u);
    let (nf, nff, ni, nfi) = (s.f / rated, s.ff / rated, s.i / rated, s.fi / rated);
    // Scale: minimise λ_f (s² mean f_u² + mean f_n² / s²).
    let scale = if pff > 0.0 && nff > 0.0 { (nff / pff).sqrt().sqrt() } else { 1.0 };
    let (pf, pff, pfi) = (scale * pf, scale * scale * pff, scale * pfi);
    let (nf, nff, nfi) = (nf / scale, nff / (scale * scale), nfi / scale);
    // Statement factors into participant intercepts: minimise
    // λ_f mean_n (f_n − t)² + λ_i mean_u (i_u + t f_u)².
    let t = (lf * nf - li * pfi) / (lf + li * pff);
    let (nf, nff, nfi, pi) = (nf - t, nff - 2.0 * t * nf + t * t, nfi - t * ni, pi + t * pf);
    // Participant factors into statement intercepts, the same with the sides swapped.
    let t2 = (lf * pf - li * nfi) / (lf + li * nff);
    let ni = ni + t2 * nf;
    // Global intercept against the mean intercepts: minimise (μ+c1+c2)² + mean(i_u−c1)² + mean(i_n−c2)².
    let (du, dn) = (pi - *mu, ni - *mu);
    let (c1, c2) = ((2.0 * du - dn) / 3.0, (2.0 * dn - du) / 3.0);
    *mu += c1 + c2;
    for (st, &count) in statements.iter_mut().zip(statement_ratings) {
        if count > 0 {
            let f = st[1] / scale - t;
            *st = [st[0] + t2 * f - c2, f];
        }
    }
    Gauge { scale, into_participants: t, into_statements: t2, participant_shift: c1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    /// The loss of the module docs, computed directly from a list of (participant, statement,
    /// rating) triples: the reference the fit is checked against.
    struct Reference {
        ratings: Vec<(usize, usize, f64)>,
        n: usize,
        m: usize,
        lf: f64,
        li: f64,
    }

    impl Reference {
        fn of(matrix: &VoteMatrix, params: &MfParams) -> Reference {
            let mut ratings = Vec::new();
            for r in 0..matrix.n_participants() {
                let (cols, vals) = matrix.row(r);
                for (&c, &v) in cols.iter().zip(vals) {
                    match v {
                        1 => ratings.push((r, c as usize, 1.0)),
                        -1 => ratings.push((r, c as usize, 0.0)),
                        _ => {
                            if let Some(p) = params.pass_rating {
                                ratings.push((r, c as usize, p))
                            }
                        }
                    }
                }
            }
            Reference {
                ratings,
                n: matrix.n_participants(),
                m: matrix.n_statements(),
                lf: params.factor_lambda,
                li: params.intercept_lambda,
            }
        }

        /// Parameters packed as [μ, i_u.., f_u.., i_n.., f_n..].
        fn loss_and_gradient(&self, p: &[f64]) -> (f64, Vec<f64>) {
            let (n, m) = (self.n, self.m);
            let (iu, fu, in_, fn_) = (1, 1 + n, 1 + 2 * n, 1 + 2 * n + m);
            let big_n = self.ratings.len() as f64;
            let mut g = vec![0.0; p.len()];
            let mut loss = 0.0;
            for &(u, s, r) in &self.ratings {
                let e = r - (p[0] + p[iu + u] + p[in_ + s] + p[fu + u] * p[fn_ + s]);
                loss += e * e / big_n;
                let d = -2.0 * e / big_n;
                g[0] += d;
                g[iu + u] += d;
                g[in_ + s] += d;
                g[fu + u] += d * p[fn_ + s];
                g[fn_ + s] += d * p[fu + u];
            }
            // Means over the participants and statements that have a rating, as in the fit.
            let distinct = |key: fn(&(usize, usize, f64)) -> usize| {
                self.ratings.iter().map(key).collect::<std::collections::BTreeSet<_>>().len() as f64
            };
            let (nu, nm) = (distinct(|t| t.0), distinct(|t| t.1));
            loss += self.li * p[0] * p[0];
            g[0] += 2.0 * self.li * p[0];
            for u in 0..n {
                loss += self.li * p[iu + u].powi(2) / nu + self.lf * p[fu + u].powi(2) / nu;
                g[iu + u] += 2.0 * self.li * p[iu + u] / nu;
                g[fu + u] += 2.0 * self.lf * p[fu + u] / nu;
            }
            for s in 0..m {
                loss += self.li * p[in_ + s].powi(2) / nm + self.lf * p[fn_ + s].powi(2) / nm;
                g[in_ + s] += 2.0 * self.li * p[in_ + s] / nm;
                g[fn_ + s] += 2.0 * self.lf * p[fn_ + s] / nm;
            }
            (loss, g)
        }

        /// Gradient descent with backtracking from a seeded start, to convergence, each coordinate's
        /// step scaled by the diagonal of the loss's curvature (its ratings count over N).
        fn gradient_descent(&self, seed: u64) -> (f64, Vec<f64>) {
            let (n, m) = (self.n, self.m);
            let big_n = self.ratings.len() as f64;
            let mut count = vec![0.0; 1 + 2 * n + 2 * m];
            count[0] = big_n;
            for &(u, s, _) in &self.ratings {
                for k in [1 + u, 1 + n + u, 1 + 2 * n + s, 1 + 2 * n + m + s] {
                    count[k] += 1.0;
                }
            }
            let scale: Vec<f64> = count.iter().map(|c| 1.0 / (2.0 * c / big_n + 1e-3)).collect();
            let mut rng = Rng::new(seed);
            let mut p: Vec<f64> = (0..count.len()).map(|_| rng.uniform() - 0.5).collect();
            let (mut loss, mut g) = self.loss_and_gradient(&p);
            let mut step = 1.0;
            for _ in 0..20_000 {
                let g2: f64 = g.iter().zip(&scale).map(|(x, s)| x * x * s).sum();
                if g2 < 1e-24 {
                    break;
                }
                loop {
                    let trial: Vec<f64> = p.iter().zip(&g).zip(&scale).map(|((x, d), s)| x - step * s * d).collect();
                    let (l, tg) = self.loss_and_gradient(&trial);
                    if l <= loss - 0.5 * step * g2 {
                        (p, loss, g) = (trial, l, tg);
                        step *= 1.5;
                        break;
                    }
                    step *= 0.5;
                    if step < 1e-20 {
                        return (loss, p);
                    }
                }
            }
            (loss, p)
        }

        fn pack(&self, fit: &MfFit) -> Vec<f64> {
            let mut p = vec![fit.global_intercept];
            p.extend(&fit.participant_intercepts);
            p.extend(&fit.participant_factors);
            p.extend(&fit.statement_intercepts);
            p.extend(&fit.statement_factors);
            p
        }
    }

    /// Two camps of participants who disagree on statements 1..=4 and both agree with statement 0,
    /// with some missing votes and a few dissenters, so the fit is not degenerate.
    fn small_conversation() -> VoteMatrix {
        let mut events = Vec::new();
        let mut rng = Rng::new(3);
        for p in 0..14i64 {
            for s in 0..6i64 {
                if rng.uniform() < 0.2 {
                    continue;
                }
                let camp = p % 2 == 0;
                let agree_p = match s {
                    0 => 0.9,
                    5 => 0.5,
                    _ if (s % 2 == 0) == camp => 0.85,
                    _ => 0.15,
                };
                let u = rng.uniform();
                let vote = if u < 0.1 {
                    Vote::Pass
                } else if rng.uniform() < agree_p {
                    Vote::Agree
                } else {
                    Vote::Disagree
                };
                events.push(VoteEvent::new(p, s, vote));
            }
        }
        VoteMatrix::from_events(&events)
    }

    #[test]
    fn als_reaches_the_optimum_that_gradient_descent_finds() {
        let matrix = small_conversation();
        for pass_rating in [None, Some(0.5)] {
            let params = MfParams { tolerance: 1e-15, max_sweeps: 100_000, pass_rating, ..MfParams::default() };
            let fit = fit_mf(&matrix, &vec![false; matrix.n_statements()], &params, 1, None);
            assert!(fit.converged);
            let reference = Reference::of(&matrix, &params);
            assert_eq!(reference.ratings.len(), fit.n_ratings);
            let p = reference.pack(&fit);
            let (loss, gradient) = reference.loss_and_gradient(&p);
            assert!((loss - fit.loss).abs() < 1e-12, "reported loss {} vs {loss}", fit.loss);
            let gmax = gradient.iter().fold(0.0f64, |a, g| a.max(g.abs()));
            assert!(gmax < 1e-6, "ALS solution is not stationary: |grad| = {gmax}");
            // Gradient descent from several random starts never finds a lower loss, and its best
            // solution is ALS's (up to the factor sign).
            let (best_loss, best) =
                (0..4).map(|s| reference.gradient_descent(100 + s)).min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
            assert!(best_loss >= fit.loss - 1e-10, "GD found a lower loss: {best_loss} < {}", fit.loss);
            assert!((best_loss - fit.loss).abs() < 1e-8, "GD {best_loss} vs ALS {}", fit.loss);
            let sign = if best[1 + matrix.n_participants()..]
                .iter()
                .zip(&fit.participant_factors)
                .map(|(a, b)| a * b)
                .sum::<f64>()
                < 0.0
            {
                -1.0
            } else {
                1.0
            };
            let (n, m) = (matrix.n_participants(), matrix.n_statements());
            for s in 0..m {
                assert!((best[1 + 2 * n + s] - fit.statement_intercepts[s]).abs() < 1e-4, "intercept {s}");
                assert!((sign * best[1 + 2 * n + m + s] - fit.statement_factors[s]).abs() < 1e-4, "factor {s}");
            }
        }
    }

    #[test]
    fn the_statement_both_camps_agree_with_has_the_highest_intercept_and_divisive_ones_large_factors() {
        let matrix = small_conversation();
        let fit = fit_mf(&matrix, &vec![false; matrix.n_statements()], &MfParams::default(), 0, None);
        let best = (0..6).max_by(|&a, &b| fit.statement_intercepts[a].total_cmp(&fit.statement_intercepts[b]));
        assert_eq!(matrix.statements()[best.unwrap()], 0.into());
        let polar = |s: i64| fit.statement_factors[matrix.statement_index(&s.into()).unwrap()].abs();
        for s in 1..=4 {
            assert!(polar(s) > 2.0 * polar(0), "statement {s} is divisive");
        }
        // Identification: most participants have a negative factor.
        let negative = fit.participant_factors.iter().filter(|&&f| f < 0.0).count();
        assert!(2 * negative >= fit.participant_factors.len());
    }

    #[test]
    fn fit_is_identical_with_one_thread_and_four() {
        let matrix = small_conversation();
        let excluded = vec![false; matrix.n_statements()];
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit_mf(&matrix, &excluded, &MfParams::default(), 9, None))
        };
        assert_eq!(run(1), run(4));
    }

    /// Two camps of `n` participants on 12 statements, statement 0 agreed by both, with 30% of
    /// the votes missing; participants from `first` on.
    fn camps(first: i64, n: i64, seed: u64) -> Vec<VoteEvent> {
        let mut rng = Rng::new(seed);
        let mut events = Vec::new();
        for p in first..first + n {
            for s in 0..12i64 {
                if rng.uniform() < 0.3 {
                    continue;
                }
                let agree = match s {
                    0 => 0.85,
                    _ if (s % 2 == 0) == (p % 2 == 0) => 0.8,
                    _ => 0.2,
                };
                events.push(VoteEvent::new(p, s, if rng.uniform() < agree { Vote::Agree } else { Vote::Disagree }));
            }
        }
        events
    }

    #[test]
    fn jumps_along_the_slow_direction_reach_the_plain_optimum_in_fewer_sweeps() {
        let matrix = VoteMatrix::from_events(&camps(0, 2000, 5));
        let excluded = vec![false; matrix.n_statements()];
        for params in [MfParams::default(), MfParams { tolerance: 1e-13, ..MfParams::default() }] {
            let plain = fit_mf_extrapolating(&matrix, &excluded, &params, 0, None, false);
            let fit = fit_mf(&matrix, &excluded, &params, 0, None);
            assert!(plain.converged && fit.converged);
            assert!(fit.sweeps < plain.sweeps, "{} sweeps with jumps, {} without", fit.sweeps, plain.sweeps);
            assert!(fit.loss <= plain.loss * (1.0 + params.tolerance), "{} vs {}", fit.loss, plain.loss);
            assert!((fit.loss - plain.loss).abs() < 1e-7 * plain.loss, "{} vs {}", fit.loss, plain.loss);
            for j in 0..matrix.n_statements() {
                assert!((fit.statement_intercepts[j] - plain.statement_intercepts[j]).abs() < 1e-4, "intercept {j}");
                assert!((fit.statement_factors[j] - plain.statement_factors[j]).abs() < 1e-3, "factor {j}");
            }
        }
    }

    #[test]
    fn a_warm_start_from_the_previous_fit_reaches_the_cold_optimum_in_fewer_sweeps() {
        let before = VoteMatrix::from_events(&camps(0, 300, 1));
        // A later update: new participants, and a new statement 12 that both camps agree with.
        let mut batch = camps(300, 20, 2);
        batch.extend((0..40).map(|p| VoteEvent::new(p * 7, 12, Vote::Agree)));
        let after = before.with_votes(&batch);
        let excluded = vec![false; after.n_statements()];
        let params = MfParams::default();
        let previous = fit_mf(&before, &vec![false; before.n_statements()], &params, 0, None);
        let warm_start = MfWarmStart::of(&previous, &before);
        let cold = fit_mf(&after, &excluded, &params, 0, None);
        let warm = fit_mf(&after, &excluded, &params, 0, Some(&warm_start));
        assert!(cold.converged && warm.converged);
        assert!(warm.sweeps < cold.sweeps, "warm {} sweeps, cold {}", warm.sweeps, cold.sweeps);
        assert!((warm.loss - cold.loss).abs() < 1e-7 * cold.loss, "{} vs {}", warm.loss, cold.loss);
        for j in 0..after.n_statements() {
            assert!((warm.statement_intercepts[j] - cold.statement_intercepts[j]).abs() < 1e-4, "intercept {j}");
            assert!((warm.statement_factors[j] - cold.statement_factors[j]).abs() < 1e-3, "factor {j}");
        }
        // Matched by id, not position: the same warm start with its statements listed in reverse.
        let mut reversed = warm_start.clone();
        reversed.statements.reverse();
        reversed.statement_intercepts.reverse();
        reversed.statement_factors.reverse();
        assert_eq!(fit_mf(&after, &excluded, &params, 0, Some(&reversed)), warm);
    }

    #[test]
    fn excluded_statements_and_passes_do_not_enter_the_fit() {
        let matrix = small_conversation();
        let mut excluded = vec![false; matrix.n_statements()];
        excluded[0] = true;
        let fit = fit_mf(&matrix, &excluded, &MfParams::default(), 0, None);
        assert_eq!(fit.statement_ratings[0], 0);
        assert_eq!((fit.statement_intercepts[0], fit.statement_factors[0]), (0.0, 0.0));
        let cast: usize = (0..matrix.n_participants())
            .map(|r| {
                let (cols, vals) = matrix.row(r);
                cols.iter().zip(vals).filter(|(&c, &v)| c != 0 && v != 0).count()
            })
            .sum();
        assert_eq!(fit.n_ratings, cast);
    }
}
