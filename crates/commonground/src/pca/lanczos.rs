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
        if k >= want || breakdown || k >= max_steps {
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
}
