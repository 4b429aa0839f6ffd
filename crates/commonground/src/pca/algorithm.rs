use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::votes::VoteMatrix;

/// Hyperparameters of the power-iteration PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct PcaParams {
    /// Power-iteration budget per component. Polis: `pca-iters = 100`, which allows 101 products.
    pub iters: usize,
    /// Budget for a component that has no warm start. Polis starts cold components from an
    /// unseeded random vector and refines them on every later update, so its stored components are
    /// converged; one cold 101-step run from the all-ones vector (Delphi's pinned start) is not
    /// always converged when the top eigenvalues are close. A cold start therefore runs until the
    /// component stops moving (`cold_tolerance`) or this budget is spent; set it equal to `iters`
    /// and the tolerance to 0 for Polis's literal single cold tick.
    pub cold_iters: usize,
    /// A cold start has converged when no loading moves by more than this between two products.
    pub cold_tolerance: f64,
    /// How components without a warm start are found.
    pub cold_start: ColdStart,
    /// How components with a warm start are updated.
    pub warm_start: WarmStart,
    /// `Some(tolerance)`: the fast profile ([`crate::Profile::Fast`]). Both components come from
    /// Lanczos, cold or warm, stopped when every residual is below `tolerance` times the top
    /// eigenvalue, with no power-iteration polish. `None` (default): Polis's components.
    pub lanczos_only: Option<f64>,
}

/// How the PCA updates components it has from the previous update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarmStart {
    /// Polis's power iteration from the previous components, until the eigenvalue estimate repeats
    /// exactly (at most `iters` + 1 products): the parity mode. Often 50 or more products, since
    /// the estimate settles in its last bits slowly.
    #[default]
    Polis,
    /// Lanczos from the previous components, until the residual is below 1e-10 of the top
    /// eigenvalue: the same components to about 1e-9 in a fraction of the products, for live
    /// sites that update on every batch of votes.
    Lanczos,
}

/// How the PCA finds components that have no warm start (the first update of a conversation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColdStart {
    /// Lanczos iteration for both components, then Polis's power iteration from there: the same
    /// components in far fewer products.
    #[default]
    Lanczos,
    /// Power iteration from the all-ones vector until the component settles (`cold_tolerance`).
    PowerIteration,
}

impl PcaParams {
    /// Checks the parameters once, before any work (linfa's `ParamGuard` pattern): the cold-start
    /// tolerance must be a finite number >= 0. Every budget is valid, 0 included (one product).
    pub fn check(&self) -> Result<()> {
        if !(self.cold_tolerance >= 0.0 && self.cold_tolerance.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "cold_tolerance".into(),
                message: "must be a finite number >= 0".into(),
            });
        }
        Ok(())
    }
}

impl Default for PcaParams {
    fn default() -> Self {
        PcaParams {
            iters: 100,
            cold_iters: 5_000,
            cold_tolerance: 1e-12,
            cold_start: ColdStart::Lanczos,
            warm_start: WarmStart::Polis,
            lanczos_only: None,
        }
    }
}

/// The result of the PCA: the centre (per-statement mean vote) and two principal components, all
/// in commonground's sign (agree = +1) and in the matrix's column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    pub center: Vec<f64>,
    /// `comps[c][j]`: component c's loading on statement j. Fewer than 2 rows or columns leave the
    /// missing components as zero vectors (Polis: `min(n-comps, min(rows, cols))` components).
    pub comps: [Vec<f64>; 2],
    /// How many components the data supports: `min(2, participants, statements)`.
    pub n_comps: usize,
    /// Power-iteration products actually used per component.
    pub iterations: [usize; 2],
}

/// Smallest share of rows a parallel job gets: below this, waking another thread costs more than
/// the work (a replay runs thousands of small updates).
const MIN_ROWS_PER_JOB: usize = 8192;

/// Rows per chunk in the parallel products: fixed, so that sums do not depend on the thread count.
fn chunk_rows(n_rows: usize) -> usize {
    // At most ~64 partial vectors (64 x statements floats of scratch), at least 1024 rows each.
    (n_rows / 64).max(1024)
}

