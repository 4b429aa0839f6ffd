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
//!   posterior mean of `Π_g p_g` since the groups are independent. Its interval comes from
//!   `L = −ln Π_g p_g = Σ_g −ln p_g`, whose cumulant generating function is known exactly:
//!   `K(t) = Σ_g ln Γ(a_g − t) − ln Γ(a_g) − ln Γ(a_g + b_g − t) + ln Γ(a_g + b_g)`. Its quantiles are
//!   the saddlepoint approximation's (Barndorff-Nielsen's r*, equivalent to Lugannani–Rice), which
//!   stays accurate in the tails even with a handful of votes per group, where a normal or
//!   moment-matched approximation does not. Against 200,000 Monte Carlo draws its bounds agree
//!   within 0.002, and within 1e-3 of the exact answer in hand-solvable cases (tests below), for a
//!   few dozen special-function evaluations instead of thousands of draws.
//!   [`group_agreement_monte_carlo`] keeps the Monte Carlo interval, as the opt-in reference;
//! - **geometric mean** `GAC^(1/k)`: comparable across conversations with different numbers of
//!   groups k, which the product is not (it shrinks as k grows). Its interval is the product's
//!   raised to 1/k (a monotone transform maps quantiles to quantiles);
//! - **minimum group agreement** `min_g (A_g + 1) / (S_g + 2)` (Sensemaker's `minAgreeProb`): its
//!   interval is exact, from `P(min_g p_g ≤ x) = 1 − Π_g (1 − I_x(a_g, b_g))`, so the common-ground
//!   decision, which reads its lower bound, is free of Monte Carlo noise.

use serde::{Deserialize, Serialize};

use super::distributions::{digamma_trigamma, invert_cdf, ln_gamma, normal_quantile, Beta, Sampler};
use crate::stats::VoteCounts;

/// A score with its equal-tailed credible interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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
    /// Polis's group-aware consensus (the posterior mean of the product) and its interval.
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
    let mut survivals = vec![0.0; posteriors.len()];
    let mut densities = vec![0.0; posteriors.len()];
    let mut values = vec![(0.0, 0.0); posteriors.len()];
    invert_cdf(q, start, |x| {
        let (ln_x, ln_1mx) = (x.ln(), (1.0 - x).ln());
        Beta::cdfs_and_pdfs_with_logs(posteriors, x, ln_x, ln_1mx, &mut values);
        for ((s, f), &(cdf, pdf)) in survivals.iter_mut().zip(densities.iter_mut()).zip(&values) {
            (*s, *f) = (1.0 - cdf, pdf);
        }
        let all: f64 = survivals.iter().product();
        // d/dx [1 − Π S_g] = Σ_g f_g Π_{h≠g} S_h.
        let density = densities
            .iter()
            .enumerate()
            .map(|(g, f)| {
                let others: f64 = survivals.iter().enumerate().filter(|&(h, _)| h != g).map(|(_, s)| s).product();
                f * others
            })
            .sum();
        (1.0 - all, density)
    })
}

/// The `(q_lo, q_hi)` quantiles of `Π_g p_g` for independent `p_g ~ posteriors[g]` (at least two),
/// by the saddlepoint approximation to `L = −ln Π_g p_g` (see the module docs).
pub fn product_interval(posteriors: &[Beta], q_lo: f64, q_hi: f64) -> (f64, f64) {
    let groups: Vec<LogBeta> = posteriors.iter().map(|b| LogBeta::new(b.a, b.b)).collect();
    // L's mean and variance, K'(0) and K''(0), start both searches.
    let (_, mean, var) = cgf(&groups, 0.0);
    // The product's low quantile is L's high one.
    let lower = (-log_product_quantile(&groups, normal_quantile(q_hi), mean, var)).exp();
    let upper = (-log_product_quantile(&groups, normal_quantile(q_lo), mean, var)).exp().min(1.0);
    (lower, upper)
}

/// `−ln p` for `p ~ Beta(a, b)`: its cumulant generating function is
/// `K(t) = ln E[p^−t] = ln Γ(a − t) − ln Γ(a) − ln Γ(a + b − t) + ln Γ(a + b)`, for `t < a`.
struct LogBeta {
    a: f64,
    ab: f64,
    ln_norm: f64,
}

