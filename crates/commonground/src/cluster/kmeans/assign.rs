//! The assignment half of `cluster-step` (Polis's `clusters.clj`): every point joins its nearest
//! centre, ties going to the **last** centre in Clojure map order, by Polis's own distance
//! formula, so that every participant lands exactly where Polis puts them.
//!
//! Done literally that is O(points × centres) per step, 100 base clusters times a million
//! participants times up to 20 steps. Between steps most points do not move and most centres
//! barely do, so each point carries bounds on its distances (Hamerly 2010 for the rest, Elkan 2003
//! for its runner-up) and is rescanned only when they no longer prove that it stays; a rescan
//! looks at the centres near it (a strip in x, or the neighbours of its old centre) instead of all
//! of them. Every shortcut keeps a rounding margin and hands near-ties to Polis's rule, so the
//! choice is Polis's to the bit (`tests.rs` checks it against a brute-force step).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Accurate Euclidean distance, for the bounds (Polis's rule itself uses
/// [`distance`](super::distance)).
pub(super) fn true_distance(a: [f64; 2], b: [f64; 2]) -> f64 {
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
pub(super) struct Placement {
    pub(super) slot: u32,
    runner_up: u32,
    upper: f64,
    runner_up_lower: f64,
    rest_lower: f64,
}

/// No runner-up (a single centre).
const NONE: u32 = u32::MAX;

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
/// tests build them always, so that the brute-force comparisons of `tests.rs` cover them on small
/// inputs (the integration tests run the library as shipped).
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
    /// Row `a`'s first [`NEIGHBOURS_WALKED`] distances, NaN past the row's end: what
    /// [`Neighbours::moved_within`] compares with the radius all at once.
    head: Vec<[f64; NEIGHBOURS_WALKED]>,
}

/// How many of a centre's nearest neighbours [`Neighbours::moved_within`] walks before it
/// searches the rest of the row by halves.
const NEIGHBOURS_WALKED: usize = 16;

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
        let head = by_distance
            .chunks(k.max(1))
            .map(|row| std::array::from_fn(|i| row.get(i).map_or(f64::NAN, |&(d, _)| d)))
            .collect();
        Neighbours { k, by_distance, moved_prefix, head }
    }

    fn row(&self, a: usize) -> &[(f64, u32)] {
        &self.by_distance[a * self.k..(a + 1) * self.k]
    }

    /// The largest movement of a centre other than `a` and `b` within distance `radius` of centre
    /// `a` (0 when none).
    fn moved_within(&self, a: usize, b: u32, radius: f64) -> f64 {
        let row = self.row(a);
        // The radius reaches past a few neighbours only: walked in order, they cost a load each
        // that the processor runs ahead on, where a binary search over the whole row waits on
        // seven dependent loads (this was half of a step's time at 100k participants). Both
        // find the same count of neighbours within the radius.
        // The walk is the count of leading distances within the radius, taken from a mask of all
        // the head's comparisons (no branch per neighbour to mispredict where the walk stops); a
        // NaN compares false, as it stops the walk, and pads a row shorter than the head.
        let head = row.len().min(NEIGHBOURS_WALKED);
        let within = self.head[a].iter().enumerate().fold(0u32, |m, (i, &d)| m | u32::from(d <= radius) << i);
        let walked = (!within).trailing_zeros() as usize;
        let n = if walked < head { walked } else { head + row[head..].partition_point(|&(d, _)| d <= radius) };
        if n == 0 {
            return 0.0;
        }
        let top = self.moved_prefix[a * self.k + n - 1];
        top.iter().find(|t| t.1 != b).map_or(0.0, |t| t.0)
    }
}