/// The centred sparse matrix, implicit: a cast vote `v` on statement `j` stands for
/// `v - mean[j]`, or 0 when `j` is moderated out. Votes are only -1, 0 and 1, so the centred value
/// is a lookup in a 3-entry table per statement, with no arithmetic or branch per vote.
struct Centered<'a> {
    matrix: &'a VoteMatrix,
    /// `centred[3 j + v + 1]`.
    centred: Vec<f64>,
    /// Each stored vote's `3 j + v + 1`, in the matrix's order, when every such code fits in a
    /// `u16` (up to 21,845 statements); else `None`, and the products derive it per vote.
    ///
    /// Why: a product's pass reads every vote, and a pass over the matrix's 5 bytes a vote (a `u32`
    /// column and an `i8` vote) plus the code's arithmetic took longer than one over 2 bytes a vote
    /// whose code is the table index itself; the codes are written once per fit and read by every
    /// product (27 in the exact profile at 1M, where they cost 100 MB beside the matrix's 250).
    codes: Option<Vec<u16>>,
}

/// Largest table index a `u16` code holds: `3 j + v + 1 <= u16::MAX` for every `j < n`.
const MAX_U16_CODED_STATEMENTS: usize = (u16::MAX as usize + 1) / 3;

impl<'a> Centered<'a> {
    fn new(matrix: &'a VoteMatrix, mean: &[f64], moderated_out: &[bool]) -> Self {
        let centred = mean
            .iter()
            .zip(moderated_out)
            .flat_map(|(&mu, &out)| if out { [0.0; 3] } else { [-1.0 - mu, -mu, 1.0 - mu] })
            .collect();
        let codes = (matrix.n_statements() <= MAX_U16_CODED_STATEMENTS).then(|| {
            let (_, indices, values) = matrix.csr();
            let mut codes = Vec::new();
            indices
                .par_iter()
                .zip(values)
                .with_min_len(1 << 16)
                .map(|(&c, &x)| (3 * c + (x + 1) as u32) as u16)
                .collect_into_vec(&mut codes);
            codes
        });
        Centered { matrix, centred, codes }
    }

    #[inline]
    fn value(&self, col: u32, vote: i8) -> f64 {
        self.centred[3 * col as usize + (vote + 1) as usize]
    }

    /// `X v` (one entry per participant). O(votes).
    fn times(&self, v: &[f64], out: &mut [f64]) {
        let m = self.matrix;
        out.par_iter_mut().enumerate().with_min_len(MIN_ROWS_PER_JOB).for_each(|(row, o)| {
            let (cols, vals) = m.row(row);
            *o = cols.iter().zip(vals).map(|(&c, &x)| self.value(c, x) * v[c as usize]).sum();
        });
    }

    /// One power-iteration product, `(X - u pcᵀ)ᵀ (X - u pcᵀ) v` with `deflate = (pc, u = X pc)`
    /// or plain `XᵀX v`, in a single sweep over the votes: each row's `y_r = row · v` is used at
    /// once for `Xᵀ y` while the row is in cache. Rows are cut into fixed chunks whose partial sums
    /// are added in chunk order, so the result does not depend on the number of threads. O(votes).
    fn gram_times(&self, v: &[f64], deflate: Option<(&[f64], &[f64])>, out: &mut [f64]) {
        if let Some(codes) = &self.codes {
            let indptr = self.matrix.csr().0;
            self.gram_times_by(v, deflate, out, |row| codes[indptr[row]..indptr[row + 1]].iter().map(|&k| k as usize));
        } else {
            self.gram_times_by(v, deflate, out, |row| {
                let (cols, vals) = self.matrix.row(row);
                cols.iter().zip(vals).map(|(&c, &x)| 3 * c as usize + (x + 1) as usize)
            });
        }
    }

