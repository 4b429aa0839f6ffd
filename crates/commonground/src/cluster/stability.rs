//! Bootstrap stability of the opinion groups: are "two camps" real, or an accident of this sample?
//!
//! The silhouette says how well separated the groups are on the map, not whether another sample of
//! the same population would give the same groups. Following Hennig (2007), "Cluster-wise
//! assessment of cluster stability", each replicate resamples the clustered participants with
//! replacement and reruns the clustering with the same parameters: base clusters (Polis's cold
//! start, `base_k`, `base_iters`), then groups for every candidate k (`group_iters`, the
//! configured cold starts). Each original group C is compared with its best match among the
//! replicate's groups by the Jaccard index over the distinct participants drawn, `|C* ∩ D| / |C* ∪ D|`
//! with `C*` = C's members that were drawn. A group whose mean Jaccard over replicates is at least
//! 0.75 is *stable*; a replicate in which its best match is 0.5 or less *dissolved* it.
//!
//! The opinion map is held fixed: participants keep their PCA positions, so this measures the
//! clustering's sensitivity to who took part, not the PCA's. Replicates run in parallel, each from
//! its own stream `Rng::fork(seed, replicate)`, and are averaged in order, so the result does not
//! depend on the number of threads. Cost: one base and one group clustering per replicate, about
//! `replicates` times the clustering stage.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::groups::{fixed_group_clustering, group_clusterings, GroupCount};
use super::kmeans::{kmeans, Cluster, MultiStart, Points};
use super::metrics::adjusted_rand_index;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Stream tag of the resampling, so that it draws differently from other users of the seed.
const RESAMPLE_STREAM: u64 = 0x7374_6162_6c65_0000; // "stable"
/// Hennig's (2007) thresholds on the Jaccard index.
pub const STABLE_JACCARD: f64 = 0.75;
pub const DISSOLVED_JACCARD: f64 = 0.5;

/// Whether and how to measure group stability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StabilityParams {
    /// Off by default: it reruns the clustering once per replicate.
    pub enabled: bool,
    /// Bootstrap replicates.
    pub replicates: usize,
}

impl Default for StabilityParams {
    fn default() -> Self {
        StabilityParams { enabled: false, replicates: 50 }
    }
}

impl StabilityParams {
    pub fn check(&self) -> Result<()> {
        if self.enabled && self.replicates < 2 {
            return Err(Error::InvalidParameter {
                name: "group_stability.replicates".into(),
                message: "must be at least 2 bootstrap replicates".into(),
            });
        }
        crate::params::at_most("group_stability.replicates", self.replicates, crate::params::limits::MAX_REPLICATES)
    }
}

/// The clustering settings a replicate reruns with (those of the analysis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reclustering {
    pub base_k: usize,
    pub base_iters: usize,
    pub max_k: usize,
    /// Polis's rule tries every k up to `max_k`; a fixed number of groups only that k.
    pub groups: GroupCount,
    pub group_iters: usize,
    pub cold: MultiStart,
}

/// Stability of the groups for every candidate number of groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStability {
    pub replicates: usize,
    /// Per candidate k (those the analysis tried).
    pub by_k: BTreeMap<usize, KStability>,
}

/// Stability of the clustering into k groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KStability {
    /// The analysis's silhouette at this k (separation on the map).
    pub silhouette: f64,
    /// Mean over groups of each group's mean Jaccard.
    pub mean_jaccard: f64,
    /// The least stable group's mean Jaccard.
    pub min_jaccard: f64,
    /// Mean adjusted Rand index between the analysis's and the replicate's groups, over the
    /// participants drawn.
    pub mean_ari: f64,
    /// Every group is stable (mean Jaccard >= 0.75).
    pub stable: bool,
    /// Per group of the analysis's clustering at this k, in id order.
    pub groups: Vec<GroupJaccard>,
}

/// One group's stability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupJaccard {
    pub id: u32,
    pub n_members: usize,
    /// Mean over replicates of the Jaccard index with the best-matching replicate group.
    pub mean_jaccard: f64,
    /// Share of replicates in which the group dissolved (best Jaccard <= 0.5).
    pub dissolved: f64,
    /// Mean Jaccard >= 0.75.
    pub stable: bool,
}

/// One replicate's result at one k: per original group, its best Jaccard (None when none of its
/// members was drawn), and the ARI.
type ReplicateScores = (Vec<Option<f64>>, f64);

/// Group label of each point of `points` under a clustering of base clusters into groups, by index
/// into `groups`; `None` for points in no group.
fn labels(points: &Points, base: &[Cluster], groups: &[Cluster]) -> Vec<Option<usize>> {
    let row: HashMap<usize, usize> = points.names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let group_of_base: HashMap<usize, usize> =
        groups.iter().enumerate().flat_map(|(g, c)| c.members.iter().map(move |&b| (b, g))).collect();
    let mut out = vec![None; points.len()];
    for c in base {
        if let Some(&g) = group_of_base.get(&(c.id as usize)) {
            for m in &c.members {
                if let Some(&i) = row.get(m) {
                    out[i] = Some(g);
                }
            }
        }
    }
    out
}