impl<'a> Centres<'a> {
    /// `points_scale` is the largest squared norm among the points (and 1), as in
    /// `Run::points_scale`.
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

pub(super) fn norm2(p: &[f64; 2]) -> f64 {
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

/// Finds one point's centre: Polis's choice (the last minimum of [`distance`](super::distance) in
/// slot order), the runner-up and the bounds of its [`Placement`].
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
/// Polis's [`distance`](super::distance), the last slot at the least distance wins; that is the
/// greatest slot among those at the least distance, whatever order the candidates come in.
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

/// Places every point afresh (the first step of a run, or centres that are not the last step's):
/// a strip search per point. `consume` gets the placements as [`reassign`]'s does.
pub(super) fn place(
    positions: &[[f64; 2]],
    centers: &[[f64; 2]],
    points_scale: f64,
    consume: impl FnMut(&[Placement], &[[f64; 2]]) + Send,
) -> Vec<Placement> {
    let strip = Centres::new(centers, points_scale, &[], positions.len());
    let unplaced = Placement { slot: 0, runner_up: NONE, upper: f64::INFINITY, runner_up_lower: 0.0, rest_lower: 0.0 };
    let mut placements = vec![unplaced; positions.len()];
    in_row_order(&mut placements, positions, |placement, p| *placement = scan(p, &strip), consume);
    placements
}

/// Moves each point's [`Placement`] from the last step's centres to `centers`, the same clusters
/// in the same slots, each moved by `moved[slot]`: a point is rescanned only when its bounds, or
/// its bounds with the distance to its own centre recomputed, no longer prove that it stays
/// (Hamerly 2010), which gives the same assignment as a scan. Each point is independent of the
/// others, so the result does not depend on the threads. `consume` is handed the placements in
/// row order as they are final ([`in_row_order`]). Returns how many points changed slot (the
/// fast profile's settling test).
pub(super) fn reassign(
    placements: &mut [Placement],
    positions: &[[f64; 2]],
    centers: &[[f64; 2]],
    points_scale: f64,
    moved: &[f64],
    consume: impl FnMut(&[Placement], &[[f64; 2]]) + Send,
) -> usize {
    let strip = Centres::new(centers, points_scale, moved, positions.len());
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
    let work = |placement: &mut Placement, p| reassign_one(placement, p, &strip, centers, moved, &moved_other);
    in_row_order(placements, positions, work, consume)
}

/// Rows per chunk of [`in_row_order`]: the unit a thread claims, and the unit handed to its
/// consumer.
const ROWS_PER_CHUNK: usize = 16384;

/// Runs `work` on every point's placement, in parallel by chunks of [`ROWS_PER_CHUNK`] rows, and
/// hands each chunk, once final, with its positions, to `consume` in row order on the calling
/// thread. Returns how many points `work` moved to another slot.
///
/// Why: each step's centre sums must be added in row order (Polis's `weighted-mean`), a
/// sequential pass that, run after the parallel one, was a fifth of a step's time at a million
/// participants with the second core idle. Here the calling thread adds every finished chunk and
/// takes the next unclaimed one in between, while the other threads only take chunks; chunks are
/// claimed in row order, so the one it waits for at the end is one being worked on. Each chunk
/// is one thread's, so the placements do not depend on the threads, and the consumer sees the
/// same rows in the same order as a sequential pass.
fn in_row_order(
    placements: &mut [Placement],
    positions: &[[f64; 2]],
    work: impl Fn(&mut Placement, [f64; 2]) + Sync,
    mut consume: impl FnMut(&[Placement], &[[f64; 2]]) + Send,
) -> usize {
    let chunks: Vec<Mutex<&mut [Placement]>> = placements.chunks_mut(ROWS_PER_CHUNK).map(Mutex::new).collect();
    let rows = |c: usize, len: usize| &positions[c * ROWS_PER_CHUNK..][..len];
    let done: Vec<AtomicBool> = chunks.iter().map(|_| AtomicBool::new(false)).collect();
    let claimed = AtomicUsize::new(0);
    let changed = AtomicUsize::new(0);
    // Takes the next unclaimed chunk and works on its points; false when none is left.
    let claim = || {
        let c = claimed.fetch_add(1, Ordering::Relaxed);
        let Some(chunk) = chunks.get(c) else { return false };
        let mut part = chunk.lock().expect("a k-means worker panicked");
        let positions = rows(c, part.len());
        let mut n = 0;
        for (placement, &p) in part.iter_mut().zip(positions) {
            let slot = placement.slot;
            work(placement, p);
            n += usize::from(placement.slot != slot);
        }
        drop(part);
        changed.fetch_add(n, Ordering::Relaxed);
        done[c].store(true, Ordering::Release);
        true
    };
    let helpers = rayon::current_num_threads().min(chunks.len()).saturating_sub(1);
    rayon::scope(|s| {
        for _ in 0..helpers {
            s.spawn(|_| while claim() {});
        }
        let mut next = 0;
        while next < chunks.len() {
            if done[next].load(Ordering::Acquire) {
                let part = chunks[next].lock().expect("a k-means worker panicked");
                consume(&part, rows(next, part.len()));
                next += 1;
            } else if !claim() {
                // Every chunk is claimed and the next one is still being worked on.
                std::thread::yield_now();
            }
        }
    });
    changed.into_inner()
}

/// [`reassign`] for one point.
fn reassign_one(
    placement: &mut Placement,
    p: [f64; 2],
    strip: &Centres<'_>,
    centers: &[[f64; 2]],
    moved: &[f64],
    moved_other: &impl Fn(usize, usize) -> f64,
) {
    let slot = placement.slot as usize;
    let runner_up = placement.runner_up as usize;
    let runner_up_lower =
        if placement.runner_up == NONE { f64::INFINITY } else { placement.runner_up_lower - moved[runner_up] };
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
        Some(neighbours) => placement.rest_lower - neighbours.moved_within(slot, placement.runner_up, radius),
        None => rest_lower,
    };
    if upper < rest_lower.min(runner_up_lower) - BOUND_MARGIN {
        *placement = Placement { upper, runner_up_lower, rest_lower, ..*placement };
        return;
    }
    *placement = (placement.runner_up != NONE)
        .then(|| settle_between_two(p, strip, slot, runner_up, rest_lower))
        .flatten()
        .unwrap_or_else(|| match &strip.neighbours {
            Some(neighbours) => scan_near(p, strip, neighbours, slot, upper),
            None => scan(p, strip),
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest movement of a centre other than `a` and `b` among centre `a`'s neighbours
    /// walked nearest first up to the first one not within `radius` (NaN is not within): the
    /// definition, one neighbour at a time.
    fn walked_one_by_one(n: &Neighbours, moved: &[f64], a: usize, b: u32, radius: f64) -> f64 {
        n.row(a)
            .iter()
            .take_while(|&&(d, _)| d <= radius)
            .filter(|&&(_, slot)| slot as usize != a && slot != b)
            .map(|&(_, slot)| moved[slot as usize])
            .fold(0.0, f64::max)
    }

    #[test]
    fn every_chunk_reaches_the_consumer_worked_on_and_in_row_order_whatever_the_threads() {
        // Three chunks and a short one; `work` puts row i in slot i % 7, so the consumer must
        // see (i % 7, i) for every row, once, in order, and 6 of every 7 rows moved off slot 0.
        let n = 3 * ROWS_PER_CHUNK + 5;
        let positions: Vec<[f64; 2]> = (0..n).map(|i| [i as f64, -1.0]).collect();
        let expected: Vec<(u32, f64)> = (0..n).map(|i| ((i % 7) as u32, i as f64)).collect();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
            let unplaced = Placement { slot: 0, runner_up: NONE, upper: 0.0, runner_up_lower: 0.0, rest_lower: 0.0 };
            let mut placements = vec![unplaced; n];
            let mut seen = Vec::new();
            let changed = pool.install(|| {
                in_row_order(
                    &mut placements,
                    &positions,
                    |placement, p| placement.slot = p[0] as u32 % 7,
                    |chunk, rows| seen.extend(chunk.iter().zip(rows).map(|(placement, p)| (placement.slot, p[0]))),
                )
            });
            assert_eq!(seen, expected, "{threads} threads");
            assert_eq!(changed, (0..n).filter(|i| i % 7 != 0).count(), "{threads} threads");
        }
    }

    #[test]
    fn the_largest_movement_within_a_radius_is_the_one_by_one_walks() {
        let mut rng = crate::rng::Rng::new(11);
        // Rows shorter than the head, as long, longer; coincident centres; a NaN centre.
        for k in [1, 2, 15, 16, 17, 40, 100] {
            let mut centers: Vec<[f64; 2]> = (0..k).map(|_| [rng.uniform() * 4.0, rng.uniform() * 4.0]).collect();
            if k > 2 {
                centers[1] = centers[0];
            }
            let moved: Vec<f64> = (0..k).map(|_| rng.uniform()).collect();
            let mut with_nan = centers.clone();
            with_nan[k / 2] = [f64::NAN, 1.0];
            for centers in [&centers, &with_nan] {
                let n = Neighbours::new(centers, &moved);
                for a in 0..k {
                    for radius in [0.0, 1e-9, 0.3, 1.0, 2.5, 10.0, f64::INFINITY, f64::NAN] {
                        for b in [NONE, ((a + 1) % k) as u32, n.row(a)[k.min(3) - 1].1] {
                            let expected = walked_one_by_one(&n, &moved, a, b, radius);
                            assert_eq!(n.moved_within(a, b, radius), expected, "k {k}, a {a}, b {b}, radius {radius}");
                        }
                    }
                }
            }
        }
    }
}
