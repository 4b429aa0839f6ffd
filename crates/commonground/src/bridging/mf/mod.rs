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
//! within the tolerance (tested against a cold fit).
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
//! ends at a loss no higher than plain alternating least squares reaches (tested); a sweep
//! at 100k costs about 25 ms on two shared cores. A warm fit after a batch of 1,000 votes takes
//! 3 sweeps. The fast profile ([`MfParams::presolve`]) starts a cold fit of 100,000 participants
//! or more from a fit to the first eighth of them (itself started from its own first eighth when
//! that eighth is 100,000 or more) and then runs at most 2 whole sweeps (1M: 2 instead of 12
//! cold, 4 after a single prefix; the intercepts within 8.4e-4 of the exact fit's). Memory: the fit itself
//! plus 40 bytes per statement per chunk of rows and the kept ratings, 2 bytes each (4 beyond
//! 16,384 statements), sorted out of the matrix once per fit.
//!
//! **Determinism.** Statement factors start from `Rng::fork(seed, statement)` (cold) or the
//! previous fit (warm); the rows are split into chunks that depend only on the number of
//! participants, and the chunks' sums are added in order, so the fit is bit-identical whatever the
//! number of threads.
//!
//! The fit is laid out by its parts: [`ratings`] reads the ratings from the vote matrix, [`als`]
//! runs the sweeps, [`gauge`] takes the moves that change no prediction and fixes the sign, and
//! [`extrapolation`] makes the jumps; the tests, against a gradient-descent reference of the loss
//! above, are in `tests.rs`.

mod als;
mod extrapolation;
mod gauge;
mod ratings;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::params::MfParams;
use crate::rng::Rng;
use crate::votes::{Id, VoteMatrix};
use als::{Als, Objective};
use extrapolation::{Extrapolation, Sweep};
use gauge::{gauge_steps, Gauge};
use ratings::{Counts, Ratings};

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
    let n = matrix.n_participants();
    if warm.is_none() {
        if let Some(start) = presolve(matrix, n, PRESOLVE_MIN_PARTICIPANTS, excluded, params, seed, extrapolate) {
            let budget = MfParams { max_sweeps: params.max_sweeps.min(PRESOLVED_SWEEPS), ..params.clone() };
            return fit_rows(matrix, n, excluded, &budget, seed, Some(&start), extrapolate);
        }
    }
    fit_rows(matrix, n, excluded, params, seed, warm, extrapolate)
}

/// [`MfParams::presolve`] applies from this many participants. Below it the prefix saves nothing
/// (100k x 2k x 5M: 10 whole sweeps cold, 8 after the prefix, the same CPU time).
const PRESOLVE_MIN_PARTICIPANTS: usize = 100_000;
/// [`MfParams::presolve`] fits the first `1 / PRESOLVE_SHARE` of the participants first.
const PRESOLVE_SHARE: usize = 8;
/// A presolved fit runs at most this many sweeps over the whole conversation.
///
/// Why a budget and not the loss gap alone: after the prefix, the whole fit's loss drops crawl
/// (1M x 10k x 50M: 2.9e-4, 1.8e-5, 6e-6, 3.5e-6, 2.2e-6 of the loss) and which sweep first drops
/// by less than the gap decides more than the gap does: the fast profile's 1e-6 stopped after 4
/// whole sweeps with the intercepts 2.9e-4 from the exact fit's, or after 8 at 1.6e-5 when the
/// prefix had stopped earlier. Two sweeps put them 8.4e-4 from it (0.13% of their range there)
/// for half the whole sweeps; the fit then says it did not converge.
pub(super) const PRESOLVED_SWEEPS: usize = 2;