/// Compares the analysis's groups (`original[i]`: group of point i) with a replicate's groups over
/// the distinct points drawn (`drawn`, ascending, with each point's replicate group).
fn compare(original: &[Option<usize>], n_groups: usize, drawn: &[(usize, Option<usize>)]) -> ReplicateScores {
    let n_rep = drawn.iter().filter_map(|d| d.1).max().map_or(0, |g| g + 1);
    let mut joint = vec![vec![0usize; n_rep]; n_groups];
    let mut size_orig = vec![0usize; n_groups];
    let mut size_rep = vec![0usize; n_rep];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &(i, rep) in drawn {
        let orig = original[i];
        if let Some(o) = orig {
            size_orig[o] += 1;
        }
        if let Some(r) = rep {
            size_rep[r] += 1;
        }
        if let (Some(o), Some(r)) = (orig, rep) {
            joint[o][r] += 1;
            a.push(o);
            b.push(r);
        }
    }
    let jaccards = (0..n_groups)
        .map(|o| {
            (size_orig[o] > 0).then(|| {
                (0..n_rep)
                    .map(|r| joint[o][r] as f64 / (size_orig[o] + size_rep[r] - joint[o][r]) as f64)
                    .fold(0.0, f64::max)
            })
        })
        .collect();
    (jaccards, adjusted_rand_index(&a, &b))
}

