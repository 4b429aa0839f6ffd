//! The k-means loop (`kmeans` in Polis's `clusters.clj`): `cluster-step` until the centres stop
//! moving (`same-clustering?`: every centre within 0.01) or the step budget runs out.
//!
//! A step is Polis's: assign every point to its nearest centre ([`assign`]), drop
//! the clusters left empty, and move each centre to the (weighted) mean of its members, summed in
//! row order as Polis's `weighted-mean` sums them, so that centres are the same to the bit.
//! [`kmeans_cold`] adds the opt-in multi-start ([`MultiStart`]) on top of the same loop.

use super::assign::{self, norm2, true_distance, Placement};
use super::init::{clean_start, init_clusters, kmeanspp_init, MultiStart};
use super::{distance, present_rows, weighted_mean, Cluster, Points};
use crate::clojure::{hash_long, map_order};
use crate::rng::Rng;

/// The state a k-means run carries from one step to the next, in flat arrays so that a step
/// allocates nothing per point: the last step's clusters in slot order and each point's
/// [`Placement`]. Members are not listed until the run ends ([`Run::with_members`]): a step needs
/// only the centres.
struct Run<'a> {
    points: &'a Points,
    /// Largest squared norm of any point (at least 1), for the rounding margin of the assignment.
    points_scale: f64,
    ids: Vec<u32>,
    centers: Vec<[f64; 2]>,
    /// One per point, valid for `ids` and `centers` when not empty.
    placements: Vec<Placement>,
    /// Members per slot of the last step.
    counts: Vec<usize>,
    /// Points that changed cluster in the last step (all of them when its clusters were not the
    /// step before's).
    changed: usize,
}

impl<'a> Run<'a> {
    fn new(points: &'a Points) -> Self {
        let points_scale = points.positions.iter().map(norm2).fold(1.0f64, f64::max);
        Run {
            points,
            points_scale,
            ids: vec![],
            centers: vec![],
            placements: vec![],
            counts: vec![],
            changed: usize::MAX,
        }
    }

    /// One k-means step (`cluster-step`): every point joins its nearest centre, ties going to the
    /// **last** cluster in Clojure map order; empty clusters are dropped; centres become the
    /// (weighted) mean of their members. Returns the clusters in map order, members not listed.
    ///
    /// A full scan is O(points x clusters); after a step of the same run, the points' bounds
    /// spare most of it ([`assign::reassign`]), with the same assignment.
    fn step(&mut self, clusters: &[Cluster]) -> Vec<Cluster> {
        let points = self.points;
        let order = map_order(&clusters.iter().map(|c| hash_long(c.id as i64)).collect::<Vec<_>>());
        let centers: Vec<[f64; 2]> = order.iter().map(|&i| clusters[i].center).collect();
        let ids: Vec<u32> = order.iter().map(|&i| clusters[i].id).collect();
        let same_clusters = self.ids == ids && self.placements.len() == points.len();
        // The weighted means (the group level) are summed from each slot's rows afterwards.
        let unweighted = points.weights.is_none();
        let mut sums = SlotSums::new(centers.len());
        let add = |placements: &[Placement], positions: &[[f64; 2]]| {
            if unweighted {
                sums.add(placements, positions);
            }
        };
        if same_clusters {
            let moved: Vec<f64> = self.centers.iter().zip(&centers).map(|(&a, &b)| true_distance(a, b)).collect();
            self.changed =
                assign::reassign(&mut self.placements, &points.positions, &centers, self.points_scale, &moved, add);
        } else {
            self.placements = assign::place(&points.positions, &centers, self.points_scale, add);
            self.changed = usize::MAX;
        }
        let means = self.means(sums);
        let next = order
            .iter()
            .zip(&means)
            .filter_map(|(&i, mean)| mean.map(|center| Cluster { id: clusters[i].id, members: vec![], center }))
            .collect();
        self.ids = ids;
        self.centers = centers;
        next
    }

