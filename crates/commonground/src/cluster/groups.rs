use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::kmeans::{distance, kmeans, kmeans_cold, Cluster, MultiStart, Points};
use crate::error::{Error, Result};

/// How many opinion groups an analysis makes (`Params::groups`; the CLI's `--groups`, Python's
/// `analyze(groups=...)`). In JSON: `"polis"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "GroupCountJson", into = "GroupCountJson")]
pub enum GroupCount {
    /// Polis's rule (the default): every k from 2 to [`max_group_k`], the best silhouette over
    /// base clusters, smoothed over updates ([`GroupKSmoother`]).
    #[default]
    Polis,
    /// Exactly this many groups (at least 2), whatever the silhouette says: the base clusters are
    /// clustered into k groups by the same weighted k-means, with no smoother. An extension
    /// (red-dwarf's `force_group_count`); an update whose data cannot give k groups is an error
    /// ([`fixed_group_clustering`]).
    Fixed(usize),
    /// Groups discovered from the votes themselves, down to about 5% of the participants: a
    /// Bernoulli mixture fitted by EM, k from 2 to `max(max_k, 8)` chosen by BIC
    /// ([`super::discover_groups`]); each group's participants are then split into base clusters
    /// on the map. An extension; no smoother, and group ids are renumbered at every update
    /// (largest group first).
    Discover,
}

/// The most groups discovery tries when `max_k` is lower.
pub const DISCOVER_MAX_K: usize = 8;

/// `GroupCount` as JSON carries it: a number or a name.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum GroupCountJson {
    Number(usize),
    Name(String),
}

impl TryFrom<GroupCountJson> for GroupCount {
    type Error = String;
    fn try_from(value: GroupCountJson) -> std::result::Result<GroupCount, String> {
        match value {
            GroupCountJson::Number(k) => Ok(GroupCount::Fixed(k)),
            GroupCountJson::Name(name) => name.parse(),
        }
    }
}

impl From<GroupCount> for GroupCountJson {
    fn from(value: GroupCount) -> GroupCountJson {
        match value {
            GroupCount::Polis => GroupCountJson::Name("polis".into()),
            GroupCount::Discover => GroupCountJson::Name("discover".into()),
            GroupCount::Fixed(k) => GroupCountJson::Number(k),
        }
    }
}

impl FromStr for GroupCount {
    type Err = String;
    /// `"polis"`, `"discover"`, or a number of groups (`"4"`).
    fn from_str(text: &str) -> std::result::Result<GroupCount, String> {
        match text.trim() {
            "polis" => Ok(GroupCount::Polis),
            "discover" => Ok(GroupCount::Discover),
            other => other.parse::<usize>().map(GroupCount::Fixed).map_err(|_| {
                format!("{other:?} is not a number of groups: give \"polis\" (Polis's rule), \"discover\" or a number such as 4")
            }),
        }
    }
}

impl fmt::Display for GroupCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupCount::Polis => write!(f, "polis"),
            GroupCount::Discover => write!(f, "discover"),
            GroupCount::Fixed(k) => write!(f, "{k}"),
        }
    }
}

impl GroupCount {
    /// Checks the value alone (whether the data allow it is known only after the base clusters:
    /// [`fixed_group_clustering`]). `base_k` is the number of base clusters asked for.
    pub fn check(&self, base_k: usize) -> Result<()> {
        let bad = |message: String| Err(Error::InvalidParameter { name: "groups".into(), message });
        match *self {
            GroupCount::Fixed(k) if k < 2 => bad(format!("{k} groups: give at least 2, or \"polis\"")),
            GroupCount::Fixed(k) if k > base_k => {
                bad(format!("{k} groups need at least {k} base clusters, and base_k is {base_k}"))
            }
            _ => Ok(()),
        }
    }
}

