//! Polis's k-means (`clusters.clj`), the same clusters to the bit, fast enough for a million
//! participants.
//!
//! Polis does not run the textbook k-means, and its differences decide which group a participant
//! is in, so each is kept: the start is the first k distinct points, or last update's clusters
//! cleaned up (`init-clusters`, `clean-start-clusters`); distances use vectorz's formula
//! `sqrt(|a|² + |b|² − 2a·b)`, whose rounding makes near-coincident points exactly tied; ties go
//! to the *last* cluster in Clojure's map order; empty clusters are dropped, never reseeded;
//! centres are `weighted-mean`s (the group level weights each base cluster by its member count);
//! and the loop stops when every centre moved less than 0.01 or the step budget is spent.
//!
//! The module is laid out by those stages:
//!
//! - [`init`]: the cold start, the warm start, and the opt-in k-means++ starts of [`MultiStart`];
//! - [`assign`]: each step's nearest-centre assignment, accelerated by Hamerly and Elkan bounds
//!   that skip the scans whose answer is already proven, never changing it;
//! - [`step`]: the step loop, [`kmeans`] and [`kmeans_cold`].
//!
//! The tests (`tests.rs`) hold the accelerated step to a literal `cluster-step` by brute force,
//! bit for bit, on exact ties, coincident centres, extreme coordinates, weights and warm starts,
//! with any number of threads.

mod assign;
mod init;
mod step;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

pub use init::MultiStart;
pub use step::{kmeans, kmeans_cold, kmeans_presolved, kmeans_settling, weighted_inertia};

/// Smallest share of points a parallel job gets (see `pca::MIN_ROWS_PER_JOB`).
const MIN_POINTS_PER_JOB: usize = 8192;

/// A cluster: its id (stable across updates; Polis ids only grow), its members (names of data
/// points: participant rows for base clusters, base-cluster ids for groups), and its centre.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cluster {
    pub id: u32,
    pub members: Vec<usize>,
    pub center: [f64; 2],
}

/// Points to cluster: each has a name (stable across updates), a 2-D position and, for the group
/// level, a weight (the base cluster's member count).
#[derive(Debug, Clone, Default)]
pub struct Points {
    pub names: Vec<usize>,
    pub positions: Vec<[f64; 2]>,
    pub weights: Option<Vec<f64>>,
    /// Row of each name, built on the first look-up: only a warm start and the inertia look names
    /// up, and a cold start over a million participants should not wait for a million inserts.
    index: OnceLock<FxHashMap<usize, usize>>,
}

impl Points {
    pub fn new(names: Vec<usize>, positions: Vec<[f64; 2]>, weights: Option<Vec<f64>>) -> Points {
        Points { names, positions, weights, index: OnceLock::new() }
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    fn row_of(&self, name: usize) -> Option<usize> {
        let index = self.index.get_or_init(|| self.names.iter().enumerate().map(|(i, &n)| (n, i)).collect());
        index.get(&name).copied()
    }
}

/// vectorz's distance, `sqrt(|a|² + |b|² - 2 a·b)` (Polis Q11): near-coincident points come out
/// at exactly 0, which decides ties and the `dist > 0` test of the warm start.
pub(crate) fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    let aa = a[0] * a[0] + a[1] * a[1];
    let bb = b[0] * b[0] + b[1] * b[1];
    let ab = a[0] * b[0] + a[1] * b[1];
    (aa + bb - 2.0 * ab).max(0.0).sqrt()
}

/// Polis's `weighted-mean` of rows (`clusters.clj`): unweighted, the column sums times 1/n;
/// weighted, each row times its weight, times n / Σw, then the unweighted mean.
fn weighted_mean(rows: &[usize], points: &Points) -> [f64; 2] {
    let n = rows.len() as f64;
    let mut s = [0.0, 0.0];
    match &points.weights {
        None => {
            for &r in rows {
                s[0] += points.positions[r][0];
                s[1] += points.positions[r][1];
            }
        }
        Some(w) => {
            let total: f64 = rows.iter().map(|&r| w[r]).sum();
            let scale = n / total;
            for &r in rows {
                s[0] += points.positions[r][0] * w[r] * scale;
                s[1] += points.positions[r][1] * w[r] * scale;
            }
        }
    }
    let inv = 1.0 / n;
    [s[0] * inv, s[1] * inv]
}

/// The rows of `points` among a cluster's members, in data order (`rowname-subset`).
fn present_rows(members: &[usize], points: &Points) -> Vec<usize> {
    let mut rows: Vec<usize> = members.iter().filter_map(|&m| points.row_of(m)).collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}
