//! The bridging scores, each listed once: the registry that everything naming or reading a score
//! goes through.
//!
//! A score is computed in a file of its own (`agreement.rs` for the scores from per-group counts,
//! `mf/` for the one fitted to the votes) and kept in a field of [`StatementBridging`]. Its entry
//! in [`SCORES`] then says, once:
//!
//! - its [`BridgingScore`] variant: the value of `bridging.rank_by` in [`crate::Params`] (and so
//!   in Python's `analyze(bridging={"rank_by": ...})`) and of `rank_by` in the JSON;
//! - its short name: the CLI's `--rank-by` value;
//! - the field of [`StatementBridging`] it is read from, named as the JSON writes it;
//! - its display name in the summary;
//! - how its value (and interval, when it has one) is read from a statement ([`Reading`]).
//!
//! The readers: the ranking ([`super::bridging`], through [`StatementBridging::score`]), the
//! summary's bridging section, the CLI's `--rank-by`, and the Python bindings, which hand the
//! list to `python/commonground/_analysis.py` (`_core.bridging_scores()`): its bridging frame has
//! one column per field, three (value, lower, upper) for a field with an interval.
//!
//! Two scores may read one field: the minimum group agreement ranks by its value
//! ([`BridgingScore::MinGroup`]) or by its lower credible bound ([`BridgingScore::MinGroupLower`]).
//! The order of [`SCORES`] is the order the CLI's help lists them, the default first.

use serde::{Deserialize, Serialize};

use super::{Estimate, StatementBridging};

/// The score that ranks bridging statements (in [`super::Bridging::ranking`] and the summary).
/// Each variant has its entry in [`SCORES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BridgingScore {
    /// The lower credible bound of the minimum group agreement: statements that every group
    /// agrees with, and that the votes are numerous enough to show it. The default, because it
    /// neither rewards statements few people saw (as point estimates do) nor depends on the
    /// number of groups (as Polis's product does).
    #[default]
    MinGroupLower,
    /// The minimum over groups of the smoothed agree rate `(A + 1) / (S + 2)`.
    MinGroup,
    /// The lower credible bound of the minimum over groups of the side-takers' agreement
    /// `(A + 1) / (A + D + 2)`: the quantity the common-ground flag reads, passes set apart.
    MinSideLower,
    /// Polis's group-aware consensus, the product over groups of the smoothed agree rates.
    GroupAwareConsensus,
    /// The geometric mean of the smoothed agree rates, `GAC^(1/k)`.
    GeometricMean,
    /// The statement intercept of the Community Notes matrix factorization (needs `mf.enabled`).
    MfIntercept,
}

/// How a score is read from a statement's [`StatementBridging`].
#[derive(Debug, Clone, Copy)]
pub enum Reading {
    /// The value of an estimate, whose credible interval comes with it.
    Value(fn(&StatementBridging) -> &Estimate),
    /// The lower credible bound of an estimate (the estimate's own value and interval are
    /// reported beside it).
    LowerBound(fn(&StatementBridging) -> &Estimate),
    /// A point score with no interval; `None` when it was not computed for the statement.
    Point(fn(&StatementBridging) -> Option<f64>),
}

/// One bridging score, as [`SCORES`] lists it.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSpec {
    pub score: BridgingScore,
    /// The CLI's `--rank-by` value.
    pub short_name: &'static str,
    /// The field of [`StatementBridging`] the score is read from, as the JSON names it.
    pub field: &'static str,
    /// How the summary names the score ("top 10 by ...").
    pub display_name: &'static str,
    /// One line for help texts.
    pub description: &'static str,
    pub reading: Reading,
}

/// Every bridging score, once, in the order the CLI's help lists them (the default first).
pub static SCORES: &[ScoreSpec] = &[
    ScoreSpec {
        score: BridgingScore::MinGroupLower,
        short_name: "min-group-lower",
        field: "min_group_agreement",
        display_name: "the lower bound of minimum group agreement",
        description: "lower credible bound of the minimum group agreement",
        reading: Reading::LowerBound(|s| &s.min_group_agreement),
    },
    ScoreSpec {
        score: BridgingScore::MinGroup,
        short_name: "min-group",
        field: "min_group_agreement",
        display_name: "minimum group agreement",
        description: "minimum group agreement (smoothed agree rate of the least agreeing group)",
        reading: Reading::Value(|s| &s.min_group_agreement),
    },
    ScoreSpec {
        score: BridgingScore::MinSideLower,
        short_name: "min-side-lower",
        field: "min_side_agreement",
        display_name: "the lower bound of minimum side-takers' agreement",
        description: "lower credible bound of the minimum group agreement among those who took a side (passes apart)",
        reading: Reading::LowerBound(|s| &s.min_side_agreement),
    },
    ScoreSpec {
        score: BridgingScore::GroupAwareConsensus,
        short_name: "gac",
        field: "group_aware_consensus",
        display_name: "group-aware consensus",
        description: "Polis's group-aware consensus (product over groups)",
        reading: Reading::Value(|s| &s.group_aware_consensus),
    },
    ScoreSpec {
        score: BridgingScore::GeometricMean,
        short_name: "geometric-mean",
        field: "geometric_mean",
        display_name: "the geometric mean of group agreement",
        description: "geometric mean of the groups' agree rates",
        reading: Reading::Value(|s| &s.geometric_mean),
    },
    ScoreSpec {
        score: BridgingScore::MfIntercept,
        short_name: "mf",
        field: "mf_intercept",
        display_name: "matrix-factorization intercept",
        description: "intercept of the matrix factorization",
        reading: Reading::Point(|s| s.mf_intercept),
    },
];

