//! Polis's weighted k-means (`clusters.clj`) as a linfa estimator: [`WeightedKMeansParams`]
//! checked by `ParamGuard`, `Fit` on a `DatasetBase` of points on the opinion map with its sample
//! weights, and `Predict` of each point's cluster.
//!
//! Polis clusters twice with the same k-means: participants into base clusters, then the
//! base-cluster centres into groups, each weighted by its member count. The weights are what
//! linfa-clustering's `KMeans` lacks: it reads only the records and drops
//! `DatasetBase::weights()`. Here they come from exactly there.
//!
//! The fit is [`kmeans_cold`]: Polis's start (the first k distinct points), its steps, tie rule and
//! stopping test (centres move less than 0.01), and optionally more k-means++ starts
//! ([`MultiStart`]). Like Polis, it drops a cluster that loses all its points, and finds fewer than
//! k clusters when there are fewer than k distinct points. Warm starts from a previous update
//! are the pipeline's business ([`crate::cluster::kmeans`] with a previous clustering), not a
//! linfa fit's.

use ::linfa::traits::{Fit, PredictInplace};
use ::linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, Array2, ArrayBase, Data, Ix2};

use super::record;
use crate::cluster::{kmeans_cold, weighted_inertia, Cluster, MultiStart, Points};
use crate::error::{Error, Location, Result};

/// The label `Predict` gives a point that it cannot place: a non-finite coordinate, or records
/// that are not two columns wide. [`WeightedKMeans::try_predict`] says why instead.
pub const NO_CLUSTER: usize = usize::MAX;

/// Checked hyperparameters of [`WeightedKMeans`] (see [`WeightedKMeansParams`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedKMeansValidParams {
    n_clusters: usize,
    max_iters: usize,
    cold: MultiStart,
}

impl WeightedKMeansValidParams {
    /// The number of clusters sought: at most this many are found.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }
    /// Steps after the first before the fit stops unconverged.
    pub fn max_iters(&self) -> usize {
        self.max_iters
    }
    /// How the fit is started: Polis's first k distinct points, and any k-means++ starts.
    pub fn cold_start(&self) -> MultiStart {
        self.cold
    }
}

/// Hyperparameters of [`WeightedKMeans`], unchecked: `Fit` checks them first (linfa's
/// `ParamGuard`), or [`ParamGuard::check`] does.
///
/// Defaults: `max_iters` 100 (Polis's `base-iters`; its group clustering runs 20) and Polis's own
/// start alone ([`MultiStart::POLIS`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedKMeansParams(WeightedKMeansValidParams);

impl WeightedKMeansParams {
    /// Seeks `n_clusters` clusters, with the defaults above.
    pub fn new(n_clusters: usize) -> Self {
        WeightedKMeansParams(WeightedKMeansValidParams { n_clusters, max_iters: 100, cold: MultiStart::POLIS })
    }
    /// The step budget: the fit runs 1 to `max_iters + 1` steps (Polis's `:max-iters`).
    pub fn max_iters(mut self, max_iters: usize) -> Self {
        self.0.max_iters = max_iters;
        self
    }
    /// Number of starts (at least 1): Polis's, then `starts - 1` weighted k-means++ seedings; the
    /// least weighted inertia wins (see [`MultiStart`]).
    pub fn starts(mut self, starts: usize) -> Self {
        self.0.cold.starts = starts;
        self
    }
    /// Seed of the k-means++ seedings (unused with one start).
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.cold.seed = seed;
        self
    }
}

impl ParamGuard for WeightedKMeansParams {
    type Checked = WeightedKMeansValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&WeightedKMeansValidParams> {
        let bad = |name: &str, message: &str| {
            Err(Error::InvalidParameter { name: name.to_string(), message: message.to_string() })
        };
        if self.0.n_clusters == 0 {
            return bad("n_clusters", "must be at least 1");
        }
        if self.0.cold.starts == 0 {
            return bad("starts", "must be at least 1 (1 is Polis's own start)");
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<WeightedKMeansValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted weighted k-means: the clusters, and the label of every training point.
///
/// A label is a row of [`WeightedKMeans::centroids`] (clusters in id order), as linfa's
/// `KMeans` labels; [`WeightedKMeans::clusters`] has the ids and members.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedKMeans {
    clusters: Vec<Cluster>,
    memberships: Array1<usize>,
    inertia: f64,
}

impl WeightedKMeans {
    /// Hyperparameters for `n_clusters` clusters (see [`WeightedKMeansParams`]).
    pub fn params(n_clusters: usize) -> WeightedKMeansParams {
        WeightedKMeansParams::new(n_clusters)
    }

    /// The clusters in id order: id, members (rows of the training records) and centre.
    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// The centres, one row (x, y) per cluster in id order: row `i` is label `i`.
    pub fn centroids(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.clusters.len(), 2), |(i, axis)| self.clusters[i].center[axis])
    }

