//! The analysis parameters, validated once before any work (linfa's `ParamGuard` pattern).
//!
//! `Params::default()` is Polis-faithful: every default is the Polis math worker's
//! (`conversation.clj` `base-conv-update-graph` opts), including its quirks where they change
//! results. Extensions are opt-in.

use serde::{Deserialize, Serialize};

use crate::bridging::BridgingParams;
use crate::cluster::{GroupCount, StabilityParams};
use crate::error::{Error, Result};
use crate::pca::{ColdStart, PcaParams, WarmStart};

/// Upper bounds of the parameters that size an allocation or a loop, checked by [`Params::check`]
/// so that no parameter can make the analysis abort on memory or run for ever (a replicate count
/// of 10^9 once asked for 24 GB). Each is far above any useful value.
pub mod limits {
    /// `base_k` and `max_k` (Polis: 100 and 5; groups never exceed `2 + base_k / 12` anyway).
    pub const MAX_K: usize = 1_000;
    /// Every iteration budget: `pca_iters`, `pca_cold_iters`, `base_iters`, `group_iters`,
    /// `bridging.mf.max_sweeps` (Polis: 100, 100 and 20).
    pub const MAX_ITERS: usize = 1_000_000;
    /// `group_cold_starts` (Polis: 1).
    pub const MAX_COLD_STARTS: usize = 1_000;
    /// `group_stability.replicates` (50 is plenty).
    pub const MAX_REPLICATES: usize = 10_000;
    /// `bridging.draws`, Monte Carlo draws per statement (default 2,000).
    pub const MAX_DRAWS: usize = 1_000_000;
}

/// The error for a parameter over its upper bound.
pub(crate) fn at_most(name: &str, value: usize, max: usize) -> Result<()> {
    if value > max {
        return Err(Error::InvalidParameter {
            name: name.into(),
            message: format!("{value} is over the limit of {max}"),
        });
    }
    Ok(())
}

/// How much of Polis's exact iteration the analysis runs.
///
/// [`Profile::Polis`] (the default) reproduces Polis's iteration counts and stopping tests to the
/// bit. [`Profile::Fast`] is for conversations far larger than Polis can run (a million
/// participants), where those counts buy nothing visible; it changes three stopping rules (and
/// where a large factorization starts) and nothing else:
///
/// - **Base-cluster k-means** stops when a step moved at most [`FAST_KMEANS_SETTLED`] of the
///   points (one in a hundred) to another cluster, or on Polis's own test (every centre moved
///   less than 0.01), whichever comes first; `base_iters` stays the budget. Polis's test alone
///   runs all 101 steps over a million points, whose boundary points keep moving (at 100k,
///   still 400 of them after 80 steps); the groups are clustered from the base clusters' centres,
///   which these last moves barely shift. A cold run over at least [`FAST_KMEANS_PRESOLVE_FROM`]
///   points first runs over every [`FAST_KMEANS_PRESOLVE_STRIDE`]-th of them (by the same rules)
///   and starts from where that ended ([`crate::cluster::kmeans_presolved`]): a million points
///   then take 3 or 4 steps after 25 over the eighth, instead of 27, and the first of them, which
///   places every point afresh, is the dearest.
/// - **PCA** takes the two components from Lanczos (one Krylov sequence with
///   full reorthogonalisation) once the residual `‖XᵀX v − λ v‖` is below [`FAST_PCA_TOLERANCE`]
///   times the top eigenvalue, without Polis's power-iteration polish, from a cold start and from
///   a warm one alike. At 1e-4 (1e-8 until the sixth round of 2026-11-30, then 1e-6 until the
///   eighth) a component is off by about that much over the eigengap: 1 − cosine against the
///   exact components is at most 9.2e-8 on the thirteen real conversations, whose groups and
///   representative statements are the same, and 6.4e-10 at 1M, which takes 10 products (12 at
///   1e-6, 14 at 1e-8; each decade of tolerance is one product over every vote there). 1e-3 is
///   too loose: it moved bg2050-volunteers' groups (ARI 0.74) at 1 − cosine 2.4e-5.
/// - **The matrix factorization** stops when a sweep lowers the loss by less than
///   [`FAST_MF_TOLERANCE`] of it (the default `bridging.mf.tolerance` is 1e-9), or at the
///   configured tolerance when that is looser; from 100,000 participants on, a cold fit starts
///   from a fit to the first eighth of them, itself started from its own first eighth while
///   that has 100,000 participants or more, and then runs at most 2 sweeps over all of them
///   ([`crate::bridging::MfParams::presolve`]; since 2026-11-30, seventh round: the loss gap
///   alone stopped after 4 whole sweeps at 1M, where the drops crawl and which sweep first
///   drops below the gap is chance). The fit's intercepts then lie within about 1e-3 of the
///   exact fit's at 1M (its `converged` says false when the budget stopped it); nothing else
///   reads them but the statements' `mf_intercept` and `mf_factor`.
///
/// The group k-means (a hundred points), the statistics and bridging are unchanged. How far the
/// fast profile's groups, representative statements and components are from the exact ones is
/// measured in BENCHMARKS.md ("Fast profile") and held to floors by a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Polis's iteration, exact (the default).
    #[default]
    Polis,
    /// Looser stopping rules for very large conversations (see [`Profile`]).
    Fast,
}