impl LogBeta {
    fn new(a: f64, b: f64) -> LogBeta {
        LogBeta { a, ab: a + b, ln_norm: ln_gamma(a + b) - ln_gamma(a) }
    }

    /// `(K(t), K'(t), K''(t))`.
    fn cgf(&self, t: f64) -> (f64, f64, f64) {
        let (d_a, t_a) = digamma_trigamma(self.a - t);
        let (d_ab, t_ab) = digamma_trigamma(self.ab - t);
        (ln_gamma(self.a - t) - ln_gamma(self.ab - t) + self.ln_norm, d_ab - d_a, t_a - t_ab)
    }

    /// `K'(t)` alone, as [`LogBeta::cgf`] gives it, without the two log-gammas of `K(t)`.
    fn cgf_slope(&self, t: f64) -> f64 {
        let (d_a, _) = digamma_trigamma(self.a - t);
        let (d_ab, _) = digamma_trigamma(self.ab - t);
        d_ab - d_a
    }
}

/// The cumulant generating function of `L = Σ_g −ln p_g` and its two derivatives at `t`: the
/// groups' [`LogBeta::cgf`] summed in group order.
fn cgf(groups: &[LogBeta], t: f64) -> (f64, f64, f64) {
    groups.iter().fold((0.0, 0.0, 0.0), |(k, k1, k2), g| {
        let (a, b, c) = g.cgf(t);
        (k + a, k1 + b, k2 + c)
    })
}

/// The quantile of `L = Σ_g −ln p_g` at the standard normal quantile `z`: the x whose
/// Barndorff-Nielsen `r* = w + ln(u / w) / w` equals z, where at the saddlepoint t of x
/// (`K'(t) = x`), `w = sign(t) √(2 (t x − K(t)))` and `u = t √K''(t)`; found by Newton's method
/// in t from the normal approximation, kept inside `t < min_g a_g`. `mean` and `var` are L's
/// (`K'(0)`, `K''(0)`), which both bounds of an interval start from.
fn log_product_quantile(groups: &[LogBeta], z: f64, mean: f64, var: f64) -> f64 {
    if z.abs() < 1e-6 {
        return mean;
    }
    let ceiling = groups.iter().map(|g| g.a).fold(f64::INFINITY, f64::min);
    let mut t = (z / var.sqrt()).min(0.5 * ceiling);
    let mut x = mean + z * var.sqrt();
    for _ in 0..100 {
        let (k, k1, k2) = cgf(groups, t);
        x = k1;
        let w = t.signum() * (2.0 * (t * k1 - k)).max(0.0).sqrt();
        let u = t * k2.sqrt();
        if w.abs() < 1e-8 {
            break;
        }
        let r = w + (u / w).ln() / w;
        // dr/dt ≈ dw/dt = t K''(t) / w.
        let step = (r - z) * w / (t * k2);
        let mut next = t - step;
        if next >= ceiling {
            next = 0.5 * (t + ceiling);
        }
        if next.signum() != t.signum() {
            next = 0.5 * t;
        }
        if (next - t).abs() <= 1e-12 * t.abs() {
            // K'(next), summed as `cgf` sums it.
            return groups.iter().fold(0.0, |k1, g| k1 + g.cgf_slope(next));
        }
        t = next;
    }
    x
}

/// The lowest of the groups' posterior means (`per_group[g].value`), with the exact interval of the
/// lowest of their rates (independent `posteriors`); with one group, that group's own interval.
fn min_estimate(posteriors: &[Beta], per_group: &[Estimate], q_lo: f64, q_hi: f64) -> Estimate {
    let value = per_group.iter().map(|e| e.value).fold(f64::INFINITY, f64::min);
    if let [only] = per_group {
        return Estimate { value, lower: only.lower, upper: only.upper };
    }
    let start =
        |q: f64| per_group.iter().map(|e| if q < 0.5 { e.lower } else { e.upper }).fold(f64::INFINITY, f64::min);
    Estimate {
        value,
        lower: min_quantile(posteriors, q_lo, start(q_lo)),
        upper: min_quantile(posteriors, q_hi, start(q_hi)),
    }
}

