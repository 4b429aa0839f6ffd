//! Clustering: Polis's weighted k-means, base clusters, group clusters, and the choice of k.
//!
//! Polis clusters in two levels (`conversation.clj`): participants in conversation are first
//! grouped into up to 100 *base clusters* on the 2-D opinion map, and the base-cluster centres
//! (weighted by their member counts) are then clustered into 2 to 5 *groups*, with k chosen by
//! silhouette and smoothed over updates. Both levels use the same k-means (`clusters.clj`),
//! reproduced in [`kmeans()`] with its initialisation, warm start, empty-cluster dropping, tie rules
//! and stopping test.
//!
//! linfa-clustering's `KMeans` cannot stand in for it: it has no sample weights (the group level
//! weights base clusters by size), uses a modified centre update (`(sum + old) / (count + 1)`), and
//! neither Polis's initialisation (first k distinct points) nor its warm start. It serves instead
//! as a test oracle where the two must agree.
//!
//! [`group_stability`] measures, by bootstrap, whether the groups would come out the same from
//! another sample of participants (opt-in: [`StabilityParams`]).

mod crossfit;
mod groups;
mod kmeans;
mod metrics;
mod mixture;
mod stability;

pub use crossfit::{cross_fitted_votes, map_reassignments, ReassignedVote};
pub use groups::{
    discovered_clustering, fixed_group_clustering, group_clusterings, max_group_k, silhouette, GroupCount,
    GroupKSmoother, DISCOVER_MAX_K,
};
pub use kmeans::{
    kmeans, kmeans_cold, kmeans_presolved, kmeans_settling, weighted_inertia, Cluster, MultiStart, Points,
};
pub use metrics::adjusted_rand_index;
pub use mixture::{discover_groups, Discovery, FIT_SAMPLE};
pub use stability::{
    group_stability, GroupJaccard, GroupStability, KStability, Reclustering, StabilityParams, DISSOLVED_JACCARD,
    STABLE_JACCARD,
};
