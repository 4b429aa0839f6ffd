use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::clojure::{hash_long, map_order};
use crate::rng::Rng;

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
    index: FxHashMap<usize, usize>,
}

impl Points {
    pub fn new(names: Vec<usize>, positions: Vec<[f64; 2]>, weights: Option<Vec<f64>>) -> Points {
        let index = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        Points { names, positions, weights, index }
    }
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    fn row_of(&self, name: usize) -> Option<usize> {
        self.index.get(&name).copied()
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

/// Mean of two centres weighted by member counts (`merge-clusters`).
fn merged_center(a: &Cluster, b: &Cluster) -> [f64; 2] {
    let (wa, wb) = (a.members.len() as f64, b.members.len() as f64);
    let scale = 2.0 / (wa + wb);
    let x = (a.center[0] * wa * scale + b.center[0] * wb * scale) * 0.5;
    let y = (a.center[1] * wa * scale + b.center[1] * wb * scale) * 0.5;
    [x, y]
}

/// The rows of `points` among a cluster's members, in data order (`rowname-subset`).
fn present_rows(members: &[usize], points: &Points) -> Vec<usize> {
    let mut rows: Vec<usize> = members.iter().filter_map(|&m| points.row_of(m)).collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

/// `init-clusters`: the first k distinct points, ids 0..k-1, no members yet.
fn init_clusters(points: &Points, k: usize) -> Vec<Cluster> {
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

/// Accurate Euclidean distance, for the bounds (Polis's rule itself uses [`distance`]).
fn true_distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])).sqrt()
}

/// Safety margin of the bounds: a point keeps its centre without a scan only when every other
/// centre is provably farther by more than this, so rounding in Polis's distance formula can never
/// make the skipped scan choose differently (ties included).
const BOUND_MARGIN: f64 = 1e-6;

/// Where one point stands between steps of a k-means run: its slot in the last step's map order
/// and an upper bound on the distance to that centre; the runner-up's slot and a lower bound on
/// the distance to it (Elkan 2003, for one centre); and a lower bound on the distance to every
/// other centre (Hamerly 2010). Most points that could change cluster lie between their centre
/// and the runner-up, whose own movement is small, so they are settled by two distances instead
/// of a scan; only the last bound decays by the largest movement of any centre.
#[derive(Clone, Copy)]
struct Placement {
    slot: u32,
    runner_up: u32,
    upper: f64,
    runner_up_lower: f64,
    rest_lower: f64,
}

/// No runner-up (a single centre).
const NONE: u32 = u32::MAX;

/// The state a k-means run carries from one step to the next, in flat arrays so that a step
/// allocates nothing per point: the last step's clusters in slot order and each point's
/// [`Placement`]. Members are not listed until the run ends ([`Run::clusters`]): a step needs
/// only the centres.
struct Run<'a> {
    points: &'a Points,
    /// Largest squared norm of any point (at least 1), for the rounding margin of [`Centres`].
    points_scale: f64,
    ids: Vec<u32>,
    centers: Vec<[f64; 2]>,
    /// One per point, valid for `ids` and `centers` when not empty.
    placements: Vec<Placement>,
    /// Members per slot of the last step.
    counts: Vec<usize>,
}

/// The centres of one step, sorted by x for the strip search of [`scan`].
struct Centres<'a> {
    /// In slot (map) order.
    centers: &'a [[f64; 2]],
    /// Slots sorted by x, and their x.
    by_x: Vec<usize>,
    xs: Vec<f64>,
    /// Rounding margin for squared distances at this scale.
    margin: f64,
    /// Rounding slack for a difference of distances at this scale.
    slack: f64,
    /// Each centre's neighbourhood, when there are few enough centres (see [`Neighbours`]).
    neighbours: Option<Neighbours>,
}

/// Above this many centres, a step does without [`Neighbours`] (k² entries).
const MAX_CENTRES_WITH_NEIGHBOURS: usize = 1024;

/// The neighbourhoods cost O(k² log k) per step, which only many points repay: they are built
/// when there are at least this many points per pair of centres (40,000 points for Polis's 100
/// base clusters). Without them every placement is still exact, by the strip search. The unit
/// tests build them always, so that the brute-force comparisons below cover them on small inputs
/// (the integration tests run the library as shipped).
const MIN_POINTS_PER_NEIGHBOUR_PAIR: usize = if cfg!(test) { 0 } else { 4 };

/// Each centre's neighbourhood in one step (Elkan 2003 uses the same centre-to-centre distances):
/// for slot `a`, every slot sorted by its centre's distance from centre `a`, and the two largest
/// movements since the previous step among the first `i + 1` of them, `a` itself left out. The
/// triangle inequality `d(p, c) >= d(a, c) - d(p, a)` then lets a point near centre `a` ignore
/// every centre far from `a`: a rescan examines its neighbours nearest first and stops as soon as
/// the rest are provably farther, and a bound decays only by the movement of nearby centres.
struct Neighbours {
    k: usize,
    /// Row `a`: (distance from centre `a`, slot), ascending.
    by_distance: Vec<(f64, u32)>,
    /// Row `a`, position `i`: the two largest (movement, slot) among `by_distance[a][..=i]`, not `a`.
    moved_prefix: Vec<[(f64, u32); 2]>,
}

