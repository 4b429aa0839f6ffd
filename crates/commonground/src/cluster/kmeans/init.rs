//! Where a k-means run starts, which in Polis decides where it ends: k-means only descends, and
//! Polis runs few steps, so the start is half the algorithm.
//!
//! - Cold, [`init_clusters`]: Polis's `init-clusters` (`clusters.clj`), the first k distinct
//!   points in data order, deterministic and cheap, but it can sit in a poor local optimum.
//! - Warm, [`clean_start`]: Polis's `clean-start-clusters`, the previous update's clusters
//!   recentred on the members still present, merged where they coincide, and topped up with the
//!   most distal points. This is what keeps group ids stable as votes arrive.
//! - Opt-in, [`MultiStart`]: weighted k-means++ seedings (Arthur & Vassilvitskii 2007) run beside
//!   Polis's start, the least inertia winning; one start is Polis's alone.

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::{distance, present_rows, weighted_mean, Cluster, Points, MIN_POINTS_PER_JOB};
use crate::rng::Rng;

/// How a k-means with no previous clustering to warm-start from is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiStart {
    /// Number of starts: 1 is Polis's `init-clusters` (the first k distinct points) alone; n > 1
    /// adds n - 1 weighted k-means++ seedings (Arthur & Vassilvitskii 2007) and keeps the result
    /// with the least weighted inertia (ties: the earlier start, so Polis's first).
    pub starts: usize,
    /// Seed of the k-means++ seedings.
    pub seed: u64,
}

impl MultiStart {
    /// Polis's own cold start: the first k distinct points, once.
    pub const POLIS: MultiStart = MultiStart { starts: 1, seed: 0 };
}