/// Per group, the side-takers' agreement `(A + 1) / (A + D + 2)` with its interval read from
/// `bounds`: [`SideAgreement::per_group`].
fn side_estimates(counts: &[VoteCounts], bounds: &PosteriorBounds) -> Vec<Estimate> {
    counts
        .iter()
        .map(|c| {
            let (s, n) = side_pair(c);
            let (lower, upper) = bounds.get(s, n);
            Estimate { value: side_rate(c), lower, upper }
        })
        .collect()
}

/// The posterior `Beta(s + 1, n − s + 1)` whose interval a group's side-takers' agreement reads.
pub(crate) fn side_pair(c: &VoteCounts) -> (u32, u32) {
    (c.agree, c.agree + c.disagree)
}

/// That posterior itself ([`side_pair`]).
pub(crate) fn side_posterior(c: &VoteCounts) -> Beta {
    let (s, n) = side_pair(c);
    Beta::posterior(s, n)
}

/// The side-takers' agreement `(A + 1) / (A + D + 2)`: the mean of [`side_posterior`].
pub(crate) fn side_rate(c: &VoteCounts) -> f64 {
    (c.agree as f64 + 1.0) / ((c.agree + c.disagree) as f64 + 2.0)
}

/// The posterior whose interval a group's pass rate reads.
fn pass_pair(c: &VoteCounts) -> (u32, u32) {
    (c.passes(), c.seen)
}

/// The equal-tailed `(q_lo, q_hi)` quantiles of vote-count posteriors `Beta(s + 1, n − s + 1)`,
/// found once per distinct `(s, n)`: over a conversation's statements and groups the same counts
/// come back again and again (a 60-member group has at most 1,891 of them), and each quantile is a
/// Newton search over the incomplete beta function. A stored bound is the very number
/// [`Beta::quantile`] gives, so the scores are the same to the last bit with or without the table.
pub(crate) struct PosteriorBounds {
    pub(crate) q: (f64, f64),
    /// Sorted by `(s, n)`.
    table: Vec<((u32, u32), (f64, f64))>,
    /// Whether the built-in table ([`built_in_bounds`]) is read first: in the tables an update
    /// builds, not in [`PosteriorBounds::direct`] (the tests' reference, computed afresh).
    built_in: bool,
}

impl PosteriorBounds {
    /// No stored bounds: every one is computed when asked for.
    pub(crate) fn direct(interval: f64) -> PosteriorBounds {
        PosteriorBounds { q: ((1.0 - interval) / 2.0, (1.0 + interval) / 2.0), table: Vec::new(), built_in: false }
    }