impl Neighbours {
    fn new(centers: &[[f64; 2]], moved: &[f64]) -> Neighbours {
        let k = centers.len();
        let mut by_distance = Vec::with_capacity(k * k);
        let mut moved_prefix = Vec::with_capacity(k * k);
        for (own, &a) in centers.iter().enumerate() {
            let start = by_distance.len();
            by_distance.extend(centers.iter().enumerate().map(|(slot, &c)| (true_distance(a, c), slot as u32)));
            by_distance[start..].sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            let mut top = [(0.0f64, NONE); 2];
            for &(_, slot) in &by_distance[start..] {
                let m = moved.get(slot as usize).copied().unwrap_or(f64::INFINITY);
                // Not necessarily first: another centre may coincide with it.
                if slot as usize != own {
                    if m > top[0].0 {
                        top = [(m, slot), top[0]];
                    } else if m > top[1].0 {
                        top[1] = (m, slot);
                    }
                }
                moved_prefix.push(top);
            }
        }
        Neighbours { k, by_distance, moved_prefix }
    }

    fn row(&self, a: usize) -> &[(f64, u32)] {
        &self.by_distance[a * self.k..(a + 1) * self.k]
    }

    /// The largest movement of a centre other than `a` and `b` within distance `radius` of centre
    /// `a` (0 when none).
    fn moved_within(&self, a: usize, b: u32, radius: f64) -> f64 {
        let n = self.row(a).partition_point(|&(d, _)| d <= radius);
        if n == 0 {
            return 0.0;
        }
        let top = self.moved_prefix[a * self.k + n - 1];
        top.iter().find(|t| t.1 != b).map_or(0.0, |t| t.0)
    }
}

impl<'a> Centres<'a> {
    /// `points_scale` is the largest squared norm among the points (and 1), [`Run::points_scale`].
    /// `moved[slot]` is how far each centre moved since the previous step (empty: unknown).
    fn new(centers: &'a [[f64; 2]], points_scale: f64, moved: &[f64], n_points: usize) -> Self {
        let mut by_x: Vec<usize> = (0..centers.len()).collect();
        by_x.sort_by(|&a, &b| centers[a][0].total_cmp(&centers[b][0]).then(a.cmp(&b)));
        let xs = by_x.iter().map(|&i| centers[i][0]).collect();
        let scale = centers.iter().map(norm2).fold(points_scale, f64::max);
        let k = centers.len();
        let worth_it = k <= MAX_CENTRES_WITH_NEIGHBOURS && n_points >= MIN_POINTS_PER_NEIGHBOUR_PAIR * k * k;
        let neighbours = worth_it.then(|| Neighbours::new(centers, moved));
        Centres { centers, by_x, xs, margin: 1e-12 * scale, slack: 1e-12 * scale.sqrt(), neighbours }
    }
}

fn norm2(p: &[f64; 2]) -> f64 {
    p[0] * p[0] + p[1] * p[1]
}

/// Candidates within the rounding margin of the nearest centre: a few on the stack, more (many
/// coincident centres) on the heap, so that a scan does not allocate.
struct Candidates {
    head: [(usize, f64); 8],
    len: usize,
    tail: Vec<(usize, f64)>,
}

impl Candidates {
    fn new() -> Self {
        Candidates { head: [(0, 0.0); 8], len: 0, tail: Vec::new() }
    }
    fn push(&mut self, c: (usize, f64)) {
        if self.len < self.head.len() {
            self.head[self.len] = c;
            self.len += 1;
        } else {
            self.tail.push(c);
        }
    }
    fn iter(&self) -> impl Iterator<Item = &(usize, f64)> {
        self.head[..self.len].iter().chain(&self.tail)
    }
}

/// The three centres nearest a point among those examined so far, and the candidates for Polis's
/// choice: every centre examined while within the rounding margin of the least distance.
struct Nearest {
    /// The three least squared distances and their slots, least first.
    m: [f64; 3],
    m_slot: [usize; 3],
    candidates: Candidates,
}

impl Nearest {
    fn new() -> Self {
        Nearest { m: [f64::INFINITY; 3], m_slot: [usize::MAX; 3], candidates: Candidates::new() }
    }

    fn examine(&mut self, slot: usize, d: f64, margin: f64) {
        let (m, m_slot) = (&mut self.m, &mut self.m_slot);
        if d < m[2] {
            if d < m[1] {
                m[2] = m[1];
                m_slot[2] = m_slot[1];
                if d < m[0] {
                    m[1] = m[0];
                    m_slot[1] = m_slot[0];
                    m[0] = d;
                    m_slot[0] = slot;
                } else {
                    m[1] = d;
                    m_slot[1] = slot;
                }
            } else {
                m[2] = d;
                m_slot[2] = slot;
            }
        }
        if d <= m[0] + margin {
            self.candidates.push((slot, d));
        }
    }

