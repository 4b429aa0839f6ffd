//! The few distributions the bridging intervals need, implemented in-crate so that every draw comes
//! from commonground's own seeded [`Rng`] and every platform gives the same numbers: the log-gamma
//! function, the regularized incomplete beta function (the Beta CDF), Beta quantiles, and normal
//! (Marsaglia's polar method), Gamma (Marsaglia & Tsang 2000) and Beta sampling.
//!
//! The Beta CDF is Numerical Recipes' continued fraction (modified Lentz), evaluated on the side of
//! the mean where it converges fast. Quantiles are found by Newton's method safeguarded by a
//! bisection bracket, so they always converge and are accurate to about 1e-12.

use crate::rng::Rng;

/// `ln Γ(x)` for `x > 0`: the Lanczos approximation of Numerical Recipes (3rd ed., `gammln`,
/// g = 671/128, 14 terms), relative error below 1e-15. The coefficients are kept as published.
#[allow(clippy::excessive_precision)]
pub fn ln_gamma(x: f64) -> f64 {
    const COF: [f64; 14] = [
        57.156_235_665_862_923_5,
        -59.597_960_355_475_491_2,
        14.136_097_974_741_747_1,
        -0.491_913_816_097_620_199,
        0.339_946_499_848_118_887e-4,
        0.465_236_289_270_485_756e-4,
        -0.983_744_753_048_795_646e-4,
        0.158_088_703_224_912_494e-3,
        -0.210_264_441_724_104_883e-3,
        0.217_439_618_115_212_643e-3,
        -0.164_318_106_536_763_890e-3,
        0.844_182_239_838_527_433e-4,
        -0.261_908_384_015_814_087e-4,
        0.368_991_826_595_316_234e-5,
    ];
    let mut y = x;
    let tmp = x + 5.242_187_5;
    let tmp = (x + 0.5) * tmp.ln() - tmp;
    let mut ser = 0.999_999_999_999_997_092;
    for c in COF {
        y += 1.0;
        ser += c / y;
    }
    tmp + (2.506_628_274_631_000_5 * ser / x).ln()
}

/// `ln B(a, b)`.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The smallest magnitude a denominator of the continued fraction is let take (Lentz's method).
const FPMIN: f64 = f64::MIN_POSITIVE / f64::EPSILON;

/// `v`, or [`FPMIN`] where `v` is smaller in magnitude (a NaN is kept).
fn tiny(v: f64) -> f64 {
    if v.abs() < FPMIN {
        FPMIN
    } else {
        v
    }
}

/// The `L` lanes' starting state for [`beta_continued_fractions`]: per active lane `a + b`,
/// `a + 1`, `a − 1` and the first `d` (which is also the first `h`), as
/// [`beta_continued_fraction`] starts; an inactive lane's are 0, 0, 0 and 1.
#[allow(clippy::type_complexity)]
fn fraction_starts<const L: usize>(
    a: [f64; L],
    b: [f64; L],
    x: [f64; L],
    active: [bool; L],
) -> ([f64; L], [f64; L], [f64; L], [f64; L]) {
    let (mut qab, mut qap, mut qam, mut d) = ([0.0; L], [0.0; L], [0.0; L], [1.0; L]);
    for i in (0..L).filter(|&i| active[i]) {
        (qab[i], qap[i], qam[i]) = (a[i] + b[i], a[i] + 1.0, a[i] - 1.0);
        d[i] = 1.0 / tiny(1.0 - qab[i] * x[i] / qap[i]);
    }
    (qab, qap, qam, d)
}

/// [`beta_continued_fraction`] of `L` lanes `(a[i], b[i], x[i])` at once (only the `active`
/// ones), each lane the very number the one-at-a-time function gives: the same operations in the
/// same order, a lane left alone once it has converged.
///
/// Why: each term of the fraction waits on the previous one's two divisions, so one fraction
/// keeps a core's divider mostly idle; several independent fractions stepped side by side fill
/// those waits (a quantile table's searches run in lanes, [`Beta::quantiles_together`]). On
/// x86-64 an even number of lanes is stepped two to an SSE2 register
/// ([`beta_continued_fractions_sse2`]): each term is six divisions, and one packed division
/// costs the divider about what one scalar division does.
fn beta_continued_fractions<const L: usize>(a: [f64; L], b: [f64; L], x: [f64; L], active: [bool; L]) -> [f64; L] {
    #[cfg(target_arch = "x86_64")]
    if L % 2 == 0 {
        return beta_continued_fractions_sse2(a, b, x, active);
    }
    beta_continued_fractions_scalar(a, b, x, active)
}

