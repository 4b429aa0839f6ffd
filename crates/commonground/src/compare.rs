//! How close two analyses of the same votes are: the measure of the fast profile
//! ([`crate::Profile::Fast`]) against Polis's exact one, reported in BENCHMARKS.md and held to
//! floors by `tests/fast_profile.rs`.

use std::collections::{BTreeSet, HashMap};

use crate::analysis::Analysis;
use crate::cluster::adjusted_rand_index;
use crate::votes::Id;

/// The agreement of an analysis with a reference analysis of the same votes (1 is identical).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisAgreement {
    /// Adjusted Rand index of the opinion groups over the participants clustered in both
    /// (unclustered participants are left out).
    pub group_ari: f64,
    /// Mean over the reference's groups of the Jaccard index between its representative
    /// statements and those of the group that shares most of its members in the other analysis
    /// (0 for a reference group that shares no member).
    pub repness_jaccard: f64,
    /// Smallest absolute cosine between the two analyses' principal components of the same rank.
    pub component_cosine: f64,
    /// Largest difference between the two analyses' matrix-factorization intercepts of the same
    /// statement (0 when neither fitted the factorization).
    pub mf_intercept_gap: f64,
    /// Matrix-factorization sweeps of the reference and of the other analysis (0 when it did not run).
    pub mf_sweeps: (usize, usize),
    /// Number of groups in the reference and in the other analysis.
    pub groups: (usize, usize),
}