    /// The (weighted) mean of each slot's members, `None` for an empty slot; also counts them.
    /// Unweighted, from `sums`, which the step added in row order; weighted, from each slot's
    /// rows ([`weighted_mean`]).
    fn means(&mut self, sums: SlotSums) -> Vec<Option<[f64; 2]>> {
        let points = self.points;
        let slots = sums.counts.len();
        let means = if points.weights.is_none() {
            self.counts = sums.counts;
            sums.sums
                .iter()
                .zip(&self.counts)
                .map(|(s, &n)| {
                    let inv = 1.0 / n as f64;
                    (n > 0).then(|| [s[0] * inv, s[1] * inv])
                })
                .collect()
        } else {
            // Weighted (the group level: a hundred points at most).
            let rows = self.rows(slots);
            self.counts = rows.iter().map(Vec::len).collect();
            rows.iter().map(|r| (!r.is_empty()).then(|| weighted_mean(r, points))).collect()
        };
        means
    }

    /// The rows of each slot, in data order.
    fn rows(&self, slots: usize) -> Vec<Vec<usize>> {
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); slots];
        for (row, placement) in self.placements.iter().enumerate() {
            rows[placement.slot as usize].push(row);
        }
        rows
    }

    /// Lists the members (names, in data order) of the clusters of the last step, which returned
    /// `clusters`: its non-empty slots, in slot order.
    fn with_members(&self, mut clusters: Vec<Cluster>) -> Vec<Cluster> {
        let mut members: Vec<Vec<usize>> = self.counts.iter().map(|&n| Vec::with_capacity(n)).collect();
        for (placement, &name) in self.placements.iter().zip(&self.points.names) {
            members[placement.slot as usize].push(name);
        }
        for (cluster, m) in clusters.iter_mut().zip(members.into_iter().filter(|m| !m.is_empty())) {
            cluster.members = m;
        }
        clusters
    }
}

/// Each slot's sum of its members' positions and their count, added point by point in row order:
/// per slot the same sequence of additions as [`weighted_mean`]'s unweighted sum over the slot's
/// rows, so the same bits.
struct SlotSums {
    sums: Vec<[f64; 2]>,
    counts: Vec<usize>,
}

impl SlotSums {
    fn new(slots: usize) -> SlotSums {
        SlotSums { sums: vec![[0.0, 0.0]; slots], counts: vec![0; slots] }
    }

    /// Adds the next rows, in row order: their placements and positions.
    fn add(&mut self, placements: &[Placement], positions: &[[f64; 2]]) {
        for (placement, p) in placements.iter().zip(positions) {
            let slot = placement.slot as usize;
            self.sums[slot][0] += p[0];
            self.sums[slot][1] += p[1];
            self.counts[slot] += 1;
        }
    }
}

/// `same-clustering?`: centres sorted lexicographically, zipped (truncating), all closer than 0.01.
pub(super) fn same_clustering(a: &[Cluster], b: &[Cluster]) -> bool {
    let sorted = |cs: &[Cluster]| {
        let mut v: Vec<[f64; 2]> = cs.iter().map(|c| c.center).collect();
        v.sort_by(|x, y| x[0].total_cmp(&y[0]).then(x[1].total_cmp(&y[1])));
        v
    };
    sorted(a).iter().zip(sorted(b).iter()).all(|(x, y)| distance(*x, *y) < 0.01)
}

/// Polis's `kmeans` (`clusters.clj`): start from the previous clustering (warm) or the first k
/// distinct points (cold), then step until the centres move less than 0.01 or `max_iters` more
/// steps have run (1 to `max_iters + 1` steps). Returns clusters sorted by id.
pub fn kmeans(points: &Points, k: usize, previous: Option<&[Cluster]>, max_iters: usize) -> Vec<Cluster> {
    kmeans_settling(points, k, previous, max_iters, None)
}

/// [`kmeans`] that also stops once a step moved at most `settled` points to another cluster (the
/// fast profile, [`crate::Profile::Fast`]); `None` is Polis's [`kmeans`], step for step.
pub fn kmeans_settling(
    points: &Points,
    k: usize,
    previous: Option<&[Cluster]>,
    max_iters: usize,
    settled: Option<usize>,
) -> Vec<Cluster> {
    if points.is_empty() || k == 0 {
        return Vec::new();
    }
    let start = match previous {
        Some(prev) => clean_start(points, prev, k),
        None => init_clusters(points, k),
    };
    iterate(points, start, max_iters, settled)
}

