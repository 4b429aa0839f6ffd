//! Group clustering parity with the Polis math worker on its own golden outputs
//! (`shared/data/polis-math/*/math-pca2.json`): the default cold start, Polis's, clusters Polis's
//! base clusters into exactly Polis's groups, and the opt-in multi-start cold start never ends
//! worse than Polis's groups.
//!
//! Without the shared data the tests report themselves skipped, and fail under `CI=true`
//! (`common::shared_data`).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use commonground::cluster::{group_clusterings, Cluster, MultiStart};
use commonground::io::PolisState;
use commonground::Params;

const FIXTURES: [&str; 4] = ["25ptpt-3gp-no-strict-with-meta", "above-100-ptpts", "below-100-ptpts", "vw"];

fn fixtures() -> Option<Vec<(&'static str, PolisState)>> {
    let root = common::shared_data()?.join("polis-math");
    let all = FIXTURES
        .iter()
        .map(|name| {
            let file = root.join(name).join("math-pca2.json");
            let text = std::fs::read_to_string(&file).unwrap();
            (*name, PolisState::from_json(&text, &file).unwrap())
        })
        .collect();
    Some(all)
}

/// Polis's base clusters as our clusters; only member counts matter to the group level.
fn base_clusters(state: &PolisState) -> Vec<Cluster> {
    let mut next = 0usize;
    state
        .base_clusters
        .iter()
        .map(|(id, members, center)| {
            let rows: Vec<usize> = (next..next + members.len()).collect();
            next += members.len();
            Cluster { id: *id, members: rows, center: *center }
        })
        .collect()
}

fn partition(groups: impl IntoIterator<Item = Vec<usize>>) -> BTreeSet<BTreeSet<usize>> {
    groups.into_iter().map(|m| m.into_iter().collect()).collect()
}

fn polis_partition(state: &PolisState) -> BTreeSet<BTreeSet<usize>> {
    partition(state.group_clusters.iter().map(|(_, members, _)| members.iter().map(|&b| b as usize).collect()))
}

/// Weighted inertia of a partition of the base clusters, centres recomputed as weighted means.
fn inertia_of(base: &[Cluster], groups: &[Vec<usize>]) -> f64 {
    let by_id: BTreeMap<usize, &Cluster> = base.iter().map(|c| (c.id as usize, c)).collect();
    let mut total = 0.0;
    for g in groups {
        let w: f64 = g.iter().map(|b| by_id[b].members.len() as f64).sum();
        let cx = g.iter().map(|b| by_id[b].center[0] * by_id[b].members.len() as f64).sum::<f64>() / w;
        let cy = g.iter().map(|b| by_id[b].center[1] * by_id[b].members.len() as f64).sum::<f64>() / w;
        total += g
            .iter()
            .map(|b| {
                by_id[b].members.len() as f64 * ((by_id[b].center[0] - cx).powi(2) + (by_id[b].center[1] - cy).powi(2))
            })
            .sum::<f64>();
    }
    total
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn default_cold_start_clusters_polis_base_clusters_into_polis_groups() {
    // After a restart Polis's worker clusters the groups cold from its base clusters (the state
    // its blobs hold). With the default parameters, every k from 2 to 5 clustered cold and the
    // best silhouette taken (ties to the higher k), Polis's own base clusters give Polis's groups
    // and k exactly, on every fixture.
    let Some(fixtures) = fixtures() else { return };
    let params = Params::default();
    let cold = MultiStart { starts: params.group_cold_starts, seed: params.seed };
    for (name, state) in fixtures {
        let base = base_clusters(&state);
        let clusterings = group_clusterings(&base, params.max_k, &BTreeMap::new(), params.group_iters, cold);
        let best =
            clusterings.iter().fold((0, f64::NEG_INFINITY), |b, (&k, (_, s))| if *s >= b.1 { (k, *s) } else { b }).0;
        let ours = partition(clusterings[&best].0.iter().map(|g| g.members.clone()));
        assert_eq!(best, state.group_clusters.len(), "{name}: number of groups");
        assert_eq!(ours, polis_partition(&state), "{name}: groups of base clusters");
    }
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs the shared reference data in ../shared/data (README, Data)")]
fn multi_start_never_ends_worse_than_polis_groups_and_is_deterministic() {
    // The multi-start keeps the least weighted inertia over Polis's start and k-means++ starts, so
    // it never ends worse than Polis's own cold start, and here never worse than Polis's groups.
    // It is often *better* than Polis's groups, which is why the default stays Polis's single
    // start: at Polis's k, 10 starts (seed 0) find inertia 53.17 where Polis's groups have 53.57
    // (25ptpt-3gp-no-strict-with-meta), 43.87 vs 63.16 (below-100-ptpts), and, with seed 42,
    // 391.47 vs 394.96 (above-100-ptpts); only vw's groups are the least-inertia partition found.
    let Some(fixtures) = fixtures() else { return };
    for (name, state) in fixtures {
        let base = base_clusters(&state);
        let k = state.group_clusters.len();
        let polis_groups: Vec<Vec<usize>> =
            state.group_clusters.iter().map(|(_, m, _)| m.iter().map(|&b| b as usize).collect()).collect();
        let polis = inertia_of(&base, &polis_groups);
        for starts in [2, 10, 50] {
            for seed in [0, 1, 42] {
                let cold = MultiStart { starts, seed };
                let ours = group_clusterings(&base, 5, &BTreeMap::new(), 20, cold);
                let again = group_clusterings(&base, 5, &BTreeMap::new(), 20, cold);
                assert_eq!(ours, again, "{name}: not deterministic");
                let groups: Vec<Vec<usize>> = ours[&k].0.iter().map(|g| g.members.clone()).collect();
                let e = inertia_of(&base, &groups);
                assert!(e <= polis * (1.0 + 1e-9), "{name}, {starts} starts, seed {seed}: {e} > Polis {polis}");
                let same = partition(groups.clone()) == polis_partition(&state);
                println!("{name}, {starts} starts, seed {seed}: inertia {e:.4} (Polis {polis:.4}), same groups as Polis: {same}");
            }
        }
    }
}