/// [`beta_continued_fractions`] with the lanes two to a register: every packed operation is the
/// IEEE operation each lane's scalar code performs (add, multiply, divide, compare and the sign
/// bit's `and`/`xor`, all exactly rounded or exact), in the same order, so each lane's number is
/// the scalar one bit for bit. A converged lane keeps its `h` (its register mate may go on);
/// its `c` and `d` go on being computed and are never read again. `L` must be even.
#[cfg(target_arch = "x86_64")]
fn beta_continued_fractions_sse2<const L: usize>(a: [f64; L], b: [f64; L], x: [f64; L], active: [bool; L]) -> [f64; L] {
    use std::arch::x86_64::*;
    assert!(L % 2 == 0, "lanes are stepped in pairs");
    let (qab, qap, qam, mut d) = fraction_starts(a, b, x, active);
    let (mut c, mut h) = ([1.0; L], d);
    let mut running = active;
    // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are always available;
    // every load and store is of two lanes `p, p + 1 < L` of a `[f64; L]`.
    unsafe {
        let one = _mm_set1_pd(1.0);
        let fpmin = _mm_set1_pd(FPMIN);
        let eps = _mm_set1_pd(f64::EPSILON);
        let sign = _mm_set1_pd(-0.0);
        // `f64::abs(v) < FPMIN ? FPMIN : v`, as the scalar `tiny` (a NaN compares false).
        let tiny = |v: __m128d| {
            let small = _mm_cmplt_pd(_mm_andnot_pd(sign, v), fpmin);
            _mm_or_pd(_mm_and_pd(small, fpmin), _mm_andnot_pd(small, v))
        };
        for m in 1..100_000 {
            if !running.contains(&true) {
                break;
            }
            let m = m as f64;
            let mv = _mm_set1_pd(m);
            let m2 = _mm_set1_pd(2.0 * m);
            for p in (0..L).step_by(2) {
                if !running[p] && !running[p + 1] {
                    continue;
                }
                let load = |v: &[f64; L]| _mm_loadu_pd(v.as_ptr().add(p));
                let (av, bv, xv) = (load(&a), load(&b), load(&x));
                let (qabv, qapv, qamv) = (load(&qab), load(&qap), load(&qam));
                let (mut cv, mut dv, hv) = (load(&c), load(&d), load(&h));
                // m (b − m) x / ((qam + 2m)(a + 2m))
                let aa = _mm_div_pd(
                    _mm_mul_pd(_mm_mul_pd(mv, _mm_sub_pd(bv, mv)), xv),
                    _mm_mul_pd(_mm_add_pd(qamv, m2), _mm_add_pd(av, m2)),
                );
                dv = _mm_div_pd(one, tiny(_mm_add_pd(one, _mm_mul_pd(aa, dv))));
                cv = tiny(_mm_add_pd(one, _mm_div_pd(aa, cv)));
                let mut next = _mm_mul_pd(hv, _mm_mul_pd(dv, cv));
                // −(a + m)(qab + m) x / ((a + 2m)(qap + 2m))
                let aa = _mm_div_pd(
                    _mm_mul_pd(_mm_mul_pd(_mm_xor_pd(sign, _mm_add_pd(av, mv)), _mm_add_pd(qabv, mv)), xv),
                    _mm_mul_pd(_mm_add_pd(av, m2), _mm_add_pd(qapv, m2)),
                );
                dv = _mm_div_pd(one, tiny(_mm_add_pd(one, _mm_mul_pd(aa, dv))));
                cv = tiny(_mm_add_pd(one, _mm_div_pd(aa, cv)));
                let del = _mm_mul_pd(dv, cv);
                next = _mm_mul_pd(next, del);
                // Lanes not running keep their h: all-ones where running, as a mask.
                let run = _mm_castsi128_pd(_mm_set_epi64x(-(running[p + 1] as i64), -(running[p] as i64)));
                let hv = _mm_or_pd(_mm_and_pd(run, next), _mm_andnot_pd(run, hv));
                let done = _mm_movemask_pd(_mm_cmple_pd(_mm_andnot_pd(sign, _mm_sub_pd(del, one)), eps));
                _mm_storeu_pd(c.as_mut_ptr().add(p), cv);
                _mm_storeu_pd(d.as_mut_ptr().add(p), dv);
                _mm_storeu_pd(h.as_mut_ptr().add(p), hv);
                running[p] &= done & 1 == 0;
                running[p + 1] &= done & 2 == 0;
            }
        }
    }
    h
}

/// [`beta_continued_fractions`] one lane after another in scalar code: the path off x86-64 or
/// with an odd number of lanes, and the reference the packed path is tested against.
fn beta_continued_fractions_scalar<const L: usize>(
    a: [f64; L],
    b: [f64; L],
    x: [f64; L],
    active: [bool; L],
) -> [f64; L] {
    let (qab, qap, qam, mut d) = fraction_starts(a, b, x, active);
    let (mut c, mut h) = ([1.0; L], d);
    let mut running = active;
    for m in 1..100_000 {
        if !running.contains(&true) {
            break;
        }
        let m = m as f64;
        let m2 = 2.0 * m;
        for i in 0..L {
            if !running[i] {
                continue;
            }
            let aa = m * (b[i] - m) * x[i] / ((qam[i] + m2) * (a[i] + m2));
            d[i] = 1.0 / tiny(1.0 + aa * d[i]);
            c[i] = tiny(1.0 + aa / c[i]);
            h[i] *= d[i] * c[i];
            let aa = -(a[i] + m) * (qab[i] + m) * x[i] / ((a[i] + m2) * (qap[i] + m2));
            d[i] = 1.0 / tiny(1.0 + aa * d[i]);
            c[i] = tiny(1.0 + aa / c[i]);
            let del = d[i] * c[i];
            h[i] *= del;
            if (del - 1.0).abs() <= f64::EPSILON {
                running[i] = false;
            }
        }
    }
    h
}

/// The continued fraction of the incomplete beta function (Numerical Recipes `betacf`).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / tiny(1.0 - qab * x / qap);
    let mut h = d;
    // Converges in O(sqrt(max(a, b))) terms on the side of the mean where it is used.
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / tiny(1.0 + aa * d);
        c = tiny(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / tiny(1.0 + aa * d);
        c = tiny(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    h
}

/// The Beta(a, b) distribution (`a, b > 0`), with its log-normaliser computed once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beta {
    pub a: f64,
    pub b: f64,
    ln_norm: f64,
}