/// Clusters the base clusters into exactly `k` groups, warm-started from the previous update's
/// clustering into k when there is one (else the `cold` start), and scores it by silhouette: the
/// one entry of the map [`group_clusterings`] would return, for [`GroupCount::Fixed`].
///
/// Polis's k-means drops a cluster that empties; if that leaves fewer than k groups, k-means is
/// rerun from eight weighted k-means++ starts (seeded by `cold.seed`). The data cannot give k
/// groups when there are fewer than k base clusters at distinct places on the map (too few
/// participants in conversation, or participants who all voted alike): that, or k-means still
/// ending with fewer groups, is an [`Error::InvalidParameter`] named `groups` that says which.
pub fn fixed_group_clustering(
    base: &[Cluster],
    k: usize,
    previous: &BTreeMap<usize, Vec<Cluster>>,
    iters: usize,
    cold: MultiStart,
) -> Result<BTreeMap<usize, (Vec<Cluster>, f64)>> {
    let bad = |message: String| Err(Error::InvalidParameter { name: "groups".into(), message });
    let names: Vec<usize> = base.iter().map(|c| c.id as usize).collect();
    let centers: Vec<[f64; 2]> = base.iter().map(|c| c.center).collect();
    let participants: usize = base.iter().map(|c| c.members.len()).sum();
    let distinct = centers
        .iter()
        .map(|p| [(p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits()])
        .collect::<std::collections::HashSet<_>>()
        .len();
    if distinct < k {
        return bad(format!(
            "{k} groups need at least {k} base clusters at distinct places on the opinion map; this \
             conversation has {} base clusters ({distinct} distinct) from {participants} participants in conversation",
            base.len()
        ));
    }
    let weights: Vec<f64> = base.iter().map(|c| c.members.len() as f64).collect();
    let points = Points::new(names.clone(), centers.clone(), Some(weights));
    let mut clustering = match previous.get(&k) {
        Some(prev) => kmeans(&points, k, Some(prev), iters),
        None => kmeans_cold(&points, k, cold, iters),
    };
    if clustering.len() < k {
        clustering = kmeans_cold(&points, k, MultiStart { starts: 8, seed: cold.seed }, iters);
    }
    if clustering.len() < k {
        return bad(format!(
            "k-means over the {} base clusters left only {} non-empty groups of the {k} asked for",
            base.len(),
            clustering.len()
        ));
    }
    let s = silhouette(&names, &centers, &clustering);
    Ok(BTreeMap::from([(k, (clustering, s))]))
}

/// The largest number of groups Polis tries: `min(max_k, 2 + floor(base_clusters / 12))`
/// (`max-k-fn`, `conversation.clj`).
pub fn max_group_k(n_base_clusters: usize, max_k: usize) -> usize {
    max_k.min(2 + n_base_clusters / 12)
}

/// Polis's silhouette of a group clustering (`clusters.clj` `silhouette`), over base-cluster
/// centres and **unweighted**: for each base cluster, `(b - a) / max(a, b)` with `a` its mean
/// distance to the other members of its group and `b` the smallest mean distance to another group;
/// a base cluster alone in its group scores 0; the clustering scores the mean.
///
/// `centers[i]` is the centre of the base cluster named `names[i]`; group members are names.
/// O(base clusters²), at most 100² here. Where Polis would divide 0 by 0 (coincident centres) or
/// find no other group, the member scores 0 instead of NaN or a crash.
pub fn silhouette(names: &[usize], centers: &[[f64; 2]], groups: &[Cluster]) -> f64 {
    let row_of: std::collections::HashMap<usize, usize> = names.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let n = names.len();
    // The distance matrix over base clusters (Polis's `bucket-dists`), computed once.
    let dist: Vec<f64> = (0..n * n).map(|k| distance(centers[k / n], centers[k % n])).collect();
    let rows_of: Vec<Vec<usize>> =
        groups.iter().map(|g| g.members.iter().filter_map(|m| row_of.get(m).copied()).collect()).collect();
    // Scores are averaged in base-cluster order, as Polis averages over the distance matrix's rows.
    let mut scores: Vec<(usize, f64)> = Vec::new();
    for (gi, rows) in rows_of.iter().enumerate() {
        for &row in rows {
            let mut a = None;
            let mut b: Option<f64> = None;
            let mut singleton = false;
            for (hi, others) in rows_of.iter().enumerate() {
                let own = hi == gi;
                let (sum, count) = others
                    .iter()
                    .filter(|&&o| o != row)
                    .fold((0.0, 0usize), |(s, c), &o| (s + dist[row * n + o], c + 1));
                if own && count == 0 {
                    singleton = true;
                    break;
                }
                if count == 0 {
                    continue;
                }
                let mean = sum * (1.0 / count as f64);
                if own {
                    a = Some(mean);
                } else {
                    b = Some(b.map_or(mean, |b| b.min(mean)));
                }
            }
            let s = match (singleton, a, b) {
                (true, _, _) => 0.0,
                (false, Some(a), Some(b)) if a.max(b) > 0.0 => (b - a) / a.max(b),
                _ => 0.0,
            };
            scores.push((row, s));
        }
    }
    scores.sort_by_key(|&(row, _)| row);
    if scores.is_empty() {
        0.0
    } else {
        scores.iter().map(|&(_, s)| s).sum::<f64>() * (1.0 / scores.len() as f64)
    }
}

/// Clusters base clusters into groups for every k from 2 to [`max_group_k`], each warm-started from
/// the previous update's clustering for the same k, and scores each by silhouette.
///
/// `iters` is the k-means budget: Polis passes `:cluster-iters` but `kmeans` reads `:max-iters`, so
/// its group clustering runs the default 20 (Q3), which `Params::default()` reproduces.
///
/// A k with no previous clustering starts cold, seeded per `cold` (see [`kmeans_cold`]);
/// [`MultiStart::POLIS`] is Polis's first-k-distinct-centres start.
pub fn group_clusterings(
    base: &[Cluster],
    max_k: usize,
    previous: &BTreeMap<usize, Vec<Cluster>>,
    iters: usize,
    cold: MultiStart,
) -> BTreeMap<usize, (Vec<Cluster>, f64)> {
    let names: Vec<usize> = base.iter().map(|c| c.id as usize).collect();
    let centers: Vec<[f64; 2]> = base.iter().map(|c| c.center).collect();
    let weights: Vec<f64> = base.iter().map(|c| c.members.len() as f64).collect();
    let points = Points::new(names.clone(), centers.clone(), Some(weights));
    (2..=max_group_k(base.len(), max_k))
        .map(|k| {
            let clustering = match previous.get(&k) {
                Some(prev) => kmeans(&points, k, Some(prev), iters),
                None => kmeans_cold(&points, k, cold, iters),
            };
            let s = silhouette(&names, &centers, &clustering);
            (k, (clustering, s))
        })
        .collect()
}

/// Base clusters and groups from discovered groups: `group_of[i]` is the group (0-based) of
/// `points` row i (participant rows, in row order). Each group's participants are split into base
/// clusters on the map by Polis's k-means (cold start), `base_k` in all shared by group size (at
/// least one each), so that every base cluster lies inside one group and the outputs that read
/// base clusters (votes-base, the Polis math JSON) stay whole. Base-cluster ids are numbered
/// across groups in group order; group g has id g.
pub fn discovered_clustering(
    points: &Points,
    group_of: &[usize],
    base_k: usize,
    base_iters: usize,
) -> (Vec<Cluster>, Vec<Cluster>) {
    let n_groups = group_of.iter().copied().max().map_or(0, |g| g + 1);
    let n = points.len().max(1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n_groups];
    group_of.iter().enumerate().for_each(|(i, &g)| rows[g].push(i));
    // The groups' k-means are independent: run in parallel, numbered in group order after.
    let per_group: Vec<(usize, Vec<Cluster>)> = rows
        .par_iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(g, rows)| {
            let members = Points::new(
                rows.iter().map(|&i| points.names[i]).collect(),
                rows.iter().map(|&i| points.positions[i]).collect(),
                None,
            );
            let k = ((base_k * rows.len()) as f64 / n as f64).round().max(1.0) as usize;
            (g, kmeans(&members, k, None, base_iters))
        })
        .collect();
    let (mut base, mut groups) = (Vec::new(), Vec::new());
    for (g, clusters) in per_group {
        let first = base.len();
        for mut c in clusters {
            c.id = base.len() as u32;
            base.push(c);
        }
        let own = &base[first..];
        let weight: f64 = own.iter().map(|c| c.members.len() as f64).sum();
        let center = own.iter().fold([0.0, 0.0], |acc, c| {
            let w = c.members.len() as f64 / weight;
            [acc[0] + w * c.center[0], acc[1] + w * c.center[1]]
        });
        groups.push(Cluster { id: g as u32, members: own.iter().map(|c| c.id as usize).collect(), center });
    }
    (base, groups)
}

