//! The vote matrix as a dense `ndarray` (participants x statements, NaN for a missing vote), for
//! small data: a numpy array from a notebook, a hand-written test case, or linfa's dense
//! estimators.
//!
//! The pipeline itself never densifies: a dense matrix holds every cell, 8 bytes each, so a
//! conversation of 100,000 participants and 5,000 statements would take 4 GB dense against 25 MB
//! of votes in the sparse [`VoteMatrix`]. A missing vote is NaN because 0 already means pass, and a
//! pass is a cast vote that Polis counts (it moves the statement's mean and the participant's
//! number of votes), unlike a statement the participant never saw.

use ndarray::{Array2, ArrayView2};
use rustc_hash::FxHashSet;

use super::{Id, MatrixParts, Vote, VoteMatrix};
use crate::error::{Error, Location, Result};

impl VoteMatrix {
    /// The matrix as a dense array, participants x statements in row and column order, each cell
    /// the vote (agree = 1, disagree = -1, pass = 0) or NaN where the participant did not vote.
    ///
    /// For small data only: it allocates 8 bytes for every cell, voted or not
    /// (participants x statements x 8 bytes). [`VoteMatrix::from_dense`] is its inverse.
    pub fn to_dense(&self) -> Array2<f64> {
        let mut dense = Array2::from_elem((self.n_participants(), self.n_statements()), f64::NAN);
        for (row, mut cells) in dense.rows_mut().into_iter().enumerate() {
            let (cols, vals) = self.row(row);
            for (&c, &v) in cols.iter().zip(vals) {
                cells[c as usize] = f64::from(v);
            }
        }
        dense
    }

