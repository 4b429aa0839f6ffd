//! Group discovery (`groups = "discover"`, an extension): a latent-class model of the votes, a
//! mixture of independent Bernoullis fitted by EM over the agree and disagree votes cast, with the
//! number of groups chosen by BIC.
//!
//! Polis clusters the 2-D opinion map, where a group of 5-10% of the participants sits inside a
//! larger one and is merged into it (docs/groups.md). The mixture reads every statement instead:
//! group g agrees with statement j with probability `θ_gj`, independently across statements, and
//! a participant's likelihood under g is `Π_j θ_gj^a_ij (1 − θ_gj)^d_ij` over the votes they
//! cast. Passes and moderated-out statements are left out (a pass is not a side). The model is
//! fitted for every k from 2 to `max_k` by EM from seeded starts (each a k-means++ draw of k
//! participants whose votes set the first `θ`), with a Beta(2, 2) prior on each `θ_gj` (so that
//! a statement no member saw sits at 1/2), and the k with the lowest BIC,
//! `−2 ln L + (k·m + k − 1) ln n`, is kept.
//!
//! Cost: the fit runs on at most [`FIT_SAMPLE`] participants (a seeded sample of those in
//! conversation), O(votes of the sample × k) per EM iteration, every k and start in parallel;
//! then every participant is assigned to its most probable group in one pass, O(votes × k).
//! Deterministic for a seed, whatever the number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
use crate::votes::VoteMatrix;

/// Stream tag of the discovery's draws.
const MIXTURE_STREAM: u64 = 0x6d69_7874_7572_6500; // "mixture"
/// Most participants the model is fitted on; the others are only assigned.
pub const FIT_SAMPLE: usize = 3000;
/// EM starts per k, and most iterations per start.
const STARTS: usize = 2;
const ITERATIONS: usize = 40;

/// What discovery found: the groups of the participants and how k was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    /// The number of groups found (the k of the lowest criterion, less any group no participant
    /// ended in).
    pub k: usize,
    /// The criterion (BIC with per-parameter support, lower is better) of the best fit for every k
    /// tried: from 2 up, until two past the best.
    pub bic: std::collections::BTreeMap<usize, f64>,
    /// Participants the model was fitted on.
    pub n_fitted: usize,
}

/// A fitted mixture: mixing weights and per-group agree probabilities (k × statements).
struct Fit {
    log_weight: Vec<f64>,
    theta: Vec<Vec<f64>>,
    log_likelihood: f64,
    /// `Σ_{g,j} ln(1 + N_gj)`, with `N_gj` the (expected) number of group g's votes on statement j.
    log_support: f64,
}

/// One chunk's E-step sums: per group and statement the expected (disagree, agree) votes, per
/// group the expected members, and the log-likelihood.
type ChunkSums = (Vec<Vec<[f64; 2]>>, Vec<f64>, f64);

/// A participant's agree (+1) and disagree (−1) votes, by column; passes and moderated-out
/// statements left out.
fn sides(matrix: &VoteMatrix, row: usize, moderated_out: &[bool]) -> Vec<(u32, bool)> {
    let (cols, vals) = matrix.row(row);
    cols.iter()
        .zip(vals)
        .filter(|&(&c, &v)| v != 0 && !moderated_out.get(c as usize).copied().unwrap_or(false))
        .map(|(&c, &v)| (c, v > 0))
        .collect()
}

/// Log-likelihood of each group for one participant, under `log_theta` / `log_not` (k × m).
fn group_scores(votes: &[(u32, bool)], log_weight: &[f64], log_theta: &[Vec<f64>], log_not: &[Vec<f64>]) -> Vec<f64> {
    (0..log_weight.len())
        .map(|g| {
            let (t, n) = (&log_theta[g], &log_not[g]);
            log_weight[g]
                + votes.iter().map(|&(c, agree)| if agree { t[c as usize] } else { n[c as usize] }).sum::<f64>()
        })
        .collect()
}

/// `ln Σ exp(x)`, and the normalised `exp(x − that)` in place.
fn normalise(scores: &mut [f64]) -> f64 {
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
    let log_total = top + total.ln();
    scores.iter_mut().for_each(|s| *s = (*s - log_total).exp());
    log_total
}

fn logs(theta: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    (
        theta.iter().map(|t| t.iter().map(|p| p.ln()).collect()).collect(),
        theta.iter().map(|t| t.iter().map(|p| (1.0 - p).ln()).collect()).collect(),
    )
}