    /// Polis's choice among the candidates, once every centre not examined is provably farther
    /// than the third nearest examined; the runner-up is the nearest other centre, and every centre
    /// but those two is at least as far as the nearest one that is neither.
    fn placement(&self, p: [f64; 2], c: &Centres<'_>) -> Placement {
        let (m, m_slot) = (&self.m, &self.m_slot);
        let near = self.candidates.iter().filter(|&&(_, d)| d <= m[0] + c.margin).map(|&(s, _)| s);
        let best = polis_choice(p, c, near);
        let (runner_up, runner_up_d, rest) = if best == m_slot[0] {
            (m_slot[1], m[1], m[2])
        } else if best == m_slot[1] {
            (m_slot[0], m[0], m[2])
        } else {
            (m_slot[0], m[0], m[1])
        };
        Placement {
            slot: best as u32,
            runner_up: if runner_up == usize::MAX { NONE } else { runner_up as u32 },
            upper: true_distance(p, c.centers[best]),
            runner_up_lower: runner_up_d.sqrt(),
            rest_lower: rest.sqrt(),
        }
    }
}

/// Finds one point's centre: Polis's choice (the last minimum of [`distance`] in slot order), the
/// runner-up and the bounds of its [`Placement`].
///
/// Only centres in a vertical strip around the point are examined: the strip widens until the
/// horizontal gap alone exceeds the third-nearest distance found, so every centre outside is
/// provably farther than the nearest three. Every centre within a rounding margin of the nearest
/// is a candidate, and Polis's rule decides among them with Polis's own distance formula, so the
/// choice is exactly Polis's, ties included.
fn scan(p: [f64; 2], c: &Centres<'_>) -> Placement {
    let t = |i: usize| (p[0] - c.centers[i][0]).powi(2) + (p[1] - c.centers[i][1]).powi(2);
    let mut nearest = Nearest::new();
    let start = c.xs.partition_point(|&x| x < p[0]);
    let (mut left, mut right) = (start, start);
    loop {
        let gap_left = if left > 0 { p[0] - c.xs[left - 1] } else { f64::INFINITY };
        let gap_right = if right < c.xs.len() { c.xs[right] - p[0] } else { f64::INFINITY };
        let gap = gap_left.min(gap_right);
        if gap == f64::INFINITY || gap * gap > nearest.m[2] + c.margin {
            break;
        }
        let slot = if gap_left <= gap_right {
            left -= 1;
            c.by_x[left]
        } else {
            right += 1;
            c.by_x[right - 1]
        };
        nearest.examine(slot, t(slot), c.margin);
    }
    nearest.placement(p, c)
}

/// [`scan`] for a point whose centre in the previous step had slot `a`, at distance `upper` from
/// centre `a` now: the centres are examined in order of their distance from centre `a`, until the
/// triangle inequality `d(p, c) >= d(a, c) - upper` proves the rest farther than the third
/// nearest by more than the rounding margins (twice [`Centres::margin`], so that no candidate
/// within the margin of the nearest is missed). Same choice and bounds as [`scan`].
fn scan_near(p: [f64; 2], c: &Centres<'_>, neighbours: &Neighbours, a: usize, upper: f64) -> Placement {
    let t = |i: usize| (p[0] - c.centers[i][0]).powi(2) + (p[1] - c.centers[i][1]).powi(2);
    let mut nearest = Nearest::new();
    for &(d_a, slot) in neighbours.row(a) {
        let lower = d_a - upper - c.slack;
        if lower > 0.0 && lower * lower > nearest.m[2] + 2.0 * c.margin {
            break;
        }
        nearest.examine(slot as usize, t(slot as usize), c.margin);
    }
    nearest.placement(p, c)
}

/// Polis's rule among candidate slots near the minimum: scanning in slot order with `<=` on
/// Polis's [`distance`], the last slot at the least distance wins; that is the greatest slot among
/// those at the least distance, whatever order the candidates come in.
fn polis_choice(p: [f64; 2], c: &Centres<'_>, candidates: impl Iterator<Item = usize>) -> usize {
    let pp = norm2(&p);
    let polis = |i: usize| {
        let q = c.centers[i];
        (pp + norm2(&q) - 2.0 * (p[0] * q[0] + p[1] * q[1])).max(0.0).sqrt()
    };
    let mut best = usize::MAX;
    let mut best_d = f64::INFINITY;
    for slot in candidates {
        let d = polis(slot);
        if d < best_d || (d == best_d && (best == usize::MAX || slot > best)) {
            best = slot;
            best_d = d;
        }
    }
    best
}