impl Beta {
    /// The posterior of an agree rate after `agree` agrees among `seen` votes, from a uniform
    /// prior: `Beta(agree + 1, seen - agree + 1)`. Its mean is Polis's `(A + 1) / (S + 2)`.
    pub fn posterior(agree: u32, seen: u32) -> Beta {
        Beta::new(agree as f64 + 1.0, seen.saturating_sub(agree) as f64 + 1.0)
    }

    pub fn new(a: f64, b: f64) -> Beta {
        Beta { a, b, ln_norm: ln_beta(a, b) }
    }

    pub fn mean(&self) -> f64 {
        self.a / (self.a + self.b)
    }

    /// Two numbers the median lies between, `(low, high)`, for `a, b >= 1` (every vote-count
    /// posterior): the mode and the mean (Groeneveld & Meeden 1977: for a unimodal Beta the median
    /// lies between them). A bound on a tail beyond the median is beyond them too, which decides
    /// most comparisons of a bound with a line without even the CDF.
    pub fn median_bracket(&self) -> (f64, f64) {
        let mean = self.mean();
        let mode = if self.a + self.b > 2.0 { (self.a - 1.0) / (self.a + self.b - 2.0) } else { mean };
        (mean.min(mode), mean.max(mode))
    }

    /// The density at `x` (0 outside the open unit interval).
    pub fn pdf(&self, x: f64) -> f64 {
        if x <= 0.0 || x >= 1.0 {
            return 0.0;
        }
        self.pdf_from_logs(x.ln(), (1.0 - x).ln())
    }

