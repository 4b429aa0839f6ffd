//! Jumping ahead along the slow direction of alternating least squares.
//!
//! Late in a fit each sweep shortens the remaining way to the optimum by about the same ratio: the
//! loss drops form a geometric sequence. Rather than crawl the rest of it a sweep at a time, the
//! statements and μ jump to where the crawl would end, and the next sweep solves everything from
//! there; a jump that does not lower the loss is undone, so the loss still never increases. This
//! is the fit's own speed-up, not Community Notes' (whose Adam has no such step), and it changes
//! only how fast the fit gets to the optimum, not which optimum (`tests.rs` compares the two).

/// What a sweep was, for [`Extrapolation::after_sweep`].
pub(super) enum Sweep {
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
pub(super) struct Extrapolation {
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

    pub(super) fn new(mu: f64, statements: &[[f64; 2]], enabled: bool) -> Extrapolation {
        Extrapolation {
            enabled,
            last: (mu, statements.to_vec()),
            drops: [f64::NAN; 2],
            previous_ratio: None,
            pending: None,
        }
    }

    /// Sorts out the sweep that just lowered the loss from `loss` to `new_loss` (or raised it).
    pub(super) fn after_sweep(
        &mut self,
        loss: f64,
        new_loss: f64,
        mu: &mut f64,
        statements: &mut Vec<[f64; 2]>,
    ) -> Sweep {
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
    pub(super) fn extrapolate(&mut self, mu: &mut f64, statements: &mut [[f64; 2]], statement_ratings: &[u32]) {
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
