//! Hyperparameters of the bridging scores, validated once with the rest of [`crate::Params`].

use serde::{Deserialize, Serialize};

use super::BridgingScore;
use crate::error::{Error, Result};

/// How the credible interval of group-aware consensus (and of its geometric mean) is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GacInterval {
    /// The saddlepoint approximation to the product's distribution, from the exact cumulant
    /// generating function of its logarithm (see [`super::group_agreement`]): deterministic, a few
    /// microseconds per statement, within about 0.002 of 200,000 Monte Carlo draws.
    #[default]
    Saddlepoint,
    /// Quantiles of [`BridgingParams::draws`] seeded Monte Carlo draws: the reference, at about
    /// 0.1 ms per statement and group.
    MonteCarlo,
}

/// Parameters of the bridging scores ([`super::Bridging`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgingParams {
    /// Probability mass of every credible interval (equal-tailed): 0.9 gives the 5% and 95%
    /// posterior quantiles.
    pub interval: f64,
    /// How the interval of group-aware consensus and its geometric mean is computed (the per-group
    /// and minimum-group intervals are exact).
    pub gac_interval: GacInterval,
    /// Monte Carlo draws per statement, with [`GacInterval::MonteCarlo`].
    pub draws: usize,
    /// A statement is common ground when the lower bound of its minimum side-takers' agreement
    /// is at least this: with the interval's confidence, in every group more of those who took a
    /// side agree than disagree.
    pub common_ground_threshold: f64,
    /// A statement is listed as uncertain when, with the interval's credibility, at least this
    /// share of the clustered participants who saw it passed.
    pub uncertain_pass_rate: f64,
    /// The smallest subgroup the common-ground flag checks beyond the groups, as a share of the
    /// clustered participants: each group's base clusters are pooled along the map until every
    /// pool holds at least this many (see [`super::pool_base_clusters`]). 0.05: the issue's
    /// smallest minority worth protecting.
    pub subgroup_min_share: f64,
    /// The score that ranks the bridging statements.
    pub rank_by: BridgingScore,
    /// The Community Notes matrix factorization.
    pub mf: MfParams,
}

impl Default for BridgingParams {
    fn default() -> Self {
        BridgingParams {
            interval: 0.9,
            gac_interval: GacInterval::default(),
            draws: 2000,
            common_ground_threshold: 0.5,
            uncertain_pass_rate: 0.3,
            subgroup_min_share: 0.05,
            rank_by: BridgingScore::default(),
            mf: MfParams::default(),
        }
    }
}

/// Parameters of the matrix-factorization bridging score ([`super::fit_mf`]); the defaults are
/// Community Notes' (`matrix_factorization.py`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfParams {
    /// Fit the factorization in every analysis. On by default: a cold fit costs 10–20 sweeps over
    /// the votes (each one pass), about 0.4 s on 5M votes; a live conversation's updates start from
    /// the previous fit and settle in a few sweeps (see [`super::fit_mf`]). Turn it off for the
    /// largest conversations if that matters.
    pub enabled: bool,
    /// Penalty on the participant and statement factors (`userFactorLambda = noteFactorLambda = 0.03`).
    pub factor_lambda: f64,
    /// Penalty on the intercepts, participant, statement and global (`0.03 * 5 = 0.15`): five
    /// times the factors', so that a high statement intercept needs agreement from both ends of
    /// the factor axis.
    pub intercept_lambda: f64,
    /// Most alternating sweeps (each updates every participant, every statement and the global
    /// intercept once).
    pub max_sweeps: usize,
    /// Stop when a sweep lowers the loss by less than this fraction of it.
    pub tolerance: f64,
    /// The rating of a pass. `None` (default): passes are left out, as Community Notes leaves out
    /// notes a rater did not rate: a pass says the participant saw the statement but declined to
    /// judge it. `Some(0.5)` reads a pass as Community Notes reads "somewhat helpful".
    pub pass_rating: Option<f64>,
    /// After each sweep, also minimise along the directions that leave every prediction unchanged
    /// (see [`super::fit_mf`]): same optimum, far fewer sweeps.
    pub gauge_steps: bool,
    /// Start a cold fit of a large conversation from a fit to a prefix of its participants (see
    /// [`super::fit_mf`]), and stop after at most 2 sweeps over the whole conversation. Set by
    /// the fast profile ([`crate::Profile::Fast`]); not a configuration key.
    #[serde(skip)]
    pub presolve: bool,
}

impl Default for MfParams {
    fn default() -> Self {
        MfParams {
            enabled: true,
            factor_lambda: 0.03,
            intercept_lambda: 0.15,
            max_sweeps: 500,
            tolerance: 1e-9,
            pass_rating: None,
            gauge_steps: true,
            presolve: false,
        }
    }
}

impl BridgingParams {
    /// Checks every parameter; returns the first that is out of range.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, message: &str| {
            Err(Error::InvalidParameter { name: name.into(), message: message.to_string() })
        };
        if !(self.interval > 0.0 && self.interval < 1.0) {
            return bad("bridging.interval", "must be strictly between 0 and 1 (e.g. 0.9)");
        }
        if self.draws < 100 {
            return bad("bridging.draws", "must be at least 100 Monte Carlo draws");
        }
        crate::params::at_most("bridging.draws", self.draws, crate::params::limits::MAX_DRAWS)?;
        crate::params::at_most("bridging.mf.max_sweeps", self.mf.max_sweeps, crate::params::limits::MAX_ITERS)?;
        if !(0.0..=1.0).contains(&self.common_ground_threshold) {
            return bad("bridging.common_ground_threshold", "must be between 0 and 1");
        }
        if !(0.0..=1.0).contains(&self.uncertain_pass_rate) {
            return bad("bridging.uncertain_pass_rate", "must be between 0 and 1");
        }
        if !(self.subgroup_min_share > 0.0 && self.subgroup_min_share <= 1.0) {
            return bad("bridging.subgroup_min_share", "must be above 0 and at most 1 (e.g. 0.05)");
        }
        if self.rank_by == BridgingScore::MfIntercept && !self.mf.enabled {
            return bad("bridging.rank_by", "mf_intercept needs the matrix factorization (bridging.mf.enabled)");
        }
        let mf = &self.mf;
        if !(mf.factor_lambda > 0.0 && mf.factor_lambda.is_finite()) {
            return bad("bridging.mf.factor_lambda", "must be a finite number > 0");
        }
        if !(mf.intercept_lambda > 0.0 && mf.intercept_lambda.is_finite()) {
            return bad("bridging.mf.intercept_lambda", "must be a finite number > 0");
        }
        if mf.max_sweeps == 0 {
            return bad("bridging.mf.max_sweeps", "must be at least 1");
        }
        if !(mf.tolerance >= 0.0 && mf.tolerance.is_finite()) {
            return bad("bridging.mf.tolerance", "must be a finite number >= 0");
        }
        if mf.pass_rating.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return bad("bridging.mf.pass_rating", "must be between 0 (disagree) and 1 (agree)");
        }
        Ok(())
    }
}