    /// [`Centered::gram_times`] with each row's votes read as their table indices `3 j + v + 1`,
    /// in column order (the same additions in the same order whichever way they are read).
    fn gram_times_by<I, F>(&self, v: &[f64], deflate: Option<(&[f64], &[f64])>, out: &mut [f64], row_codes: F)
    where
        I: Iterator<Item = usize> + Clone,
        F: Fn(usize) -> I + Sync,
    {
        let m = self.matrix;
        let n_rows = m.n_participants();
        let n_cols = m.n_statements();
        let chunk = chunk_rows(n_rows);
        let a = deflate.map_or(0.0, |(pc, _)| dot(pc, v));
        // `weighted[3 j + v + 1]` = centred value times `v[j]`: the same product per vote as
        // `value(c, x) * v[c]`, looked up at once.
        let weighted: Vec<f64> = self.centred.iter().enumerate().map(|(k, &x)| x * v[k / 3]).collect();
        // Per chunk, `Xᵀ y` is gathered as `sums[3 j + v + 1]`: the sum of `y_r` over the rows
        // whose vote on j is v; `(Xᵀ y)_j` is then `Σ_v centred(j, v) · sums[3 j + v + 1]`, one
        // add per vote instead of a lookup, a multiply and an add.
        let partials: Vec<(Vec<f64>, f64)> = (0..n_rows.div_ceil(chunk))
            .into_par_iter()
            .map(|ci| {
                let mut sums = vec![0.0; 3 * n_cols];
                let mut uy = 0.0;
                for row in ci * chunk..((ci + 1) * chunk).min(n_rows) {
                    let codes = row_codes(row);
                    let mut y: f64 = codes.clone().map(|k| weighted[k]).sum();
                    if let Some((_, u)) = deflate {
                        y -= u[row] * a;
                        uy += u[row] * y;
                    }
                    if y != 0.0 {
                        for k in codes {
                            sums[k] += y;
                        }
                    }
                }
                let acc = sums.chunks_exact(3).zip(self.centred.chunks_exact(3)).map(|(s, c)| dot(s, c)).collect();
                (acc, uy)
            })
            .collect();
        out.iter_mut().for_each(|o| *o = 0.0);
        let mut uy = 0.0;
        for (p, partial_uy) in partials {
            for (o, x) in out.iter_mut().zip(p) {
                *o += x;
            }
            uy += partial_uy;
        }
        if let Some((pc, _)) = deflate {
            // (X - u pcᵀ)ᵀ y = Xᵀ y - pc (u · y)
            out.iter_mut().zip(pc).for_each(|(o, c)| *o -= c * uy);
        }
    }
}