/// The agreement of `other` with `reference`. Both must analyse the same votes (the same
/// participants in the same order); participants are matched by position.
pub fn analysis_agreement(reference: &Analysis, other: &Analysis) -> AnalysisAgreement {
    let both: Vec<(u32, u32)> = reference
        .participants
        .iter()
        .zip(&other.participants)
        .filter_map(|(a, b)| Some((a.group?, b.group?)))
        .collect();
    let (left, right): (Vec<u32>, Vec<u32>) = both.iter().copied().unzip();
    let group_ari = if left.is_empty() { 0.0 } else { adjusted_rand_index(&left, &right) };

    // Members shared by each (reference group, other group) pair.
    let mut shared: HashMap<(u32, u32), usize> = HashMap::new();
    for &pair in &both {
        *shared.entry(pair).or_default() += 1;
    }
    let repness_of = |a: &Analysis, id: u32| -> BTreeSet<Id> {
        a.groups
            .iter()
            .position(|g| g.id == id)
            .and_then(|i| a.repness.get(i))
            .map(|r| r.iter().map(|e| e.statement.clone()).collect())
            .unwrap_or_default()
    };
    let jaccards: Vec<f64> = reference
        .groups
        .iter()
        .map(|g| {
            // The other group sharing most members; ties go to the smaller id (deterministic).
            let best = other
                .groups
                .iter()
                .map(|h| (shared.get(&(g.id, h.id)).copied().unwrap_or(0), std::cmp::Reverse(h.id)))
                .filter(|&(n, _)| n > 0)
                .max()
                .map(|(_, std::cmp::Reverse(id))| id);
            let Some(best) = best else { return 0.0 };
            let (a, b) = (repness_of(reference, g.id), repness_of(other, best));
            let union = a.union(&b).count();
            if union == 0 {
                1.0
            } else {
                a.intersection(&b).count() as f64 / union as f64
            }
        })
        .collect();
    let repness_jaccard = if jaccards.is_empty() { 1.0 } else { jaccards.iter().sum::<f64>() / jaccards.len() as f64 };

    let cosine = |a: &[f64], b: &[f64]| {
        let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let n = norm(a) * norm(b);
        if n == 0.0 {
            // Two missing components agree; a missing one against a present one does not.
            f64::from(u8::from(norm(a) == norm(b)))
        } else {
            (dot / n).abs()
        }
    };
    let component_cosine = (0..reference.pca.n_comps.max(other.pca.n_comps))
        .map(|c| cosine(&reference.pca.comps[c], &other.pca.comps[c]))
        .fold(1.0, f64::min);
    let intercepts = |a: &Analysis| -> HashMap<Id, f64> {
        a.bridging
            .iter()
            .flat_map(|b| &b.statements)
            .filter_map(|s| Some((s.statement.clone(), s.mf_intercept?)))
            .collect()
    };
    let theirs = intercepts(other);
    let mf_intercept_gap = intercepts(reference)
        .iter()
        .map(|(id, x)| theirs.get(id).map_or(f64::INFINITY, |y| (x - y).abs()))
        .fold(0.0, f64::max);
    let sweeps = |a: &Analysis| a.bridging.as_ref().and_then(|b| b.mf.as_ref()).map_or(0, |m| m.sweeps);
    AnalysisAgreement {
        group_ari,
        repness_jaccard,
        component_cosine,
        mf_intercept_gap,
        mf_sweeps: (sweeps(reference), sweeps(other)),
        groups: (reference.groups.len(), other.groups.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, Params, Vote, VoteEvent};

    fn two_camps() -> Analysis {
        // Two camps of 20 that vote opposite on 8 statements, and agree on 2.
        let mut votes = Vec::new();
        for p in 0..40u32 {
            for s in 0..10u32 {
                let side = if p < 20 { 1 } else { -1 };
                let v = if s < 8 { side } else { 1 };
                let vote = if v == 1 { Vote::Agree } else { Vote::Disagree };
                votes.push(VoteEvent::new(p, s, vote));
            }
        }
        analyze(&votes, &[], &Params::default()).expect("two camps analyse")
    }

    #[test]
    fn an_analysis_agrees_with_itself_fully() {
        let a = two_camps();
        let agreement = analysis_agreement(&a, &a);
        assert_eq!((agreement.group_ari, agreement.repness_jaccard), (1.0, 1.0));
        assert!((agreement.component_cosine - 1.0).abs() < 1e-12);
        assert_eq!(agreement.mf_intercept_gap, 0.0);
        assert_eq!(agreement.groups, (a.groups.len(), a.groups.len()));
    }

    #[test]
    fn relabelled_groups_flipped_components_and_other_repness_are_measured() {
        let a = two_camps();
        let mut b = a.clone();
        // Swap the two group ids everywhere: the same partition, so ARI and Jaccard stay 1.
        let (g0, g1) = (a.groups[0].id, a.groups[1].id);
        let swap = |g: u32| if g == g0 { g1 } else { g0 };
        for p in &mut b.participants {
            p.group = p.group.map(swap);
        }
        for g in &mut b.groups {
            g.id = swap(g.id);
        }
        b.repness.swap(0, 1);
        b.groups.swap(0, 1);
        // A component's sign carries no meaning.
        b.pca.comps[0].iter_mut().for_each(|x| *x = -*x);
        let same = analysis_agreement(&a, &b);
        assert_eq!((same.group_ari, same.repness_jaccard), (1.0, 1.0));
        assert!((same.component_cosine - 1.0).abs() < 1e-12);
        // One group's representative statements emptied: its Jaccard is 0, the mean halves.
        let mut c = a.clone();
        c.repness[0].clear();
        let half = analysis_agreement(&a, &c);
        assert!(!a.repness[0].is_empty() && (half.repness_jaccard - 0.5).abs() < 1e-12, "{half:?}");
        // Orthogonal components: cosine 0; the smaller of the two ranks counts.
        let unit = |j: usize| (0..a.pca.center.len()).map(|i| f64::from(u8::from(i == j))).collect::<Vec<f64>>();
        let (mut d, mut f) = (a.clone(), a.clone());
        d.pca.comps = [unit(0), unit(1)];
        f.pca.comps = [unit(1), unit(0)];
        assert_eq!(analysis_agreement(&d, &f).component_cosine, 0.0);
        f.pca.comps = [unit(0), unit(2)];
        assert_eq!(analysis_agreement(&d, &f).component_cosine, 0.0);
        f.pca.comps = [unit(0), unit(1)];
        assert_eq!(analysis_agreement(&d, &f).component_cosine, 1.0);
        // One intercept moved by 0.25: the gap.
        let mut e = a.clone();
        let moved = e.bridging.as_mut().and_then(|b| b.statements.iter_mut().find_map(|s| s.mf_intercept.as_mut()));
        *moved.expect("the factorization ran") += 0.25;
        assert!((analysis_agreement(&a, &e).mf_intercept_gap - 0.25).abs() < 1e-12);
    }
}
