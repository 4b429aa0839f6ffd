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
//! participants whose votes set the first `θ`) and from the best fit for k − 1 with one group added
//! where it fits worst ([`split_start`]: random starts often miss a 5% group that one of the larger
//! groups absorbs), with a Beta(2, 2) prior on each `θ_gj` (so that
//! a statement no member saw sits at 1/2), and the k with the lowest criterion (BIC with each
//! `θ_gj` charged for the votes it rests on, see `discover_groups`) among the fits whose every
//! group holds at least [`MIN_SHARE`] of the fitted participants is kept.
//!
//! Cost: the fit runs on at most [`FIT_SAMPLE`] participants (a seeded sample of those in
//! conversation), O(votes of the sample × k) per EM iteration: the E-step reads only the votes
//! cast, each adding one row of a per-iteration table of `ln θ` and `ln(1 − θ)` ([`log_table`]),
//! over fixed chunks of participants in parallel, summed in chunk order; then every participant is
//! assigned to its most probable group in one pass, O(votes × k). Deterministic for a seed,
//! whatever the number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::crossfit::ReassignedVote;
use crate::rng::Rng;
use crate::votes::VoteMatrix;

/// Stream tag of the discovery's draws.
const MIXTURE_STREAM: u64 = 0x6d69_7874_7572_6500; // "mixture"
/// Most participants the model is fitted on; the others are only assigned.
pub const FIT_SAMPLE: usize = 3000;
/// Seeded (k-means++) EM starts for k = 2; every later k has one, beside the start split from
/// the best fit for k − 1 ([`split_start`]). And most iterations per start.
const STARTS: usize = 2;
const ITERATIONS: usize = 40;
/// The smallest group, as a share of the fitted participants, a chosen k may have. Real
/// conversations are not latent classes (a participant's votes correlate beyond their group), and
/// the criterion keeps adding groups of 1-2% on them (vTaiwan); the groups discovery is meant to
/// find are 5% and up (issue 15), so a k with a group under 3% is not chosen.
const MIN_SHARE: f64 = 0.03;
/// EM stops early once an iteration changes the log-likelihood by less than this share of it.
const TOLERANCE: f64 = 1e-6;

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

/// A participant's agree and disagree votes as cells, `2 · column + agree` (the rows of
/// [`log_table`] they read); passes and moderated-out statements left out.
fn sides(matrix: &VoteMatrix, row: usize, moderated_out: &[bool]) -> Vec<u32> {
    let (cols, vals) = matrix.row(row);
    cols.iter()
        .zip(vals)
        .filter(|&(&c, &v)| v != 0 && !moderated_out.get(c as usize).copied().unwrap_or(false))
        .map(|(&c, &v)| 2 * c + (v > 0) as u32)
        .collect()
}

/// A fitted mixture: mixing weights and per-group agree probabilities.
#[derive(Clone)]
struct Fit {
    log_weight: Vec<f64>,
    /// `θ_gj` at `j · k + g`: a statement's k probabilities side by side.
    theta: Vec<f64>,
    log_likelihood: f64,
    /// `Σ_{g,j} ln(1 + N_gj)`, with `N_gj` the (expected) number of group g's votes on statement j.
    log_support: f64,
}

/// Participants' [`sides`] in one flat array: participant i's are `cells[start[i]..start[i + 1]]`.
struct Cells {
    start: Vec<usize>,
    cells: Vec<u32>,
}

impl Cells {
    fn new(data: impl Iterator<Item = Vec<u32>>) -> Cells {
        let (mut start, mut cells) = (vec![0], Vec::new());
        for votes in data {
            cells.extend(votes);
            start.push(cells.len());
        }
        Cells { start, cells }
    }
    fn len(&self) -> usize {
        self.start.len() - 1
    }
    fn of(&self, i: usize) -> &[u32] {
        &self.cells[self.start[i]..self.start[i + 1]]
    }
}

