//! A fast cold start for the PCA: the top eigenvectors of `XᵀX` by the Lanczos method with full
//! reorthogonalisation, which needs far fewer products than power iteration when the top
//! eigenvalues are close (power iteration converges like `(λ₂/λ₁)^k`).
//!
//! Only the start changes: the Ritz vectors are oriented as power iteration from the all-ones
//! vector would orient them (non-negative dot product with all ones) and then polished by Polis's
//! own power iteration, so the components are the ones Polis converges to.
//!
//! The Krylov space starts from all ones plus a small fixed pseudo-random perturbation. All ones
//! alone fails on balanced conversations: when two camps vote exactly opposite, every
//! participant's centred votes sum to zero, all ones is orthogonal to the data, and the components
//! would come out zero (Polis starts from an unseeded random vector, which does not have this
//! problem but is not reproducible).

/// Eigen-decomposition of a small symmetric matrix (row-major, `n x n`) by cyclic Jacobi
/// rotations. Returns eigenvalues and eigenvectors (as columns of the returned row-major matrix).
pub(crate) fn symmetric_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        let scale: f64 = (0..n).map(|i| a[i * n + i].powi(2)).sum::<f64>().max(f64::MIN_POSITIVE);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// The top `want` eigenvectors of the symmetric positive semi-definite operator `apply`
/// (dimension `dim`), from the start vector of all ones. Stops when every wanted Ritz pair's
/// residual is below `tolerance` times the top eigenvalue, or after `max_steps` products. Returns
/// the vectors found (fewer when the operator's rank is smaller) and the number of products.
///
/// `warm`: the previous update's components. The Krylov space then starts from a mix of them, and
/// each result is oriented like the previous component of the same rank (so the map does not
/// flip between updates) instead of by the all-ones rule.
pub(crate) fn top_eigenvectors(
    dim: usize,
    want: usize,
    max_steps: usize,
    tolerance: f64,
    warm: Option<&[Vec<f64>]>,
    apply: impl FnMut(&[f64], &mut [f64]),
) -> (Vec<Vec<f64>>, usize) {
    lanczos(dim, want, max_steps, tolerance, warm, true, apply)
}

