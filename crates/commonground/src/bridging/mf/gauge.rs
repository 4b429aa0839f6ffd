//! The factorization's gauge: the moves that change the parameters but no prediction, and the
//! choice among the equally good fits they connect.
//!
//! `r̂ = μ + i_u + i_n + f_u · f_n` is unchanged by scaling `f_u` up and `f_n` down, by trading a
//! constant between a factor and the other side's intercepts, by trading between `μ` and the
//! intercepts, and by flipping both factors' signs. Only the small penalties tell these apart, so
//! alternating least squares crawls along them; [`gauge_steps`] takes each in one exact move
//! instead. The sign is no move but a convention: as Community Notes does
//! (`_flip_factors_for_identification` in `matrix_factorization.py`), the larger share of
//! participants gets a negative factor ([`identify`]).

use super::als::Moments;

/// The moves of [`gauge_steps`], which the participants receive only once, after the last sweep
/// (each sweep solves them afresh from the statements).
#[derive(Debug, Clone, Copy)]
pub(super) struct Gauge {
    scale: f64,
    /// Statement factors moved into participant intercepts.
    into_participants: f64,
    /// Participant factors moved into statement intercepts.
    into_statements: f64,
    /// Moved from the participant intercepts into μ.
    participant_shift: f64,
}

impl Gauge {
    pub(super) const NONE: Gauge =
        Gauge { scale: 1.0, into_participants: 0.0, into_statements: 0.0, participant_shift: 0.0 };

    /// A participant's `(i_u, f_u)` after the moves.
    #[inline]
    fn participant(&self, i: f64, f: f64) -> (f64, f64) {
        let scaled = self.scale * f;
        (i + self.into_participants * scaled - self.participant_shift, scaled - self.into_statements)
    }

    /// `(Σ i_u², Σ f_u²)` after the moves, from the sums before them over `u` participants.
    pub(super) fn participant_squares(&self, p: &Moments, u: f64) -> (f64, f64) {
        let (s, t, t2, c1) = (self.scale, self.into_participants, self.into_statements, self.participant_shift);
        let a = t * s;
        let ff = s * s * p.ff - 2.0 * s * t2 * p.f + t2 * t2 * u;
        let ii = p.ii + a * a * p.ff + c1 * c1 * u + 2.0 * a * p.fi - 2.0 * c1 * p.i - 2.0 * a * c1 * p.f;
        (ii, ff)
    }

    /// Gives the rated participants (`row_counts[r] > 0`) the moves of the sweeps: each sweep moved
    /// only the statements and μ.
    pub(super) fn apply_to_participants(&self, iu: &mut [f64], fu: &mut [f64], row_counts: &[u32]) {
        for r in 0..row_counts.len() {
            if row_counts[r] > 0 {
                (iu[r], fu[r]) = self.participant(iu[r], fu[r]);
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
pub(super) fn gauge_steps(
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

/// Identification: flips every factor's sign unless the larger share of the rated participants
/// (`row_counts[r] > 0`) already has a negative factor (an exact tie: when the participant
/// factors sum to a positive number).
pub(super) fn identify(fu: &mut [f64], statement_factors: &mut [f64], row_counts: &[u32]) {
    let n = row_counts.len();
    let rated = |r: &usize| row_counts[*r] > 0;
    let negative = (0..n).filter(rated).filter(|&r| fu[r] < 0.0).count();
    let nonzero = (0..n).filter(rated).filter(|&r| fu[r] != 0.0).count();
    let flip = if 2 * negative == nonzero { fu.iter().sum::<f64>() > 0.0 } else { 2 * negative < nonzero };
    if flip {
        fu.iter_mut().for_each(|f| *f = -*f);
        statement_factors.iter_mut().for_each(|f| *f = -*f);
    }
}