    /// Builds a matrix from a dense array, participants x statements: row `i` is the participant
    /// `participants[i]`, column `j` the statement `statements[j]`, and each cell is 1 (agree),
    /// -1 (disagree), 0 (pass) or NaN (no vote).
    ///
    /// Rows and columns keep the given order, all-missing ones included (which
    /// [`VoteMatrix::from_events`] never produces, since it only knows participants and statements
    /// from their votes), so `VoteMatrix::from_dense(m.to_dense().view(), ..)` with `m`'s ids is
    /// `m` again. Costs O(cells).
    ///
    /// Errors: [`Error::InvalidVote`] for any other value (0.5, infinity), naming the cell (its
    /// row, column and ids) where a file would be; [`Error::InvalidParameter`] when the ids are
    /// not one per row (`participants`) or per column (`statements`), or an id appears twice.
    ///
    /// ```
    /// use commonground::{Id, Vote, VoteMatrix};
    /// use ndarray::array;
    /// let votes = array![[1.0, f64::NAN, -1.0], [0.0, 1.0, f64::NAN]];
    /// let m = VoteMatrix::from_dense(votes.view(), [10, 11], ["a", "b", "c"]).unwrap();
    /// assert_eq!(m.get(0, 2), Some(Vote::Disagree));
    /// assert_eq!(m.get(0, 1), None);
    /// assert_eq!(m.participants(), &[Id::Int(10), Id::Int(11)]);
    /// assert_eq!(m.n_votes(), 4);
    /// ```
    pub fn from_dense<P, S>(votes: ArrayView2<'_, f64>, participants: P, statements: S) -> Result<VoteMatrix>
    where
        P: IntoIterator,
        P::Item: Into<Id>,
        S: IntoIterator,
        S::Item: Into<Id>,
    {
        let (n, m) = votes.dim();
        let participants = distinct_ids(participants, n, "participants", "row")?;
        let statements = distinct_ids(statements, m, "statements", "column")?;
        let mut indptr = Vec::with_capacity(n + 1);
        indptr.push(0u64);
        let (mut indices, mut values) = (Vec::new(), Vec::new());
        for (row, cells) in votes.rows().into_iter().enumerate() {
            for (col, &v) in cells.iter().enumerate() {
                if v.is_nan() {
                    continue;
                }
                let vote = Vote::from_f64(v).ok_or_else(|| Error::InvalidVote {
                    location: Location::new(
                        format!(
                            "dense votes row {row}, column {col} (participant {}, statement {})",
                            participants[row], statements[col]
                        ),
                        None,
                    ),
                    value: v.to_string(),
                })?;
                indices.push(col as u32);
                values.push(vote.value());
            }
            indptr.push(indices.len() as u64);
        }
        let parts = MatrixParts { participants, statements, indptr, indices, values, last_timestamp: None };
        // The parts are built consistent and the ids checked distinct above, so this cannot fail;
        // should it ever, it is an error, not a panic.
        VoteMatrix::from_parts(parts).map_err(Error::InvalidState)
    }
}

/// Collects `ids`, checking that there is one per row (or column) and that none repeats.
fn distinct_ids<I>(ids: I, expected: usize, name: &str, axis: &str) -> Result<Vec<Id>>
where
    I: IntoIterator,
    I::Item: Into<Id>,
{
    let invalid = |message: String| Error::InvalidParameter { name: name.to_string(), message };
    let ids: Vec<Id> = ids.into_iter().map(Into::into).collect();
    if ids.len() != expected {
        return Err(invalid(format!(
            "{} ids for {expected} {axis}s of the dense votes: give one per {axis}",
            ids.len()
        )));
    }
    let mut seen = FxHashSet::default();
    if let Some(id) = ids.iter().find(|id| !seen.insert(*id)) {
        return Err(invalid(format!("id {id} appears twice")));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::VoteEvent;

    #[test]
    fn dense_matrix_round_trips_through_the_sparse_one_nan_for_missing_and_zero_for_pass() {
        let nan = f64::NAN;
        let dense = ndarray::array![[1.0, nan, -1.0, 0.0], [nan, nan, nan, nan], [0.0, 1.0, nan, -1.0]];
        let m = VoteMatrix::from_dense(dense.view(), [7, 3, 5], ["x", "y", "z", "w"]).unwrap();
        assert_eq!((m.n_participants(), m.n_statements(), m.n_votes()), (3, 4, 6));
        assert_eq!(m.get(0, 3), Some(Vote::Pass));
        assert_eq!(m.get(0, 1), None);
        assert_eq!(m.row_len(1), 0, "an all-missing participant keeps its row");
        let back = m.to_dense();
        assert_eq!(back.dim(), (3, 4));
        for (a, b) in dense.iter().zip(back.iter()) {
            assert!(a == b || (a.is_nan() && b.is_nan()), "{a} vs {b}");
        }
    }

    #[test]
    fn a_matrix_built_from_events_round_trips_through_dense() {
        let events: Vec<VoteEvent> = (0..60)
            .map(|i| VoteEvent::new((i * 7) % 11, (i * 5) % 9, Vote::from_value((i % 3) - 1).unwrap()))
            .collect();
        let m = VoteMatrix::from_events(&events);
        let dense = m.to_dense();
        assert_eq!(dense.iter().filter(|v| !v.is_nan()).count(), m.n_votes());
        let again = VoteMatrix::from_dense(dense.view(), m.participants().to_vec(), m.statements().to_vec()).unwrap();
        assert_eq!(again.to_parts(), m.to_parts());
    }

    #[test]
    fn a_value_other_than_a_vote_is_an_invalid_vote_naming_its_cell() {
        let dense = ndarray::array![[1.0, 0.0], [-1.0, 0.5]];
        let e = VoteMatrix::from_dense(dense.view(), [1, 2], [30, 40]).unwrap_err();
        assert!(matches!(&e, Error::InvalidVote { value, .. } if value == "0.5"), "{e:?}");
        let message = e.to_string();
        for part in ["row 1", "column 1", "participant 2", "statement 40", "0.5"] {
            assert!(message.contains(part), "{message}");
        }
        let infinite = ndarray::array![[f64::INFINITY]];
        assert!(matches!(VoteMatrix::from_dense(infinite.view(), [1], [1]), Err(Error::InvalidVote { .. })));
    }

    #[test]
    fn ids_must_be_one_per_row_and_column_and_distinct() {
        let dense = ndarray::array![[1.0, 0.0], [-1.0, 1.0]];
        let e = VoteMatrix::from_dense(dense.view(), [1], [1, 2]).unwrap_err();
        assert!(matches!(&e, Error::InvalidParameter { name, .. } if name == "participants"), "{e:?}");
        let e = VoteMatrix::from_dense(dense.view(), [1, 2], [5, 5]).unwrap_err();
        assert!(e.to_string().contains("statements") && e.to_string().contains("twice"), "{e}");
    }
}