/// EM from one start for k groups over `data` (m statement columns).
fn em(data: &[Vec<(u32, bool)>], m: usize, k: usize, rng: &mut Rng) -> Fit {
    let n = data.len();
    // k-means++ seeding on the participants' votes: the squared distance between two participants
    // is 4 per statement they took opposite sides on, 1 per statement only one of them voted on.
    let dense = |votes: &[(u32, bool)]| {
        let mut v = vec![0.0f64; m];
        votes.iter().for_each(|&(c, agree)| v[c as usize] = if agree { 1.0 } else { -1.0 });
        v
    };
    let mut seeds: Vec<Vec<f64>> = vec![dense(&data[rng.below(n as u64) as usize])];
    let mut nearest: Vec<f64> = vec![f64::INFINITY; n];
    while seeds.len() < k {
        let last = &seeds[seeds.len() - 1];
        for (i, votes) in data.iter().enumerate() {
            let mut d: f64 = last.iter().map(|x| x * x).sum();
            for &(c, agree) in votes {
                let (s, x) = (last[c as usize], if agree { 1.0 } else { -1.0 });
                d += (s - x) * (s - x) - s * s;
            }
            nearest[i] = nearest[i].min(d);
        }
        let total: f64 = nearest.iter().sum();
        let mut u = rng.uniform() * total;
        let mut chosen = n - 1;
        for (i, &d) in nearest.iter().enumerate() {
            if u < d {
                chosen = i;
                break;
            }
            u -= d;
        }
        seeds.push(dense(&data[chosen]));
    }
    let mut theta: Vec<Vec<f64>> = seeds.iter().map(|s| s.iter().map(|x| 0.5 + 0.3 * x).collect()).collect();
    let mut log_weight = vec![(1.0 / k as f64).ln(); k];
    let mut log_likelihood = f64::NEG_INFINITY;
    let mut log_support = 0.0;
    for _ in 0..ITERATIONS {
        let (log_theta, log_not) = logs(&theta);
        // E-step in fixed chunks, summed in chunk order: the same sums whatever the thread count.
        let parts: Vec<ChunkSums> = data
            .par_chunks(512)
            .map(|chunk| {
                let mut counts = vec![vec![[0.0f64; 2]; m]; k];
                let mut mass = vec![0.0; k];
                let mut ll = 0.0;
                for votes in chunk {
                    let mut r = group_scores(votes, &log_weight, &log_theta, &log_not);
                    ll += normalise(&mut r);
                    for g in 0..k {
                        mass[g] += r[g];
                        for &(c, agree) in votes {
                            counts[g][c as usize][agree as usize] += r[g];
                        }
                    }
                }
                (counts, mass, ll)
            })
            .collect();
        let mut counts = vec![vec![[0.0f64; 2]; m]; k];
        let mut mass = vec![0.0; k];
        let mut ll = 0.0;
        for (c, w, l) in parts {
            for g in 0..k {
                mass[g] += w[g];
                for j in 0..m {
                    counts[g][j][0] += c[g][j][0];
                    counts[g][j][1] += c[g][j][1];
                }
            }
            ll += l;
        }
        log_support = counts.iter().flatten().map(|c| (1.0 + c[0] + c[1]).ln()).sum();
        // M-step with the Beta(2, 2) prior on θ and a Dirichlet(2) prior on the weights.
        for g in 0..k {
            for j in 0..m {
                theta[g][j] = (counts[g][j][1] + 1.0) / (counts[g][j][0] + counts[g][j][1] + 2.0);
            }
            log_weight[g] = ((mass[g] + 1.0) / (n as f64 + k as f64)).ln();
        }
        let converged = (ll - log_likelihood).abs() < 1e-6 * ll.abs();
        log_likelihood = ll;
        if converged {
            break;
        }
    }
    Fit { log_weight, theta, log_likelihood, log_support }
}