    /// The CDF, `I_x(a, b)` (the regularized incomplete beta function).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if x >= 1.0 {
            return 1.0;
        }
        self.cdf_from_logs(x, x.ln(), (1.0 - x).ln())
    }

    /// The CDF and the density at `x` together, bit for bit what [`Beta::cdf`] and [`Beta::pdf`]
    /// give, with `ln x` and `ln(1 - x)` taken once for both: every step of a quantile search
    /// needs both.
    pub fn cdf_and_pdf(&self, x: f64) -> (f64, f64) {
        self.cdf_and_pdf_with_logs(x, x.ln(), (1.0 - x).ln())
    }

    /// [`Beta::cdf_and_pdf`] at `x` given `ln x` and `ln(1 − x)` (unused outside the open unit
    /// interval), bit for bit: the CDF of the lowest of several groups' rates
    /// ([`crate::bridging::min_quantile`]) evaluates every group's CDF at one point, whose
    /// logarithms are then taken once for all of them.
    pub(crate) fn cdf_and_pdf_with_logs(&self, x: f64, ln_x: f64, ln_1mx: f64) -> (f64, f64) {
        if x <= 0.0 {
            return (0.0, 0.0);
        }
        if x >= 1.0 {
            return (1.0, 0.0);
        }
        (self.cdf_from_logs(x, ln_x, ln_1mx), self.pdf_from_logs(ln_x, ln_1mx))
    }

    /// [`Beta::cdf_and_pdf_with_logs`] of every one of `betas` at the same `x`, into `out`, bit
    /// for bit, their continued fractions run side by side four at a time
    /// ([`beta_continued_fractions`]): the CDF of the lowest of several groups' rates needs all
    /// of them at every step of its search.
    pub(crate) fn cdfs_and_pdfs_with_logs(betas: &[Beta], x: f64, ln_x: f64, ln_1mx: f64, out: &mut [(f64, f64)]) {
        const LANES: usize = 4;
        for (betas, out) in betas.chunks(LANES).zip(out.chunks_mut(LANES)) {
            if x <= 0.0 || x >= 1.0 {
                betas.iter().zip(out.iter_mut()).for_each(|(b, o)| *o = b.cdf_and_pdf_with_logs(x, ln_x, ln_1mx));
                continue;
            }
            let fractions: [Option<CdfFraction>; LANES] =
                std::array::from_fn(|i| betas.get(i).map(|b| b.cdf_fraction(x, ln_x, ln_1mx)));
            let terms = fractions.map(|f| f.map_or((1.0, 1.0, 0.5), |f| f.terms));
            let cf = beta_continued_fractions(
                terms.map(|t| t.0),
                terms.map(|t| t.1),
                terms.map(|t| t.2),
                fractions.map(|f| f.is_some()),
            );
            for (i, (b, o)) in betas.iter().zip(out.iter_mut()).enumerate() {
                let cdf = fractions[i].map_or(0.0, |f| f.finish(cf[i]));
                *o = (cdf, b.pdf_from_logs(ln_x, ln_1mx));
            }
        }
    }

    /// The density inside the open unit interval, from `ln x` and `ln(1 - x)`.
    fn pdf_from_logs(&self, ln_x: f64, ln_1mx: f64) -> f64 {
        ((self.a - 1.0) * ln_x + (self.b - 1.0) * ln_1mx - self.ln_norm).exp()
    }

    /// The CDF inside the open unit interval, from `ln x` and `ln(1 - x)`.
    fn cdf_from_logs(&self, x: f64, ln_x: f64, ln_1mx: f64) -> f64 {
        let fraction = self.cdf_fraction(x, ln_x, ln_1mx);
        let (a, b, x) = fraction.terms;
        fraction.finish(beta_continued_fraction(a, b, x))
    }

    /// The CDF inside the open unit interval up to its continued fraction: which side of the mean
    /// it is evaluated on, and the factor in front.
    fn cdf_fraction(&self, x: f64, ln_x: f64, ln_1mx: f64) -> CdfFraction {
        let (a, b) = (self.a, self.b);
        let front = (a * ln_x + b * ln_1mx - self.ln_norm).exp();
        if x < (a + 1.0) / (a + b + 2.0) {
            CdfFraction { front, terms: (a, b, x), upper_tail: false }
        } else {
            CdfFraction { front, terms: (b, a, 1.0 - x), upper_tail: true }
        }
    }

    /// The `q`-quantile (`0 <= q <= 1`): the x with `I_x(a, b) = q`, to about 1e-12.
    pub fn quantile(&self, q: f64) -> f64 {
        invert_cdf(q, self.quantile_start(q), |x| self.cdf_and_pdf(x))
    }

    /// Where [`Beta::quantile`]'s search starts: the normal approximation.
    fn quantile_start(&self, q: f64) -> f64 {
        let (a, b) = (self.a, self.b);
        let sd = (a * b / ((a + b).powi(2) * (a + b + 1.0))).sqrt();
        self.mean() + normal_quantile(q.clamp(1e-12, 1.0 - 1e-12)) * sd
    }

    /// [`Beta::quantile`] of each lane `(beta, q)`, bit for bit, the `L` searches stepped side by
    /// side so that their CDFs' continued fractions run together
    /// ([`beta_continued_fractions`]): the same Newton steps from the same starts, each lane
    /// stopping where its own search stops. A table of many quantiles costs about half as much.
    pub(crate) fn quantiles_together<const L: usize>(lanes: [(Beta, f64); L]) -> [f64; L] {
        let mut searches: [Option<NewtonSearch>; L] = [None; L];
        let mut found = [0.0; L];
        for (i, &(beta, q)) in lanes.iter().enumerate() {
            match NewtonSearch::new(q, beta.quantile_start(q)) {
                Ok(search) => searches[i] = Some(search),
                Err(end) => found[i] = end,
            }
        }
        for _ in 0..NEWTON_STEPS {
            if searches.iter().all(Option::is_none) {
                break;
            }
            // Each lane's CDF and density at its point, as `cdf_and_pdf` gives them.
            let mut values = [(0.0, 0.0); L];
            let mut fractions: [Option<CdfFraction>; L] = [None; L];
            let (mut a, mut b, mut x) = ([1.0; L], [1.0; L], [0.5; L]);
            for (i, search) in searches.iter().enumerate() {
                let Some(search) = search else { continue };
                let (beta, at) = (lanes[i].0, search.x);
                if at <= 0.0 || at >= 1.0 {
                    values[i] = beta.cdf_and_pdf(at);
                } else {
                    let (ln_x, ln_1mx) = (at.ln(), (1.0 - at).ln());
                    let fraction = beta.cdf_fraction(at, ln_x, ln_1mx);
                    (a[i], b[i], x[i]) = fraction.terms;
                    values[i].1 = beta.pdf_from_logs(ln_x, ln_1mx);
                    fractions[i] = Some(fraction);
                }
            }
            let cf = beta_continued_fractions(a, b, x, fractions.map(|f| f.is_some()));
            for (i, fraction) in fractions.iter().enumerate() {
                if let Some(fraction) = fraction {
                    values[i].0 = fraction.finish(cf[i]);
                }
            }
            for (i, slot) in searches.iter_mut().enumerate() {
                if let Some(search) = slot {
                    if let Some(end) = search.step(values[i].0, values[i].1) {
                        found[i] = end;
                        *slot = None;
                    }
                }
            }
        }
        for (i, search) in searches.iter().enumerate() {
            if let Some(search) = search {
                found[i] = search.x;
            }
        }
        found
    }

    /// How [`Beta::quantile`]`(q)` compares with `x`, exactly as comparing the quantile itself
    /// would say, mostly from one CDF evaluation instead of a Newton search: a flag that only
    /// asks whether a bound is below a line (the subgroup veto, what was merged, the uncertain
    /// statements) needs no more when the CDF at the line is clearly off `q`. Only when it is
    /// within [`QUANTILE_DECISION_MARGIN`] of `q` (relative to the nearer tail) is the quantile
    /// computed and compared.
    ///
    /// Why the margin decides safely: the CDF is increasing, so `F(x) < q` puts the true quantile
    /// above `x`, and the computed quantile is within its Newton tolerance (`F` to about 1e-11 at
    /// a million votes, far less with fewer) of the true one; a margin many orders above both
    /// errors leaves no case where the computed quantile lands on the other side of `x`.
    pub fn compare_quantile(&self, q: f64, x: f64) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        if q > 0.0 && q < 1.0 && x > 0.0 && x < 1.0 {
            let margin = QUANTILE_DECISION_MARGIN * q.min(1.0 - q);
            let cdf = self.cdf(x);
            if cdf < q - margin {
                return Ordering::Greater;
            }
            if cdf > q + margin {
                return Ordering::Less;
            }
        }
        // As `<` and `>` on the numbers compare them (not `total_cmp`, which orders -0 below 0).
        self.quantile(q).partial_cmp(&x).unwrap_or(Ordering::Equal)
    }

    /// [`Beta::quantile`]`(q)`, or `None` when it is above `x` (as the computed quantile would
    /// be), told from the CDF at `x` when that is clear (see [`Beta::compare_quantile`]): the
    /// search for the lowest of many bounds computes only the bounds that can be the lowest.
    pub fn quantile_unless_above(&self, q: f64, x: f64) -> Option<f64> {
        if q > 0.0 && q < 1.0 && x > 0.0 && x < 1.0 {
            let margin = QUANTILE_DECISION_MARGIN * q.min(1.0 - q);
            if self.cdf(x) < q - margin {
                return None;
            }
        }
        let value = self.quantile(q);
        (value <= x).then_some(value)
    }
}