    /// Each training point's label as the fit's last step assigned it. [`Predict`] on the same
    /// records places them by the final centres instead, which agrees unless the fit stopped on its
    /// budget, or on Polis's tolerance (centres moving less than 0.01) before a last point moved.
    ///
    /// [`Predict`]: ::linfa::traits::Predict
    pub fn memberships(&self) -> &Array1<usize> {
        &self.memberships
    }

    /// The weighted within-cluster sum of squares, `Σ w_i ‖x_i − c(i)‖²` over the training points
    /// ([`weighted_inertia`]). A sum: linfa's `KMeans::inertia` is a mean.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Each point's nearest centre (Euclidean; a tie goes to the earlier cluster), or an error
    /// naming the first point that cannot be placed.
    pub fn try_predict<D: Data<Elem = f64>>(&self, records: &ArrayBase<D, Ix2>) -> Result<Array1<usize>> {
        let positions = positions(records)?;
        Ok(positions.iter().map(|&p| self.nearest(p)).collect())
    }

    fn nearest(&self, p: [f64; 2]) -> usize {
        let mut best = (NO_CLUSTER, f64::INFINITY);
        for (label, c) in self.clusters.iter().enumerate() {
            let d = (p[0] - c.center[0]).powi(2) + (p[1] - c.center[1]).powi(2);
            if d < best.1 {
                best = (label, d);
            }
        }
        best.0
    }
}

/// The records as points on the opinion map: two columns, finite values.
fn positions<D: Data<Elem = f64>>(records: &ArrayBase<D, Ix2>) -> Result<Vec<[f64; 2]>> {
    if records.ncols() != 2 {
        return Err(Error::Parse {
            location: Location::none(),
            message: format!(
                "k-means records have {} columns: give two, each point's x and y on the opinion map",
                records.ncols()
            ),
        });
    }
    records
        .rows()
        .into_iter()
        .enumerate()
        .map(|(row, point)| {
            let (x, y) = (point[0], point[1]);
            if x.is_finite() && y.is_finite() {
                Ok([x, y])
            } else {
                Err(Error::Parse { location: record(row), message: format!("point ({x}, {y}) is not finite") })
            }
        })
        .collect()
}

