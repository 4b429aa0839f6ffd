//! linfa's traits on commonground's estimators, so that a Rust researcher can put Polis's
//! weighted k-means and sparse PCA into a linfa pipeline: hyperparameters checked once by
//! `ParamGuard`, `Fit` on a `DatasetBase`, `Predict` and `Transformer` on `ndarray` records.
//!
//! These are the pipeline's own engines behind linfa's interface, not copies:
//! [`WeightedKMeans`] runs [`crate::cluster::kmeans_cold`] (Polis's k-means, `clusters.clj`) and
//! [`SparsePca`] runs [`crate::pca::Pca::fit`] and [`crate::pca::participant_projections`]
//! (`pca.clj`). linfa's own estimators cannot stand in for them. linfa-clustering's `KMeans`
//! ignores sample weights, where Polis clusters its base clusters weighted by their sizes, and
//! moves a centre to `(sum + old) / (count + 1)`, so it reproduces neither Polis nor sklearn.
//! linfa-reduction's `Pca` is dense only and panics on NaN, where a vote matrix is mostly
//! missing votes. They serve instead as test oracles on small dense data
//! (`tests/linfa_oracles.rs`).
//!
//! What goes in:
//! - [`WeightedKMeans`]: points on the opinion map, an `n x 2` array (x, y), with the sample
//!   weights of [`linfa::DatasetBase::weights`] (none: every point weighs 1). linfa keeps weights
//!   as `f32`, which holds member counts exactly up to 2^24.
//! - [`SparsePca`]: a dense vote matrix, participants x statements, 1 (agree), -1 (disagree), 0
//!   (pass) or NaN (no vote), as [`crate::VoteMatrix::from_dense`] reads it.
//!
//! Errors are the crate's [`Error`], bad records included (a wrong number of columns, a value
//! that is not a vote, a negative weight): never a panic. linfa's `Fit` asks that its own error
//! convert into ours; none of these estimators raises it.
//!
//! ```
//! use commonground::linfa::WeightedKMeans;
//! use linfa::traits::{Fit, Predict};
//! use linfa::DatasetBase;
//! use ndarray::{array, Array1};
//!
//! // Five base-cluster centres on the opinion map, weighted by their member counts: the heavy
//! // centre at (1, 0) pulls its group's centre towards it.
//! let centres = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [9.0, 9.0], [9.0, 10.0]];
//! let sizes = Array1::from(vec![1.0f32, 8.0, 1.0, 3.0, 3.0]);
//! let dataset = DatasetBase::from(centres.clone()).with_weights(sizes);
//! let model = WeightedKMeans::params(2).fit(&dataset).unwrap();
//! let groups: Array1<usize> = model.predict(&centres);
//! assert_eq!(groups[0], groups[2]);
//! assert_ne!(groups[0], groups[3]);
//! let heavy = model.centroids().row(groups[1]).to_vec();
//! assert!((heavy[0] - 0.8).abs() < 1e-12 && (heavy[1] - 0.1).abs() < 1e-12);
//! ```

mod kmeans;
mod pca;

pub use kmeans::{WeightedKMeans, WeightedKMeansParams, WeightedKMeansValidParams, NO_CLUSTER};
pub use pca::{SparsePca, SparsePcaParams, SparsePcaValidParams};

use crate::error::{Error, Location};

/// linfa's `Fit` requires its estimators' errors to take in `linfa::Error`. A parameter error
/// stays one; the others (shapes, sample counts, convergence) are about the records.
impl From<::linfa::Error> for Error {
    fn from(e: ::linfa::Error) -> Self {
        match e {
            ::linfa::Error::Parameters(message) => Error::InvalidParameter { name: "linfa".into(), message },
            other => Error::Parse { location: Location::none(), message: format!("linfa: {other}") },
        }
    }
}

/// The location of record `row` (0-based) of a dataset: "record row + 1", as other in-memory
/// inputs name theirs.
fn record(row: usize) -> Location {
    Location { file: None, line: Some(row as u64 + 1) }
}