/// Settles a point whose bounds prove that no centre but its own (`slot`) and the runner-up can
/// be within `rest_lower - BOUND_MARGIN`: both distances are computed, and the nearer one, or
/// Polis's rule when they are within the rounding margin, decides as [`scan`] would; `None` when
/// the nearer of the two is not provably nearer than every other centre.
fn settle_between_two(
    p: [f64; 2],
    c: &Centres<'_>,
    slot: usize,
    runner_up: usize,
    rest_lower: f64,
) -> Option<Placement> {
    let t = |i: usize| (p[0] - c.centers[i][0]).powi(2) + (p[1] - c.centers[i][1]).powi(2);
    let (ta, tb) = (t(slot), t(runner_up));
    let m1 = ta.min(tb);
    if m1.sqrt() >= rest_lower - BOUND_MARGIN {
        return None;
    }
    let best = polis_choice(p, c, [slot, runner_up].into_iter().filter(|&s| t(s) <= m1 + c.margin));
    let other = if best == slot { runner_up } else { slot };
    Some(Placement {
        slot: best as u32,
        runner_up: other as u32,
        upper: true_distance(p, c.centers[best]),
        runner_up_lower: true_distance(p, c.centers[other]),
        rest_lower,
    })
}

impl<'a> Run<'a> {
    fn new(points: &'a Points) -> Self {
        let points_scale = points.positions.iter().map(norm2).fold(1.0f64, f64::max);
        Run { points, points_scale, ids: vec![], centers: vec![], placements: vec![], counts: vec![] }
    }