/// Row `2j` holds `ln(1 − θ_gj)` and row `2j + 1` holds `ln θ_gj`, k to a row: a participant's
/// log-likelihood under every group is the sum of the rows of the votes they cast, computed
/// once per EM iteration rather than once per vote.
fn log_table(theta: &[f64], k: usize) -> Vec<f64> {
    theta
        .chunks(k)
        .flat_map(|t| t.iter().map(|p| (1.0 - p).ln()).chain(t.iter().map(|p| p.ln())).collect::<Vec<_>>())
        .collect()
}

/// Each group's log-probability for one participant's `cells` (weights included), into `scores`.
fn group_scores(cells: &[u32], log_weight: &[f64], table: &[f64], scores: &mut [f64]) {
    let k = log_weight.len();
    scores.copy_from_slice(log_weight);
    for &cell in cells {
        let row = &table[cell as usize * k..][..k];
        scores.iter_mut().zip(row).for_each(|(s, t)| *s += t);
    }
}

/// `ln Σ exp(x)`, and the normalised `exp(x − that)` in place.
fn normalise(scores: &mut [f64]) -> f64 {
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
    let log_total = top + total.ln();
    scores.iter_mut().for_each(|s| *s = (*s - log_total).exp());
    log_total
}

/// Participants per E-step chunk: the chunks are fixed and summed in order, so the sums are the
/// same whatever the number of threads.
const CHUNK: usize = 256;

/// One E-step: per cell row and group the expected votes (the layout of [`log_table`]), per
/// group the expected members, and the log-likelihood.
fn e_step(data: &Cells, m: usize, log_weight: &[f64], table: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    let k = log_weight.len();
    let parts: Vec<(Vec<f64>, Vec<f64>, f64)> = (0..data.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut counts = vec![0.0f64; 2 * m * k];
            let mut mass = vec![0.0; k];
            let mut ll = 0.0;
            let mut r = vec![0.0; k];
            for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(data.len()) {
                let cells = data.of(i);
                group_scores(cells, log_weight, table, &mut r);
                ll += normalise(&mut r);
                mass.iter_mut().zip(&r).for_each(|(w, p)| *w += p);
                for &cell in cells {
                    let row = &mut counts[cell as usize * k..][..k];
                    row.iter_mut().zip(&r).for_each(|(c, p)| *c += p);
                }
            }
            (counts, mass, ll)
        })
        .collect();
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return (vec![0.0; 2 * m * k], vec![0.0; k], 0.0);
    };
    parts.fold(first, |(mut counts, mut mass, ll), (c, w, l)| {
        counts.iter_mut().zip(&c).for_each(|(a, b)| *a += b);
        mass.iter_mut().zip(&w).for_each(|(a, b)| *a += b);
        (counts, mass, ll + l)
    })
}