/// Polis's `group-k-smoother`: the number of groups changes only after the best k (by silhouette;
/// ties to the higher k) has been the same for `buffer` consecutive updates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupKSmoother {
    pub last_k: Option<usize>,
    pub last_k_count: usize,
    pub smoothed_k: Option<usize>,
}

impl GroupKSmoother {
    /// Feeds one update's silhouettes; returns the k to use. A smoothed k that is no longer
    /// available (fewer base clusters now) falls back to this update's best k (PR #2536).
    pub fn update(&mut self, silhouettes: &BTreeMap<usize, f64>, buffer: usize) -> Option<usize> {
        // `(apply max-key silhouettes keys)`: the last maximum in ascending k, so ties go up.
        let mut this_k = None;
        let mut best = f64::NEG_INFINITY;
        for (&k, &s) in silhouettes {
            if s >= best || this_k.is_none() {
                best = s;
                this_k = Some(k);
            }
        }
        let this_k = this_k?;
        let count = if self.last_k == Some(this_k) { self.last_k_count + 1 } else { 1 };
        let mut smoothed = if count >= buffer { this_k } else { self.smoothed_k.unwrap_or(this_k) };
        if !silhouettes.contains_key(&smoothed) {
            smoothed = this_k;
        }
        *self = GroupKSmoother { last_k: Some(this_k), last_k_count: count, smoothed_k: Some(smoothed) };
        Some(smoothed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_k_grows_with_base_clusters_up_to_five() {
        assert_eq!(max_group_k(11, 5), 2);
        assert_eq!(max_group_k(12, 5), 3);
        assert_eq!(max_group_k(100, 5), 5);
        assert_eq!(max_group_k(100, 8), 8);
    }

    #[test]
    fn silhouette_by_hand_on_four_points() {
        // Groups {0,1} at x=0,1 and {2,3} at x=10,11.
        let names = vec![0, 1, 2, 3];
        let centers = vec![[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]];
        let groups = vec![
            Cluster { id: 0, members: vec![0, 1], center: [0.5, 0.0] },
            Cluster { id: 1, members: vec![2, 3], center: [10.5, 0.0] },
        ];
        // Point 0: a = 1, b = mean(10, 11) = 10.5 -> 9.5/10.5; point 1: a = 1, b = 9.5 -> 8.5/9.5;
        // symmetric for 2 and 3.
        let expected = (2.0 * (9.5 / 10.5) + 2.0 * (8.5 / 9.5)) / 4.0;
        assert!((silhouette(&names, &centers, &groups) - expected).abs() < 1e-12);
    }

    #[test]
    fn a_singleton_group_member_scores_zero() {
        let names = vec![0, 1, 2];
        let centers = vec![[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]];
        let groups = vec![
            Cluster { id: 0, members: vec![0, 1], center: [0.5, 0.0] },
            Cluster { id: 1, members: vec![2], center: [10.0, 0.0] },
        ];
        let expected = ((10.0 - 1.0) / 10.0 + (9.0 - 1.0) / 9.0 + 0.0) / 3.0;
        assert!((silhouette(&names, &centers, &groups) - expected).abs() < 1e-12);
    }

    #[test]
    fn smoother_switches_k_only_after_four_agreeing_updates() {
        let mut s = GroupKSmoother::default();
        let prefer =
            |k: usize| -> BTreeMap<usize, f64> { (2..=4).map(|j| (j, if j == k { 0.9 } else { 0.1 })).collect() };
        assert_eq!(s.update(&prefer(2), 4), Some(2));
        for _ in 0..3 {
            assert_eq!(s.update(&prefer(3), 4), Some(2));
        }
        assert_eq!(s.update(&prefer(3), 4), Some(3));
    }

    #[test]
    fn silhouette_ties_go_to_the_higher_k() {
        let mut s = GroupKSmoother::default();
        let tie: BTreeMap<usize, f64> = [(2, 0.5), (3, 0.5)].into_iter().collect();
        assert_eq!(s.update(&tie, 4), Some(3));
    }

    #[test]
    fn silhouette_matches_linfa_style_definition_on_random_points() {
        // Brute force: the textbook silhouette (singletons 0) over the same points.
        let names: Vec<usize> = (0..12).collect();
        let centers: Vec<[f64; 2]> =
            (0..12).map(|i| [((i * 7) % 5) as f64, ((i * 3) % 4) as f64 + (i / 6) as f64 * 5.0]).collect();
        let groups = vec![
            Cluster { id: 0, members: (0..6).collect(), center: [0.0, 0.0] },
            Cluster { id: 1, members: (6..12).collect(), center: [0.0, 0.0] },
        ];
        let label = |i: usize| if i < 6 { 0 } else { 1 };
        let mut total = 0.0;
        for i in 0..12 {
            let mean_to = |g: usize| {
                let d: Vec<f64> =
                    (0..12).filter(|&j| j != i && label(j) == g).map(|j| distance(centers[i], centers[j])).collect();
                d.iter().sum::<f64>() / d.len() as f64
            };
            let (a, b) = (mean_to(label(i)), mean_to(1 - label(i)));
            total += (b - a) / a.max(b);
        }
        assert!((silhouette(&names, &centers, &groups) - total / 12.0).abs() < 1e-12);
    }
}