    /// The bounds the scores read, computed once each, in parallel when there are many: every
    /// group's agreement for the counts `rates` (Polis's group-votes), its side-takers' agreement
    /// and pass rate for the counts `sides` (the cross-fitted ones; per statement, one per group).
    /// Only the pairs each score reads, so that two sets of counts cost no more than one.
    pub(crate) fn for_counts<'a>(
        rates: impl Iterator<Item = &'a VoteCounts>,
        sides: impl Iterator<Item = &'a VoteCounts>,
        interval: f64,
    ) -> PosteriorBounds {
        let mut pairs: Vec<(u32, u32)> =
            rates.map(|c| (c.agree, c.seen)).chain(sides.flat_map(|c| [side_pair(c), pass_pair(c)])).collect();
        pairs.sort_unstable();
        pairs.dedup();
        Self::of_pairs(pairs, Self::direct(interval).q)
    }

    /// The `q = (q_lo, q_hi)` quantiles of the posteriors of `pairs` (sorted, distinct), computed
    /// once each, in parallel when there are many.
    /// Four pairs at a time: their eight searches step side by side
    /// ([`Beta::quantiles_together`], the same numbers as one at a time; about 0.7x the time).
    /// Pairs the built-in table holds ([`built_in_bounds`]) are not computed nor stored:
    /// [`PosteriorBounds::stored`] reads them from there.
    pub(crate) fn of_pairs(mut pairs: Vec<(u32, u32)>, q: (f64, f64)) -> PosteriorBounds {
        use rayon::prelude::*;
        const PAIRS: usize = 4;
        pairs.retain(|&(s, n)| built_in_bounds(q, s, n).is_none());
        let bounds: Vec<[(f64, f64); PAIRS]> = pairs
            .par_chunks(PAIRS)
            .with_min_len(64)
            .map(|chunk| {
                // A short last chunk repeats its last pair.
                let lanes: [(Beta, f64); 2 * PAIRS] = std::array::from_fn(|lane| {
                    let (s, n) = chunk[(lane / 2).min(chunk.len() - 1)];
                    (Beta::posterior(s, n), if lane % 2 == 0 { q.0 } else { q.1 })
                });
                let found = Beta::quantiles_together(lanes);
                std::array::from_fn(|pair| (found[2 * pair], found[2 * pair + 1]))
            })
            .collect();
        PosteriorBounds { q, table: pairs.into_iter().zip(bounds.into_iter().flatten()).collect(), built_in: true }
    }

    /// The `q_lo` quantile of `Beta(s + 1, n − s + 1)` alone: the stored one, or computed.
    pub(crate) fn lower(&self, s: u32, n: u32) -> f64 {
        self.stored(s, n).map_or_else(|| Beta::posterior(s, n).quantile(self.q.0), |(lower, _)| lower)
    }

    /// The `q_hi` quantile alone, as [`PosteriorBounds::lower`].
    pub(crate) fn upper(&self, s: u32, n: u32) -> f64 {
        self.stored(s, n).map_or_else(|| Beta::posterior(s, n).quantile(self.q.1), |(_, upper)| upper)
    }

    /// The stored bounds of `(s, n)`, if any: in the built-in table (unless [`PosteriorBounds::direct`]),
    /// or computed for this table.
    pub(crate) fn stored(&self, s: u32, n: u32) -> Option<(f64, f64)> {
        self.built_in
            .then(|| built_in_bounds(self.q, s, n))
            .flatten()
            .or_else(|| self.table.binary_search_by_key(&(s, n), |&(pair, _)| pair).ok().map(|i| self.table[i].1))
    }

    /// The `(q_lo, q_hi)` quantiles of `Beta(s + 1, n − s + 1)`.
    pub(crate) fn get(&self, s: u32, n: u32) -> (f64, f64) {
        self.stored(s, n).unwrap_or_else(|| quantiles(s, n, self.q))
    }
}

/// The default interval's `(q_lo, q_hi)` quantiles of every posterior `Beta(s + 1, n − s + 1)`
/// of up to a few hundred votes, computed by the build script with this crate's own
/// [`Beta::quantile`] (it includes `distributions.rs` itself; layout in `build.rs`,
/// `posterior_table`). A small conversation's groups have no more members than that, and
/// computing its bounds (two Newton searches over the incomplete beta function per distinct count)
/// was about a quarter of its whole analysis, in every fresh process.
static POSTERIOR_TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/posterior_quantiles.bin"));

/// The bounds of `Beta(s + 1, n − s + 1)` at the levels `q` from the built-in table: `None` when
/// `q` is not the table's (another interval) or `n` is above its largest count. The very numbers
/// [`Beta::quantile`] gives (`built_in_bounds_are_the_quantiles` checks every one).
pub(crate) fn built_in_bounds(q: (f64, f64), s: u32, n: u32) -> Option<(f64, f64)> {
    let word = |i: usize| -> u64 {
        let bytes = &POSTERIOR_TABLE[8 * i..8 * i + 8];
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    };
    let (max, q_lo, q_hi) = (word(0), word(1), word(2));
    if u64::from(n) > max || s > n || q.0.to_bits() != q_lo || q.1.to_bits() != q_hi {
        return None;
    }
    let i = 3 + 2 * (n as usize * (n as usize + 1) / 2 + s as usize);
    Some((f64::from_bits(word(i)), f64::from_bits(word(i + 1))))
}

fn quantiles(s: u32, n: u32, (q_lo, q_hi): (f64, f64)) -> (f64, f64) {
    let b = Beta::posterior(s, n);
    (b.quantile(q_lo), b.quantile(q_hi))
}