/// The fast profile's cold base clustering of many points ([`crate::Profile::Fast`]): the run of
/// [`kmeans_settling`] from Polis's cold start over every `stride`-th point (rows 0, `stride`,
/// 2 `stride`, ...) first, then over all the points from the centres it ended at. `settled(n)`
/// is the settling threshold of a run over `n` points.
///
/// Why: a cold run over a million participants starts from the first k distinct points, far
/// from where the clusters settle, and the first steps, which move the most points, are the
/// dearest; a sample of an eighth takes those steps at an eighth of the cost, and the run over
/// every point then needs three or four steps instead of 27 (1M participants). A cluster the
/// sample leaves empty is dropped, as any step drops one (none is, with 100 clusters over
/// 125,000 points).
pub fn kmeans_presolved(
    points: &Points,
    k: usize,
    max_iters: usize,
    stride: usize,
    settled: impl Fn(usize) -> Option<usize>,
) -> Vec<Cluster> {
    if points.is_empty() || k == 0 {
        return Vec::new();
    }
    let start = init_clusters(points, k);
    let rows: Vec<usize> = (0..points.len()).step_by(stride.max(1)).collect();
    let sample = Points::new(
        rows.iter().map(|&r| points.names[r]).collect(),
        rows.iter().map(|&r| points.positions[r]).collect(),
        points.weights.as_ref().map(|w| rows.iter().map(|&r| w[r]).collect()),
    );
    let presolved = iterate(&sample, start, max_iters, settled(sample.len()));
    iterate(points, presolved, max_iters, settled(points.len()))
}

/// Weighted within-cluster sum of squares, `Σ w_i ‖x_i − c(i)‖²`: the quantity k-means descends.
/// Members not among `points` are ignored.
pub fn weighted_inertia(points: &Points, clusters: &[Cluster]) -> f64 {
    let mut total = 0.0;
    for c in clusters {
        for r in present_rows(&c.members, points) {
            let p = points.positions[r];
            let w = points.weights.as_ref().map_or(1.0, |w| w[r]);
            total += w * ((p[0] - c.center[0]).powi(2) + (p[1] - c.center[1]).powi(2));
        }
    }
    total
}

/// k-means from no previous clustering, seeded per [`MultiStart`]: Polis's first-k-distinct start,
/// then `starts - 1` k-means++ starts, each iterated as [`kmeans`] does (same steps, tie rules,
/// stopping test and budget); the result with the least [`weighted_inertia`] wins, the earliest
/// on ties. With `starts = 1` this is exactly `kmeans(points, k, None, max_iters)`.
pub fn kmeans_cold(points: &Points, k: usize, cold: MultiStart, max_iters: usize) -> Vec<Cluster> {
    let mut best = kmeans(points, k, None, max_iters);
    if cold.starts <= 1 || best.is_empty() {
        return best;
    }
    let mut best_inertia = weighted_inertia(points, &best);
    let mut rng = Rng::fork(cold.seed, k as u64);
    for _ in 1..cold.starts {
        let candidate = iterate(points, kmeanspp_init(points, k, &mut rng), max_iters, None);
        let inertia = weighted_inertia(points, &candidate);
        if inertia < best_inertia {
            best = candidate;
            best_inertia = inertia;
        }
    }
    best
}

/// Polis's k-means loop from given starting clusters; with `settled`, it also stops after a step
/// that moved at most that many points (see [`kmeans_settling`]).
pub(super) fn iterate(points: &Points, start: Vec<Cluster>, max_iters: usize, settled: Option<usize>) -> Vec<Cluster> {
    let mut clusters = start;
    let mut iter = max_iters;
    let mut run = Run::new(points);
    loop {
        let next = run.step(&clusters);
        let settled = settled.is_some_and(|n| run.changed <= n);
        if iter == 0 || settled || same_clustering(&clusters, &next) {
            clusters = next;
            break;
        }
        clusters = next;
        iter -= 1;
    }
    let mut clusters = run.with_members(clusters);
    clusters.sort_by_key(|c| c.id);
    clusters
}
