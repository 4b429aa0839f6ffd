//! The factorization's specification: the fit reaches the optimum of the loss in the module docs
//! (checked against gradient descent on that loss, written out independently), finds the
//! statement both camps agree with, is the same with any number of threads, and its jumps and
//! warm starts reach the plain cold optimum in fewer sweeps.

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
fn a_presolved_fit_starts_from_nested_eighths_and_stops_on_its_whole_sweep_budget() {
    let matrix = VoteMatrix::from_events(&camps(0, 8000, 9));
    let (n, excluded) = (matrix.n_participants(), vec![false; matrix.n_statements()]);
    // The fast profile's loss gap, and the optimum to a far tighter one.
    let params = MfParams { tolerance: 1e-6, presolve: true, ..MfParams::default() };
    let optimum = fit_mf(&matrix, &excluded, &MfParams { tolerance: 1e-14, ..MfParams::default() }, 0, None);
    let cold = fit_rows(&matrix, n, &excluded, &params, 0, None, true);
    // With the threshold at 1,000 rows: 1,000 rows from 125 cold, then the whole 8,000.
    let start = presolve(&matrix, n, 1000, &excluded, &params, 0, true).expect("8,000 rows are presolved");
    let inner = fit_rows(&matrix, 125, &excluded, &params, 0, None, true);
    let prefix = fit_rows(&matrix, 1000, &excluded, &params, 0, Some(&MfWarmStart::of(&inner, &matrix)), true);
    assert_eq!(start, MfWarmStart::of(&prefix, &matrix));
    let budget = MfParams { max_sweeps: PRESOLVED_SWEEPS, ..params.clone() };
    let presolved = fit_rows(&matrix, n, &excluded, &budget, 0, Some(&start), true);
    assert!(optimum.converged && cold.converged);
    assert_eq!(presolved.sweeps, PRESOLVED_SWEEPS);
    assert!(presolved.sweeps < cold.sweeps, "{} whole sweeps after the prefix, {} cold", presolved.sweeps, cold.sweeps);
    assert!(presolved.loss >= optimum.loss, "{} below the optimum {}", presolved.loss, optimum.loss);
    let (mut gi, mut gf) = (0.0f64, 0.0f64);
    for j in 0..matrix.n_statements() {
        gi = gi.max((presolved.statement_intercepts[j] - optimum.statement_intercepts[j]).abs());
        gf = gf.max((presolved.statement_factors[j] - optimum.statement_factors[j]).abs());
    }
    // Measured: 3.6e-6 of the loss, intercepts within 9.9e-5, factors within 2.0e-3 (cold: 7 sweeps).
    assert!(presolved.loss - optimum.loss < 1e-5 * optimum.loss, "{} vs {}", presolved.loss, optimum.loss);
    assert!(gi < 1e-3 && gf < 1e-2, "intercepts {gi}, factors {gf}");
    // Below the threshold the flag changes nothing.
    assert_eq!(fit_mf(&matrix, &excluded, &params, 0, None), cold);
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