/// What the groups think of one statement, passes set apart: Polis counts a pass as "seen, not
/// agreed", so a statement many pass on looks disagreed with; here agreement is measured among
/// those who took a side, and the passes are reported as a rate of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct SideAgreement {
    /// Per group: `(A + 1) / (A + D + 2)`, the posterior mean of the agree rate among those who
    /// agreed or disagreed (`Beta(A + 1, D + 1)`), and its exact interval.
    pub per_group: Vec<Estimate>,
    /// Per group: `(P + 1) / (S + 2)`, the posterior mean of the pass rate among those who saw
    /// the statement (`Beta(P + 1, A + D + 1)`), and its exact interval.
    pub pass_rate: Vec<Estimate>,
    /// The lowest per-group side-takers' agreement and the exact interval of the lowest rate.
    pub min_group: Estimate,
    /// The index of the group with the lowest side-takers' agreement (the first on a tie); `None`
    /// with no groups.
    pub weakest: Option<usize>,
}

/// Side-takers' agreement and pass rates of one statement from its vote counts in each group.
/// `interval` is the credible mass. With no groups, every list is empty and the minimum is 0.
pub fn side_agreement(counts: &[VoteCounts], interval: f64) -> SideAgreement {
    side_agreement_with(counts, &PosteriorBounds::direct(interval))
}

/// [`side_agreement`], each posterior's interval read from `bounds`.
pub(crate) fn side_agreement_with(counts: &[VoteCounts], bounds: &PosteriorBounds) -> SideAgreement {
    let (q_lo, q_hi) = bounds.q;
    let estimate = |(s, n): (u32, u32), value: f64| {
        let (lower, upper) = bounds.get(s, n);
        Estimate { value, lower, upper }
    };
    let sides: Vec<Beta> = counts
        .iter()
        .map(|c| {
            let (s, n) = side_pair(c);
            Beta::posterior(s, n)
        })
        .collect();
    let per_group = side_estimates(counts, bounds);
    let pass_rate =
        counts.iter().map(|c| estimate(pass_pair(c), (c.passes() as f64 + 1.0) / (c.seen as f64 + 2.0))).collect();
    let weakest = (0..per_group.len()).reduce(|w, g| if per_group[g].value < per_group[w].value { g } else { w });
    let min_group =
        if per_group.is_empty() { Estimate::default() } else { min_estimate(&sides, &per_group, q_lo, q_hi) };
    SideAgreement { per_group, pass_rate, min_group, weakest }
}

/// Scores one statement from its vote counts in each group (groups in id order). `interval` is the
/// credible mass (0.9: the 5% and 95% quantiles). With no groups, every score is 0.
pub fn group_agreement(counts: &[VoteCounts], interval: f64) -> GroupAgreement {
    scores(counts, &PosteriorBounds::direct(interval), product_interval)
}

/// [`group_agreement`], each group's interval read from `bounds`.
pub(crate) fn group_agreement_with(counts: &[VoteCounts], bounds: &PosteriorBounds) -> GroupAgreement {
    scores(counts, bounds, product_interval)
}

/// [`group_agreement`], with the interval of the product by Monte Carlo instead: `draws` draws of
/// every group's rate from `sampler`, and their empirical quantiles.
pub fn group_agreement_monte_carlo(
    counts: &[VoteCounts],
    interval: f64,
    draws: usize,
    sampler: &mut Sampler,
) -> GroupAgreement {
    group_agreement_monte_carlo_with(counts, &PosteriorBounds::direct(interval), draws, sampler)
}

/// [`group_agreement_monte_carlo`], each group's interval read from `bounds`.
pub(crate) fn group_agreement_monte_carlo_with(
    counts: &[VoteCounts],
    bounds: &PosteriorBounds,
    draws: usize,
    sampler: &mut Sampler,
) -> GroupAgreement {
    scores(counts, bounds, |posteriors, q_lo, q_hi| {
        let mut products: Vec<f64> =
            (0..draws).map(|_| posteriors.iter().map(|b| sampler.beta(b.a, b.b)).product()).collect();
        (empirical_quantile(&mut products, q_lo), empirical_quantile(&mut products, q_hi))
    })
}

