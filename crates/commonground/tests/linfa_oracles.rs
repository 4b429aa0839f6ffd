//! linfa as an independent oracle, on the small dense cases where its estimators and ours must
//! agree: linfa-reduction's `Pca` against our sparse PCA on fully observed votes, linfa-clustering's
//! `KMeans` against Polis's k-means on well-separated unweighted blobs, and linfa's
//! `SilhouetteScore` against Polis's silhouette.
//!
//! Where linfa differs by design, the tests pin the difference down instead of hiding it (see
//! docs: dependencies, traps 4 to 6): its `Pca` divides `explained_variance` by the number of
//! components minus one, its `KMeans` moves centres to `(sum + old) / (count + 1)`, and its
//! silhouette scores a point alone in its cluster 1 where Polis (and sklearn) score it 0.

use commonground::cluster::{adjusted_rand_index, kmeans, silhouette, Cluster, Points};
use commonground::generate::{Synthetic, SyntheticParams};
use commonground::linfa::{SparsePca, WeightedKMeans};
use commonground::pca::{participant_projections, Pca, PcaParams};
use commonground::rng::Rng;
use commonground::{analyze, Params, VoteMatrix};
use linfa::prelude::{Fit, Predict, SilhouetteScore};
use linfa::DatasetBase;
use linfa_clustering::KMeans;
use ndarray::{Array1, Array2, Axis};