/// [`Profile::Fast`]: the base-cluster k-means stops when at most this share of points changed
/// cluster in the last step.
pub const FAST_KMEANS_SETTLED: f64 = 1e-2;
/// [`Profile::Fast`]: a cold base-cluster k-means over at least this many points starts from a
/// run over a sample of them ([`FAST_KMEANS_PRESOLVE_STRIDE`]).
pub const FAST_KMEANS_PRESOLVE_FROM: usize = 100_000;
/// [`Profile::Fast`]: the sample of a presolved base-cluster k-means is every this-many-th point.
pub const FAST_KMEANS_PRESOLVE_STRIDE: usize = 8;
/// [`Profile::Fast`]: the Lanczos PCA stops when the residual is below this share of the top
/// eigenvalue.
pub const FAST_PCA_TOLERANCE: f64 = 1e-4;
/// [`Profile::Fast`]: the factorization stops when a sweep gains less than this share of the loss.
pub const FAST_MF_TOLERANCE: f64 = 1e-6;

impl Profile {
    /// True for the default, so that serialised parameters (the JSON output, a saved state) carry
    /// no `profile` key unless the fast one was asked for: their bytes stay what they were.
    pub fn is_polis(&self) -> bool {
        *self == Profile::Polis
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "polis" => Ok(Profile::Polis),
            "fast" => Ok(Profile::Fast),
            other => Err(format!("{other:?} is not a profile (polis or fast)")),
        }
    }
}

/// Parameters of the analysis. See each field for the Polis setting it mirrors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Polis's exact iteration (default) or the fast profile's looser stopping rules (see
    /// [`Profile`]).
    #[serde(skip_serializing_if = "Profile::is_polis")]
    pub profile: Profile,
    /// Power-iteration budget per component and update (`pca-iters = 100`).
    pub pca_iters: usize,
    /// Budget for a component with no warm start; see [`PcaParams::cold_iters`].
    pub pca_cold_iters: usize,
    /// Convergence threshold of a cold start; see [`PcaParams::cold_tolerance`].
    pub pca_cold_tolerance: f64,
    /// How the first update finds its components; see [`ColdStart`].
    pub pca_cold_start: ColdStart,
    /// How later updates refine them; see [`WarmStart`]. Polis's iteration by default; Lanczos
    /// for live sites that need each update fast.
    pub pca_warm_start: WarmStart,
    /// Number of base clusters (`base-k = 100`).
    pub base_k: usize,
    /// k-means budget for base clusters (`base-iters = 100`).
    pub base_iters: usize,
    /// Largest number of groups tried (`max-k = 5`).
    pub max_k: usize,
    /// How many groups: Polis's rule (default) or a fixed number (an extension; see
    /// [`GroupCount`]). With a fixed number, `max_k` and `group_k_buffer` do not apply.
    pub groups: GroupCount,
    /// k-means budget for groups. Polis passes `:cluster-iters 100` to a function that reads
    /// `:max-iters`, so its default of 20 applies (Q3); 20 reproduces Polis.
    pub group_iters: usize,
    /// Starts of the group k-means when it has no previous clustering to warm-start from (see
    /// [`crate::cluster::MultiStart`]): a batch analysis, a conversation's first update, a k not
    /// tried before, or after [`crate::Conversation::restart`]. 1 (default) is Polis's
    /// `init-clusters` alone: the first k distinct base-cluster centres. n > 1 adds n − 1 weighted
    /// k-means++ starts drawn from `seed` and keeps the least weighted inertia — a deviation from
    /// Polis, which only ever cold-starts once, at a conversation's beginning, and warm-starts
    /// every later update. It escapes poor optima of Polis's start (canadian-electoral-reform:
    /// inertia 1620 → 1158 at k = 2, matching Polis's own groups), but Polis's groups are often
    /// not the least-inertia partition (3 of the 4 polis-math fixtures), so it stays opt-in.
    pub group_cold_starts: usize,
    /// Consecutive updates that must agree before the number of groups changes (`group-k-buffer = 4`).
    pub group_k_buffer: usize,
    /// A participant joins the clustering after `min(this, statements)` votes (Polis: 7).
    pub min_votes_in_conv: usize,
    /// If fewer participants qualify, the most active are added up to this many (Polis: 15).
    pub min_in_conv: usize,
    /// Seed of every random choice commonground makes. The Polis pipeline itself is deterministic
    /// here (Polis's unseeded random PCA start is pinned to all ones, as Delphi does), so the seed
    /// only matters to the randomised extensions (bootstrap, generator, `group_cold_starts` > 1).
    pub seed: u64,
    /// Reproduce the Polis bug of 2025-03 to 2026-07 (PR #1961, fixed by PR #2611) under which every
    /// comment priority was 49. Only for comparing with math blobs computed in that window.
    pub polis_all_priorities_49: bool,
    /// Bridging scores, their credible intervals and the matrix factorization (an extension:
    /// Polis's outputs do not depend on it).
    pub bridging: BridgingParams,
    /// Bootstrap stability of the groups for every candidate k (opt-in, an extension).
    pub group_stability: StabilityParams,
}