/// The dataset's sample weights as `f64`, when it has any: one per point, each positive and finite
/// (Polis's weighted mean divides by a cluster's total weight).
fn sample_weights(weights: Option<&[f32]>, n_points: usize) -> Result<Option<Vec<f64>>> {
    let Some(weights) = weights else { return Ok(None) };
    if weights.len() != n_points {
        return Err(Error::Parse {
            location: Location::none(),
            message: format!("{} sample weights for {n_points} points: give one per point, or none", weights.len()),
        });
    }
    weights
        .iter()
        .enumerate()
        .map(|(row, &w)| {
            if w > 0.0 && w.is_finite() {
                Ok(f64::from(w))
            } else {
                Err(Error::Parse { location: record(row), message: format!("weight {w} is not a positive number") })
            }
        })
        .collect::<Result<Vec<f64>>>()
        .map(Some)
}

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, Error> for WeightedKMeansValidParams {
    type Object = WeightedKMeans;

    /// Clusters the records (points on the opinion map, `n x 2`), weighted by the dataset's
    /// weights when it has them.
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<WeightedKMeans> {
        let positions = positions(&dataset.records)?;
        if positions.is_empty() {
            return Err(Error::EmptyConversation("no points to cluster".into()));
        }
        let n = positions.len();
        let weights = sample_weights(dataset.weights(), n)?;
        let points = Points::new((0..n).collect(), positions, weights);
        let clusters = kmeans_cold(&points, self.n_clusters, self.cold, self.max_iters);
        let inertia = weighted_inertia(&points, &clusters);
        let mut memberships = Array1::from_elem(n, NO_CLUSTER);
        for (label, cluster) in clusters.iter().enumerate() {
            for &m in &cluster.members {
                memberships[m] = label;
            }
        }
        Ok(WeightedKMeans { clusters, memberships, inertia })
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for WeightedKMeans {
    /// Each point's nearest centre, as [`WeightedKMeans::try_predict`]; a point that cannot be
    /// placed gets [`NO_CLUSTER`], since linfa's `Predict` has no way to return an error.
    fn predict_inplace(&self, records: &ArrayBase<D, Ix2>, labels: &mut Array1<usize>) {
        labels.fill(NO_CLUSTER);
        if records.ncols() != 2 {
            return;
        }
        for (label, point) in labels.iter_mut().zip(records.rows()) {
            let (x, y) = (point[0], point[1]);
            if x.is_finite() && y.is_finite() {
                *label = self.nearest([x, y]);
            }
        }
    }

    fn default_target(&self, records: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::from_elem(records.nrows(), NO_CLUSTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::kmeans;
    use ::linfa::traits::Predict;
    use ndarray::{array, Array2};

    /// Two blobs of 12 points around (0, 0) and (6, 6), deterministic jitter.
    fn blobs() -> Array2<f64> {
        Array2::from_shape_fn((24, 2), |(i, axis)| {
            let centre = if i < 12 { 0.0 } else { 6.0 };
            centre + ((i * 7 + axis * 3) % 5) as f64 * 0.1
        })
    }

    #[test]
    fn a_linfa_fit_with_dataset_weights_is_polis_weighted_kmeans_on_those_points() {
        let records = blobs();
        let weights: Vec<f32> = (0..24).map(|i| 1.0 + (i % 4) as f32).collect();
        let dataset = DatasetBase::from(records.clone()).with_weights(Array1::from(weights.clone()));
        let model = WeightedKMeans::params(2).max_iters(20).fit(&dataset).unwrap();

        let positions: Vec<[f64; 2]> = records.rows().into_iter().map(|r| [r[0], r[1]]).collect();
        let points = Points::new((0..24).collect(), positions, Some(weights.iter().map(|&w| w as f64).collect()));
        let direct = kmeans(&points, 2, None, 20);
        assert_eq!(model.clusters(), direct.as_slice());
        assert_eq!(model.inertia(), weighted_inertia(&points, &direct));
        assert_eq!(model.centroids().dim(), (2, 2));

        let labels: Array1<usize> = model.predict(&records);
        assert_eq!(&labels, model.memberships());
        assert!(labels.iter().take(12).all(|&l| l == labels[0]));
        assert!(labels.iter().skip(12).all(|&l| l == labels[12] && l != labels[0]));
    }

    #[test]
    fn weights_move_the_centres_where_unweighted_they_would_not() {
        let records = array![[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]];
        let plain = WeightedKMeans::params(2).fit(&DatasetBase::from(records.clone())).unwrap();
        let heavy = DatasetBase::from(records.clone()).with_weights(Array1::from(vec![1.0f32, 3.0, 1.0, 1.0]));
        let weighted = WeightedKMeans::params(2).fit(&heavy).unwrap();
        assert_eq!(plain.centroids(), array![[0.5, 0.0], [10.5, 0.0]]);
        assert!((weighted.centroids()[[0, 0]] - 0.75).abs() < 1e-12, "{}", weighted.centroids());
        // Weighted inertia: 1·0.75² + 3·0.25² + 0.5² + 0.5².
        assert!((weighted.inertia() - (0.5625 + 0.1875 + 0.5)).abs() < 1e-12);
    }

    #[test]
    fn unchecked_parameters_are_checked_by_fit_and_named() {
        let dataset = DatasetBase::from(blobs());
        let e = WeightedKMeans::params(0).fit(&dataset).unwrap_err();
        assert!(matches!(&e, Error::InvalidParameter { name, .. } if name == "n_clusters"), "{e:?}");
        let e = WeightedKMeans::params(2).starts(0).check().unwrap_err();
        assert!(matches!(&e, Error::InvalidParameter { name, .. } if name == "starts"), "{e:?}");
        let checked = WeightedKMeans::params(3).max_iters(7).seed(5).check().unwrap();
        assert_eq!((checked.n_clusters(), checked.max_iters(), checked.cold_start().seed), (3, 7, 5));
    }

    #[test]
    fn bad_records_and_weights_are_errors_not_panics() {
        let three_columns = DatasetBase::from(Array2::<f64>::zeros((4, 3)));
        assert!(WeightedKMeans::params(2).fit(&three_columns).unwrap_err().to_string().contains("3 columns"));
        let nan = DatasetBase::from(array![[0.0, 0.0], [f64::NAN, 1.0]]);
        assert!(WeightedKMeans::params(2).fit(&nan).unwrap_err().to_string().contains("record 2"));
        let short = DatasetBase::from(blobs()).with_weights(Array1::from(vec![1.0f32; 3]));
        assert!(WeightedKMeans::params(2).fit(&short).unwrap_err().to_string().contains("3 sample weights"));
        let negative = DatasetBase::from(array![[0.0, 0.0], [1.0, 1.0]]).with_weights(Array1::from(vec![1.0f32, -2.0]));
        assert!(WeightedKMeans::params(2).fit(&negative).unwrap_err().to_string().contains("weight -2"));
        let empty = DatasetBase::from(Array2::<f64>::zeros((0, 2)));
        assert!(matches!(WeightedKMeans::params(2).fit(&empty), Err(Error::EmptyConversation(_))));
    }

    #[test]
    fn predict_marks_what_it_cannot_place_and_try_predict_says_why() {
        let model = WeightedKMeans::params(2).fit(&DatasetBase::from(blobs())).unwrap();
        let labels: Array1<usize> = model.predict(&array![[0.1, 0.2], [f64::INFINITY, 0.0], [5.9, 6.1]]);
        assert_eq!(labels[1], NO_CLUSTER);
        assert_ne!(labels[0], labels[2]);
        assert!(labels[0] < 2 && labels[2] < 2);
        let wide: Array1<usize> = model.predict(&Array2::<f64>::zeros((2, 3)));
        assert!(wide.iter().all(|&l| l == NO_CLUSTER));
        assert!(model.try_predict(&array![[0.0, f64::NAN]]).unwrap_err().to_string().contains("record 1"));
    }
}
