//! Sparse PCA by power iteration, as the Polis math worker computes it (`pca.clj`), without ever
//! densifying the vote matrix.
//!
//! Polis fills each missing vote with its statement's mean vote and then centres every column on
//! that mean, so a missing cell of the centred matrix is exactly 0. The centred matrix therefore has
//! exactly the sparsity of the vote matrix: `X[i][j] = vote[i][j] - mean[j]` where participant i
//! voted on j, and 0 elsewhere. Moderated-out statements are zeroed for everyone (Polis's
//! `zero-out-columns`), so their mean is 0 and their centred column is entirely 0.
//!
//! Power iteration multiplies by `XᵀX` as two sparse products (`X v`, then `Xᵀ y`): O(votes) per
//! iteration. The second component is found on the deflated matrix `X - (X pc1) pc1ᵀ`, applied
//! implicitly, so deflation costs O(participants + statements) per iteration, not a dense copy.
//!
//! Determinism: rows are split into fixed chunks that do not depend on the number of threads, and
//! the per-chunk partial sums are added in chunk order, so the result is bit-identical with 1
//! thread or many.

mod algorithm;
mod lanczos;

pub use algorithm::{comment_projections, participant_projections, ColdStart, Pca, PcaParams, WarmStart};