    /// One k-means step (`cluster-step`): every point joins its nearest centre, ties going to the
    /// **last** cluster in Clojure map order; empty clusters are dropped; centres become the
    /// (weighted) mean of their members. Returns the clusters in map order, members not listed.
    ///
    /// A full scan is O(points x clusters); after a step of the same run, a point is rescanned
    /// only when its bounds, or its bounds with the distance to its own centre recomputed, no
    /// longer prove that it stays (Hamerly 2010), which gives the same assignment. Parallel over
    /// points, each independent of the others, so the result does not depend on the threads.
    fn step(&mut self, clusters: &[Cluster]) -> Vec<Cluster> {
        let points = self.points;
        let order = map_order(&clusters.iter().map(|c| hash_long(c.id as i64)).collect::<Vec<_>>());
        let centers: Vec<[f64; 2]> = order.iter().map(|&i| clusters[i].center).collect();
        let ids: Vec<u32> = order.iter().map(|&i| clusters[i].id).collect();
        let same_clusters = self.ids == ids && self.placements.len() == points.len();
        let moved: Vec<f64> = if same_clusters {
            self.centers.iter().zip(&centers).map(|(&a, &b)| true_distance(a, b)).collect()
        } else {
            vec![]
        };
        let strip = Centres::new(&centers, self.points_scale, &moved, points.len());
        if same_clusters {
            // The three largest movements: the largest among centres other than a point's own and
            // its runner-up bounds how much closer any of them came.
            let mut top = [(0.0f64, usize::MAX); 3];
            for (slot, &m) in moved.iter().enumerate() {
                if m > top[2].0 {
                    top[2] = (m, slot);
                    top.sort_by(|a, b| b.0.total_cmp(&a.0));
                }
            }
            let moved_other = |a: usize, b: usize| top.iter().find(|t| t.1 != a && t.1 != b).map_or(0.0, |t| t.0);
            self.placements.par_iter_mut().zip(&points.positions).with_min_len(MIN_POINTS_PER_JOB).for_each(
                |(placement, &p)| {
                    let slot = placement.slot as usize;
                    let runner_up = placement.runner_up as usize;
                    let runner_up_lower = if placement.runner_up == NONE {
                        f64::INFINITY
                    } else {
                        placement.runner_up_lower - moved[runner_up]
                    };
                    let upper = placement.upper + moved[slot];
                    let rest_lower = placement.rest_lower - moved_other(slot, runner_up);
                    if upper < rest_lower.min(runner_up_lower) - BOUND_MARGIN {
                        *placement = Placement { upper, runner_up_lower, rest_lower, ..*placement };
                        return;
                    }
                    // Centres farther than `upper + rest_lower` from centre `slot` are farther than
                    // `rest_lower` from the point whatever they did, so only nearby movements count.
                    let upper = true_distance(p, centers[slot]);
                    let radius = upper + placement.rest_lower + strip.slack;
                    let rest_lower = match &strip.neighbours {
                        Some(neighbours) => {
                            placement.rest_lower - neighbours.moved_within(slot, placement.runner_up, radius)
                        }
                        None => rest_lower,
                    };
                    if upper < rest_lower.min(runner_up_lower) - BOUND_MARGIN {
                        *placement = Placement { upper, runner_up_lower, rest_lower, ..*placement };
                        return;
                    }
                    *placement = (placement.runner_up != NONE)
                        .then(|| settle_between_two(p, &strip, slot, runner_up, rest_lower))
                        .flatten()
                        .unwrap_or_else(|| match &strip.neighbours {
                            Some(neighbours) => scan_near(p, &strip, neighbours, slot, upper),
                            None => scan(p, &strip),
                        });
                },
            );
        } else {
            self.placements =
                points.positions.par_iter().with_min_len(MIN_POINTS_PER_JOB).map(|&p| scan(p, &strip)).collect();
        }
        let means = self.means(centers.len());
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
    /// Bit-identical to [`weighted_mean`] of the slot's rows: one pass in row order adds each
    /// point to its slot's sum, which is the same sequence of additions per slot.
    fn means(&mut self, slots: usize) -> Vec<Option<[f64; 2]>> {
        let points = self.points;
        let mut counts = vec![0usize; slots];
        let means = if points.weights.is_none() {
            let mut sums = vec![[0.0f64, 0.0]; slots];
            for (placement, p) in self.placements.iter().zip(&points.positions) {
                let slot = placement.slot as usize;
                sums[slot][0] += p[0];
                sums[slot][1] += p[1];
                counts[slot] += 1;
            }
            sums.iter()
                .zip(&counts)
                .map(|(s, &n)| {
                    let inv = 1.0 / n as f64;
                    (n > 0).then(|| [s[0] * inv, s[1] * inv])
                })
                .collect()
        } else {
            // Weighted (the group level: a hundred points at most).
            let rows = self.rows(slots);
            for (count, r) in counts.iter_mut().zip(&rows) {
                *count = r.len();
            }
            rows.iter().map(|r| (!r.is_empty()).then(|| weighted_mean(r, points))).collect()
        };
        self.counts = counts;
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

/// `same-clustering?`: centres sorted lexicographically, zipped (truncating), all closer than 0.01.
fn same_clustering(a: &[Cluster], b: &[Cluster]) -> bool {
    let sorted = |cs: &[Cluster]| {
        let mut v: Vec<[f64; 2]> = cs.iter().map(|c| c.center).collect();
        v.sort_by(|x, y| x[0].total_cmp(&y[0]).then(x[1].total_cmp(&y[1])));
        v
    };
    sorted(a).iter().zip(sorted(b).iter()).all(|(x, y)| distance(*x, *y) < 0.01)
}

/// `clean-start-clusters`: prepares the previous update's clusters as the start of this one.
/// 1. Recentre each on its members still present; drop those with none (all dropped: one cluster
///    of everything, id max+1).
/// 2. Merge clusters with exactly equal centres (the larger keeps its id; a tie keeps the later's).
/// 3. While fewer than `min(k, distinct points)` clusters: the point farthest from its nearest
///    centre (ties: the later point), if at distance > 0, leaves its cluster and becomes a new
///    singleton cluster with id max+1.
fn clean_start(points: &Points, previous: &[Cluster], k: usize) -> Vec<Cluster> {
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

/// Polis's `kmeans` (`clusters.clj`): start from the previous clustering (warm) or the first k
/// distinct points (cold), then step until the centres move less than 0.01 or `max_iters` more
/// steps have run (1 to `max_iters + 1` steps). Returns clusters sorted by id.
pub fn kmeans(points: &Points, k: usize, previous: Option<&[Cluster]>, max_iters: usize) -> Vec<Cluster> {
    if points.is_empty() || k == 0 {
        return Vec::new();
    }
    let start = match previous {
        Some(prev) => clean_start(points, prev, k),
        None => init_clusters(points, k),
    };
    iterate(points, start, max_iters)
}

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

/// Weighted k-means++ seeding: the first centre drawn with probability proportional to weight,
/// each next one proportional to weight × squared distance to the nearest centre chosen so far.
/// Stops early when every point coincides with a centre (fewer distinct points than k), as
/// `init-clusters` does. Ids 0..k-1, no members yet.
fn kmeanspp_init(points: &Points, k: usize, rng: &mut Rng) -> Vec<Cluster> {
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
        let candidate = iterate(points, kmeanspp_init(points, k, &mut rng), max_iters);
        let inertia = weighted_inertia(points, &candidate);
        if inertia < best_inertia {
            best = candidate;
            best_inertia = inertia;
        }
    }
    best
}

/// Polis's k-means loop from given starting clusters.
fn iterate(points: &Points, start: Vec<Cluster>, max_iters: usize) -> Vec<Cluster> {
    let mut clusters = start;
    let mut iter = max_iters;
    let mut run = Run::new(points);
    loop {
        let next = run.step(&clusters);
        if iter == 0 || same_clustering(&clusters, &next) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(p: &[[f64; 2]]) -> Points {
        Points::new((0..p.len()).collect(), p.to_vec(), None)
    }

    #[test]
    fn cold_start_uses_the_first_k_distinct_points_and_converges_to_the_two_blobs() {
        let p = pts(&[[0.0, 0.0], [0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [0.0, 0.1]]);
        let c = kmeans(&p, 2, None, 20);
        assert_eq!(c.len(), 2);
        // Initial centres (0,0) and (0.1,0) are both in the left blob; (5,5) points go to the
        // nearer one and pull it right.
        let members: Vec<Vec<usize>> = c.iter().map(|c| c.members.clone()).collect();
        assert!(members.contains(&vec![0, 1, 2, 5]) && members.contains(&vec![3, 4]), "{members:?}");
    }

    #[test]
    fn weighted_centres_are_weighted_means() {
        let p = Points::new(vec![10, 11], vec![[0.0, 0.0], [3.0, 3.0]], Some(vec![1.0, 2.0]));
        let c = kmeans(&p, 1, None, 5);
        assert_eq!(c[0].members, vec![10, 11]);
        assert!((c[0].center[0] - 2.0).abs() < 1e-12 && (c[0].center[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn fewer_distinct_points_than_k_gives_fewer_clusters() {
        let p = pts(&[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]);
        assert_eq!(kmeans(&p, 100, None, 100).len(), 2);
    }

    #[test]
    fn warm_start_keeps_ids_and_adds_the_most_distal_point_as_a_new_cluster() {
        let p = pts(&[[0.0, 0.0], [0.2, 0.0], [10.0, 0.0]]);
        let previous = vec![Cluster { id: 7, members: vec![0, 1, 2], center: [0.0, 0.0] }];
        let c = kmeans(&p, 2, Some(&previous), 20);
        assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![7, 8]);
        assert_eq!(c[0].members, vec![0, 1]);
        assert_eq!(c[1].members, vec![2]);
    }

    #[test]
    fn ties_go_to_the_last_cluster_in_map_order() {
        // The point (1,0) is equidistant from centres (0,0) id 0 and (2,0) id 1; with two clusters
        // (an array map) the later one, id 1, wins.
        let p = pts(&[[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]]);
        let start = vec![
            Cluster { id: 0, members: vec![], center: [0.0, 0.0] },
            Cluster { id: 1, members: vec![], center: [2.0, 0.0] },
        ];
        let one_step = iterate(&p, start, 0);
        assert_eq!(one_step[1].members, vec![1, 2]);
    }

    /// Polis's `kmeans` loop from `start`, with a step that follows `cluster-step` literally: every
    /// point against every centre in map order with Polis's `distance`, the last minimum wins,
    /// empty clusters dropped, centres the `weighted-mean` of the members' rows.
    fn brute_force_kmeans(p: &Points, start: Vec<Cluster>, max_iters: usize) -> Vec<Cluster> {
        let brute_step = |clusters: &[Cluster]| -> Vec<Cluster> {
            let order = map_order(&clusters.iter().map(|c| hash_long(c.id as i64)).collect::<Vec<_>>());
            let mut rows: Vec<Vec<usize>> = vec![Vec::new(); order.len()];
            for (row, &q) in p.positions.iter().enumerate() {
                let (mut best, mut best_d) = (0, f64::INFINITY);
                for (slot, &i) in order.iter().enumerate() {
                    let d = distance(q, clusters[i].center);
                    if d <= best_d {
                        best = slot;
                        best_d = d;
                    }
                }
                rows[best].push(row);
            }
            order
                .iter()
                .zip(&rows)
                .filter(|(_, rows)| !rows.is_empty())
                .map(|(&i, rows)| Cluster {
                    id: clusters[i].id,
                    members: rows.iter().map(|&r| p.names[r]).collect(),
                    center: weighted_mean(rows, p),
                })
                .collect()
        };
        let mut clusters = start;
        let mut iter = max_iters;
        let mut out = loop {
            let next = brute_step(&clusters);
            if iter == 0 || same_clustering(&clusters, &next) {
                break next;
            }
            clusters = next;
            iter -= 1;
        };
        out.sort_by_key(|c| c.id);
        out
    }

    /// Equal to the bit: ids, members in order, and centres (`==` would let -0.0 pass for 0.0).
    fn assert_identical(ours: &[Cluster], reference: &[Cluster]) {
        let bits = |cs: &[Cluster]| -> Vec<(u32, Vec<usize>, [u64; 2])> {
            cs.iter().map(|c| (c.id, c.members.clone(), [c.center[0].to_bits(), c.center[1].to_bits()])).collect()
        };
        assert_eq!(bits(ours), bits(reference));
    }

    /// `n` points in seven overlapping blobs, every tenth snapped to a 0.25 grid (exact duplicates
    /// and exactly tied distances), names shuffled so that names and rows differ.
    fn blobs(n: usize, seed: u64) -> Points {
        let mut rng = crate::rng::Rng::new(seed);
        let positions: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let c = (i % 7) as f64;
                let q = [c * 1.5 + rng.uniform(), (c * 0.7).sin() * 3.0 + rng.uniform()];
                if i % 10 == 0 {
                    [(q[0] * 4.0).round() / 4.0, (q[1] * 4.0).round() / 4.0]
                } else {
                    q
                }
            })
            .collect();
        Points::new((0..n).map(|i| (i * 7919) % n + 3 * n).collect(), positions, None)
    }

    #[test]
    fn strip_search_and_bounds_give_the_same_clustering_as_brute_force() {
        // 5,000 points in blobs with exact duplicates, 100 clusters (hash-ordered ties).
        let p = blobs(5000, 9);
        assert_identical(&kmeans(&p, 100, None, 100), &brute_force_kmeans(&p, init_clusters(&p, 100), 100));
    }

    #[test]
    fn grid_points_full_of_exact_ties_cluster_as_brute_force_does() {
        // Integer grid points, many repeated: distances tie exactly all the time, centres coincide.
        let positions: Vec<[f64; 2]> =
            (0..3000).map(|i: i64| [((i * 37) % 23 - 11) as f64, ((i * 11) % 17 - 8) as f64 * 0.5]).collect();
        let p = pts(&positions);
        for k in [2, 7, 50, 100, 400] {
            assert_identical(&kmeans(&p, k, None, 100), &brute_force_kmeans(&p, init_clusters(&p, k), 100));
        }
    }

    #[test]
    fn far_from_the_origin_and_tiny_spreads_cluster_as_brute_force_does() {
        // Large coordinates (Polis's distance formula loses digits) and a tiny spread.
        let b = blobs(3000, 4);
        for (offset, scale) in [(1e4, 1.0), (0.0, 1e-7), (-3e3, 1e-3)] {
            let positions = b.positions.iter().map(|q| [offset + q[0] * scale, q[1] * scale - offset]).collect();
            let p = Points::new(b.names.clone(), positions, None);
            assert_identical(&kmeans(&p, 100, None, 100), &brute_force_kmeans(&p, init_clusters(&p, 100), 100));
        }
    }

    #[test]
    fn weighted_points_cluster_as_brute_force_does() {
        // The group level: base-cluster centres weighted by their member counts.
        let b = blobs(100, 2);
        let weights: Vec<f64> = (0..100).map(|i| 1.0 + ((i * 37) % 50) as f64).collect();
        let p = Points::new(b.names.clone(), b.positions.clone(), Some(weights));
        for k in 2..=5 {
            assert_identical(&kmeans(&p, k, None, 20), &brute_force_kmeans(&p, init_clusters(&p, k), 20));
        }
    }

    #[test]
    fn warm_starts_cluster_as_brute_force_does_from_the_same_clean_start() {
        // Previous clusters of an earlier update: some lost, some members gone, new points added.
        let p = blobs(6000, 5);
        let earlier = Points::new(p.names[..4000].to_vec(), p.positions[..4000].to_vec(), None);
        let previous: Vec<Cluster> = kmeans(&earlier, 100, None, 100).into_iter().filter(|c| c.id % 4 != 1).collect();
        let start = clean_start(&p, &previous, 100);
        assert_identical(&kmeans(&p, 100, Some(&previous), 100), &brute_force_kmeans(&p, start, 100));
    }

    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        // Enough points that the parallel steps split into several jobs.
        let p = blobs(4 * MIN_POINTS_PER_JOB + 17, 11);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
            pool.install(|| kmeans(&p, 100, None, 100))
        };
        let one = run(1);
        assert_identical(&run(3), &one);
        assert_identical(&one, &brute_force_kmeans(&p, init_clusters(&p, 100), 100));
    }

    #[test]
    fn unweighted_kmeans_agrees_with_lloyd_by_brute_force_on_separated_blobs() {
        // Oracle: Lloyd's algorithm written directly, from the same start; on well separated data
        // Polis's variant must reach the same partition.
        let mut positions = Vec::new();
        for i in 0..60 {
            let blob = i % 3;
            let (cx, cy) = [(0.0, 0.0), (6.0, 1.0), (2.0, 7.0)][blob];
            positions.push([cx + ((i * 37) % 11) as f64 * 0.05, cy + ((i * 17) % 13) as f64 * 0.05]);
        }
        let p = pts(&positions);
        let ours = kmeans(&p, 3, None, 100);
        let mut centers: Vec<[f64; 2]> = init_clusters(&p, 3).iter().map(|c| c.center).collect();
        let mut assign = vec![0; positions.len()];
        for _ in 0..100 {
            for (i, q) in positions.iter().enumerate() {
                assign[i] =
                    (0..3).min_by(|&a, &b| distance(*q, centers[a]).total_cmp(&distance(*q, centers[b]))).unwrap();
            }
            for (c, center) in centers.iter_mut().enumerate() {
                let m: Vec<&[f64; 2]> =
                    positions.iter().zip(&assign).filter(|(_, &a)| a == c).map(|(q, _)| q).collect();
                *center = [
                    m.iter().map(|q| q[0]).sum::<f64>() / m.len() as f64,
                    m.iter().map(|q| q[1]).sum::<f64>() / m.len() as f64,
                ];
            }
        }
        for cl in &ours {
            let a = assign[cl.members[0]];
            assert!(cl.members.iter().all(|&m| assign[m] == a));
        }
    }

    /// The canadian-electoral-reform situation in miniature, weighted as the group level is: two
    /// heavy neighbouring base clusters on each side of 0 and a light one far right. Polis's start
    /// (the first two distinct points, one on each side) is a fixed point of k-means that pairs
    /// the far cluster with the right side: inertia ≈ 110, where {left+right, far} has ≈ 20.
    fn stuck_for_polis_start() -> Points {
        Points::new(
            (0..5).collect(),
            vec![[-1.0, 0.0], [1.0, 0.0], [12.0, 0.0], [-1.1, 0.1], [1.1, -0.1]],
            Some(vec![10.0, 10.0, 1.0, 5.0, 5.0]),
        )
    }

    /// Brute force over every 2-partition: the least unweighted inertia.
    fn best_2_partition_inertia(points: &Points) -> f64 {
        let n = points.len();
        let mut best = f64::INFINITY;
        // Point 0 always in group 0, so each partition is counted once.
        for mask in 0u32..(1 << (n - 1)) {
            let groups: Vec<Vec<usize>> = (0..2)
                .map(|g| (0..n).filter(|&i| (i > 0 && (mask >> (i - 1)) & 1 == 1) as usize == g).collect())
                .collect();
            if groups.iter().any(|g| g.is_empty()) {
                continue;
            }
            let clusters: Vec<Cluster> = groups
                .iter()
                .enumerate()
                .map(|(id, rows)| Cluster { id: id as u32, members: rows.clone(), center: weighted_mean(rows, points) })
                .collect();
            best = best.min(weighted_inertia(points, &clusters));
        }
        best
    }

    #[test]
    fn weighted_inertia_by_hand() {
        // Weights 1 and 3 at x = 0 and 4: centre 3; inertia 1·9 + 3·1 = 12. Member 99 is absent.
        let p = Points::new(vec![10, 11], vec![[0.0, 0.0], [4.0, 0.0]], Some(vec![1.0, 3.0]));
        let c = vec![Cluster { id: 0, members: vec![10, 11, 99], center: [3.0, 0.0] }];
        assert_eq!(weighted_inertia(&p, &c), 12.0);
    }

    #[test]
    fn one_cold_start_is_exactly_polis_kmeans() {
        let p = stuck_for_polis_start();
        for k in 1..5 {
            assert_eq!(kmeans_cold(&p, k, MultiStart::POLIS, 20), kmeans(&p, k, None, 20));
            assert_eq!(kmeans_cold(&p, k, MultiStart { starts: 1, seed: 9 }, 20), kmeans(&p, k, None, 20));
        }
    }

    #[test]
    fn multi_start_escapes_the_local_optimum_of_polis_start_and_reaches_the_brute_force_optimum() {
        let p = stuck_for_polis_start();
        let polis = kmeans(&p, 2, None, 20);
        let best = best_2_partition_inertia(&p);
        assert!(weighted_inertia(&p, &polis) > 1.5 * best, "Polis's start should be stuck here");
        let ours = kmeans_cold(&p, 2, MultiStart { starts: 10, seed: 0 }, 20);
        assert!((weighted_inertia(&p, &ours) - best).abs() < 1e-9 * best);
        assert!(ours.iter().any(|c| c.members == vec![2]), "{ours:?}");
    }

    #[test]
    fn multi_start_is_deterministic_in_the_seed_and_never_worse_than_polis_start() {
        let mut positions = Vec::new();
        for i in 0..40u64 {
            let h = crate::rng::Rng::new(i).next_u64();
            positions.push([(h % 1000) as f64 / 100.0, ((h >> 20) % 1000) as f64 / 100.0]);
        }
        let weights: Vec<f64> = (0..40).map(|i| 1.0 + (i % 5) as f64).collect();
        let p = Points::new((0..40).collect(), positions, Some(weights));
        for k in 2..=5 {
            for seed in 0..5 {
                let cold = MultiStart { starts: 8, seed };
                let a = kmeans_cold(&p, k, cold, 20);
                assert_eq!(a, kmeans_cold(&p, k, cold, 20));
                assert!(weighted_inertia(&p, &a) <= weighted_inertia(&p, &kmeans(&p, k, None, 20)));
            }
        }
    }

    #[test]
    fn kmeanspp_picks_distinct_points_and_stops_at_the_number_of_distinct_points() {
        let p = pts(&[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0]]);
        let mut rng = Rng::new(5);
        let init = kmeanspp_init(&p, 4, &mut rng);
        assert_eq!(init.len(), 2);
        assert_ne!(init[0].center, init[1].center);
        assert_eq!(kmeans_cold(&p, 4, MultiStart { starts: 5, seed: 1 }, 20).len(), 2);
        // Zero-weight points are never drawn.
        let w = Points::new(vec![0, 1, 2], vec![[0.0, 0.0], [5.0, 0.0], [9.0, 0.0]], Some(vec![0.0, 1.0, 0.0]));
        for seed in 0..20 {
            let init = kmeanspp_init(&w, 3, &mut Rng::new(seed));
            assert_eq!(init.iter().map(|c| c.center).collect::<Vec<_>>(), vec![[5.0, 0.0]]);
        }
    }
}