fn scores(
    counts: &[VoteCounts],
    bounds: &PosteriorBounds,
    product_interval: impl FnOnce(&[Beta], f64, f64) -> (f64, f64),
) -> GroupAgreement {
    let (q_lo, q_hi) = bounds.q;
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
    let per_group: Vec<Estimate> = counts
        .iter()
        .zip(&rates)
        .map(|(c, &value)| {
            let (lower, upper) = bounds.get(c.agree, c.seen);
            Estimate { value, lower, upper }
        })
        .collect();

    let gac: f64 = rates.iter().product();
    let (p_lo, p_hi) =
        if k == 1 { (per_group[0].lower, per_group[0].upper) } else { product_interval(&posteriors, q_lo, q_hi) };
    let root = 1.0 / k as f64;

    let min_group = min_estimate(&posteriors, &per_group, q_lo, q_hi);
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
    fn built_in_bounds_are_the_quantiles() {
        // Every entry of the build script's table against the quantile computed here, bit for bit.
        let q = PosteriorBounds::direct(0.9).q;
        let mut n = 0;
        while let Some(first) = built_in_bounds(q, 0, n) {
            assert_eq!(first, quantiles(0, n, q), "s = 0, n = {n}");
            for s in 1..=n {
                let (lower, upper) = built_in_bounds(q, s, n).expect("every s up to n");
                let (l, u) = quantiles(s, n, q);
                assert_eq!((lower.to_bits(), upper.to_bits()), (l.to_bits(), u.to_bits()), "s = {s}, n = {n}");
            }
            assert_eq!(built_in_bounds(q, n + 1, n), None, "agrees above seen are not in the table");
            n += 1;
        }
        assert!(n > 300, "the table holds groups of a few hundred members, not {n}");
        // Other levels are computed.
        assert_eq!(built_in_bounds(PosteriorBounds::direct(0.8).q, 3, 10), None);
    }

    #[test]
    fn a_table_reads_the_built_in_bounds_and_computes_the_rest() {
        // Counts inside and beyond the built-in table, at the default interval and another one:
        // the table's bounds are the computed ones, and it stores only what it computed.
        let pairs = vec![(0, 0), (2, 384), (3, 10), (7, 40), (150, 383), (500, 1000)]; // sorted, as of_pairs takes them
        for interval in [0.9, 0.8] {
            let reference = PosteriorBounds::direct(interval);
            let table = PosteriorBounds::of_pairs(pairs.clone(), reference.q);
            for &(s, n) in &pairs {
                assert_eq!(table.get(s, n), reference.get(s, n), "({s}, {n}) at {interval}");
                assert_eq!(table.stored(s, n), Some(reference.get(s, n)));
            }
            assert_eq!(table.table.len(), if interval == 0.9 { 2 } else { pairs.len() });
        }
    }

    #[test]
    fn the_posterior_bounds_table_gives_every_score_to_the_last_bit() {
        // Statements over three groups that share some counts and not others; scored with the
        // table and by computing every quantile afresh (the public functions), compared exactly.
        let statements: Vec<Vec<VoteCounts>> = (0..40u32)
            .map(|j| vec![vc(j % 7, j % 5, j % 7 + j % 5 + j % 3), vc(3, j % 4, 9), vc(j % 11, 2, j % 11 + 2 + j % 2)])
            .collect();
        let bounds = PosteriorBounds::for_counts(statements.iter().flatten(), statements.iter().flatten(), 0.9);
        assert!(bounds.table.len() < 3 * 3 * statements.len(), "repeated counts are stored once");
        for counts in &statements {
            assert_eq!(group_agreement_with(counts, &bounds), group_agreement(counts, 0.9));
            assert_eq!(side_agreement_with(counts, &bounds), side_agreement(counts, 0.9));
        }
        // A pair missing from the table is computed when asked for, the same number.
        let lone = [vc(40, 1, 60), vc(2, 30, 33)];
        assert_eq!(side_agreement_with(&lone, &bounds), side_agreement(&lone, 0.9));
    }

    #[test]
    fn the_cgf_slope_alone_is_the_cgf_slope_to_the_last_bit() {
        // Posteriors from no votes to thousands, at t from far below 0 to near the ceiling a.
        for &(a, b) in &[(1.0, 1.0), (2.0, 7.0), (13.0, 2.0), (61.0, 40.0), (3001.0, 1200.0)] {
            let g = LogBeta::new(a, b);
            for t in [-500.0, -3.7, -0.01, 0.0, 0.3, 0.5 * a, 0.999 * a] {
                assert_eq!(g.cgf_slope(t).to_bits(), g.cgf(t).1.to_bits(), "Beta({a}, {b}) at t = {t}");
            }
        }
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
        let a = group_agreement(&counts, 0.9);
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
            assert_eq!(group_agreement(&counts, 0.9).group_aware_consensus.value, polis[j]);
        }
    }

    #[test]
    fn side_takers_agreement_and_pass_rate_by_hand() {
        // Group 0: 6 agree, 2 disagree, 12 pass (20 seen); group 1: 3 agree, 3 disagree, 0 pass.
        let a = side_agreement(&[vc(6, 2, 20), vc(3, 3, 6)], 0.9);
        assert_eq!(a.per_group.iter().map(|e| e.value).collect::<Vec<_>>(), vec![7.0 / 10.0, 4.0 / 8.0]);
        assert_eq!(a.pass_rate.iter().map(|e| e.value).collect::<Vec<_>>(), vec![13.0 / 22.0, 1.0 / 8.0]);
        assert_eq!((a.min_group.value, a.weakest), (0.5, Some(1)));
        // Passes count as seen in Polis's rate, so group 0 looks against it there: 7/22 < 1/2.
        assert!(group_agreement(&[vc(6, 2, 20), vc(3, 3, 6)], 0.9).per_group[0].value < 0.5);
        // Group 0's side-takers' posterior is Beta(7, 3); its pass rate's is Beta(13, 9); a group
        // that took no side has the uniform Beta(1, 1): its 90% interval is [0.05, 0.95].
        let beta = |a: f64, b: f64, q: f64| crate::bridging::distributions::Beta::new(a, b).quantile(q);
        assert!((a.per_group[0].lower - beta(7.0, 3.0, 0.05)).abs() < 1e-15);
        assert!((a.pass_rate[0].upper - beta(13.0, 9.0, 0.95)).abs() < 1e-15);
        let none = side_agreement(&[vc(0, 0, 4)], 0.9);
        assert!((none.per_group[0].lower - 0.05).abs() < 1e-12 && (none.per_group[0].upper - 0.95).abs() < 1e-12);
        assert!(side_agreement(&[], 0.9).weakest.is_none());
    }

    #[test]
    fn side_takers_min_interval_is_the_exact_min_of_two_betas() {
        // Beta(1, 1) and Beta(2, 1) (no side, one agree): P(min <= x) = 1 - (1 - x)(1 - x²).
        let a = side_agreement(&[vc(0, 0, 3), vc(1, 0, 1)], 0.9);
        let cdf = |x: f64| 1.0 - (1.0 - x) * (1.0 - x * x);
        assert!((cdf(a.min_group.lower) - 0.05).abs() < 1e-9 && (cdf(a.min_group.upper) - 0.95).abs() < 1e-9);
    }

    #[test]
    fn one_group_min_interval_is_its_beta_interval() {
        // With one group, min = that group's rate, so both intervals are the Beta(3, 2) quantiles.
        let a = group_agreement(&[vc(2, 1, 3)], 0.9);
        assert!((a.min_group.lower - a.per_group[0].lower).abs() < 1e-12);
        assert!((a.min_group.upper - a.per_group[0].upper).abs() < 1e-12);
    }

    #[test]
    fn min_interval_by_hand_for_two_uniform_groups() {
        // Two unseen groups: p1, p2 ~ U(0,1); P(min <= x) = 1 - (1-x)², so the q-quantile is 1 - sqrt(1-q).
        let a = group_agreement(&[vc(0, 0, 0), vc(0, 0, 0)], 0.9);
        assert!((a.min_group.lower - (1.0 - 0.95f64.sqrt())).abs() < 1e-12);
        assert!((a.min_group.upper - (1.0 - 0.05f64.sqrt())).abs() < 1e-12);
        // The product of two uniforms: P(p1 p2 <= x) = x (1 - ln x); its 5% quantile solves that = 0.05.
        let x = invert_cdf(0.05, 0.01, |x| (x * (1.0 - x.ln()), -x.ln()));
        let mc = group_agreement_monte_carlo(&[vc(0, 0, 0), vc(0, 0, 0)], 0.9, 200_000, &mut sampler(4));
        assert!((mc.group_aware_consensus.lower - x).abs() < 0.001, "{} vs {x}", mc.group_aware_consensus.lower);
        // The saddlepoint approximation, within 1% of it in both tails.
        let y = invert_cdf(0.95, 0.5, |x| (x * (1.0 - x.ln()), -x.ln()));
        let gac = a.group_aware_consensus;
        assert!((gac.lower - x).abs() < 0.01 * x && (gac.upper - y).abs() < 0.01 * y, "{gac:?} vs [{x}, {y}]");
    }

    #[test]
    fn product_interval_by_hand_for_one_unseen_group_and_one_agree() {
        // p1 ~ U(0,1), p2 ~ Beta(2,1) (one agree of one): −ln p1 ~ Exp(1), −ln p2 ~ Exp(2), and
        // P(−ln(p1 p2) <= x) = (1 − e^−x)², so the product's q-quantile is 1 − √(1 − q).
        let gac = group_agreement(&[vc(0, 0, 0), vc(1, 0, 1)], 0.9).group_aware_consensus;
        let (lower, upper) = (1.0 - 0.95f64.sqrt(), 1.0 - 0.05f64.sqrt());
        assert!((gac.lower - lower).abs() < 1e-4 && (gac.upper - upper).abs() < 1e-3, "{gac:?} vs [{lower}, {upper}]");
    }

    #[test]
    fn saddlepoint_product_interval_matches_many_monte_carlo_draws() {
        // Few, moderate and many votes, lopsided and balanced, two to five groups.
        let cases: Vec<Vec<VoteCounts>> = vec![
            vec![vc(0, 0, 0), vc(1, 0, 1)],
            vec![vc(2, 1, 3), vc(0, 2, 2), vc(5, 0, 6)],
            vec![vc(8, 1, 10), vc(3, 2, 6), vc(0, 0, 0)],
            vec![vc(30, 10, 45), vc(12, 20, 35), vc(50, 1, 55)],
            vec![vc(90, 5, 100), vc(95, 2, 100), vc(99, 0, 100), vc(97, 1, 100)],
            vec![vc(700, 300, 1000), vc(600, 400, 1000)],
            vec![vc(20, 60, 90), vc(1, 80, 85), vc(40, 40, 90), vc(70, 10, 85), vc(10, 30, 50)],
            vec![vc(4000, 900, 5000), vc(2600, 2300, 5000), vc(4900, 50, 5000)],
        ];
        for (i, counts) in cases.iter().enumerate() {
            let ours = group_agreement(counts, 0.9).group_aware_consensus;
            let mc =
                group_agreement_monte_carlo(counts, 0.9, 200_000, &mut sampler(20 + i as u64)).group_aware_consensus;
            assert_eq!(ours.value, mc.value);
            for (a, b) in [(ours.lower, mc.lower), (ours.upper, mc.upper)] {
                assert!((a - b).abs() < 0.003, "case {i}: {ours:?} vs Monte Carlo {mc:?}");
            }
        }
    }

    #[test]
    fn one_group_product_interval_is_its_beta_interval() {
        let a = group_agreement(&[vc(12, 3, 20)], 0.9);
        assert_eq!(
            (a.group_aware_consensus.lower, a.group_aware_consensus.upper),
            (a.per_group[0].lower, a.per_group[0].upper)
        );
    }

    #[test]
    fn monte_carlo_min_agrees_with_the_exact_min_interval() {
        let counts = [vc(30, 10, 45), vc(12, 20, 35), vc(50, 1, 55)];
        let exact = group_agreement(&counts, 0.9).min_group;
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
        let few = group_agreement(&[vc(7, 3, 10), vc(6, 4, 10)], 0.9);
        let many = group_agreement(&[vc(700, 300, 1000), vc(600, 400, 1000)], 0.9);
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