/// Discovers opinion groups among the participant `rows` of `matrix`: returns each row's group
/// (0-based, in `rows` order; groups numbered by decreasing size, no group empty) and how k was
/// chosen. `max_k` is the largest k tried (at least 2); `None` when fewer than two of `rows` cast a
/// vote on a statement that is not moderated out.
pub fn discover_groups(
    matrix: &VoteMatrix,
    rows: &[usize],
    moderated_out: &[bool],
    max_k: usize,
    seed: u64,
) -> Option<(Vec<usize>, Discovery)> {
    let m = matrix.n_statements();
    let voters: Vec<usize> = rows.iter().copied().filter(|&r| !sides(matrix, r, moderated_out).is_empty()).collect();
    if voters.len() < 2 {
        return None;
    }
    // A seeded sample of the voters, in row order, for the fit.
    let mut sample = voters.clone();
    if sample.len() > FIT_SAMPLE {
        let mut rng = Rng::fork(seed ^ MIXTURE_STREAM, u64::MAX);
        for t in 0..FIT_SAMPLE {
            let r = t + rng.below((sample.len() - t) as u64) as usize;
            sample.swap(t, r);
        }
        sample.truncate(FIT_SAMPLE);
        sample.sort_unstable();
    }
    let data: Vec<Vec<(u32, bool)>> = sample.iter().map(|&r| sides(matrix, r, moderated_out)).collect();
    let n = data.len();
    let max_k = max_k.min(n);
    // The criterion: BIC with each parameter penalised by the information it rests on. BIC's
    // `ln n` per parameter is the Laplace approximation when every parameter sees all n
    // observations; a group's agree probability on a statement rests only on that group's votes on
    // it, so it costs `ln(1 + N_gj)`, the weights `ln n` each. With every participant voting on
    // every statement this is BIC (up to the 1 inside the logarithm).
    let criterion =
        |k: usize, fit: &Fit| -2.0 * fit.log_likelihood + fit.log_support + (k - 1) as f64 * (n as f64).ln();
    // k from 2 up, the starts of each k in parallel; stop two k past the best.
    let mut scores = std::collections::BTreeMap::new();
    let mut best: Option<(usize, f64, Fit)> = None;
    for k in 2..=max_k {
        let fits: Vec<Fit> = (0..STARTS)
            .into_par_iter()
            .map(|s| em(&data, m, k, &mut Rng::fork(seed ^ MIXTURE_STREAM, (k * STARTS + s) as u64)))
            .collect();
        // The best start (ties: the first).
        let Some(fit) = fits.into_iter().reduce(|a, b| if b.log_likelihood > a.log_likelihood { b } else { a }) else {
            continue;
        };
        let score = criterion(k, &fit);
        scores.insert(k, score);
        if best.as_ref().is_none_or(|(_, s, _)| score < *s) {
            best = Some((k, score, fit));
        } else if best.as_ref().is_some_and(|(b, _, _)| k >= b + 2) {
            break;
        }
    }
    let (k, _, fit) = best?;
    let (log_theta, log_not) = logs(&fit.theta);
    let assigned: Vec<usize> = rows
        .par_iter()
        .map(|&r| {
            let s = group_scores(&sides(matrix, r, moderated_out), &fit.log_weight, &log_theta, &log_not);
            (0..s.len()).fold(0, |b, g| if s[g] > s[b] { g } else { b })
        })
        .collect();
    // Groups numbered by decreasing size (ties: lower index), empty ones dropped.
    let mut size = vec![0usize; k];
    assigned.iter().for_each(|&g| size[g] += 1);
    let mut order: Vec<usize> = (0..k).filter(|&g| size[g] > 0).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(a.cmp(&b)));
    let mut rename = vec![0usize; k];
    order.iter().enumerate().for_each(|(new, &old)| rename[old] = new);
    let groups = assigned.into_iter().map(|g| rename[g]).collect();
    Some((groups, Discovery { k: order.len(), bic: scores, n_fitted: n }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared planted camps ([`crate::generate::planted_camps`], seed 3) as a vote matrix.
    fn camps(sizes: &[usize], statements: usize) -> (VoteMatrix, Vec<usize>) {
        let (events, planted) = crate::generate::planted_camps(sizes, statements, 3);
        (VoteMatrix::from_events(&events), planted)
    }

    #[test]
    fn three_camps_of_unequal_size_are_found_exactly_small_one_included() {
        // 160, 30 and 10 participants: the smallest is 5%.
        let (matrix, planted) = camps(&[160, 30, 10], 24);
        let rows: Vec<usize> = (0..matrix.n_participants()).collect();
        let (groups, d) = discover_groups(&matrix, &rows, &[false; 24], 8, 0).unwrap();
        assert_eq!(d.k, 3, "BIC {:?}", d.bic);
        assert_eq!(crate::cluster::adjusted_rand_index(&groups, &planted), 1.0);
        // Numbered by size.
        assert_eq!((groups[0], groups[170], groups[199]), (0, 1, 2));
    }

    #[test]
    fn one_camp_is_not_split() {
        let (matrix, _) = camps(&[200], 24);
        let rows: Vec<usize> = (0..200).collect();
        let (_, d) = discover_groups(&matrix, &rows, &[false; 24], 6, 0).unwrap();
        // k = 1 is not tried; the lowest BIC from k = 2 up is at k = 2, never more.
        assert_eq!(d.k, 2, "BIC {:?}", d.bic);
    }

    #[test]
    fn same_groups_with_one_thread_and_four() {
        let (matrix, _) = camps(&[120, 50, 20, 10], 30);
        let rows: Vec<usize> = (0..200).collect();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| discover_groups(&matrix, &rows, &[false; 30], 6, 9))
        };
        assert_eq!(run(1), run(4));
    }
}