/// How far from `q` (times the nearer tail, `min(q, 1 − q)`) the CDF at a point must be for
/// [`Beta::compare_quantile`] to decide without the quantile: far above the CDF's rounding (about
/// 1e-10 relative with a million votes) and the quantile's Newton tolerance, and still small
/// enough that almost every comparison a flag makes is decided by the CDF alone.
pub const QUANTILE_DECISION_MARGIN: f64 = 1e-6;

/// The x in [0, 1] where an increasing `cdf` on [0, 1] equals `q`, by Newton's method from `start`
/// inside a bisection bracket that every evaluation narrows, so it converges even where Newton
/// alone would not. `cdf_and_density(x)` returns the CDF and its derivative at x.
pub fn invert_cdf(q: f64, start: f64, mut cdf_and_density: impl FnMut(f64) -> (f64, f64)) -> f64 {
    let mut search = match NewtonSearch::new(q, start) {
        Ok(search) => search,
        Err(end) => return end,
    };
    for _ in 0..NEWTON_STEPS {
        let (cdf, density) = cdf_and_density(search.x);
        if let Some(end) = search.step(cdf, density) {
            return end;
        }
    }
    search.x
}

/// The most Newton steps [`invert_cdf`] takes (the bracket halves at worst, so far more than
/// enough).
const NEWTON_STEPS: usize = 200;

/// One search of [`invert_cdf`]: the point and the bracket, advanced one CDF evaluation at a time,
/// so that [`Beta::quantiles_together`] can step several side by side exactly as `invert_cdf`
/// steps one.
#[derive(Debug, Clone, Copy)]
struct NewtonSearch {
    q: f64,
    lo: f64,
    hi: f64,
    x: f64,
}

impl NewtonSearch {
    /// The search for `q` from `start`, or its answer when `q` is 0 or 1.
    fn new(q: f64, start: f64) -> Result<NewtonSearch, f64> {
        if q <= 0.0 {
            return Err(0.0);
        }
        if q >= 1.0 {
            return Err(1.0);
        }
        Ok(NewtonSearch { q, lo: 0.0, hi: 1.0, x: if start > 0.0 && start < 1.0 { start } else { 0.5 } })
    }

    /// One step from the CDF and density at `self.x`: the answer when the search stops there.
    fn step(&mut self, cdf: f64, density: f64) -> Option<f64> {
        let x = self.x;
        let f = cdf - self.q;
        if f == 0.0 {
            return Some(x);
        }
        if f < 0.0 {
            self.lo = x;
        } else {
            self.hi = x;
        }
        let (lo, hi) = (self.lo, self.hi);
        let newton = x - f / density;
        let next = if density > 0.0 && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        if (next - x).abs() <= 1e-14 * x.max(1e-3) || hi - lo <= 1e-15 {
            return Some(next);
        }
        self.x = next;
        None
    }
}

/// A Beta CDF inside the open unit interval before its continued fraction is known:
/// `front · fraction(terms) / a` below the mean's side, `1 − front · fraction(terms) / b` above.
#[derive(Debug, Clone, Copy)]
struct CdfFraction {
    front: f64,
    /// `(a, b, x)` of the fraction: the distribution's own, or swapped with `1 − x` above.
    terms: (f64, f64, f64),
    upper_tail: bool,
}

impl CdfFraction {
    /// The CDF, given the continued fraction of `terms`.
    fn finish(&self, fraction: f64) -> f64 {
        let (a, _, _) = self.terms;
        if self.upper_tail {
            1.0 - self.front * fraction / a
        } else {
            self.front * fraction / a
        }
    }
}

/// The standard normal quantile, by Acklam's rational approximation (relative error < 1.2e-9):
/// only a starting point for [`Beta::quantile`], whose Newton steps then polish the result.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The digamma and trigamma functions `ψ(x)` and `ψ'(x)` for `x > 0`: the recurrences
/// `ψ(x) = ψ(x + 1) − 1/x` and `ψ'(x) = ψ'(x + 1) + 1/x²` up to x ≥ 10, then the asymptotic series
/// (Abramowitz & Stegun 6.3.18, 6.4.12), absolute error below 1e-14. For `p ~ Beta(a, b)`,
/// `E[ln p] = ψ(a) − ψ(a + b)` and `Var[ln p] = ψ'(a) − ψ'(a + b)`.
pub fn digamma_trigamma(x: f64) -> (f64, f64) {
    let (mut x, mut d_shift, mut t_shift) = (x, 0.0, 0.0);
    while x < 10.0 {
        let inv = 1.0 / x;
        d_shift -= inv;
        t_shift += inv * inv;
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // Bernoulli-number series in 1/x².
    let digamma = x.ln()
        - 0.5 * inv
        - inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 * (1.0 / 252.0 - inv2 * (1.0 / 240.0 - inv2 / 132.0))));
    let trigamma = inv
        + 0.5 * inv2
        + inv
            * inv2
            * (1.0 / 6.0 - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 * (1.0 / 30.0 - inv2 * 5.0 / 66.0))));
    (digamma + d_shift, trigamma + t_shift)
}

/// Draws from the normal, Gamma and Beta distributions, from one seeded [`Rng`].
#[derive(Debug, Clone)]
pub struct Sampler {
    rng: Rng,
    /// The second normal of the last polar pair, not yet used.
    spare: Option<f64>,
}

impl Sampler {
    pub fn new(rng: Rng) -> Sampler {
        Sampler { rng, spare: None }
    }