/// Per-statement mean vote over cast votes (pass = 0); 0 for moderated-out statements, whose
/// column Polis sets to 0 for every participant. O(votes), in parallel over fixed chunks of votes:
/// the sums and counts are integers, so the chunks add up to the same numbers in any order.
pub(crate) fn column_means(matrix: &VoteMatrix, moderated_out: &[bool]) -> Vec<f64> {
    let n_cols = matrix.n_statements();
    let (_, indices, values) = matrix.csr();
    let chunk = (indices.len() / 64).max(1 << 16);
    let (sum, count) = indices
        .par_chunks(chunk)
        .zip(values.par_chunks(chunk))
        .fold(
            || (vec![0i64; n_cols], vec![0u64; n_cols]),
            |(mut sum, mut count), (indices, values)| {
                for (&c, &v) in indices.iter().zip(values) {
                    sum[c as usize] += v as i64;
                    count[c as usize] += 1;
                }
                (sum, count)
            },
        )
        .reduce_with(|(mut sum, mut count), (s, c)| {
            sum.iter_mut().zip(s).for_each(|(a, b)| *a += b);
            count.iter_mut().zip(c).for_each(|(a, b)| *a += b);
            (sum, count)
        })
        .unwrap_or_else(|| (vec![0; n_cols], vec![0; n_cols]));
    (0..n_cols).map(|j| if moderated_out[j] || count[j] == 0 { 0.0 } else { sum[j] as f64 / count[j] as f64 }).collect()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Polis's `power-iteration`: repeat `v <- XᵀX v / ‖XᵀX v‖` until the budget is spent or the
/// eigenvalue estimate `‖XᵀX v‖` repeats exactly. `deflate` is `(pc1, X pc1)` for the second
/// component. Returns the vector and the number of products.
fn power_iteration(
    x: &Centered<'_>,
    deflate: Option<(&[f64], &[f64])>,
    start: Vec<f64>,
    iters: usize,
    tolerance: f64,
) -> (Vec<f64>, usize) {
    let mut v = start;
    let mut product = vec![0.0; v.len()];
    let mut last_eig = 0.0;
    let mut budget = iters;
    let mut products = 0;
    loop {
        x.gram_times(&v, deflate, &mut product);
        products += 1;
        let eig = norm(&product);
        // vectorz's normalise leaves a zero vector unchanged.
        let normed: Vec<f64> = if eig > 0.0 { product.iter().map(|p| p / eig).collect() } else { product.clone() };
        // Warm starts stop as Polis does, when the eigenvalue estimate repeats exactly; cold
        // starts run until the vector itself settles, which the eigenvalue does long before.
        let done = if tolerance > 0.0 {
            normed.iter().zip(&v).all(|(a, b)| (a - b).abs() <= tolerance)
        } else {
            eig == last_eig
        };
        if budget == 0 || done {
            return (normed, products);
        }
        v = normed;
        last_eig = eig;
        budget -= 1;
    }
}

impl Pca {
    /// Polis's `wrapped-pca` on the mean-imputed, centred rating matrix.
    ///
    /// `warm` holds the previous update's components (shorter when statements were added since:
    /// new statements are padded with 1.0, as `power-iteration` pads them); an all-zero previous
    /// component counts as absent, as in `wrapped-pca`. Absent components start from all ones.
    pub fn fit(matrix: &VoteMatrix, moderated_out: &[bool], warm: Option<&[Vec<f64>; 2]>, params: &PcaParams) -> Pca {
        let n_cols = matrix.n_statements();
        let mean = column_means(matrix, moderated_out);
        let x = Centered::new(matrix, &mean, moderated_out);
        let n_comps = 2.min(matrix.n_participants()).min(n_cols);
        let mut comps = [vec![0.0; n_cols], vec![0.0; n_cols]];
        let mut iterations = [0, 0];
        let mut xpc1 = Vec::new();
        let all_cold = (0..n_comps).all(|c| warm.map(|w| &w[c]).is_none_or(|p| p.iter().all(|&x| x == 0.0)));
        if let Some(tolerance) = params.lanczos_only.filter(|_| n_comps > 0) {
            // The fast profile: Lanczos alone, from the previous components when every one is
            // there (oriented like them), else from the cold start (oriented by the all-ones rule).
            let previous: Option<Vec<Vec<f64>>> = warm.filter(|_| !all_cold).map(|w| {
                w.iter()
                    .map(|c| c.iter().copied().take(n_cols).chain(std::iter::repeat(1.0)).take(n_cols).collect())
                    .collect()
            });
            let (found, used) = super::lanczos::top_eigenvectors(
                n_cols,
                n_comps,
                params.cold_iters.max(1),
                tolerance,
                previous.as_deref(),
                |v, out| x.gram_times(v, None, out),
            );
            for (c, pc) in found.into_iter().enumerate().take(n_comps) {
                comps[c] = pc;
            }
            return Pca { center: mean, comps, n_comps, iterations: [used, 0] };
        }
        let mut lanczos_starts: Vec<Vec<f64>> = Vec::new();
        if all_cold && n_comps > 0 && params.cold_start == ColdStart::Lanczos {
            // Converged to 1e-13: a Lanczos step gains more than a step of the power iteration
            // that polishes the result to Polis's fixed point (100k x 2k x 5M: 24 products in all
            // instead of 32 with 1e-10; the groups are the same on every openData conversation).
            let (found, used) =
                super::lanczos::top_eigenvectors(n_cols, n_comps, params.cold_iters.max(1), 1e-13, None, |v, out| {
                    x.gram_times(v, None, out)
                });
            iterations[0] += used;
            lanczos_starts = found;
        }
        let all_warm = n_comps == 2 && (0..2).all(|c| warm.is_some_and(|w| w[c].iter().any(|&x| x != 0.0)));
        if all_warm && params.warm_start == WarmStart::Lanczos {
            let previous: Vec<Vec<f64>> = warm.map(|w| w.to_vec()).unwrap_or_default();
            let (found, used) = super::lanczos::top_eigenvectors(
                n_cols,
                2,
                params.cold_iters.max(1),
                1e-10,
                Some(&previous),
                |v, out| x.gram_times(v, None, out),
            );
            if found.len() == 2 {
                let mut found = found.into_iter();
                let comps = [found.next().unwrap_or_default(), found.next().unwrap_or_default()];
                return Pca { center: mean, comps, n_comps, iterations: [used, 0] };
            }
        }
        for c in 0..n_comps {
            let previous = warm.map(|w| &w[c]).filter(|p| p.iter().any(|&x| x != 0.0)).or(lanczos_starts.get(c));
            let (start, iters, tolerance) = match previous {
                Some(p) => {
                    let mut s: Vec<f64> = p.iter().copied().take(n_cols).collect();
                    s.resize(n_cols, 1.0);
                    (s, params.iters, 0.0)
                }
                None => (vec![1.0; n_cols], params.cold_iters.max(params.iters), params.cold_tolerance),
            };
            let deflate = if c == 1 && dot(&comps[0], &comps[0]) != 0.0 {
                Some((comps[0].as_slice(), xpc1.as_slice()))
            } else {
                None
            };
            let (pc, used) = power_iteration(&x, deflate, start, iters, tolerance);
            comps[c] = pc;
            iterations[c] += used;
            if c == 0 {
                xpc1 = vec![0.0; matrix.n_participants()];
                x.times(&comps[0], &mut xpc1);
            }
        }
        Pca { center: mean, comps, n_comps, iterations }
    }
}

/// Polis's sparsity-aware participant projection (`pca.clj` `sparsity-aware-project-ptpt`):
/// `sqrt(n_statements / max(n_voted, 1)) · Σ_{voted j} (vote_j - center_j) · pc[j]`.
///
/// It runs on the rating matrix in which moderated-out columns are 0 for everyone, so those
/// columns count as voted for every participant (they add 0 to the sum). With fewer than two
/// components every projection is `[0, 0]` (Polis's `utils/zip` truncates on a missing pc2).
/// O(votes), parallel over participants.
pub fn participant_projections(matrix: &VoteMatrix, moderated_out: &[bool], pca: &Pca) -> Vec<[f64; 2]> {
    let n_cols = matrix.n_statements();
    if pca.n_comps < 2 {
        return vec![[0.0, 0.0]; matrix.n_participants()];
    }
    let n_out = moderated_out.iter().filter(|&&m| m).count();
    (0..matrix.n_participants())
        .into_par_iter()
        .with_min_len(MIN_ROWS_PER_JOB)
        .map(|row| {
            let (cols, vals) = matrix.row(row);
            let (mut p1, mut p2) = (0.0, 0.0);
            let mut n_voted = n_out;
            for (&c, &v) in cols.iter().zip(vals) {
                let c = c as usize;
                if moderated_out[c] {
                    continue; // already counted in n_out; contributes 0 - 0
                }
                let d = v as f64 - pca.center[c];
                p1 += d * pca.comps[0][c];
                p2 += d * pca.comps[1][c];
                n_voted += 1;
            }
            let scale = (n_cols as f64 / n_voted.max(1) as f64).sqrt();
            [scale * p1, scale * p2]
        })
        .collect()
}

/// Polis's statement projection (`pca-project-cmnts`): each statement is projected as a synthetic
/// participant who agreed with it and voted on nothing else, i.e. `sqrt(n_statements) ·
/// (1 - center_j) · (pc1_j, pc2_j)` in commonground's sign. Returns the projections and their
/// Euclidean norms (Polis's `comment-extremity`).
pub fn comment_projections(pca: &Pca) -> (Vec<[f64; 2]>, Vec<f64>) {
    let n_cols = pca.center.len();
    if pca.n_comps < 2 {
        return (vec![[0.0, 0.0]; n_cols], vec![0.0; n_cols]);
    }
    let scale = (n_cols as f64).sqrt();
    let proj: Vec<[f64; 2]> = (0..n_cols)
        .map(|j| {
            let d = 1.0 - pca.center[j];
            [scale * d * pca.comps[0][j], scale * d * pca.comps[1][j]]
        })
        .collect();
    let extremity = proj.iter().map(|p| (p[0] * p[0] + p[1] * p[1]).sqrt()).collect();
    (proj, extremity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Vote, VoteEvent};

    /// Dense reference: mean-impute, centre, form XᵀX, and find its top eigenvectors by a long
    /// power iteration with explicit deflation, as `pca.clj` does on its dense matrix.
    fn dense_reference(rows: &[Vec<Option<i8>>]) -> (Vec<f64>, [Vec<f64>; 2]) {
        let m = rows[0].len();
        let mean: Vec<f64> = (0..m)
            .map(|j| {
                let v: Vec<f64> = rows.iter().filter_map(|r| r[j].map(|x| x as f64)).collect();
                v.iter().sum::<f64>() / v.len() as f64
            })
            .collect();
        let mut x: Vec<Vec<f64>> =
            rows.iter().map(|r| (0..m).map(|j| r[j].map_or(mean[j], |v| v as f64) - mean[j]).collect()).collect();
        let mut comps = [vec![], vec![]];
        for c in 0..2 {
            let mut v = vec![1.0; m];
            for _ in 0..5000 {
                let mut p = vec![0.0; m];
                for row in &x {
                    let a = dot(row, &v);
                    for j in 0..m {
                        p[j] += a * row[j];
                    }
                }
                let n = norm(&p);
                v = p.iter().map(|q| q / n).collect();
            }
            for row in x.iter_mut() {
                let a = dot(row, &v);
                for j in 0..m {
                    row[j] -= a * v[j];
                }
            }
            comps[c] = v;
        }
        (mean, comps)
    }

    fn small_matrix() -> (VoteMatrix, Vec<Vec<Option<i8>>>) {
        // 6 participants x 4 statements with missing votes; two camps plus noise.
        let dense: Vec<Vec<Option<i8>>> = vec![
            vec![Some(1), Some(1), Some(-1), None],
            vec![Some(1), None, Some(-1), Some(0)],
            vec![Some(1), Some(1), None, Some(-1)],
            vec![Some(-1), Some(-1), Some(1), Some(1)],
            vec![None, Some(-1), Some(1), Some(1)],
            vec![Some(-1), Some(0), Some(1), None],
        ];
        let mut events = vec![];
        for (p, r) in dense.iter().enumerate() {
            for (s, v) in r.iter().enumerate() {
                if let Some(v) = v {
                    events.push(VoteEvent::new(p as i64, s as i64, Vote::from_value(*v as i64).unwrap()));
                }
            }
        }
        (VoteMatrix::from_events(&events), dense)
    }

    #[test]
    fn sparse_power_iteration_matches_a_dense_mean_imputed_reference() {
        let (m, dense) = small_matrix();
        let pca = Pca::fit(&m, &[false; 4], None, &PcaParams::default());
        let (mean, comps) = dense_reference(&dense);
        for j in 0..4 {
            assert!((pca.center[j] - mean[j]).abs() < 1e-12);
            for c in 0..2 {
                // Same start vector (all ones), so the same sign.
                assert!(
                    (pca.comps[c][j] - comps[c][j]).abs() < 1e-9,
                    "comp {c} statement {j}: {:?} vs {:?} iters {:?}",
                    pca.comps,
                    comps,
                    pca.iterations
                );
            }
        }
    }

    #[test]
    fn projection_scales_by_sqrt_of_statements_over_votes_cast() {
        let (m, _) = small_matrix();
        let pca = Pca::fit(&m, &[false; 4], None, &PcaParams::default());
        let proj = participant_projections(&m, &[false; 4], &pca);
        // Participant 1 voted on statements 0, 2, 3 (3 of 4).
        let (cols, vals) = m.row(1);
        let mut p = [0.0; 2];
        for (&c, &v) in cols.iter().zip(vals) {
            for k in 0..2 {
                p[k] += (v as f64 - pca.center[c as usize]) * pca.comps[k][c as usize];
            }
        }
        let s = (4.0f64 / 3.0f64).sqrt();
        assert!((proj[1][0] - s * p[0]).abs() < 1e-12 && (proj[1][1] - s * p[1]).abs() < 1e-12);
    }

    #[test]
    fn moderated_out_statement_has_zero_centre_and_loading_and_counts_as_voted() {
        let (m, _) = small_matrix();
        let out = [false, false, false, true];
        let pca = Pca::fit(&m, &out, None, &PcaParams::default());
        assert_eq!(pca.center[3], 0.0);
        assert_eq!(pca.comps[0][3], 0.0);
        let proj = participant_projections(&m, &out, &pca);
        // Participant 0 did not vote on statement 3 but it counts as voted: scale sqrt(4/4).
        let (cols, vals) = m.row(0);
        let p0: f64 =
            cols.iter().zip(vals).map(|(&c, &v)| (v as f64 - pca.center[c as usize]) * pca.comps[0][c as usize]).sum();
        assert!((proj[0][0] - p0).abs() < 1e-12);
    }

    #[test]
    fn identical_votes_give_zero_components_not_nan() {
        let events: Vec<VoteEvent> =
            (0..5).flat_map(|p| (0..3).map(move |s| VoteEvent::new(p, s, Vote::Agree))).collect();
        let m = VoteMatrix::from_events(&events);
        let pca = Pca::fit(&m, &[false; 3], None, &PcaParams::default());
        assert!(pca.comps.iter().flatten().all(|&x| x == 0.0));
        let proj = participant_projections(&m, &[false; 3], &pca);
        assert!(proj.iter().flatten().all(|&x| x == 0.0));
    }

    #[test]
    fn lanczos_warm_start_gives_polis_warm_components_in_fewer_products() {
        let mut rng = crate::rng::Rng::new(3);
        let events: Vec<VoteEvent> = (0..3000)
            .flat_map(|p| {
                let camp = p % 3;
                (0..40).filter_map(move |s| if (p * 7 + s * 13) % 3 == 0 { None } else { Some((p, s, camp)) })
            })
            .map(|(p, s, camp)| {
                let lean = if (s % 3) == camp { 0.8 } else { 0.25 };
                let v = if rng.uniform() < lean { Vote::Agree } else { Vote::Disagree };
                VoteEvent::new(p as i64, s as i64, v)
            })
            .collect();
        let (before, after) = events.split_at(events.len() - 500);
        let m0 = VoteMatrix::from_events(before);
        let out = vec![false; m0.n_statements()];
        let previous = Pca::fit(&m0, &out, None, &PcaParams::default());
        let m1 = m0.with_votes(after);
        let polis = Pca::fit(&m1, &out, Some(&previous.comps), &PcaParams::default());
        let fast = Pca::fit(
            &m1,
            &out,
            Some(&previous.comps),
            &PcaParams { warm_start: WarmStart::Lanczos, ..Default::default() },
        );
        for c in 0..2 {
            let worst = polis.comps[c].iter().zip(&fast.comps[c]).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-7, "component {c} differs by {worst}");
        }
        let (p, f) = (polis.iterations.iter().sum::<usize>(), fast.iterations.iter().sum::<usize>());
        assert!(f < p, "Lanczos {f} products, Polis {p}");
    }

    #[test]
    fn column_means_over_many_chunks_of_votes_are_each_statements_mean_cast_vote() {
        // Enough votes for several parallel chunks (at least 65,536 votes each).
        let events: Vec<VoteEvent> = (0..300_000i64)
            .map(|i| VoteEvent::new(i / 7, (i * 31) % 11, Vote::from_value((i * i % 5) % 3 - 1).unwrap()))
            .collect();
        let m = VoteMatrix::from_events(&events);
        let mut out = vec![false; m.n_statements()];
        out[4] = true;
        let means = column_means(&m, &out);
        for (j, &mean) in means.iter().enumerate() {
            let votes: Vec<f64> =
                (0..m.n_participants()).filter_map(|r| m.get(r, j)).map(|v| v.value() as f64).collect();
            let expected = if out[j] { 0.0 } else { votes.iter().sum::<f64>() / votes.len() as f64 };
            assert_eq!(mean, expected, "statement {j}");
        }
    }

    /// A matrix with `n_statements` statements (ids 0..n), every one voted on, the last one
    /// with all three votes.
    fn wide_matrix(n_statements: i64) -> VoteMatrix {
        let mut events: Vec<VoteEvent> = (0..20_000)
            .map(|i| {
                VoteEvent::new((i * 7919) % 401, (i * 4099) % n_statements, Vote::from_value((i * 13 % 3) - 1).unwrap())
            })
            .collect();
        events.extend((0..n_statements).map(|s| VoteEvent::new(400, s, Vote::Agree)));
        events.extend((-1..=1).map(|v| VoteEvent::new(401 + v, n_statements - 1, Vote::from_value(v).unwrap())));
        VoteMatrix::from_events(&events)
    }

    #[test]
    fn stored_vote_codes_up_to_the_u16_limit_give_the_per_vote_products_bits() {
        let m = wide_matrix(MAX_U16_CODED_STATEMENTS as i64);
        assert_eq!(m.n_statements(), 21_845);
        let out: Vec<bool> = (0..m.n_statements()).map(|j| j % 97 == 5).collect();
        let mean = column_means(&m, &out);
        let coded = Centered::new(&m, &mean, &out);
        assert!(coded.codes.is_some());
        let derived = Centered { codes: None, ..Centered::new(&m, &mean, &out) };
        let v: Vec<f64> = (0..m.n_statements()).map(|j| ((j * 37 % 101) as f64 - 50.0) / 7.0).collect();
        let pc: Vec<f64> = (0..m.n_statements()).map(|j| ((j * 11 % 29) as f64 - 14.0) / 3.0).collect();
        let mut u = vec![0.0; m.n_participants()];
        coded.times(&pc, &mut u);
        for deflate in [None, Some((pc.as_slice(), u.as_slice()))] {
            let (mut a, mut b) = (vec![0.0; m.n_statements()], vec![0.0; m.n_statements()]);
            coded.gram_times(&v, deflate, &mut a);
            derived.gram_times(&v, deflate, &mut b);
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()), "deflate: {}", deflate.is_some());
            // Brute force, row by row with the deflated rows spelled out: (X - u pcᵀ)ᵀ(X - u pcᵀ) v.
            let a_pc = deflate.map_or(0.0, |_| dot(&pc, &v));
            let mut reference = vec![0.0; m.n_statements()];
            for row in 0..m.n_participants() {
                let (cols, vals) = m.row(row);
                let ur = deflate.map_or(0.0, |_| u[row]);
                let y =
                    cols.iter().zip(vals).map(|(&c, &x)| coded.value(c, x) * v[c as usize]).sum::<f64>() - ur * a_pc;
                for (&c, &x) in cols.iter().zip(vals) {
                    reference[c as usize] += coded.value(c, x) * y;
                }
                if deflate.is_some() {
                    reference.iter_mut().zip(&pc).for_each(|(r, p)| *r -= ur * p * y);
                }
            }
            for (j, (x, r)) in a.iter().zip(&reference).enumerate() {
                assert!((x - r).abs() <= 1e-9 * r.abs().max(1.0), "statement {j}: {x} vs {r}");
            }
        }
        // One statement more and the codes would not fit: the products derive them per vote.
        let m = wide_matrix(MAX_U16_CODED_STATEMENTS as i64 + 1);
        let out = vec![false; m.n_statements()];
        assert!(Centered::new(&m, &column_means(&m, &out), &out).codes.is_none());
    }

    #[test]
    fn result_is_bit_identical_with_one_thread_and_many() {
        let events: Vec<VoteEvent> = (0..5000)
            .map(|i| VoteEvent::new((i * 7919) % 3001, (i * 31) % 57, Vote::from_value((i * 13 % 3) - 1).unwrap()))
            .collect();
        let m = VoteMatrix::from_events(&events);
        let out = vec![false; m.n_statements()];
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let a = one.install(|| Pca::fit(&m, &out, None, &PcaParams::default()));
        let b = four.install(|| Pca::fit(&m, &out, None, &PcaParams::default()));
        assert_eq!(a, b);
    }
}