/// [`top_eigenvectors`]; `screen`: whether a step that [`clearly_unconverged`] rules out skips the
/// Jacobi eigensolver (the tests run both ways and compare the bits).
fn lanczos(
    dim: usize,
    want: usize,
    max_steps: usize,
    tolerance: f64,
    warm: Option<&[Vec<f64>]>,
    screen: bool,
    mut apply: impl FnMut(&[f64], &mut [f64]),
) -> (Vec<Vec<f64>>, usize) {
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let (mut alpha, mut beta) = (Vec::<f64>::new(), Vec::<f64>::new());
    let mut rng = crate::rng::Rng::new(0x5eed_c0de);
    let mut q: Vec<f64> = match warm {
        // Mostly the first component, some of the second, and a little of everything else.
        Some(w) => (0..dim)
            .map(|j| {
                let prev: f64 =
                    w.iter().zip([1.0, 0.5]).map(|(c, weight)| weight * c.get(j).copied().unwrap_or(0.0)).sum();
                prev + 1e-3 * (2.0 * rng.uniform() - 1.0)
            })
            .collect(),
        None => (0..dim).map(|_| 1.0 + 0.01 * (2.0 * rng.uniform() - 1.0)).collect(),
    };
    let n0 = dot(&q, &q).sqrt();
    q.iter_mut().for_each(|x| *x /= n0);
    let mut w = vec![0.0; dim];
    let mut products = 0;
    let max_steps = max_steps.min(dim).max(1);
    loop {
        apply(&q, &mut w);
        products += 1;
        let a = dot(&q, &w);
        basis.push(q.clone());
        alpha.push(a);
        // Full reorthogonalisation, twice ("twice is enough").
        for _ in 0..2 {
            for b in &basis {
                let c = dot(b, &w);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let b = dot(&w, &w).sqrt();
        let k = basis.len();
        let scale = alpha.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(f64::MIN_POSITIVE);
        let breakdown = b <= 1e-12 * scale;
        let last = breakdown || k >= max_steps;
        if (k >= want && !(screen && !last && clearly_unconverged(&alpha, &beta, b, want, tolerance))) || last {
            // Ritz pairs of the tridiagonal matrix.
            let mut t = vec![0.0; k * k];
            for i in 0..k {
                t[i * k + i] = alpha[i];
                if i + 1 < k {
                    t[i * k + i + 1] = beta[i];
                    t[(i + 1) * k + i] = beta[i];
                }
            }
            let (values, vectors) = symmetric_eigen(t, k);
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&x, &y| values[y].total_cmp(&values[x]));
            let top = values[order[0]].abs().max(f64::MIN_POSITIVE);
            let converged =
                breakdown || order.iter().take(want).all(|&i| (b * vectors[(k - 1) * k + i]).abs() <= tolerance * top);
            if converged || k >= max_steps {
                let found = order
                    .iter()
                    .take(want)
                    .filter(|&&i| values[i] > 1e-12 * top)
                    .enumerate()
                    .map(|(rank, &i)| {
                        let mut y = vec![0.0; dim];
                        for (j, qj) in basis.iter().enumerate() {
                            let s = vectors[j * k + i];
                            y.iter_mut().zip(qj).for_each(|(x, q)| *x += s * q);
                        }
                        let n = dot(&y, &y).sqrt();
                        // As power iteration from all ones orients it; when the vector is
                        // orthogonal to all ones, its largest loading is made positive.
                        let sum: f64 = y.iter().sum();
                        let previous = warm.and_then(|w| w.get(rank)).map(|c| dot(c, &y));
                        let sign = if let Some(p) = previous.filter(|p| *p != 0.0) {
                            p.signum()
                        } else if sum.abs() > 1e-9 * n * (dim as f64).sqrt() {
                            sum.signum()
                        } else {
                            let largest = y.iter().copied().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
                            if largest < 0.0 {
                                -1.0
                            } else {
                                1.0
                            }
                        };
                        y.iter_mut().for_each(|x| *x *= sign / n);
                        y
                    })
                    .collect();
                return (found, products);
            }
        }
        beta.push(b);
        q = w.iter().map(|x| x / b).collect();
    }
}

/// How far above the stopping line ([`SCREEN_FACTOR`] times it) an estimated residual must be
/// for [`clearly_unconverged`] to rule a step out, and the least last component it must have.
const SCREEN_FACTOR: f64 = 16.0;
const SCREEN_FLOOR: f64 = 1e-10;

/// Whether the Lanczos step whose tridiagonal matrix is `alpha` (diagonal) and `beta`
/// (off-diagonal, one shorter) and whose next off-diagonal is `b` certainly has not converged:
/// some wanted Ritz pair's residual `b |s_last|` is, by an estimate independent of
/// [`symmetric_eigen`], many times the stopping line `tolerance · top`.
///
/// Why: the stopping test needs the last row of the Ritz vectors, and the Jacobi eigensolver that
/// gives them costs O(k³) per sweep at step k, run at every step: on a small conversation that
/// was a large share of the PCA (bg2050-volunteers, 126 × 371, about 20 Lanczos steps: the PCA
/// took 2.2 ms with it at every step, 1.7 ms screened). The estimate is O(k) per eigenvalue: the
/// wanted eigenvalues by bisection on Sturm counts, and each one's eigenvector by a twisted
/// factorization, whose last entry over its norm is the last component. A step is skipped only
/// when the estimate is [`SCREEN_FACTOR`] times over the line and the component above
/// [`SCREEN_FLOOR`] (both methods' rounding is orders below either), and
/// when the wanted eigenvalues are well apart from the next (so that both methods want the same
/// pairs); any doubt, an overflow or a NaN runs the eigensolver, which alone decides to stop and
/// gives the vectors. So every step that stops, and every vector, is what it was without the
/// screen, to the bit.
fn clearly_unconverged(alpha: &[f64], beta: &[f64], b: f64, want: usize, tolerance: f64) -> bool {
    let k = alpha.len();
    if want == 0 || k < want || beta.len() + 1 != k {
        return false;
    }
    // Gershgorin's interval holds every eigenvalue.
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..k {
        let radius = beta.get(i).map_or(0.0, |x| x.abs()) + if i > 0 { beta[i - 1].abs() } else { 0.0 };
        lo = lo.min(alpha[i] - radius);
        hi = hi.max(alpha[i] + radius);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return false;
    }
    let pivot_floor = f64::EPSILON * (hi.abs().max(lo.abs())).max(f64::MIN_POSITIVE);
    // How many eigenvalues lie below x: the negative pivots of T − x I (Sylvester's law of inertia).
    let below = |x: f64| {
        let (mut count, mut d) = (0, 1.0f64);
        for i in 0..k {
            d = alpha[i] - x - if i > 0 { beta[i - 1] * beta[i - 1] / d } else { 0.0 };
            if d.abs() < pivot_floor {
                d = -pivot_floor;
            }
            count += usize::from(d < 0.0);
        }
        count
    };
    // The j-th largest eigenvalue (j = 0: the largest), by bisection.
    let largest = |j: usize| {
        let (mut l, mut h) = (lo, hi);
        for _ in 0..256 {
            let mid = 0.5 * (l + h);
            if mid <= l || mid >= h {
                break;
            }
            if below(mid) >= k - j {
                h = mid;
            } else {
                l = mid;
            }
        }
        0.5 * (l + h)
    };
    let values: Vec<f64> = (0..want.min(k) + usize::from(k > want)).map(largest).collect();
    let top = values[0].abs();
    // A NaN gap is no gap.
    if k > want && (values[want - 1] - values[want]).partial_cmp(&(1e-6 * top)) != Some(std::cmp::Ordering::Greater) {
        return false;
    }
    // The eigenvector of λ by the twisted factorization of T − λ I (Dhillon & Parlett 2004,
    // "Multiple representations to compute orthogonal eigenvectors of symmetric tridiagonal
    // matrices"): the pivots from the top down and from the bottom up meet at the row r where
    // the eigenvector is large, and the entries follow from r outwards by products alone, so a
    // small entry (a converged pair's last one) comes out with a small relative error.
    let last_component = |lambda: f64| {
        let mut down = vec![0.0f64; k];
        for i in 0..k {
            down[i] = alpha[i] - lambda - if i > 0 { beta[i - 1] * beta[i - 1] / down[i - 1] } else { 0.0 };
        }
        let mut up = vec![0.0f64; k];
        for i in (0..k).rev() {
            up[i] = alpha[i] - lambda - if i + 1 < k { beta[i] * beta[i] / up[i + 1] } else { 0.0 };
        }
        let twist = |r: usize| (down[r] + up[r] - (alpha[r] - lambda)).abs();
        let r = (0..k).min_by(|&x, &y| twist(x).total_cmp(&twist(y))).unwrap_or(0);
        let mut z = vec![0.0f64; k];
        z[r] = 1.0;
        for i in (0..r).rev() {
            z[i] = -beta[i] * z[i + 1] / down[i];
        }
        for i in r..k - 1 {
            z[i + 1] = -beta[i] * z[i] / up[i + 1];
        }
        z[k - 1].abs() / z.iter().map(|x| x * x).sum::<f64>().sqrt()
    };
    values[..want].iter().any(|&lambda| {
        let s = last_component(lambda);
        s > SCREEN_FLOOR && b * s > SCREEN_FACTOR * tolerance * top
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_known_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let (mut values, _) = symmetric_eigen(vec![2.0, 1.0, 1.0, 2.0], 2);
        values.sort_by(f64::total_cmp);
        assert!((values[0] - 1.0).abs() < 1e-12 && (values[1] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn lanczos_finds_the_top_two_eigenvectors_of_a_diagonal_operator() {
        let diag: Vec<f64> = (0..50).map(|i| 1.0 + i as f64 * 0.01).collect(); // close eigenvalues
        let (vecs, products) = top_eigenvectors(50, 2, 60, 1e-10, None, |x, out| {
            out.iter_mut().zip(x).zip(&diag).for_each(|((o, x), d)| *o = d * x);
        });
        assert_eq!(vecs.len(), 2);
        assert!((vecs[0][49].abs() - 1.0).abs() < 1e-8, "top eigenvector is e49");
        assert!((vecs[1][48].abs() - 1.0).abs() < 1e-8, "second is e48");
        assert!(products <= 50);
    }

    /// A symmetric positive semi-definite operator `GᵀG` (dense, `dim × dim`) whose spectrum is
    /// shaped by `decay`: column c of G is scaled by `decay^c`, so the top eigenvalues are close
    /// when `decay` is near 1.
    fn gram_operator(dim: usize, rows: usize, decay: f64, seed: u64) -> Vec<f64> {
        let mut rng = crate::rng::Rng::new(seed);
        let g: Vec<f64> = (0..rows * dim).map(|i| (2.0 * rng.uniform() - 1.0) * decay.powi((i % dim) as i32)).collect();
        let mut a = vec![0.0; dim * dim];
        for r in 0..rows {
            let row = &g[r * dim..(r + 1) * dim];
            for i in 0..dim {
                for j in 0..dim {
                    a[i * dim + j] += row[i] * row[j];
                }
            }
        }
        a
    }

    #[test]
    fn screened_lanczos_gives_the_unscreened_vectors_and_steps_to_the_bit() {
        // Spectra with well separated, close and nearly equal top eigenvalues, full and
        // deficient rank, cold and warm, at the PCA's tolerances (1e-13 cold start, 1e-10 warm).
        for (case, &(dim, rows, decay)) in
            [(40, 60, 0.8), (60, 200, 0.97), (80, 30, 0.999), (50, 500, 1.0), (30, 3, 0.9), (120, 126, 0.95)]
                .iter()
                .enumerate()
        {
            let a = gram_operator(dim, rows, decay, 17 + case as u64);
            let apply = |x: &[f64], out: &mut [f64]| {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = a[i * dim..(i + 1) * dim].iter().zip(x).map(|(p, q)| p * q).sum();
                }
            };
            let warm: Vec<Vec<f64>> = (0..2).map(|c| (0..dim).map(|j| ((j + c) % 3) as f64 - 1.0).collect()).collect();
            for tolerance in [1e-13, 1e-10, 1e-6] {
                for start in [None, Some(warm.as_slice())] {
                    let (screened, steps) = lanczos(dim, 2, dim, tolerance, start, true, apply);
                    let (plain, plain_steps) = lanczos(dim, 2, dim, tolerance, start, false, apply);
                    let bits = |v: &[Vec<f64>]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(steps, plain_steps, "case {case}, tolerance {tolerance}");
                    assert_eq!(bits(&screened), bits(&plain), "case {case}, tolerance {tolerance}");
                }
            }
        }
    }

    #[test]
    fn the_screen_rules_out_only_steps_the_eigensolver_finds_unconverged() {
        // Random tridiagonal matrices (positive diagonals, off-diagonals from tiny to large) and
        // stopping lines on both sides of their residuals: whenever the screen says a step is
        // unconverged, the Jacobi eigensolver's Ritz vectors say so too; and the screen does rule
        // out (nearly) every step whose residual is a thousand times over the line (it is not
        // vacuous: the screen exists to skip those).
        let mut rng = crate::rng::Rng::new(99);
        let (mut clear, mut ruled_out) = (0, 0);
        for trial in 0..400 {
            let k = 2 + trial % 25;
            let alpha: Vec<f64> = (0..k).map(|_| 10.0 * rng.uniform()).collect();
            let spread = 10f64.powi(-((trial % 7) as i32));
            let beta: Vec<f64> = (0..k - 1).map(|_| spread * (0.01 + rng.uniform())).collect();
            let b = spread * (0.01 + rng.uniform());
            let mut t = vec![0.0; k * k];
            for i in 0..k {
                t[i * k + i] = alpha[i];
                if i + 1 < k {
                    (t[i * k + i + 1], t[(i + 1) * k + i]) = (beta[i], beta[i]);
                }
            }
            let (values, vectors) = symmetric_eigen(t, k);
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&x, &y| values[y].total_cmp(&values[x]));
            let top = values[order[0]].abs();
            let residual = order.iter().take(2).map(|&i| (b * vectors[(k - 1) * k + i]).abs()).fold(0.0, f64::max);
            for tolerance in [1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4] {
                let line = tolerance * top;
                let screened = clearly_unconverged(&alpha, &beta, b, 2, tolerance);
                assert!(!screened || residual > line, "trial {trial}: ruled out at residual {residual}, line {line}");
                if residual > 1e3 * line && residual > 1e3 * SCREEN_FLOOR * b {
                    clear += 1;
                    ruled_out += usize::from(screened);
                }
            }
        }
        assert!(ruled_out * 100 >= clear * 99, "ruled out {ruled_out} of {clear} clearly unconverged steps");
    }
}