/// Bootstrap stability of the groups found for every k in `clusterings` (the analysis's group
/// clusterings and silhouettes) over `points` (the clustered participants: names are participant
/// rows, as in `base`, the analysis's base clusters). `replicate_done` is called once per finished
/// replicate (for a progress report; it cannot change the result).
pub fn group_stability(
    points: &Points,
    base: &[Cluster],
    clusterings: &BTreeMap<usize, (Vec<Cluster>, f64)>,
    settings: &Reclustering,
    replicates: usize,
    seed: u64,
    replicate_done: &(dyn Fn() + Sync),
) -> GroupStability {
    let n = points.len();
    let original: BTreeMap<usize, Vec<Option<usize>>> =
        clusterings.iter().map(|(&k, (groups, _))| (k, labels(points, base, groups))).collect();
    let runs: Vec<BTreeMap<usize, ReplicateScores>> = (0..replicates)
        .into_par_iter()
        .map(|b| {
            let mut rng = Rng::fork(seed ^ RESAMPLE_STREAM, b as u64);
            let mut draws: Vec<usize> = (0..n).map(|_| rng.below(n as u64) as usize).collect();
            // Points in data order, as the analysis clusters them (Polis's start takes the first k
            // distinct points); copies of a participant sit together and always cluster together.
            draws.sort_unstable();
            let resample = Points::new((0..n).collect(), draws.iter().map(|&i| points.positions[i]).collect(), None);
            let rep_base = kmeans(&resample, settings.base_k, None, settings.base_iters);
            let rep_groups = match settings.groups {
                // Discovery is refused with stability by Params::check.
                GroupCount::Polis | GroupCount::Discover => {
                    group_clusterings(&rep_base, settings.max_k, &BTreeMap::new(), settings.group_iters, settings.cold)
                }
                // A replicate that cannot give k groups has none at k: its groups dissolved.
                GroupCount::Fixed(k) => {
                    fixed_group_clustering(&rep_base, k, &BTreeMap::new(), settings.group_iters, settings.cold)
                        .unwrap_or_default()
                }
            };
            let scores = original
                .iter()
                .map(|(&k, orig)| {
                    let n_groups = clusterings[&k].0.len();
                    let scores = match rep_groups.get(&k) {
                        Some((groups, _)) => {
                            let rep = labels(&resample, &rep_base, groups);
                            let mut drawn: Vec<(usize, Option<usize>)> =
                                draws.iter().zip(rep).map(|(&i, r)| (i, r)).collect();
                            drawn.dedup_by_key(|d| d.0);
                            compare(orig, n_groups, &drawn)
                        }
                        // Too few base clusters in this replicate for k groups: every group dissolved.
                        None => (vec![Some(0.0); n_groups], 0.0),
                    };
                    (k, scores)
                })
                .collect::<BTreeMap<usize, ReplicateScores>>();
            replicate_done();
            scores
        })
        .collect();
    let by_k = clusterings
        .iter()
        .map(|(&k, (groups, silhouette))| {
            let per_group: Vec<GroupJaccard> = groups
                .iter()
                .enumerate()
                .map(|(g, c)| {
                    let values: Vec<f64> = runs.iter().filter_map(|r| r[&k].0[g]).collect();
                    let mean = if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 };
                    let dissolved = values.iter().filter(|&&j| j <= DISSOLVED_JACCARD).count();
                    GroupJaccard {
                        id: c.id,
                        n_members: original[&k].iter().filter(|&&l| l == Some(g)).count(),
                        mean_jaccard: mean,
                        dissolved: if values.is_empty() { 1.0 } else { dissolved as f64 / values.len() as f64 },
                        stable: mean >= STABLE_JACCARD,
                    }
                })
                .collect();
            let mean_jaccard = per_group.iter().map(|g| g.mean_jaccard).sum::<f64>() / per_group.len().max(1) as f64;
            let stability = KStability {
                silhouette: *silhouette,
                mean_jaccard,
                min_jaccard: per_group.iter().map(|g| g.mean_jaccard).fold(f64::INFINITY, f64::min).min(1.0),
                mean_ari: runs.iter().map(|r| r[&k].1).sum::<f64>() / replicates.max(1) as f64,
                stable: !per_group.is_empty() && per_group.iter().all(|g| g.stable),
                groups: per_group,
            };
            (k, stability)
        })
        .collect();
    GroupStability { replicates, by_k }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points in `blobs` tight, well separated blobs of `per_blob` each, or (blobs = 0) uniform
    /// noise over the unit square.
    fn points(blobs: usize, per_blob: usize, seed: u64) -> Points {
        let mut rng = Rng::new(seed);
        let n = if blobs == 0 { per_blob } else { blobs * per_blob };
        let positions: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                if blobs == 0 {
                    [rng.uniform(), rng.uniform()]
                } else {
                    let angle = std::f64::consts::TAU * (i % blobs) as f64 / blobs as f64;
                    [5.0 * angle.cos() + 0.3 * rng.uniform(), 5.0 * angle.sin() + 0.3 * rng.uniform()]
                }
            })
            .collect();
        Points::new((0..n).collect(), positions, None)
    }

    fn analyse(points: &Points, settings: &Reclustering, replicates: usize) -> GroupStability {
        let base = kmeans(points, settings.base_k, None, settings.base_iters);
        let clusterings =
            group_clusterings(&base, settings.max_k, &BTreeMap::new(), settings.group_iters, settings.cold);
        group_stability(points, &base, &clusterings, settings, replicates, 1, &|| {})
    }

    const SETTINGS: Reclustering = Reclustering {
        base_k: 100,
        base_iters: 100,
        max_k: 8,
        groups: GroupCount::Polis,
        group_iters: 20,
        cold: MultiStart { starts: 5, seed: 0 },
    };

    #[test]
    fn well_separated_camps_are_stable_at_their_number_and_noise_is_not() {
        let s = analyse(&points(3, 200, 2), &SETTINGS, 12);
        assert_eq!(s.by_k.keys().copied().collect::<Vec<_>>(), (2..=8).collect::<Vec<_>>(), "k up to 8 tried");
        let three = &s.by_k[&3];
        assert!(three.stable && three.min_jaccard > 0.95 && three.mean_ari > 0.95, "{three:?}");
        // Splitting three real camps in two, or in four to eight, is not reproducible.
        for (k, v) in &s.by_k {
            assert_eq!(v.stable, *k == 3, "k = {k}: {v:?}");
        }

        // Uniform noise: neither two nor three groups are stable, and no k comes near the camps.
        // (Four quadrants of a square are reproducible, a known limit of stability on symmetric data.)
        let noise = analyse(&points(0, 600, 3), &SETTINGS, 12);
        assert!(!noise.by_k[&2].stable && !noise.by_k[&3].stable, "{noise:?}");
        assert!(noise.by_k.values().all(|v| v.mean_jaccard < 0.9), "{noise:?}");
    }

    #[test]
    fn jaccard_by_hand() {
        // Original groups {0,1,2} and {3,4}; drawn 0,1,3,4 with replicate groups {0,1,3} and {4}.
        let original = vec![Some(0), Some(0), Some(0), Some(1), Some(1)];
        let drawn = vec![(0, Some(0)), (1, Some(0)), (3, Some(0)), (4, Some(1))];
        let (j, _) = compare(&original, 2, &drawn);
        // C0* = {0,1}: vs {0,1,3} 2/3, vs {4} 0 -> 2/3. C1* = {3,4}: vs {0,1,3} 1/4, vs {4} 1/2 -> 1/2.
        assert_eq!(j, vec![Some(2.0 / 3.0), Some(0.5)]);
        let (j, _) = compare(&original, 2, &[(3, Some(0))]);
        assert_eq!(j[0], None, "a group none of whose members was drawn is skipped");
    }

    #[test]
    fn same_result_with_one_thread_and_four() {
        let p = points(4, 60, 5);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| analyse(&p, &SETTINGS, 6))
        };
        assert_eq!(run(1), run(4));
    }
}
