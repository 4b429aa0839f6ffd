//! Group agreement scores of one statement and their credible intervals, from its per-group vote
//! counts alone.
//!
//! Each group's agree rate gets the posterior of a uniform prior after A agrees among S votes seen
//! (passes count as seen, as in Polis): `p_g ~ Beta(A_g + 1, S_g − A_g + 1)`, whose mean is Polis's
//! smoothed rate `(A_g + 1) / (S_g + 2)`. The groups' rates are independent a posteriori. Then:
//!
//! - **per-group agreement**: the posterior mean and the exact equal-tailed interval (Beta
//!   quantiles);
//! - **group-aware consensus** (Polis's GAC): `Π_g (A_g + 1) / (S_g + 2)`, which is exactly the
//!   posterior mean of `Π_g p_g` since the groups are independent; its interval by Monte Carlo over
//!   independent per-group Beta draws;
//! - **geometric mean** `GAC^(1/k)`: comparable across conversations with different numbers of
//!   groups k, which the product is not (it shrinks as k grows). Its interval is the product's
//!   raised to 1/k (a monotone transform maps quantiles to quantiles);
//! - **minimum group agreement** `min_g (A_g + 1) / (S_g + 2)` (Sensemaker's `minAgreeProb`): its
//!   interval is exact, from `P(min_g p_g ≤ x) = 1 − Π_g (1 − I_x(a_g, b_g))`, so the common-ground
//!   decision, which reads its lower bound, is free of Monte Carlo noise.

use serde::{Deserialize, Serialize};

use super::distributions::{invert_cdf, Beta, Sampler};
use crate::stats::VoteCounts;

/// A score with its equal-tailed credible interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The point estimate (see each score for which one).
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The group agreement scores of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupAgreement {
    /// Per group: the posterior mean agree rate `(A + 1) / (S + 2)` and its interval.
    pub per_group: Vec<Estimate>,
    /// Polis's group-aware consensus (the posterior mean of the product) and its Monte Carlo interval.
    pub group_aware_consensus: Estimate,
    /// `GAC^(1/k)` and the product's interval raised to `1/k`.
    pub geometric_mean: Estimate,
    /// The lowest per-group posterior mean, and the exact interval of the lowest per-group rate.
    pub min_group: Estimate,
}

