//! Polis's sparse PCA (`pca.clj`) as a linfa estimator: [`SparsePcaParams`] checked by
//! `ParamGuard`, `Fit` on a dense vote matrix with NaN for a missing vote, and a `Transformer` to
//! the opinion map.
//!
//! The records are votes, participants x statements: 1 (agree), -1 (disagree), 0 (pass) or NaN
//! (no vote). The fit reads them into a sparse [`VoteMatrix`] and runs [`Pca::fit`]: Polis's
//! mean imputation (a missing vote counts as the statement's mean, so it never densifies), its
//! power iteration from all ones, no statement moderated out (for moderation, call [`Pca::fit`]
//! on a matrix with its statements). Transforming is Polis's sparsity-aware projection
//! ([`participant_projections`]): a participant who voted on few statements is scaled out by
//! `sqrt(statements / votes)`, so that one who skipped half the statements is not pulled to the
//! centre of the map.
//!
//! linfa-reduction's `Pca` on the same votes, fully observed, finds the same components up to sign
//! (`tests/linfa_oracles.rs`); with missing votes it has no answer (NaN panics in its eigensolver).

use ::linfa::traits::{Fit, Transformer};
use ::linfa::{DatasetBase, ParamGuard};
use ndarray::{arr2, Array1, Array2, ArrayBase, Data, Ix2};

use crate::error::{Error, Result};
use crate::pca::{participant_projections, Pca, PcaParams};
use crate::votes::VoteMatrix;

/// Checked hyperparameters of [`SparsePca`]: [`PcaParams`] that passed [`PcaParams::check`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparsePcaValidParams(PcaParams);

impl SparsePcaValidParams {
    /// The PCA's parameters.
    pub fn pca_params(&self) -> &PcaParams {
        &self.0
    }
}

/// Hyperparameters of [`SparsePca`], unchecked: [`PcaParams`] (Polis's by default), which `Fit`
/// checks first with [`PcaParams::check`] (linfa's `ParamGuard`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparsePcaParams(SparsePcaValidParams);

impl SparsePcaParams {
    /// The PCA with these parameters.
    pub fn new(params: PcaParams) -> Self {
        SparsePcaParams(SparsePcaValidParams(params))
    }
}

impl From<PcaParams> for SparsePcaParams {
    fn from(params: PcaParams) -> Self {
        SparsePcaParams::new(params)
    }
}

impl ParamGuard for SparsePcaParams {
    type Checked = SparsePcaValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&SparsePcaValidParams> {
        self.0 .0.check()?;
        Ok(&self.0)
    }

    fn check(self) -> Result<SparsePcaValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted sparse PCA: the statements' mean votes and two principal components, in
/// commonground's sign (agree = +1) and the records' column order.
#[derive(Debug, Clone, PartialEq)]
pub struct SparsePca {
    pca: Pca,
}

impl SparsePca {
    /// Polis's parameters ([`PcaParams::default`]), unchecked.
    pub fn params() -> SparsePcaParams {
        SparsePcaParams::default()
    }

    /// The fit itself: centre, components, how many the data supports, products used.
    pub fn pca(&self) -> &Pca {
        &self.pca
    }

    /// The components, one row per component (2), one column per statement. A component the data
    /// does not support (fewer than two participants or statements) is a row of zeros.
    pub fn components(&self) -> Array2<f64> {
        Array2::from_shape_fn((2, self.n_statements()), |(c, j)| self.pca.comps[c][j])
    }

    /// Each statement's mean vote over the votes cast on it (0 when nobody voted on it).
    pub fn center(&self) -> Array1<f64> {
        Array1::from(self.pca.center.clone())
    }

    /// Number of statements (columns) the fit saw.
    pub fn n_statements(&self) -> usize {
        self.pca.center.len()
    }

