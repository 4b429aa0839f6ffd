//! The k-means specification: Polis's rules on small cases worked by hand, and the accelerated
//! step against a brute-force `cluster-step` (every point against every centre, the last minimum
//! wins) on inputs chosen to break it: exact ties, coincident centres, far-off and tiny
//! coordinates, weights, warm starts and several threads. Bit-identical clusters are the bar.

use super::init::{clean_start, init_clusters, kmeanspp_init};
use super::step::{iterate, same_clustering};
use super::*;
use crate::clojure::{hash_long, map_order};
use crate::rng::Rng;
use std::collections::HashMap;

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
    let one_step = iterate(&p, start, 0, None);
    assert_eq!(one_step[1].members, vec![1, 2]);
}

/// Polis's `kmeans` loop from `start`, with a step that follows `cluster-step` literally: every
/// point against every centre in map order with Polis's `distance`, the last minimum wins,
/// empty clusters dropped, centres the `weighted-mean` of the members' rows.
fn brute_force_kmeans(p: &Points, start: Vec<Cluster>, max_iters: usize) -> Vec<Cluster> {
    brute_force_kmeans_settling(p, start, max_iters, None)
}

/// [`brute_force_kmeans`] that also stops, as the fast profile does, after a step that moved at
/// most `settled` points to a cluster of another id, when its clusters were the step before's.
fn brute_force_kmeans_settling(
    p: &Points,
    start: Vec<Cluster>,
    max_iters: usize,
    settled: Option<usize>,
) -> Vec<Cluster> {
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
    let id_of = |clusters: &[Cluster]| -> HashMap<usize, u32> {
        clusters.iter().flat_map(|c| c.members.iter().map(move |&m| (m, c.id))).collect()
    };
    let ids = |clusters: &[Cluster]| -> Vec<u32> {
        let mut v: Vec<u32> = clusters.iter().map(|c| c.id).collect();
        v.sort_unstable();
        v
    };
    let mut clusters = start;
    let mut iter = max_iters;
    let mut last: Option<(Vec<u32>, HashMap<usize, u32>)> = None;
    let mut out = loop {
        let next = brute_step(&clusters);
        let now = (ids(&clusters), id_of(&next));
        let moved = match &last {
            Some((last_ids, last_of)) if *last_ids == now.0 => {
                now.1.iter().filter(|(m, id)| last_of.get(*m) != Some(*id)).count()
            }
            _ => usize::MAX,
        };
        if iter == 0 || settled.is_some_and(|n| moved <= n) || same_clustering(&clusters, &next) {
            break next;
        }
        last = Some(now);
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
fn settling_when_no_point_moves_is_polis_kmeans() {
    // No point moving means the same centres again, which Polis's own test accepts.
    let p = blobs(5000, 9);
    assert_identical(&kmeans_settling(&p, 100, None, 100, Some(0)), &kmeans(&p, 100, None, 100));
}

#[test]
fn the_fast_stop_ends_where_brute_force_counting_moved_points_ends() {
    // 20,000 points, 100 clusters; a step moving at most 20 points stops the run.
    let p = blobs(20_000, 4);
    let settled = Some(20);
    let fast = kmeans_settling(&p, 100, None, 100, settled);
    assert_identical(&fast, &brute_force_kmeans_settling(&p, init_clusters(&p, 100), 100, settled));
    // A threshold every step meets stops after the second step (the first has no step before
    // it to count moves against): Polis's loop with a budget of one more step.
    assert_identical(&kmeans_settling(&p, 100, None, 100, Some(p.len())), &kmeans(&p, 100, None, 1));
}

#[test]
fn the_presolved_run_is_brute_force_over_every_eighth_point_then_over_all_from_there() {
    // 40,000 points, 100 clusters, each run stopping at 1% of its points moved; the sample is
    // rows 0, 8, 16, ... (names included), started from the first 100 distinct points of all.
    let p = blobs(40_000, 7);
    let settled = |n: usize| Some(n / 100);
    let rows: Vec<usize> = (0..p.len()).step_by(8).collect();
    let sample =
        Points::new(rows.iter().map(|&r| p.names[r]).collect(), rows.iter().map(|&r| p.positions[r]).collect(), None);
    let presolved = brute_force_kmeans_settling(&sample, init_clusters(&p, 100), 100, settled(sample.len()));
    let reference = brute_force_kmeans_settling(&p, presolved, 100, settled(p.len()));
    assert_identical(&kmeans_presolved(&p, 100, 100, 8, settled), &reference);
    // Stride 1 is the plain run twice: the second from where the first stopped.
    let once = kmeans_settling(&p, 100, None, 100, settled(p.len()));
    let twice = brute_force_kmeans_settling(&p, once, 100, settled(p.len()));
    assert_identical(&kmeans_presolved(&p, 100, 100, 1, settled), &twice);
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
            assign[i] = (0..3).min_by(|&a, &b| distance(*q, centers[a]).total_cmp(&distance(*q, centers[b]))).unwrap();
        }
        for (c, center) in centers.iter_mut().enumerate() {
            let m: Vec<&[f64; 2]> = positions.iter().zip(&assign).filter(|(_, &a)| a == c).map(|(q, _)| q).collect();
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
        let groups: Vec<Vec<usize>> =
            (0..2).map(|g| (0..n).filter(|&i| (i > 0 && (mask >> (i - 1)) & 1 == 1) as usize == g).collect()).collect();
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