/// The type-7 (linear interpolation) empirical quantile of `values` (reordered in place), by
/// selection in O(values) rather than a sort.
fn empirical_quantile(values: &mut [f64], q: f64) -> f64 {
    let h = (values.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let (_, &mut at, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let next = above.iter().copied().fold(f64::INFINITY, f64::min);
    if next.is_finite() {
        at + (h - lo as f64) * (next - at)
    } else {
        at
    }
}

/// The q-quantile of `min_g p_g` for independent `p_g ~ posteriors[g]`, exactly. `start` should be
/// near the answer (the smallest per-group q-quantile is an upper bound).
pub fn min_quantile(posteriors: &[Beta], q: f64, start: f64) -> f64 {
    invert_cdf(q, start, |x| {
        let survivals: Vec<f64> = posteriors.iter().map(|b| 1.0 - b.cdf(x)).collect();
        let all: f64 = survivals.iter().product();
        // d/dx [1 − Π S_g] = Σ_g f_g Π_{h≠g} S_h.
        let density = posteriors
            .iter()
            .enumerate()
            .map(|(g, b)| {
                let others: f64 = survivals.iter().enumerate().filter(|&(h, _)| h != g).map(|(_, s)| s).product();
                b.pdf(x) * others
            })
            .sum();
        (1.0 - all, density)
    })
}

/// Scores one statement from its vote counts in each group (groups in id order). `interval` is the
/// credible mass (0.9: the 5% and 95% quantiles); `draws` Monte Carlo draws from `sampler` give the
/// product's interval. With no groups, every score is 0.
pub fn group_agreement(counts: &[VoteCounts], interval: f64, draws: usize, sampler: &mut Sampler) -> GroupAgreement {
    let (q_lo, q_hi) = ((1.0 - interval) / 2.0, (1.0 + interval) / 2.0);
    let k = counts.len();
    if k == 0 {
        let zero = Estimate { value: 0.0, lower: 0.0, upper: 0.0 };
        return GroupAgreement {
            per_group: vec![],
            group_aware_consensus: zero,
            geometric_mean: zero,
            min_group: zero,
        };
    }
    let posteriors: Vec<Beta> = counts.iter().map(|c| Beta::posterior(c.agree, c.seen)).collect();
    // Polis's rate, computed as Polis computes it, so that the product is its GAC to the last bit.
    let rates: Vec<f64> = counts.iter().map(|c| (c.agree as f64 + 1.0) / (c.seen as f64 + 2.0)).collect();
    let per_group: Vec<Estimate> = posteriors
        .iter()
        .zip(&rates)
        .map(|(b, &value)| Estimate { value, lower: b.quantile(q_lo), upper: b.quantile(q_hi) })
        .collect();

    let gac: f64 = rates.iter().product();
    let mut products: Vec<f64> =
        (0..draws).map(|_| posteriors.iter().map(|b| sampler.beta(b.a, b.b)).product()).collect();
    let (p_lo, p_hi) = (empirical_quantile(&mut products, q_lo), empirical_quantile(&mut products, q_hi));
    let root = 1.0 / k as f64;

    let min_value = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let start =
        |q: f64| per_group.iter().map(|e| if q < 0.5 { e.lower } else { e.upper }).fold(f64::INFINITY, f64::min);
    let min_group = Estimate {
        value: min_value,
        lower: min_quantile(&posteriors, q_lo, start(q_lo)),
        upper: min_quantile(&posteriors, q_hi, start(q_hi)),
    };
    GroupAgreement {
        per_group,
        group_aware_consensus: Estimate { value: gac, lower: p_lo, upper: p_hi },
        geometric_mean: Estimate { value: gac.powf(root), lower: p_lo.powf(root), upper: p_hi.powf(root) },
        min_group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use crate::stats::group_aware_consensus;

    fn sampler(seed: u64) -> Sampler {
        Sampler::new(Rng::new(seed))
    }

    fn vc(agree: u32, disagree: u32, seen: u32) -> VoteCounts {
        VoteCounts { agree, disagree, seen }
    }

    #[test]
    fn empirical_quantiles_interpolate_between_order_statistics() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(empirical_quantile(&mut v, 0.0), 1.0);
        assert_eq!(empirical_quantile(&mut v, 0.5), 3.0);
        assert_eq!(empirical_quantile(&mut v, 1.0), 5.0);
        assert!((empirical_quantile(&mut v, 0.1) - 1.4).abs() < 1e-15);
    }

    #[test]
    fn point_scores_on_a_tiny_table_by_hand() {
        // Group 0: 8 agree of 10 seen -> 9/12 = 0.75; group 1: 3 of 6 -> 4/8 = 0.5; group 2: 0 of 0 -> 1/2.
        let counts = [vc(8, 1, 10), vc(3, 2, 6), vc(0, 0, 0)];
        let a = group_agreement(&counts, 0.9, 500, &mut sampler(0));
        let rates: Vec<f64> = a.per_group.iter().map(|e| e.value).collect();
        assert_eq!(rates, vec![0.75, 0.5, 0.5]);
        assert_eq!(a.group_aware_consensus.value, 0.75 * 0.5 * 0.5);
        assert!((a.geometric_mean.value - (0.1875f64).cbrt()).abs() < 1e-15);
        assert_eq!(a.min_group.value, 0.5);
        // An unseen statement's rate is uniform: its 90% interval is [0.05, 0.95].
        assert!((a.per_group[2].lower - 0.05).abs() < 1e-12 && (a.per_group[2].upper - 0.95).abs() < 1e-12);
    }

    #[test]
    fn gac_is_polis_group_aware_consensus_to_the_last_bit() {
        let groups =
            vec![vec![vc(3, 0, 4), vc(17, 5, 30)], vec![vc(1, 1, 2), vc(0, 9, 9)], vec![vc(7, 7, 20), vc(2, 0, 2)]];
        let polis = group_aware_consensus(&groups, 2);
        for j in 0..2 {
            let counts: Vec<VoteCounts> = groups.iter().map(|g| g[j]).collect();
            assert_eq!(group_agreement(&counts, 0.9, 100, &mut sampler(1)).group_aware_consensus.value, polis[j]);
        }
    }

    #[test]
    fn one_group_min_interval_is_its_beta_interval() {
        // With one group, min = that group's rate, so both intervals are the Beta(3, 2) quantiles.
        let a = group_agreement(&[vc(2, 1, 3)], 0.9, 100, &mut sampler(0));
        assert!((a.min_group.lower - a.per_group[0].lower).abs() < 1e-12);
        assert!((a.min_group.upper - a.per_group[0].upper).abs() < 1e-12);
    }

    #[test]
    fn min_interval_by_hand_for_two_uniform_groups() {
        // Two unseen groups: p1, p2 ~ U(0,1); P(min <= x) = 1 - (1-x)², so the q-quantile is 1 - sqrt(1-q).
        let a = group_agreement(&[vc(0, 0, 0), vc(0, 0, 0)], 0.9, 100, &mut sampler(0));
        assert!((a.min_group.lower - (1.0 - 0.95f64.sqrt())).abs() < 1e-12);
        assert!((a.min_group.upper - (1.0 - 0.05f64.sqrt())).abs() < 1e-12);
        // The product of two uniforms: P(p1 p2 <= x) = x (1 - ln x); its 5% quantile solves that = 0.05.
        let x = invert_cdf(0.05, 0.01, |x| (x * (1.0 - x.ln()), -x.ln()));
        let mc = group_agreement(&[vc(0, 0, 0), vc(0, 0, 0)], 0.9, 200_000, &mut sampler(4));
        assert!((mc.group_aware_consensus.lower - x).abs() < 0.001, "{} vs {x}", mc.group_aware_consensus.lower);
    }

    #[test]
    fn monte_carlo_min_agrees_with_the_exact_min_interval() {
        let counts = [vc(30, 10, 45), vc(12, 20, 35), vc(50, 1, 55)];
        let exact = group_agreement(&counts, 0.9, 100, &mut sampler(0)).min_group;
        let posteriors: Vec<Beta> = counts.iter().map(|c| Beta::posterior(c.agree, c.seen)).collect();
        let mut draws = sampler(5);
        let mut mins: Vec<f64> = (0..100_000)
            .map(|_| posteriors.iter().map(|b| draws.beta(b.a, b.b)).fold(f64::INFINITY, f64::min))
            .collect();
        assert!((empirical_quantile(&mut mins, 0.05) - exact.lower).abs() < 0.003);
        assert!((empirical_quantile(&mut mins, 0.95) - exact.upper).abs() < 0.003);
    }

    #[test]
    fn intervals_contain_their_estimates_and_shrink_with_more_votes() {
        let few = group_agreement(&[vc(7, 3, 10), vc(6, 4, 10)], 0.9, 2000, &mut sampler(2));
        let many = group_agreement(&[vc(700, 300, 1000), vc(600, 400, 1000)], 0.9, 2000, &mut sampler(2));
        for a in [&few, &many] {
            for e in a.per_group.iter().chain([&a.group_aware_consensus, &a.geometric_mean, &a.min_group]) {
                assert!(e.lower <= e.value && e.value <= e.upper, "{e:?}");
            }
        }
        let width = |e: &Estimate| e.upper - e.lower;
        assert!(width(&many.min_group) < 0.3 * width(&few.min_group));
        assert!(width(&many.group_aware_consensus) < 0.3 * width(&few.group_aware_consensus));
    }
}