    /// Polis's sparsity-aware projection of each participant (row of `votes`): participants x 2
    /// (x, y). `votes` must have the fit's statements as its columns.
    fn project<D: Data<Elem = f64>>(&self, votes: &ArrayBase<D, Ix2>) -> Result<Array2<f64>> {
        if votes.ncols() != self.n_statements() {
            return Err(Error::Parse {
                location: crate::error::Location::none(),
                message: format!(
                    "votes have {} statements (columns); the PCA was fitted on {}",
                    votes.ncols(),
                    self.n_statements()
                ),
            });
        }
        let matrix = vote_matrix(votes)?;
        let projections = participant_projections(&matrix, &vec![false; matrix.n_statements()], &self.pca);
        Ok(arr2(&projections))
    }
}

/// The dense votes as a sparse matrix whose ids are the row and column indices.
fn vote_matrix<D: Data<Elem = f64>>(votes: &ArrayBase<D, Ix2>) -> Result<VoteMatrix> {
    let (n, m) = votes.dim();
    VoteMatrix::from_dense(votes.view(), 0..n as i64, 0..m as i64)
}

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, Error> for SparsePcaValidParams {
    type Object = SparsePca;

    /// Fits the components of the votes (participants x statements, NaN for no vote).
    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<SparsePca> {
        let matrix = vote_matrix(&dataset.records)?;
        if matrix.n_votes() == 0 {
            return Err(Error::EmptyConversation("the dense votes hold no vote (every cell is NaN)".into()));
        }
        let pca = Pca::fit(&matrix, &vec![false; matrix.n_statements()], None, &self.0);
        Ok(SparsePca { pca })
    }
}

/// Projects votes (participants x statements, NaN for no vote) onto the opinion map:
/// participants x 2.
impl<D: Data<Elem = f64>> Transformer<&ArrayBase<D, Ix2>, Result<Array2<f64>>> for SparsePca {
    fn transform(&self, votes: &ArrayBase<D, Ix2>) -> Result<Array2<f64>> {
        self.project(votes)
    }
}

/// Replaces a dataset's votes by their projections (participants x 2), keeping its targets and
/// weights, so that a pipeline can go on to cluster the opinion map.
impl<D: Data<Elem = f64>, T> Transformer<DatasetBase<ArrayBase<D, Ix2>, T>, Result<DatasetBase<Array2<f64>, T>>>
    for SparsePca
{
    fn transform(&self, dataset: DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<DatasetBase<Array2<f64>, T>> {
        let projections = self.project(&dataset.records)?;
        let DatasetBase { targets, weights, .. } = dataset;
        Ok(DatasetBase::new(projections, targets).with_weights(weights))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linfa::WeightedKMeans;
    use ndarray::{array, Array1};

    /// Two camps of 6 over 5 statements, some votes missing, passes here and there.
    fn camps() -> Array2<f64> {
        Array2::from_shape_fn((12, 5), |(p, s)| {
            if (p * 3 + s) % 7 == 0 {
                f64::NAN
            } else if (p + 2 * s) % 9 == 0 {
                0.0
            } else if (p < 6) == (s % 2 == 0) {
                1.0
            } else {
                -1.0
            }
        })
    }

    #[test]
    fn a_linfa_fit_is_pca_fit_on_the_same_votes_and_transform_is_polis_projection() {
        let votes = camps();
        let model = SparsePca::params().fit(&DatasetBase::from(votes.clone())).unwrap();
        let matrix = vote_matrix(&votes).unwrap();
        let out = vec![false; 5];
        let direct = Pca::fit(&matrix, &out, None, &PcaParams::default());
        assert_eq!(model.pca(), &direct);
        assert_eq!(model.components().dim(), (2, 5));
        assert_eq!(model.components().row(1).to_vec(), direct.comps[1]);
        assert_eq!(model.center().to_vec(), direct.center);

        let map = model.transform(&votes).unwrap();
        assert_eq!(map.dim(), (12, 2));
        let expected = participant_projections(&matrix, &out, &direct);
        for (row, e) in map.rows().into_iter().zip(&expected) {
            assert_eq!([row[0], row[1]], *e);
        }
        // The two camps are on opposite sides of the first axis.
        assert!(map.column(0).iter().take(6).all(|&x| x * map[[0, 0]] > 0.0));
        assert!(map.column(0).iter().skip(6).all(|&x| x * map[[0, 0]] < 0.0));
    }

    #[test]
    fn a_pipeline_projects_votes_then_clusters_the_map_into_the_two_camps() {
        let votes = DatasetBase::from(camps()).with_weights(Array1::from(vec![1.0f32; 12]));
        let pca = SparsePca::params().fit(&votes).unwrap();
        let map = pca.transform(votes).unwrap();
        assert_eq!(map.records.dim(), (12, 2));
        assert_eq!(map.weights().map(|w| w.len()), Some(12));
        let groups = WeightedKMeans::params(2).fit(&map).unwrap();
        let labels = groups.memberships();
        assert!(labels.iter().take(6).all(|&l| l == labels[0]));
        assert!(labels.iter().skip(6).all(|&l| l == labels[6] && l != labels[0]));
    }

    #[test]
    fn bad_parameters_and_votes_are_errors_not_panics() {
        let votes = DatasetBase::from(camps());
        let bad = SparsePcaParams::new(PcaParams { cold_tolerance: -1.0, ..PcaParams::default() });
        let e = bad.fit(&votes).unwrap_err();
        assert!(matches!(&e, Error::InvalidParameter { name, .. } if name == "cold_tolerance"), "{e:?}");
        let half = DatasetBase::from(array![[1.0, 0.5], [-1.0, 1.0]]);
        assert!(matches!(SparsePca::params().fit(&half), Err(Error::InvalidVote { .. })));
        let empty = DatasetBase::from(Array2::from_elem((3, 2), f64::NAN));
        assert!(matches!(SparsePca::params().fit(&empty), Err(Error::EmptyConversation(_))));
        let model = SparsePca::params().fit(&votes).unwrap();
        let narrow = model.transform(&array![[1.0, -1.0]]).unwrap_err();
        assert!(narrow.to_string().contains("fitted on 5"), "{narrow}");
    }
}