/// Where a cold fit of the first `n` participants starts with [`MfParams::presolve`]: the fit to
/// the first eighth of them, itself started the same way while that eighth has `from` rows or more
/// (at 1M: 15,625 rows cold, then 125,000 from there); none below `from` rows or without the
/// presolve.
///
/// A statement's parameters rest on its thousands of ratings, so an eighth of them (more than
/// 600 a statement at 1M x 10k x 50M) already puts them near the optimum, at an eighth of a
/// sweep's cost per sweep; the nested eighth does the same for the prefix (1M: 10 sweeps over
/// 15,625 rows and 7 over 125,000 instead of 11 over 125,000 cold). The prefixes run to the
/// fit's own stopping rule. Which rows form a prefix depends only on their number, so the fit
/// stays deterministic. Rows are in the order participants first voted, so a prefix may lean
/// towards the early participants; the whole sweeps correct that.
fn presolve(
    matrix: &VoteMatrix,
    n: usize,
    from: usize,
    excluded: &[bool],
    params: &MfParams,
    seed: u64,
    extrapolate: bool,
) -> Option<MfWarmStart> {
    if !params.presolve || n < from {
        return None;
    }
    let rows = n / PRESOLVE_SHARE;
    let start = presolve(matrix, rows, from, excluded, params, seed, extrapolate);
    let prefix = fit_rows(matrix, rows, excluded, params, seed, start.as_ref(), extrapolate);
    Some(MfWarmStart::of(&prefix, matrix))
}

/// The fit to the first `n` participants (rows) of `matrix` alone.
fn fit_rows(
    matrix: &VoteMatrix,
    n: usize,
    excluded: &[bool],
    params: &MfParams,
    seed: u64,
    warm: Option<&MfWarmStart>,
    extrapolate: bool,
) -> MfFit {
    let ratings = Ratings::new(matrix, excluded, params.pass_rating);
    let m = matrix.n_statements();
    let chunk_rows = ratings::chunk_rows(n);
    let Counts { row_counts, statement_ratings, rating_sum, n_ratings } = ratings.count(n, m, chunk_rows);
    if n_ratings == 0 {
        return MfFit::unrated(n, m, statement_ratings);
    }
    let objective = Objective {
        big_n: n_ratings as f64,
        rated_participants: row_counts.iter().filter(|&&c| c > 0).count() as f64,
        rated_statements: statement_ratings.iter().filter(|&&c| c > 0).count() as f64,
        lf: params.factor_lambda,
        li: params.intercept_lambda,
    };
    let (mut mu, mut statements) = match warm {
        Some(w) => (w.global_intercept, w.parameters_of(matrix.statements())),
        None => (rating_sum / objective.big_n / (1.0 + objective.li), cold_statements(m, seed)),
    };
    for (s, &count) in statements.iter_mut().zip(&statement_ratings) {
        if count == 0 {
            *s = [0.0, 0.0];
        }
    }

    let mut als = Als::new(&ratings, &row_counts, &statement_ratings, chunk_rows, &objective);
    let mut loss = f64::INFINITY;
    let mut sweeps = 0;
    let mut converged = false;
    let mut sse = 0.0;
    let mut gauge = Gauge::NONE;
    let mut extrapolation = Extrapolation::new(mu, &statements, extrapolate);
    while sweeps < params.max_sweeps {
        sweeps += 1;
        let participant_moments = als.solve_participants(&statements, mu);
        let residuals = als.solve_statements(&mut statements);
        sse = als::solve_global(&mut mu, residuals, &objective);
        gauge = if params.gauge_steps {
            let (u, lf, li) = (objective.rated_participants, objective.lf, objective.li);
            gauge_steps(&participant_moments, u, &mut statements, &statement_ratings, &mut mu, lf, li)
        } else {
            Gauge::NONE
        };
        let participant_squares = gauge.participant_squares(&participant_moments, objective.rated_participants);
        let new_loss = objective.loss(sse, participant_squares, &statements, mu);
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
    let (mut iu, mut fu) = als.into_participants();
    gauge.apply_to_participants(&mut iu, &mut fu, &row_counts);
    let (mut statement_intercepts, mut statement_factors): (Vec<f64>, Vec<f64>) =
        statements.into_iter().map(|[i, f]| (i, f)).unzip();

    gauge::identify(&mut fu, &mut statement_factors, &row_counts);
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
        rmse: (sse / objective.big_n).sqrt(),
    }
}

/// The cold start of the statements: intercepts 0, factors uniform in [−0.5, 0.5) from
/// `Rng::fork(seed, statement)`.
fn cold_statements(m: usize, seed: u64) -> Vec<[f64; 2]> {
    let factor = |j: usize| Rng::fork(seed ^ INIT_STREAM, j as u64).uniform() - 0.5;
    (0..m).map(|j| [0.0, factor(j)]).collect()
}

impl MfFit {
    /// The fit of a matrix without a single rating: every parameter zero.
    fn unrated(n: usize, m: usize, statement_ratings: Vec<u32>) -> MfFit {
        MfFit {
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
        }
    }
}