impl Default for Params {
    fn default() -> Self {
        let pca = PcaParams::default();
        Params {
            profile: Profile::Polis,
            pca_iters: pca.iters,
            pca_cold_iters: pca.cold_iters,
            pca_cold_tolerance: pca.cold_tolerance,
            pca_cold_start: pca.cold_start,
            pca_warm_start: pca.warm_start,
            base_k: 100,
            base_iters: 100,
            max_k: 5,
            groups: GroupCount::Polis,
            group_iters: 20,
            group_cold_starts: 1,
            group_k_buffer: 4,
            min_votes_in_conv: 7,
            min_in_conv: 15,
            seed: 0,
            polis_all_priorities_49: false,
            bridging: BridgingParams::default(),
            group_stability: StabilityParams::default(),
        }
    }
}

impl Params {
    /// Checks every parameter; returns the first that is out of range.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, message: &str| {
            Err(Error::InvalidParameter { name: name.into(), message: message.to_string() })
        };
        if self.base_k == 0 {
            return bad("base_k", "must be at least 1");
        }
        if self.max_k < 2 {
            return bad("max_k", "must be at least 2 (groups are chosen among k = 2..=max_k)");
        }
        self.groups.check(self.base_k)?;
        if self.groups == GroupCount::Discover && self.group_stability.enabled {
            return bad(
                "group_stability",
                "measures the k-means groups of the opinion map; it does not apply with groups = \"discover\"",
            );
        }
        if self.group_cold_starts == 0 {
            return bad("group_cold_starts", "must be at least 1 (1 is Polis's own start)");
        }
        if self.group_k_buffer == 0 {
            return bad("group_k_buffer", "must be at least 1");
        }
        for (name, value, max) in [
            ("base_k", self.base_k, limits::MAX_K),
            ("max_k", self.max_k, limits::MAX_K),
            ("pca_iters", self.pca_iters, limits::MAX_ITERS),
            ("pca_cold_iters", self.pca_cold_iters, limits::MAX_ITERS),
            ("base_iters", self.base_iters, limits::MAX_ITERS),
            ("group_iters", self.group_iters, limits::MAX_ITERS),
            ("group_cold_starts", self.group_cold_starts, limits::MAX_COLD_STARTS),
        ] {
            at_most(name, value, max)?;
        }
        // The PCA's own check, its names prefixed as this struct's fields are.
        self.pca().check().map_err(|e| match e {
            Error::InvalidParameter { name, message } => {
                Error::InvalidParameter { name: format!("pca_{name}"), message }
            }
            other => other,
        })?;
        self.bridging.check()?;
        self.group_stability.check()
    }

    pub(crate) fn pca(&self) -> PcaParams {
        PcaParams {
            iters: self.pca_iters,
            cold_iters: self.pca_cold_iters,
            cold_tolerance: self.pca_cold_tolerance,
            cold_start: self.pca_cold_start,
            warm_start: self.pca_warm_start,
            lanczos_only: (self.profile == Profile::Fast).then_some(FAST_PCA_TOLERANCE),
        }
    }

    /// The factorization's parameters as the profile runs them: the fast profile's loss gap
    /// ([`FAST_MF_TOLERANCE`]) unless the configured one is looser.
    pub(crate) fn mf(&self) -> crate::bridging::MfParams {
        let mut mf = self.bridging.mf.clone();
        if self.profile == Profile::Fast {
            mf.tolerance = mf.tolerance.max(FAST_MF_TOLERANCE);
            mf.presolve = true;
        }
        mf
    }

    /// The most points that may change cluster in a base-cluster k-means step for it to count as
    /// settled: none for Polis's profile (only its own centre test stops it), one in a hundred
    /// for the fast one.
    pub(crate) fn base_settled(&self, points: usize) -> Option<usize> {
        (self.profile == Profile::Fast).then_some((points as f64 * FAST_KMEANS_SETTLED) as usize)
    }

    /// The stride of the sample a cold base-cluster k-means over `points` points starts from:
    /// none for Polis's profile, nor below [`FAST_KMEANS_PRESOLVE_FROM`] points.
    pub(crate) fn base_presolve(&self, points: usize) -> Option<usize> {
        (self.profile == Profile::Fast && points >= FAST_KMEANS_PRESOLVE_FROM).then_some(FAST_KMEANS_PRESOLVE_STRIDE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_polis_and_valid() {
        let p = Params::default();
        assert_eq!((p.base_k, p.max_k, p.group_iters, p.group_k_buffer, p.pca_iters), (100, 5, 20, 4, 100));
        assert!(p.check().is_ok());
    }

    #[test]
    fn out_of_range_parameters_are_named() {
        let p = Params { max_k: 1, ..Params::default() };
        let e = p.check().unwrap_err().to_string();
        assert!(e.contains("max_k"), "{e}");
        let p = Params { pca_cold_tolerance: f64::NAN, ..Params::default() };
        assert!(p.check().unwrap_err().to_string().contains("pca_cold_tolerance"));
        for groups in [GroupCount::Fixed(1), GroupCount::Fixed(101)] {
            let e = Params { groups, ..Params::default() }.check().unwrap_err().to_string();
            assert!(e.contains("invalid parameter groups"), "{e}");
        }
    }

    #[test]
    fn groups_read_as_a_name_or_a_number() {
        let read = |json: &str| serde_json::from_str::<Params>(json).map(|p| p.groups);
        assert_eq!(read(r#"{"groups": "polis"}"#).unwrap(), GroupCount::Polis);
        assert_eq!(read(r#"{"groups": 4}"#).unwrap(), GroupCount::Fixed(4));
        assert_eq!(read("{}").unwrap(), GroupCount::Polis);
        let e = read(r#"{"groups": "four"}"#).unwrap_err().to_string();
        assert!(e.contains("\"four\" is not a number of groups"), "{e}");
        let p = Params { groups: GroupCount::Fixed(4), ..Params::default() };
        assert_eq!(serde_json::from_str::<Params>(&serde_json::to_string(&p).unwrap()).unwrap(), p);
        assert_eq!("polis".parse::<GroupCount>(), Ok(GroupCount::Polis));
        assert_eq!("6".parse::<GroupCount>(), Ok(GroupCount::Fixed(6)));
        assert_eq!(read(r#"{"groups": "discover"}"#).unwrap(), GroupCount::Discover);
    }

    #[test]
    fn every_parameter_that_sizes_an_allocation_has_an_upper_bound() {
        let over = |mut p: Params, edit: &dyn Fn(&mut Params, usize), max: usize, name: &str| {
            edit(&mut p, max);
            assert!(p.check().is_ok(), "{name} = {max} (the limit) is refused");
            edit(&mut p, max + 1);
            let e = p.check().unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(&format!("over the limit of {max}")), "{e}");
        };
        let p = Params::default;
        over(p(), &|p, v| p.base_k = v, limits::MAX_K, "base_k");
        over(p(), &|p, v| p.max_k = v, limits::MAX_K, "max_k");
        over(p(), &|p, v| p.pca_iters = v, limits::MAX_ITERS, "pca_iters");
        over(p(), &|p, v| p.pca_cold_iters = v, limits::MAX_ITERS, "pca_cold_iters");
        over(p(), &|p, v| p.base_iters = v, limits::MAX_ITERS, "base_iters");
        over(p(), &|p, v| p.group_iters = v, limits::MAX_ITERS, "group_iters");
        over(p(), &|p, v| p.group_cold_starts = v, limits::MAX_COLD_STARTS, "group_cold_starts");
        over(p(), &|p, v| p.bridging.mf.max_sweeps = v, limits::MAX_ITERS, "bridging.mf.max_sweeps");
        over(p(), &|p, v| p.bridging.draws = v, limits::MAX_DRAWS, "bridging.draws");
        let stability = |p: &mut Params, v| p.group_stability = StabilityParams { enabled: true, replicates: v };
        over(p(), &stability, limits::MAX_REPLICATES, "group_stability.replicates");
        // The CLI's `--stability 1000000000`, which once asked for 24 GB.
        let p = Params { group_stability: StabilityParams { enabled: true, replicates: 1_000_000_000 }, ..p() };
        assert!(p.check().is_err());
    }
}