    /// A standard normal draw, by Marsaglia's polar method: two per accepted pair, no trigonometry.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.rng.uniform() - 1.0;
            let v = 2.0 * self.rng.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let scale = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * scale);
                return u * scale;
            }
        }
    }

    /// A Gamma(shape, 1) draw, `shape > 0`, by Marsaglia & Tsang (2000), "A simple method for
    /// generating gamma variables": a squeeze test on a transformed normal, accepting about 96% or
    /// more of the candidates for shape >= 1, most without a logarithm; shape < 1 is boosted to
    /// shape + 1 and scaled by `U^(1/shape)`.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let u = 1.0 - self.rng.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let (x, v) = loop {
                let x = self.normal();
                let v = 1.0 + c * x;
                if v > 0.0 {
                    break (x, v * v * v);
                }
            };
            let u = self.rng.uniform();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 {
                return d * v;
            }
            if u > 0.0 && u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// A Beta(a, b) draw, as `X / (X + Y)` with `X ~ Gamma(a)`, `Y ~ Gamma(b)`.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `I_x(a, b)` for integer a, b as a binomial tail: `P(Binomial(a + b - 1, x) >= a)`, an
    /// independent reference computed term by term.
    fn binomial_tail(a: u32, b: u32, x: f64) -> f64 {
        let n = a + b - 1;
        let ln_fact = ln_factorials(n);
        (a..=n)
            .map(|j| {
                let ln_choose = ln_fact[n as usize] - ln_fact[j as usize] - ln_fact[(n - j) as usize];
                (ln_choose + j as f64 * x.ln() + (n - j) as f64 * (1.0 - x).ln()).exp()
            })
            .sum()
    }

    fn ln_factorial(n: u32) -> f64 {
        ln_factorials(n)[n as usize]
    }

    /// `ln 0!, ln 1!, ..., ln n!`, summed with Kahan compensation so that large n stay accurate.
    fn ln_factorials(n: u32) -> Vec<f64> {
        let mut out = vec![0.0; n as usize + 1];
        let (mut sum, mut carry) = (0.0f64, 0.0f64);
        for k in 1..=n as usize {
            let y = (k as f64).ln() - carry;
            let t = sum + y;
            carry = (t - sum) - y;
            sum = t;
            out[k] = sum;
        }
        out
    }

    #[test]
    fn ln_gamma_matches_factorials_and_the_half_integer() {
        for n in 1..60u32 {
            let exact = ln_factorial(n - 1);
            assert!((ln_gamma(n as f64) - exact).abs() <= 1e-13 * exact.abs().max(1.0), "n = {n}");
        }
        // Γ(1/2) = √π; Γ(5/2) = 3√π/4.
        let ln_sqrt_pi = 0.5 * std::f64::consts::PI.ln();
        assert!((ln_gamma(0.5) - ln_sqrt_pi).abs() < 1e-14);
        assert!((ln_gamma(2.5) - (0.75f64.ln() + ln_sqrt_pi)).abs() < 1e-14);
    }

    #[test]
    fn beta_cdf_matches_closed_forms() {
        for &x in &[0.001, 0.05, 0.3, 0.5, 0.77, 0.999] {
            // I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b; I_x(1/2, 1/2) = (2/π) asin(√x).
            assert!((Beta::new(3.5, 1.0).cdf(x) - x.powf(3.5)).abs() < 1e-13);
            assert!((Beta::new(1.0, 7.0).cdf(x) - (1.0 - (1.0 - x).powi(7))).abs() < 1e-13);
            let arcsine = 2.0 / std::f64::consts::PI * x.sqrt().asin();
            assert!((Beta::new(0.5, 0.5).cdf(x) - arcsine).abs() < 1e-12, "x = {x}");
        }
    }

    #[test]
    fn beta_cdf_matches_binomial_tails_for_vote_count_posteriors() {
        for &(a, b) in &[(1, 1), (2, 5), (13, 29), (40, 3), (151, 97), (600, 410)] {
            for &x in &[0.01, 0.1, 0.35, 0.5, 0.6, 0.9, 0.99] {
                let reference = binomial_tail(a, b, x);
                let ours = Beta::new(a as f64, b as f64).cdf(x);
                assert!((ours - reference).abs() < 1e-11, "Beta({a},{b}) at {x}: {ours} vs {reference}");
            }
        }
    }

    #[test]
    fn cdf_and_pdf_together_are_cdf_and_pdf_to_the_last_bit() {
        for (a, b) in [(1.0, 1.0), (3.0, 8.0), (41.0, 2.0), (0.5, 0.5), (120.0, 95.0)] {
            let beta = Beta::new(a, b);
            for x in [-0.1, 0.0, 1e-9, 0.013, 0.25, 0.5, 0.77, 0.999_999, 1.0, 1.5] {
                let (cdf, pdf) = beta.cdf_and_pdf(x);
                assert_eq!(
                    (cdf.to_bits(), pdf.to_bits()),
                    (beta.cdf(x).to_bits(), beta.pdf(x).to_bits()),
                    "{a} {b} {x}"
                );
                let (cdf, pdf) = beta.cdf_and_pdf_with_logs(x, x.ln(), (1.0 - x).ln());
                assert_eq!((cdf.to_bits(), pdf.to_bits()), (beta.cdf(x).to_bits(), beta.pdf(x).to_bits()));
            }
        }
    }

    #[test]
    fn quantiles_found_side_by_side_are_each_search_alone_to_the_last_bit() {
        // Lanes that stop after different numbers of steps and fractions of different lengths
        // (a handful of votes beside thousands), both tails, q of 0 and 1, a start outside (0, 1).
        let posteriors = [(0, 0), (0, 1), (1, 1), (3, 40), (40, 3), (17, 30), (999, 2000), (5000, 10_000), (1, 60_000)]
            .map(|(s, n)| Beta::posterior(s, n));
        let qs = [0.05, 0.95, 0.5, 1e-9, 0.0, 1.0, 0.025 / 300.0, 1.0 - 0.025 / 300.0];
        let mut lanes = Vec::new();
        for beta in posteriors.iter().chain(&[Beta::new(0.5, 0.5), Beta::new(1e-3, 4.0)]) {
            for &q in &qs {
                lanes.push((*beta, q));
            }
        }
        // Every window of four consecutive lanes, so that each lane runs beside many others.
        for start in 0..lanes.len() - 3 {
            let four: [(Beta, f64); 4] = std::array::from_fn(|i| lanes[start + i]);
            let together = Beta::quantiles_together(four);
            for (i, (beta, q)) in four.iter().enumerate() {
                assert_eq!(together[i].to_bits(), beta.quantile(*q).to_bits(), "{beta:?} q = {q}");
            }
        }
        assert_eq!(Beta::quantiles_together::<0>([]), [0.0f64; 0]);
    }

    #[test]
    fn continued_fractions_in_lanes_are_each_fraction_alone_to_the_last_bit() {
        // Vote-count posteriors from one vote to tens of thousands, both sides of the mean, lanes
        // converging at different terms, inactive lanes among them, and degenerate terms (x at
        // the edges, a tiny denominator) that exercise `tiny`.
        let mut rng = Rng::new(13);
        let mut draw = || {
            let a = (rng.below(20_000) + 1) as f64;
            let b_max = if rng.below(2) == 0 { 40 } else { 20_000 };
            let b = (rng.below(b_max) + 1) as f64;
            let x = match rng.below(6) {
                0 => rng.uniform() * 1e-6,
                1 => 1.0 - rng.uniform() * 1e-6,
                _ => (a + 1.0) / (a + b + 2.0) * (0.5 + rng.uniform()),
            };
            (a, b, x.min(0.999_999), rng.below(5) != 0)
        };
        for _ in 0..2_000 {
            let lanes: [(f64, f64, f64, bool); 8] = std::array::from_fn(|_| draw());
            let (a, b, x, active) = (lanes.map(|l| l.0), lanes.map(|l| l.1), lanes.map(|l| l.2), lanes.map(|l| l.3));
            let scalar = beta_continued_fractions_scalar(a, b, x, active);
            let stepped = beta_continued_fractions(a, b, x, active);
            let four = beta_continued_fractions::<4>(
                std::array::from_fn(|i| a[i]),
                std::array::from_fn(|i| b[i]),
                std::array::from_fn(|i| x[i]),
                std::array::from_fn(|i| active[i]),
            );
            for i in 0..8 {
                let alone = if active[i] { beta_continued_fraction(a[i], b[i], x[i]) } else { 1.0 };
                assert_eq!(scalar[i].to_bits(), alone.to_bits(), "{:?}", lanes[i]);
                assert_eq!(stepped[i].to_bits(), alone.to_bits(), "{:?}", lanes[i]);
                if i < 4 {
                    assert_eq!(four[i].to_bits(), alone.to_bits(), "{:?}", lanes[i]);
                }
            }
        }
        let odd = beta_continued_fractions([3.0, 50.0, 7.0], [8.0, 2.0, 7.0], [0.2, 0.9, 0.5], [true; 3]);
        for (i, (a, b, x)) in [(3.0, 8.0, 0.2), (50.0, 2.0, 0.9), (7.0, 7.0, 0.5)].into_iter().enumerate() {
            assert_eq!(odd[i].to_bits(), beta_continued_fraction(a, b, x).to_bits());
        }
    }

    #[test]
    fn cdfs_side_by_side_are_each_cdf_alone_to_the_last_bit() {
        // One to nine distributions (a short last group of lanes), both sides of each mean.
        let all = [
            (1.0, 1.0),
            (3.0, 8.0),
            (41.0, 2.0),
            (0.5, 0.5),
            (120.0, 95.0),
            (1.0, 3000.0),
            (2.0, 2.0),
            (700.0, 1.0),
            (9.0, 9.0),
        ]
        .map(|(a, b)| Beta::new(a, b));
        for k in 1..=all.len() {
            for x in [-0.1, 0.0, 1e-9, 0.013, 0.25, 0.5, 0.77, 0.999_999, 1.0] {
                let mut out = vec![(f64::NAN, f64::NAN); k];
                Beta::cdfs_and_pdfs_with_logs(&all[..k], x, x.ln(), (1.0 - x).ln(), &mut out);
                for (beta, (cdf, pdf)) in all[..k].iter().zip(out) {
                    let (alone_cdf, alone_pdf) = beta.cdf_and_pdf_with_logs(x, x.ln(), (1.0 - x).ln());
                    assert_eq!(
                        (cdf.to_bits(), pdf.to_bits()),
                        (alone_cdf.to_bits(), alone_pdf.to_bits()),
                        "{beta:?} {x}"
                    );
                }
            }
        }
    }

    #[test]
    fn beta_quantiles_invert_the_cdf_and_match_known_values() {
        // Known: Beta(1,1) is uniform; Beta(a,1) quantile is q^(1/a); Beta(1/2,1/2) is sin²(πq/2).
        for &q in &[0.05, 0.5, 0.95] {
            assert!((Beta::new(1.0, 1.0).quantile(q) - q).abs() < 1e-12);
            assert!((Beta::new(4.0, 1.0).quantile(q) - q.powf(0.25)).abs() < 1e-12);
            let s = (std::f64::consts::PI * q / 2.0).sin();
            assert!((Beta::new(0.5, 0.5).quantile(q) - s * s).abs() < 1e-12);
        }
        // Symmetric posteriors have median 1/2, however many votes.
        assert!((Beta::posterior(5000, 10000).quantile(0.5) - 0.5).abs() < 1e-12);
        // Vote-count posteriors: the quantile's binomial tail is the requested probability.
        for &(agree, seen) in &[(0, 0), (0, 10), (3, 4), (12, 40), (90, 100), (700, 1500), (20000, 50000)] {
            let post = Beta::posterior(agree, seen);
            for &q in &[0.05, 0.25, 0.5, 0.95] {
                let x = post.quantile(q);
                let back = binomial_tail(agree + 1, seen - agree + 1, x);
                assert!((back - q).abs() < 1e-9, "posterior({agree},{seen}) q={q}: x={x} gives {back}");
            }
        }
        // A hand-checkable case: Beta(2, 1) has CDF x², so its 5% quantile is √0.05.
        assert!((Beta::posterior(1, 1).quantile(0.05) - 0.05f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_quantile_compared_from_the_cdf_is_compared_as_the_computed_quantile_would_be() {
        // Vote-count posteriors from none to 50,000 votes, at the levels the flags use (the
        // subgroup veto's 95%, a Bonferroni tail over a thousand statements), against points far
        // from the computed quantile, near it, and on it and its neighbouring floats, where only
        // the computed quantile can decide.
        let next =
            |x: f64, up: bool| if up { f64::from_bits(x.to_bits() + 1) } else { f64::from_bits(x.to_bits() - 1) };
        for &(s, n) in &[(0, 0), (0, 7), (3, 4), (12, 40), (90, 100), (700, 1500), (20_000, 50_000)] {
            let b = Beta::posterior(s, n);
            for &q in &[2.5e-5, 0.05, 0.5, 0.95, 1.0 - 2.5e-5] {
                let exact = b.quantile(q);
                let near = [exact, next(exact, true), next(exact, false), exact * (1.0 + 1e-9), exact * (1.0 - 1e-9)];
                for x in [0.0, 1e-9, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0].into_iter().chain(near) {
                    let by_value = exact.partial_cmp(&x).unwrap();
                    assert_eq!(b.compare_quantile(q, x), by_value, "posterior({s}, {n}) q = {q} x = {x}");
                    assert_eq!(b.quantile_unless_above(q, x), (exact <= x).then_some(exact), "({s}, {n}) {q} {x}");
                }
            }
        }
    }

    #[test]
    fn the_median_of_a_vote_count_posterior_lies_between_its_mode_and_mean() {
        // The median computed by bisection on the CDF (an independent search), for posteriors
        // lopsided both ways, balanced, tiny and large.
        for &(s, n) in &[(0, 0), (0, 1), (1, 1), (0, 9), (9, 9), (3, 10), (7, 10), (50, 100), (2, 900), (899, 900)] {
            let b = Beta::posterior(s, n);
            let (mut lo, mut hi) = (0.0f64, 1.0f64);
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if b.cdf(mid) < 0.5 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let (low, high) = b.median_bracket();
            assert!(low <= hi && lo <= high, "posterior({s}, {n}): median in [{lo}, {hi}], bracket [{low}, {high}]");
        }
    }

    #[test]
    fn normal_quantile_is_close_to_known_values() {
        assert!(normal_quantile(0.5).abs() < 1e-9);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472).abs() < 1e-8);
        assert!((normal_quantile(0.001) + 3.090_232_306_167_813).abs() < 1e-8);
    }

    #[test]
    fn gamma_and_beta_draws_have_the_right_moments() {
        let mut sampler = Sampler::new(Rng::new(7));
        let n = 200_000;
        let normals: Vec<f64> = (0..n).map(|_| sampler.normal()).collect();
        let mean = normals.iter().sum::<f64>() / n as f64;
        let var = normals.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 4.0 / (n as f64).sqrt() && (var - 1.0).abs() < 0.02, "normal: {mean} {var}");
        for &shape in &[0.5, 1.0, 2.5, 30.0] {
            let draws: Vec<f64> = (0..n).map(|_| sampler.gamma(shape)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
            // Mean and variance are both `shape`; allow 4 standard errors.
            assert!((mean - shape).abs() < 4.0 * (shape / n as f64).sqrt(), "shape {shape}: mean {mean}");
            assert!((var / shape - 1.0).abs() < 0.03, "shape {shape}: variance {var}");
        }
        let (a, b) = (3.0, 8.0);
        let draws: Vec<f64> = (0..n).map(|_| sampler.beta(a, b)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        assert!((mean - a / (a + b)).abs() < 0.002, "{mean}");
    }

    #[test]
    fn beta_draws_follow_the_beta_cdf() {
        // Kolmogorov–Smirnov distance of 20,000 draws from Beta(4, 9): well under the 1% critical
        // value 1.63/sqrt(n) = 0.0115.
        let dist = Beta::new(4.0, 9.0);
        let mut sampler = Sampler::new(Rng::new(11));
        let mut draws: Vec<f64> = (0..20_000).map(|_| sampler.beta(4.0, 9.0)).collect();
        draws.sort_by(f64::total_cmp);
        let n = draws.len() as f64;
        let ks = draws
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = dist.cdf(x);
                (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
            })
            .fold(0.0, f64::max);
        assert!(ks < 0.0115, "KS distance {ks}");
    }
}