/// A fully observed vote matrix (participants x statements, values -1, 0, 1): three camps of
/// different sizes, each agreeing with its own statements with probability 0.85 (else a pass
/// or a disagreement), so that the top eigenvalues are well apart and the components unique.
fn camp_votes(participants: usize, statements: usize, seed: u64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    let camp_of = |p: usize| {
        if p * 2 < participants {
            0
        } else if p * 5 < participants * 4 {
            1
        } else {
            2
        }
    };
    Array2::from_shape_fn((participants, statements), |(p, s)| {
        let lean = if s % 3 == camp_of(p) { 0.85 } else { 0.2 };
        let u = rng.uniform();
        if u < lean {
            1.0
        } else if u < lean + 0.1 {
            0.0
        } else {
            -1.0
        }
    })
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The largest difference between `ours` and `theirs`, after flipping `theirs` to our sign.
fn max_diff_up_to_sign(ours: &[f64], theirs: &[f64]) -> f64 {
    let sign = if dot(ours, theirs) < 0.0 { -1.0 } else { 1.0 };
    ours.iter().zip(theirs).map(|(a, b)| (a - sign * b).abs()).fold(0.0, f64::max)
}

#[test]
fn sparse_pca_finds_linfa_reductions_components_up_to_sign_on_fully_observed_votes() {
    for (participants, statements, seed) in [(30, 8, 1), (40, 10, 2), (25, 6, 3), (60, 12, 4), (50, 9, 5)] {
        let votes = camp_votes(participants, statements, seed);
        let matrix = VoteMatrix::from_dense(votes.view(), 0..participants as i64, 0..statements as i64).unwrap();
        let out = vec![false; statements];
        let ours = Pca::fit(&matrix, &out, None, &PcaParams::default());
        let theirs = linfa_reduction::Pca::params(2).fit(&DatasetBase::from(votes.clone())).unwrap();
        let case = format!("{participants} x {statements}, seed {seed}");

        for (j, (a, b)) in ours.center.iter().zip(theirs.mean()).enumerate() {
            assert!((a - b).abs() < 1e-12, "{case}: statement {j} mean {a} vs {b}");
        }
        let centred = &votes - theirs.mean();
        for c in 0..2 {
            let theirs_c = theirs.components().row(c).to_vec();
            let diff = max_diff_up_to_sign(&ours.comps[c], &theirs_c);
            assert!(diff < 1e-8, "{case}: component {c} differs by {diff}");
            // Their singular value is the norm of the centred votes along our component.
            let along = centred.dot(&Array1::from(ours.comps[c].clone()));
            let sigma = theirs.singular_values()[c];
            assert!((along.dot(&along).sqrt() - sigma).abs() < 1e-8 * sigma, "{case}: singular value {c}");
            // Trap 5: explained variance divides by (number of components - 1), here 1, not by
            // (participants - 1) as sklearn's does.
            assert!((theirs.explained_variance()[c] - sigma * sigma).abs() < 1e-9 * sigma * sigma);
        }
        // With every vote cast, Polis's sparsity-aware scaling is 1: the projections are theirs.
        let projections = participant_projections(&matrix, &out, &ours);
        let their_projections: Array2<f64> = theirs.predict(&votes);
        for c in 0..2 {
            let column: Vec<f64> = projections.iter().map(|p| p[c]).collect();
            let diff = max_diff_up_to_sign(&column, &their_projections.column(c).to_vec());
            assert!(diff < 1e-8, "{case}: projection {c} differs by {diff}");
        }
        // Through linfa's own traits, our PCA is the same fit.
        let through_linfa = SparsePca::params().fit(&DatasetBase::from(votes.clone())).unwrap();
        assert_eq!(through_linfa.pca(), &ours, "{case}");
    }
}

/// `per_blob` points around each of three far-apart centres, interleaved (point i is in blob
/// i mod 3), so that Polis's start (the first k distinct points) has one point in each blob.
fn blobs(per_blob: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let centres = [[0.0, 0.0], [10.0, 0.0], [5.0, 9.0]];
    let mut rng = Rng::new(seed);
    let n = 3 * per_blob;
    let records = Array2::from_shape_fn((n, 2), |(i, axis)| centres[i % 3][axis] + 2.0 * rng.uniform() - 1.0);
    (records, (0..n).map(|i| i % 3).collect())
}

#[test]
fn polis_kmeans_finds_the_same_partition_as_linfa_clustering_on_separated_blobs() {
    for seed in 1..=5 {
        let (records, truth) = blobs(20, seed);
        let dataset = DatasetBase::from(records.clone());
        let ours = WeightedKMeans::params(3).fit(&dataset).unwrap();
        let theirs = KMeans::params(3).fit(&dataset).unwrap();
        let their_labels: Array1<usize> = theirs.predict(&records);
        let our_labels = ours.memberships().to_vec();
        assert_eq!(adjusted_rand_index(&our_labels, &their_labels.to_vec()), 1.0, "seed {seed}");
        assert_eq!(adjusted_rand_index(&our_labels, &truth), 1.0, "seed {seed}");
        let predicted: Array1<usize> = ours.predict(&records);
        assert_eq!(predicted.to_vec(), our_labels, "seed {seed}");
        // Our centres are the means of their members; linfa's update `(sum + old) / (count + 1)`
        // (trap 4) takes another path to the same fixed point, so its centres are the means only
        // to its tolerance.
        for (label, cluster) in ours.clusters().iter().enumerate() {
            let mean = records.select(Axis(0), &cluster.members).mean_axis(Axis(0)).unwrap();
            let their_centre = theirs.centroids().row(their_labels[cluster.members[0]]).to_owned();
            for axis in 0..2 {
                assert!((mean[axis] - ours.centroids()[[label, axis]]).abs() < 1e-12, "seed {seed}: our centre");
                assert!((mean[axis] - their_centre[axis]).abs() < 1e-3, "seed {seed}: linfa's centre");
            }
        }
    }
}

/// Polis's silhouette of a labelling of `records`, through the crate's API: every point its own
/// name, one cluster per label.
fn our_silhouette(records: &Array2<f64>, labels: &[usize]) -> f64 {
    let centers: Vec<[f64; 2]> = records.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    let n_labels = labels.iter().max().map_or(0, |&m| m + 1);
    let clusters: Vec<Cluster> = (0..n_labels)
        .map(|l| Cluster {
            id: l as u32,
            members: (0..labels.len()).filter(|&i| labels[i] == l).collect(),
            center: [0.0, 0.0],
        })
        .collect();
    silhouette(&(0..labels.len()).collect::<Vec<_>>(), &centers, &clusters)
}

fn linfa_silhouette(records: &Array2<f64>, labels: &[usize]) -> f64 {
    DatasetBase::new(records.clone(), Array1::from(labels.to_vec())).silhouette_score().unwrap()
}

#[test]
fn polis_silhouette_equals_linfas_on_good_and_bad_clusterings() {
    for seed in 1..=4 {
        let (records, truth) = blobs(10, seed);
        // The k-means result, and two poor labellings: by position in the data, and at random.
        let points = Points::new((0..30).collect(), records.rows().into_iter().map(|r| [r[0], r[1]]).collect(), None);
        let mut found = vec![0; 30];
        for (label, c) in kmeans(&points, 3, None, 20).iter().enumerate() {
            c.members.iter().for_each(|&m| found[m] = label);
        }
        let halves: Vec<usize> = (0..30).map(|i| usize::from(i >= 15)).collect();
        let mut rng = Rng::new(seed + 100);
        let random: Vec<usize> = (0..30).map(|i| if i < 4 { i % 4 } else { rng.below(4) as usize }).collect();
        for (name, labels) in [("truth", &truth), ("k-means", &found), ("halves", &halves), ("random", &random)] {
            let (ours, theirs) = (our_silhouette(&records, labels), linfa_silhouette(&records, labels));
            assert!((ours - theirs).abs() < 1e-9, "seed {seed}, {name}: {ours} vs {theirs}");
        }
        assert!(our_silhouette(&records, &truth) > 0.7 && our_silhouette(&records, &halves) < 0.3);
    }
}

#[test]
fn a_point_alone_in_its_cluster_scores_zero_for_polis_and_one_for_linfa() {
    let (records, mut labels) = blobs(6, 9);
    labels[0] = 3; // point 0 alone in a fourth cluster
    let (ours, theirs) = (our_silhouette(&records, &labels), linfa_silhouette(&records, &labels));
    assert!((theirs - ours - 1.0 / 18.0).abs() < 1e-9, "ours {ours}, linfa {theirs}");
}

#[test]
fn an_analysis_k_silhouette_is_linfas_score_of_its_base_cluster_centres_by_group() {
    let synthetic = Synthetic::new(SyntheticParams {
        participants: 400,
        statements: 40,
        votes: 9_000,
        groups: 3,
        seed: 11,
        ..SyntheticParams::default()
    })
    .unwrap();
    let analysis = analyze(&synthetic.votes(), &synthetic.statements(), &Params::default()).unwrap();
    let k = analysis.k_selection.k.expect("the synthetic conversation has groups");
    let centres =
        Array2::from_shape_fn((analysis.base_clusters.len(), 2), |(b, axis)| analysis.base_clusters[b].center[axis]);
    let group_of_base = |id: u32| analysis.groups.iter().position(|g| g.base_clusters.contains(&id)).unwrap();
    let labels: Vec<usize> = analysis.base_clusters.iter().map(|b| group_of_base(b.id)).collect();
    assert_eq!(labels.iter().max().map(|m| m + 1), Some(k));
    // Groups of one base cluster score 0 for Polis and 1 for linfa (see above).
    let alone = (0..k).filter(|&g| labels.iter().filter(|&&l| l == g).count() == 1).count();
    let theirs = linfa_silhouette(&centres, &labels) - alone as f64 / labels.len() as f64;
    let ours = analysis.k_selection.silhouettes[&k];
    assert!((ours - theirs).abs() < 1e-9, "k = {k}: analysis {ours}, linfa {theirs}");
}