/// `init-clusters`: the first k distinct points, ids 0..k-1, no members yet.
pub(super) fn init_clusters(points: &Points, k: usize) -> Vec<Cluster> {
    let mut seen: FxHashSet<[u64; 2]> = FxHashSet::default();
    let mut out = Vec::new();
    for p in &points.positions {
        if out.len() == k {
            break;
        }
        // Clojure `distinct` on the rows: -0.0 and 0.0 compare equal as numbers.
        let key = [(p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits()];
        if seen.insert(key) {
            out.push(Cluster { id: out.len() as u32, members: vec![], center: *p });
        }
    }
    out
}

fn n_distinct(points: &Points) -> usize {
    points.positions.iter().map(|p| [(p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits()]).collect::<FxHashSet<_>>().len()
}

/// Mean of two centres weighted by member counts (`merge-clusters`).
fn merged_center(a: &Cluster, b: &Cluster) -> [f64; 2] {
    let (wa, wb) = (a.members.len() as f64, b.members.len() as f64);
    let scale = 2.0 / (wa + wb);
    let x = (a.center[0] * wa * scale + b.center[0] * wb * scale) * 0.5;
    let y = (a.center[1] * wa * scale + b.center[1] * wb * scale) * 0.5;
    [x, y]
}

/// `clean-start-clusters`: prepares the previous update's clusters as the start of this one.
/// 1. Recentre each on its members still present; drop those with none (all dropped: one cluster
///    of everything, id max+1).
/// 2. Merge clusters with exactly equal centres (the larger keeps its id; a tie keeps the later's).
/// 3. While fewer than `min(k, distinct points)` clusters: the point farthest from its nearest
///    centre (ties: the later point), if at distance > 0, leaves its cluster and becomes a new
///    singleton cluster with id max+1.
pub(super) fn clean_start(points: &Points, previous: &[Cluster], k: usize) -> Vec<Cluster> {
    if previous.is_empty() {
        return init_clusters(points, k);
    }
    let mut clusters: Vec<Cluster> = previous
        .iter()
        .filter_map(|c| {
            let rows = present_rows(&c.members, points);
            (!rows.is_empty()).then(|| Cluster {
                id: c.id,
                members: c.members.clone(),
                center: weighted_mean(&rows, points),
            })
        })
        .collect();
    if clusters.is_empty() {
        let all: Vec<usize> = (0..points.len()).collect();
        let id = previous.iter().map(|c| c.id as i64).max().unwrap_or(-1) + 1;
        clusters = vec![Cluster { id: id as u32, members: points.names.clone(), center: weighted_mean(&all, points) }];
    }
    // uniqify-clusters
    let mut uniq: Vec<Cluster> = Vec::with_capacity(clusters.len());
    for c in clusters {
        if let Some(pos) = uniq.iter().position(|u| u.center == c.center) {
            let u = &uniq[pos];
            let id = if u.members.len() > c.members.len() { u.id } else { c.id };
            let center = merged_center(u, &c);
            let mut members = u.members.clone();
            members.extend_from_slice(&c.members);
            uniq[pos] = Cluster { id, members, center };
        } else {
            uniq.push(c);
        }
    }
    // min(k, distinct points), counted only when there are fewer than k clusters (else it is moot).
    let mut possible: Option<usize> = None;
    let mut clusters = uniq;
    loop {
        for c in clusters.iter_mut() {
            let rows = present_rows(&c.members, points);
            if !rows.is_empty() {
                c.center = weighted_mean(&rows, points);
            }
        }
        if clusters.len() >= k || *possible.get_or_insert_with(|| k.min(n_distinct(points))) <= clusters.len() {
            return clusters;
        }
        // most-distal: max over points (last max) of the min distance over clusters (last min).
        let nearest: Vec<f64> = points
            .positions
            .par_iter()
            .with_min_len(MIN_POINTS_PER_JOB)
            .map(|&p| clusters.iter().map(|c| distance(p, c.center)).fold(f64::INFINITY, f64::min))
            .collect();
        let mut far = 0;
        for (row, &d) in nearest.iter().enumerate() {
            if d >= nearest[far] {
                far = row;
            }
        }
        if nearest[far] <= 0.0 {
            return clusters;
        }
        let name = points.names[far];
        for c in clusters.iter_mut() {
            c.members.retain(|&m| m != name);
        }
        let id = clusters.iter().map(|c| c.id).max().unwrap_or(0) + 1;
        clusters.push(Cluster { id, members: vec![name], center: points.positions[far] });
    }
}

/// Weighted k-means++ seeding: the first centre drawn with probability proportional to weight,
/// each next one proportional to weight × squared distance to the nearest centre chosen so far.
/// Stops early when every point coincides with a centre (fewer distinct points than k), as
/// `init-clusters` does. Ids 0..k-1, no members yet.
pub(super) fn kmeanspp_init(points: &Points, k: usize, rng: &mut Rng) -> Vec<Cluster> {
    let weight = |r: usize| points.weights.as_ref().map_or(1.0, |w| w[r]).max(0.0);
    let draw = |scores: &[f64], rng: &mut Rng| -> Option<usize> {
        let total: f64 = scores.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return None;
        }
        let mut target = rng.uniform() * total;
        let mut last = None;
        for (r, &s) in scores.iter().enumerate() {
            if s > 0.0 {
                last = Some(r);
                if target < s {
                    return Some(r);
                }
                target -= s;
            }
        }
        last
    };
    let n = points.len();
    let mut out: Vec<Cluster> = Vec::with_capacity(k);
    let mut nearest = vec![f64::INFINITY; n];
    let first_scores: Vec<f64> = (0..n).map(weight).collect();
    let mut pick = draw(&first_scores, rng).or((n > 0).then_some(0));
    while let Some(r) = pick {
        let center = points.positions[r];
        out.push(Cluster { id: out.len() as u32, members: vec![], center });
        if out.len() == k {
            break;
        }
        for (i, d) in nearest.iter_mut().enumerate() {
            let p = points.positions[i];
            *d = d.min((p[0] - center[0]).powi(2) + (p[1] - center[1]).powi(2));
        }
        let scores: Vec<f64> = (0..n).map(|i| weight(i) * nearest[i]).collect();
        pick = draw(&scores, rng);
    }
    out
}