impl ScoreSpec {
    /// The statement's score; `None` for a point score that was not computed (the factorization
    /// did not run, or no rating of the statement entered it).
    pub fn value(&self, statement: &StatementBridging) -> Option<f64> {
        match self.reading {
            Reading::Value(estimate) => Some(estimate(statement).value),
            Reading::LowerBound(estimate) => Some(estimate(statement).lower),
            Reading::Point(value) => value(statement),
        }
    }

    /// The estimate in the score's field, with its credible interval; `None` for a point score.
    pub fn estimate<'a>(&self, statement: &'a StatementBridging) -> Option<&'a Estimate> {
        match self.reading {
            Reading::Value(estimate) | Reading::LowerBound(estimate) => Some(estimate(statement)),
            Reading::Point(_) => None,
        }
    }

    /// Whether the score's field carries a credible interval.
    pub fn has_interval(&self) -> bool {
        !matches!(self.reading, Reading::Point(_))
    }
}

impl BridgingScore {
    /// The score's entry in [`SCORES`] (every variant has one).
    pub fn spec(self) -> Option<&'static ScoreSpec> {
        SCORES.iter().find(|s| s.score == self)
    }

    /// The score whose short name is `name` (see [`SCORES`]).
    pub fn from_short_name(name: &str) -> Option<BridgingScore> {
        SCORES.iter().find(|s| s.short_name == name).map(|s| s.score)
    }

    /// The score's short name.
    pub fn short_name(self) -> &'static str {
        self.spec().map_or("", |s| s.short_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::Id;

    fn statement() -> StatementBridging {
        // Dyadic values, so that every bound below is exact.
        let estimate = |value: f64| Estimate { value, lower: value / 2.0, upper: (1.0 + value) / 2.0 };
        StatementBridging {
            statement: Id::Int(7),
            group_agreement: vec![estimate(0.75), estimate(0.5)],
            group_aware_consensus: estimate(0.375),
            geometric_mean: estimate(0.625),
            min_group_agreement: estimate(0.5),
            side_agreement: vec![estimate(0.75), estimate(0.625)],
            pass_rate: vec![estimate(0.25), estimate(0.125)],
            min_side_agreement: estimate(0.625),
            weakest_group: Some(1),
            weakest_subgroup: None,
            unresolved: false,
            common_ground: false,
            mf_intercept: Some(0.25),
            mf_factor: Some(-0.5),
        }
    }

    #[test]
    fn every_score_is_listed_once_with_distinct_names() {
        let all = [
            BridgingScore::MinGroupLower,
            BridgingScore::MinGroup,
            BridgingScore::MinSideLower,
            BridgingScore::GroupAwareConsensus,
            BridgingScore::GeometricMean,
            BridgingScore::MfIntercept,
        ];
        assert_eq!(SCORES.len(), all.len());
        for score in all {
            assert_eq!(SCORES.iter().filter(|s| s.score == score).count(), 1, "{score:?}");
            assert_eq!(BridgingScore::from_short_name(score.short_name()), Some(score));
        }
        let mut short_names: Vec<&str> = SCORES.iter().map(|s| s.short_name).collect();
        short_names.sort_unstable();
        short_names.dedup();
        assert_eq!(short_names.len(), SCORES.len());
        assert_eq!(SCORES[0].score, BridgingScore::default(), "the default comes first");
    }

    #[test]
    fn each_field_is_the_json_key_of_the_value_it_reads() {
        let s = statement();
        let json = serde_json::to_value(&s).unwrap();
        for spec in SCORES {
            let field = &json[spec.field];
            match spec.estimate(&s) {
                Some(estimate) => {
                    assert_eq!(field["value"], estimate.value, "{}", spec.field);
                    assert_eq!(field["lower"], estimate.lower, "{}", spec.field);
                    assert_eq!(field["upper"], estimate.upper, "{}", spec.field);
                }
                None => assert_eq!(field.as_f64(), spec.value(&s), "{}", spec.field),
            }
        }
    }

    #[test]
    fn a_score_reads_its_value_or_its_lower_bound() {
        let s = statement();
        let value = |score: BridgingScore| score.spec().and_then(|spec| spec.value(&s));
        assert_eq!(value(BridgingScore::MinGroupLower), Some(0.25));
        assert_eq!(value(BridgingScore::MinGroup), Some(0.5));
        assert_eq!(value(BridgingScore::GroupAwareConsensus), Some(0.375));
        assert_eq!(value(BridgingScore::GeometricMean), Some(0.625));
        assert_eq!(value(BridgingScore::MfIntercept), Some(0.25));
        let unfitted = StatementBridging { mf_intercept: None, ..statement() };
        assert_eq!(BridgingScore::MfIntercept.spec().and_then(|spec| spec.value(&unfitted)), None);
        assert!(!BridgingScore::MfIntercept.spec().is_some_and(ScoreSpec::has_interval));
    }
}