/// k-means++ seeding on the participants' votes, as starting agree probabilities (`θ` layout):
/// the squared distance between two participants is 4 per statement they took opposite sides on,
/// 1 per statement only one of them voted on; a seed participant's θ is 0.8 where they agreed,
/// 0.2 where they disagreed, 0.5 elsewhere.
fn seed_theta(data: &Cells, m: usize, k: usize, rng: &mut Rng) -> Vec<f64> {
    let n = data.len();
    let dense = |i: usize| {
        let mut v = vec![0.0f64; m];
        data.of(i).iter().for_each(|&cell| v[(cell / 2) as usize] = if cell % 2 == 1 { 1.0 } else { -1.0 });
        v
    };
    let mut seeds: Vec<Vec<f64>> = vec![dense(rng.below(n as u64) as usize)];
    let mut nearest: Vec<f64> = vec![f64::INFINITY; n];
    while seeds.len() < k {
        let last = &seeds[seeds.len() - 1];
        let norm: f64 = last.iter().map(|x| x * x).sum();
        for (i, near) in nearest.iter_mut().enumerate() {
            let mut d = norm;
            for &cell in data.of(i) {
                let (s, x) = (last[(cell / 2) as usize], if cell % 2 == 1 { 1.0 } else { -1.0 });
                d += (s - x) * (s - x) - s * s;
            }
            *near = near.min(d);
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
        seeds.push(dense(chosen));
    }
    (0..m).flat_map(|j| seeds.iter().map(move |s| 0.5 + 0.3 * s[j])).collect()
}

/// A start for k groups from the best fit for k − 1: its groups, plus one seeded by the participant
/// the fit explains worst (the lowest log-likelihood per vote among those who cast at least the
/// median number of votes), where a small group merged into a larger one shows.
fn split_start(data: &Cells, m: usize, previous: &Fit) -> (Vec<f64>, Vec<f64>) {
    let k = previous.log_weight.len() + 1;
    let table = log_table(&previous.theta, k - 1);
    let mut lengths: Vec<usize> = (0..data.len()).map(|i| data.of(i).len()).collect();
    lengths.sort_unstable();
    let median = lengths[lengths.len() / 2].max(1);
    let fit_of = |i: usize| {
        let mut s = vec![0.0; k - 1];
        group_scores(data.of(i), &previous.log_weight, &table, &mut s);
        normalise(&mut s) / data.of(i).len() as f64
    };
    let worst = (0..data.len())
        .filter(|&i| data.of(i).len() >= median)
        .map(|i| (i, fit_of(i)))
        .fold(None, |w: Option<(usize, f64)>, (i, f)| if w.is_none_or(|(_, b)| f < b) { Some((i, f)) } else { w });
    let seed = worst.map_or(0, |(i, _)| i);
    let mut own = vec![0.5; m];
    data.of(seed).iter().for_each(|&cell| own[(cell / 2) as usize] = if cell % 2 == 1 { 0.8 } else { 0.2 });
    let theta =
        (0..m).flat_map(|j| previous.theta[j * (k - 1)..(j + 1) * (k - 1)].iter().copied().chain([own[j]])).collect();
    let keep = (1.0 - 1.0 / k as f64).ln();
    let weights = previous.log_weight.iter().map(|w| w + keep).chain([(1.0 / k as f64).ln()]).collect();
    (theta, weights)
}

/// EM for k groups over `data` (m statement columns) from starting agree probabilities `theta`
/// (`θ` layout, equal weights).
fn em(data: &Cells, m: usize, (mut theta, mut log_weight): (Vec<f64>, Vec<f64>)) -> Fit {
    let (n, k) = (data.len(), log_weight.len());
    let mut log_likelihood = f64::NEG_INFINITY;
    let mut log_support = 0.0;
    for _ in 0..ITERATIONS {
        let (counts, mass, ll) = e_step(data, m, &log_weight, &log_table(&theta, k));
        log_support = 0.0;
        // M-step with the Beta(2, 2) prior on θ and a Dirichlet(2) prior on the weights.
        for j in 0..m {
            for g in 0..k {
                let (no, yes) = (counts[2 * j * k + g], counts[(2 * j + 1) * k + g]);
                theta[j * k + g] = (yes + 1.0) / (no + yes + 2.0);
                log_support += (1.0 + no + yes).ln();
            }
        }
        for g in 0..k {
            log_weight[g] = ((mass[g] + 1.0) / (n as f64 + k as f64)).ln();
        }
        let converged = (ll - log_likelihood).abs() < TOLERANCE * ll.abs();
        log_likelihood = ll;
        if converged {
            break;
        }
    }
    Fit { log_weight, theta, log_likelihood, log_support }
}

/// Each of `rows`'s most probable group under `fit`, and their pivotal votes as `(cell, group)`
/// (`crossfit.rs`): the group without one vote is the argmax once that vote's term is taken out
/// under every group, O(k) per vote. Ties go to the lower group.
fn assign(
    matrix: &VoteMatrix,
    rows: &[usize],
    moderated_out: &[bool],
    fit: &Fit,
) -> (Vec<usize>, Vec<Vec<(u32, usize)>>) {
    let k = fit.log_weight.len();
    let table = log_table(&fit.theta, k);
    let argmax = |s: &[f64]| (0..s.len()).fold(0, |b, g| if s[g] > s[b] { g } else { b });
    rows.par_iter()
        .map(|&r| {
            let cells = sides(matrix, r, moderated_out);
            let mut s = vec![0.0; k];
            group_scores(&cells, &fit.log_weight, &table, &mut s);
            let own = argmax(&s);
            let mut without = vec![0.0; k];
            let pivotal = cells
                .iter()
                .filter_map(|&cell| {
                    let row = &table[cell as usize * k..][..k];
                    without.iter_mut().zip(&s).zip(row).for_each(|((w, s), t)| *w = s - t);
                    let to = argmax(&without);
                    (to != own).then_some((cell, to))
                })
                .collect();
            (own, pivotal)
        })
        .unzip()
}

/// Discovers opinion groups among the participant `rows` of `matrix`: returns each row's group
/// (0-based, in `rows` order; groups numbered by decreasing size, no group empty), how k was
/// chosen, and the pivotal votes (the group a participant would be in without one of their votes,
/// where it differs; in `rows` order, then column order) that the bridging intervals count there. `max_k` is the largest k tried (at least 2); `None` when fewer than two of `rows` cast a
/// vote on a statement that is not moderated out.
pub fn discover_groups(
    matrix: &VoteMatrix,
    rows: &[usize],
    moderated_out: &[bool],
    max_k: usize,
    seed: u64,
) -> Option<(Vec<usize>, Discovery, Vec<ReassignedVote>)> {
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
    let data = Cells::new(sample.iter().map(|&r| sides(matrix, r, moderated_out)));
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
    let mut previous: Option<Fit> = None;
    for k in 2..=max_k {
        let seeded = if previous.is_some() { 1 } else { STARTS };
        let fits: Vec<Fit> = (0..seeded)
            .into_par_iter()
            .map(|s| {
                let mut rng = Rng::fork(seed ^ MIXTURE_STREAM, (k * STARTS + s) as u64);
                em(&data, m, (seed_theta(&data, m, k, &mut rng), vec![(1.0 / k as f64).ln(); k]))
            })
            .chain(previous.as_ref().map(|p| em(&data, m, split_start(&data, m, p))))
            .collect();
        // The best start (ties: the first).
        let Some(fit) = fits.into_iter().reduce(|a, b| if b.log_likelihood > a.log_likelihood { b } else { a }) else {
            continue;
        };
        let score = criterion(k, &fit);
        scores.insert(k, score);
        previous = Some(fit.clone());
        let smallest = fit.log_weight.iter().copied().fold(f64::INFINITY, f64::min).exp();
        if smallest >= MIN_SHARE && best.as_ref().is_none_or(|(_, s, _)| score < *s) {
            best = Some((k, score, fit));
        } else if best.as_ref().is_some_and(|(b, _, _)| k >= b + 2) {
            break;
        }
    }
    let (k, _, fit) = best?;
    let (assigned, pivotal) = assign(matrix, rows, moderated_out, &fit);
    // Groups numbered by decreasing size (ties: lower index), empty ones dropped.
    let mut size = vec![0usize; k];
    assigned.iter().for_each(|&g| size[g] += 1);
    let mut order: Vec<usize> = (0..k).filter(|&g| size[g] > 0).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(a.cmp(&b)));
    let mut rename = vec![0usize; k];
    order.iter().enumerate().for_each(|(new, &old)| rename[old] = new);
    let name = |g: usize| rename[g] as u32;
    // A vote whose group without it is one no participant ended in stays where it is: that group
    // is not among the groups found.
    let size = &size;
    let reassigned = rows
        .iter()
        .zip(&assigned)
        .zip(&pivotal)
        .flat_map(|((&row, &own), votes)| {
            votes.iter().filter(|&&(_, to)| size[to] > 0).map(move |&(cell, to)| ReassignedVote {
                row,
                column: (cell / 2) as usize,
                vote: if cell % 2 == 1 { 1 } else { -1 },
                from: name(own),
                to: name(to),
            })
        })
        .collect();
    let groups = assigned.into_iter().map(|g| rename[g]).collect();
    Some((groups, Discovery { k: order.len(), bic: scores, n_fitted: n }, reassigned))
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
        let (groups, d, _) = discover_groups(&matrix, &rows, &[false; 24], 8, 0).unwrap();
        assert_eq!(d.k, 3, "BIC {:?}", d.bic);
        assert_eq!(crate::cluster::adjusted_rand_index(&groups, &planted), 1.0);
        // Numbered by size.
        assert_eq!((groups[0], groups[170], groups[199]), (0, 1, 2));
    }

    #[test]
    fn the_split_start_seeds_the_new_group_in_the_camp_the_smaller_fit_merged() {
        // Three camps; a two-group fit started at one member of each of the two large camps.
        let (matrix, _) = camps(&[100, 60, 12], 24);
        let data = Cells::new((0..matrix.n_participants()).map(|r| sides(&matrix, r, &[false; 24])));
        let start = |p: usize| {
            let mut own = vec![0.5; 24];
            data.of(p).iter().for_each(|&cell| own[(cell / 2) as usize] = if cell % 2 == 1 { 0.8 } else { 0.2 });
            own
        };
        let (a, b) = (start(0), start(100));
        let theta: Vec<f64> = (0..24).flat_map(|j| [a[j], b[j]]).collect();
        let two = em(&data, 24, (theta, vec![0.5f64.ln(); 2]));
        let (theta, weights) = split_start(&data, 24, &two);
        assert_eq!((theta.len(), weights.len()), (72, 3));
        // The first two groups are kept; the new one takes the third camp's side (bit 2 of s + 1)
        // on most statements (one vote in ten is flipped).
        assert!((0..24).all(|j| theta[3 * j] == two.theta[2 * j] && theta[3 * j + 1] == two.theta[2 * j + 1]));
        let on_side = (0..24).filter(|&j| (theta[3 * j + 2] > 0.5) == (((j + 1) >> 2) & 1 == 1)).count();
        assert!(on_side >= 19, "{on_side} of 24 statements on the third camp's side");
        let total: f64 = weights.iter().map(|w| w.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_vote_that_decided_its_participants_group_is_counted_in_the_group_it_would_be_in_without_it() {
        // Two groups, equal weights. Statement 0 tells them apart (θ = 0.9 vs 0.1), statements 1
        // and 2 barely (0.6 vs 0.4). The participant agrees with 0 and disagrees with 1 and 2:
        // group 0 has likelihood 0.9 · 0.4 · 0.4 = 0.144, group 1 0.1 · 0.6 · 0.6 = 0.036. Without
        // the agree on 0 it is 0.16 against 0.36: group 1. Without either disagree it is
        // 0.36 against 0.06: group 0 still. So only the agree is pivotal.
        let votes = [
            crate::VoteEvent::new(0, 0, crate::Vote::Agree),
            crate::VoteEvent::new(0, 1, crate::Vote::Disagree),
            crate::VoteEvent::new(0, 2, crate::Vote::Disagree),
        ];
        let matrix = VoteMatrix::from_events(&votes);
        let fit = Fit {
            log_weight: vec![0.5f64.ln(); 2],
            theta: vec![0.9, 0.1, 0.6, 0.4, 0.6, 0.4],
            log_likelihood: 0.0,
            log_support: 0.0,
        };
        let (groups, pivotal) = assign(&matrix, &[0], &[false; 3], &fit);
        assert_eq!(groups, vec![0]);
        // Cell 2 · 0 + 1: the agree on statement 0.
        assert_eq!(pivotal, vec![vec![(1, 1)]]);
        // Statement 0 moderated out: the votes left favour group 1 (0.4 · 0.4 < 0.6 · 0.6), and
        // neither is pivotal alone (0.4 against 0.6 without the other).
        let (groups, pivotal) = assign(&matrix, &[0], &[true, false, false], &fit);
        assert_eq!((groups, pivotal), (vec![1], vec![vec![]]));
    }

    #[test]
    fn one_camp_is_not_split() {
        let (matrix, _) = camps(&[200], 24);
        let rows: Vec<usize> = (0..200).collect();
        let (_, d, _) = discover_groups(&matrix, &rows, &[false; 24], 6, 0).unwrap();
        // k = 1 is not tried; the lowest BIC from k = 2 up is at k = 2, never more.
        assert_eq!(d.k, 2, "BIC {:?}", d.bic);
    }

    #[test]
    fn same_groups_with_one_thread_and_four() {
        // More participants than one E-step chunk, so that the chunks' sums are reduced.
        let (matrix, _) = camps(&[300, 120, 60, 40], 30);
        assert!(matrix.n_participants() > 2 * CHUNK);
        let rows: Vec<usize> = (0..matrix.n_participants()).collect();
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
