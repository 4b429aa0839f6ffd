use std::collections::HashMap;

/// The adjusted Rand index of two labelings of the same items (Hubert & Arabie 1985): 1 for
/// identical partitions (up to renaming), about 0 for independent ones. `a[i]` and `b[i]` label
/// item i. Two single-cluster (or all-singleton) labelings that agree score 1.
pub fn adjusted_rand_index<A: Eq + std::hash::Hash, B: Eq + std::hash::Hash>(a: &[A], b: &[B]) -> f64 {
    assert_eq!(a.len(), b.len(), "labelings of different lengths");
    let pairs = |n: u64| (n * n.saturating_sub(1)) as f64 / 2.0;
    let mut joint: HashMap<(&A, &B), u64> = HashMap::new();
    let mut rows: HashMap<&A, u64> = HashMap::new();
    let mut cols: HashMap<&B, u64> = HashMap::new();
    for (x, y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = joint.values().map(|&n| pairs(n)).sum();
    let sa: f64 = rows.values().map(|&n| pairs(n)).sum();
    let sb: f64 = cols.values().map(|&n| pairs(n)).sum();
    let total = pairs(a.len() as u64);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sa * sb / total;
    let max = (sa + sb) / 2.0;
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_partitions_up_to_renaming_score_one() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1, 2], &[5, 5, 3, 3, 9]), 1.0);
    }

    #[test]
    fn hand_computed_case() {
        // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: joint pairs = C(2,2)+C(1,2)+C(1,2)+C(2,2) = 2;
        // sa = 3+3 = 6, sb = 1+1+1 = 3, total = 15; expected = 18/15 = 1.2; max = 4.5.
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((ari - (2.0 - 1.2) / (4.5 - 1.2)).abs() < 1e-12);
    }

    #[test]
    fn opposite_structure_scores_below_zero() {
        assert!(adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) < 0.0);
    }
}
