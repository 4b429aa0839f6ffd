use serde::{Deserialize, Serialize};

use super::VoteCounts;

/// One-tailed 90% significance: Polis's `z-sig-90?` is `z > 1.2816`.
pub const Z_90: f64 = 1.2816;

/// Polis's `prop-test` (`stats.clj`): `2·sqrt(n+1)·((succ+1)/(n+1) - 0.5)`, a z-score for a
/// proportion above one half, with a +1 pseudo-count.
pub fn prop_test(succ: u32, n: u32) -> f64 {
    let (s, n) = (succ as f64 + 1.0, n as f64 + 1.0);
    2.0 * n.sqrt() * (s / n - 0.5)
}

/// Polis's `two-prop-test` (`stats.clj`): a two-proportion z-test with +1 on all four counts; 0
/// when the pooled proportion is exactly 1.
pub fn two_prop_test(succ_in: u32, succ_out: u32, pop_in: u32, pop_out: u32) -> f64 {
    let (s1, s2, n1, n2) = (succ_in as f64 + 1.0, succ_out as f64 + 1.0, pop_in as f64 + 1.0, pop_out as f64 + 1.0);
    // Exact in integers up to here; Polis keeps Ratios until the square root.
    if s1 + s2 == n1 + n2 {
        return 0.0;
    }
    let p1 = s1 / n1;
    let p2 = s2 / n2;
    let pi_hat = (s1 + s2) / (n1 + n2);
    (p1 - p2) / (pi_hat * (1.0 - pi_hat) * (1.0 / n1 + 1.0 / n2)).sqrt()
}

/// Whether a statement represents its group by agreeing or by disagreeing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepfulFor {
    Agree,
    Disagree,
}

/// A representative statement of a group, with Polis's statistics (`finalize-cmt-stats`).
/// `S` names the statement: its column index here, its external id in an [`crate::Analysis`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepnessEntry<S = usize> {
    pub statement: S,
    pub n_success: u32,
    pub n_trials: u32,
    pub p_success: f64,
    pub p_test: f64,
    pub repness: f64,
    /// Polis stores this as a 32-bit float (`(float repness-test)`); so do we, so that ties and
    /// the "best" comparison behave as in Polis.
    pub repness_test: f32,
    pub repful_for: RepfulFor,
    /// The group's best agreed statement (`best-agree`), placed first.
    pub best_agree: bool,
    /// For the best-agree entry: the group's agree count.
    pub n_agree: Option<u32>,
}

/// Per (group, statement) statistics of `conv-repness` / `add-comparitive-stats`.
#[derive(Debug, Clone, Copy)]
struct Stats {
    na: u32,
    nd: u32,
    ns: u32,
    pa: f64,
    pd: f64,
    pat: f64,
    pdt: f64,
    ra: f64,
    rd: f64,
    rat: f64,
    rdt: f64,
}

fn stats(g: &VoteCounts, rest: &VoteCounts) -> Stats {
    let (na, nd, ns) = (g.agree, g.disagree, g.seen);
    let pa = (na as f64 + 1.0) / (ns as f64 + 2.0);
    let pd = (nd as f64 + 1.0) / (ns as f64 + 2.0);
    // ra = pa / ((1 + Σna_rest) / (2 + Σns_rest)), as one exact ratio of integers.
    let ra = ((na as f64 + 1.0) * (rest.seen as f64 + 2.0)) / ((ns as f64 + 2.0) * (rest.agree as f64 + 1.0));
    let rd = ((nd as f64 + 1.0) * (rest.seen as f64 + 2.0)) / ((ns as f64 + 2.0) * (rest.disagree as f64 + 1.0));
    Stats {
        na,
        nd,
        ns,
        pa,
        pd,
        pat: prop_test(na, ns),
        pdt: prop_test(nd, ns),
        ra,
        rd,
        rat: two_prop_test(na, rest.agree, ns, rest.seen),
        rdt: two_prop_test(nd, rest.disagree, ns, rest.seen),
    }
}

fn finalize(statement: usize, s: &Stats) -> RepnessEntry {
    let (n_success, p_success, p_test, repness, repness_test, repful_for) = if s.rat > s.rdt {
        (s.na, s.pa, s.pat, s.ra, s.rat, RepfulFor::Agree)
    } else {
        (s.nd, s.pd, s.pdt, s.rd, s.rdt, RepfulFor::Disagree)
    };
    RepnessEntry {
        statement,
        n_success,
        n_trials: s.ns,
        p_success,
        p_test,
        repness,
        repness_test: repness_test as f32,
        repful_for,
        best_agree: false,
        n_agree: None,
    }
}

impl<S> RepnessEntry<S> {
    /// The same entry with the statement named differently (column index -> external id).
    pub fn map_statement<T>(self, f: impl FnOnce(S) -> T) -> RepnessEntry<T> {
        RepnessEntry {
            statement: f(self.statement),
            n_success: self.n_success,
            n_trials: self.n_trials,
            p_success: self.p_success,
            p_test: self.p_test,
            repness: self.repness,
            repness_test: self.repness_test,
            repful_for: self.repful_for,
            best_agree: self.best_agree,
            n_agree: self.n_agree,
        }
    }
}

fn repness_metric(e: &RepnessEntry) -> f64 {
    e.repness * e.repness_test as f64 * e.p_success * e.p_test
}

/// `beats-best-agr?`
fn beats_best_agree(s: &Stats, best: Option<&Stats>) -> bool {
    if s.na == 0 && s.nd == 0 {
        return false;
    }
    match best {
        Some(b) if b.ra > 1.0 => s.ra * s.rat * s.pa * s.pat > b.ra * b.rat * b.pa * b.pat,
        Some(b) => s.pa * s.pat > b.pa * b.pat,
        None => s.pat > Z_90 || (s.ra > 1.0 && s.pa > 0.5),
    }
}

/// Polis's `select-rep-comments`: the representative statements of each group.
///
/// `groups[g][j]` are group g's counts on statement j (groups in id order); statements are visited
/// in column order, skipping moderated-out ones. A statement is *sufficient* for a group when it is
/// significantly more agreed (or disagreed) in the group than in the rest, and significantly agreed
/// (disagreed) within the group; up to 5 are kept, the group's best agreed statement first, agrees
/// before disagrees. A group with no sufficient statement gets its best-agree, else its best by test.
pub fn select_repness(groups: &[Vec<VoteCounts>], moderated_out: &[bool]) -> Vec<Vec<RepnessEntry>> {
    let n_groups = groups.len();
    let n_statements = moderated_out.len();
    let mut sufficient: Vec<Vec<RepnessEntry>> = vec![Vec::new(); n_groups];
    let mut best: Vec<Option<RepnessEntry>> = vec![None; n_groups];
    let mut best_agree: Vec<Option<(usize, Stats)>> = vec![None; n_groups];
    for j in 0..n_statements {
        if moderated_out[j] {
            continue;
        }
        let mut total = VoteCounts::default();
        for g in groups {
            total.add(&g[j]);
        }
        for (gi, g) in groups.iter().enumerate() {
            let own = &g[j];
            let rest = VoteCounts {
                agree: total.agree - own.agree,
                disagree: total.disagree - own.disagree,
                seen: total.seen - own.seen,
            };
            let s = stats(own, &rest);
            let passes = (s.rat > Z_90 && s.pat > Z_90) || (s.rdt > Z_90 && s.pdt > Z_90);
            if passes {
                sufficient[gi].push(finalize(j, &s));
            }
            if sufficient[gi].is_empty() {
                let beats = match &best[gi] {
                    None => true,
                    Some(b) => s.rat.max(s.rdt) > b.repness_test as f64,
                };
                if beats {
                    best[gi] = Some(finalize(j, &s));
                }
            }
            if beats_best_agree(&s, best_agree[gi].as_ref().map(|(_, b)| b)) {
                best_agree[gi] = Some((j, s));
            }
        }
    }
    (0..n_groups)
        .map(|gi| {
            let best_agree =
                best_agree[gi].map(|(j, s)| RepnessEntry { best_agree: true, n_agree: Some(s.na), ..finalize(j, &s) });
            if sufficient[gi].is_empty() {
                return match (&best_agree, &best[gi]) {
                    (Some(ba), _) => vec![ba.clone()],
                    (None, Some(b)) => vec![b.clone()],
                    (None, None) => vec![],
                };
            }
            let mut rest: Vec<RepnessEntry> = sufficient[gi]
                .iter()
                .filter(|e| best_agree.as_ref().is_none_or(|ba| ba.statement != e.statement))
                .cloned()
                .collect();
            // sort-by (comp - repness-metric): stable, descending.
            rest.sort_by(|a, b| repness_metric(b).partial_cmp(&repness_metric(a)).unwrap_or(std::cmp::Ordering::Equal));
            let mut out: Vec<RepnessEntry> = best_agree.into_iter().chain(rest).take(5).collect();
            // agrees-before-disagrees, stable.
            out.sort_by_key(|e| e.repful_for == RepfulFor::Disagree);
            out
        })
        .collect()
}

/// A consensus statement (`select-consensus-comments`); `S` names the statement as in [`RepnessEntry`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsensusEntry<S = usize> {
    pub statement: S,
    pub n_success: u32,
    pub n_trials: u32,
    pub p_success: f64,
    pub p_test: f64,
}

impl<S> ConsensusEntry<S> {
    pub fn map_statement<T>(self, f: impl FnOnce(S) -> T) -> ConsensusEntry<T> {
        ConsensusEntry {
            statement: f(self.statement),
            n_success: self.n_success,
            n_trials: self.n_trials,
            p_success: self.p_success,
            p_test: self.p_test,
        }
    }
}

/// Polis's consensus over **all** participants (not only those in conversation), moderated-out
/// statements removed: statements with `p > 0.5` and `p-test > 1.2816`, ranked by `p · p-test`,
/// top 5, for agreement and for disagreement.
pub fn consensus(totals: &[VoteCounts], moderated_out: &[bool]) -> (Vec<ConsensusEntry>, Vec<ConsensusEntry>) {
    let pick = |agree: bool| {
        let mut c: Vec<(f64, ConsensusEntry)> = totals
            .iter()
            .enumerate()
            .filter(|(j, _)| !moderated_out[*j])
            .filter_map(|(j, t)| {
                let n = if agree { t.agree } else { t.disagree };
                let p = (n as f64 + 1.0) / (t.seen as f64 + 2.0);
                let pt = prop_test(n, t.seen);
                (p > 0.5 && pt > Z_90).then_some((
                    p * pt,
                    ConsensusEntry { statement: j, n_success: n, n_trials: t.seen, p_success: p, p_test: pt },
                ))
            })
            .collect();
        c.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        c.into_iter().take(5).map(|(_, e)| e).collect::<Vec<_>>()
    };
    (pick(true), pick(false))
}

/// Polis's group-aware consensus (`conversation.clj`): `Π_g (A_g + 1) / (S_g + 2)` over groups in
/// id order, for every statement (moderated-out ones included, as in Polis).
pub fn group_aware_consensus(groups: &[Vec<VoteCounts>], n_statements: usize) -> Vec<f64> {
    (0..n_statements)
        .map(|j| groups.iter().map(|g| (g[j].agree as f64 + 1.0) / (g[j].seen as f64 + 2.0)).product())
        .collect()
}

/// Polis's comment priority (`priority-metric`), used to route the next statement to show:
/// `(importance · (1 + 8·2^(-S/5)))²` with `importance = (1 - (P+1)/(S+2)) · (E+1) · (A+1)/(S+2)`;
/// meta statements get 7² = 49. `counts` are the in-conversation totals (summed over groups) and
/// `extremity` the statement's projection norm.
pub fn comment_priority(is_meta: bool, counts: &VoteCounts, extremity: f64) -> f64 {
    if is_meta {
        return 49.0;
    }
    let (a, s) = (counts.agree as f64, counts.seen as f64);
    let p = counts.passes() as f64;
    let importance = (1.0 - (p + 1.0) / (s + 2.0)) * (extremity + 1.0) * ((a + 1.0) / (s + 2.0));
    let boost = 1.0 + 8.0 * 2f64.powf(s / -5.0);
    (importance * boost).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(a: u32, d: u32, s: u32) -> VoteCounts {
        VoteCounts { agree: a, disagree: d, seen: s }
    }

    #[test]
    fn prop_test_by_hand() {
        // 6 agrees of 6: 2·sqrt(7)·(7/7 - 0.5) = sqrt(7). Polis golden (below-100, tid 13): 2.6457513110645907.
        assert!((prop_test(6, 6) - 2.6457513110645907).abs() < 1e-15);
    }

    #[test]
    fn two_prop_test_by_hand_and_zero_when_pooled_is_one() {
        // (5+1)/(5+1)=1 vs (3+1)/(10+1); pooled (6+4)/(6+11).
        let (p1, p2, ph): (f64, f64, f64) = (1.0, 4.0 / 11.0, 10.0 / 17.0);
        let z = (p1 - p2) / (ph * (1.0 - ph) * (1.0 / 6.0 + 1.0 / 11.0)).sqrt();
        assert!((two_prop_test(5, 3, 5, 10) - z).abs() < 1e-12);
        assert_eq!(two_prop_test(4, 6, 4, 6), 0.0);
    }

    #[test]
    fn consensus_keeps_significant_majorities_ranked_by_p_times_test() {
        let totals = vec![vc(15, 1, 16), vc(1, 9, 10), vc(5, 5, 10), vc(13, 0, 14)];
        let (agree, disagree) = consensus(&totals, &[false, false, false, false]);
        assert_eq!(agree.iter().map(|e| e.statement).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(disagree.iter().map(|e| e.statement).collect::<Vec<_>>(), vec![1]);
        let (agree, _) = consensus(&totals, &[true, false, false, false]);
        assert_eq!(agree.iter().map(|e| e.statement).collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn group_aware_consensus_is_the_product_of_smoothed_agree_rates() {
        let groups = vec![vec![vc(3, 0, 4)], vec![vc(1, 1, 2)]];
        assert!((group_aware_consensus(&groups, 1)[0] - (4.0 / 6.0) * (2.0 / 4.0)).abs() < 1e-15);
    }

    #[test]
    fn priority_of_an_unseen_statement_and_of_a_meta_statement() {
        // No votes: importance = (1 - 1/2)(E+1)(1/2), boost 9.
        let e = 0.7;
        assert!((comment_priority(false, &vc(0, 0, 0), e) - (0.25 * (e + 1.0) * 9.0f64).powi(2)).abs() < 1e-12);
        assert_eq!(comment_priority(true, &vc(3, 1, 5), e), 49.0);
    }

    #[test]
    fn repness_puts_best_agree_first_and_agrees_before_disagrees() {
        // Group 0 agrees with 0 and 1 and disagrees with 2; group 1 the opposite.
        let g0 = vec![vc(10, 0, 10), vc(9, 1, 10), vc(0, 10, 10)];
        let g1 = vec![vc(0, 10, 10), vc(1, 9, 10), vc(10, 0, 10)];
        let r = select_repness(&[g0, g1], &[false; 3]);
        assert!(r[0][0].best_agree && r[0][0].repful_for == RepfulFor::Agree);
        let kinds: Vec<RepfulFor> = r[0].iter().map(|e| e.repful_for).collect();
        let first_dis = kinds.iter().position(|k| *k == RepfulFor::Disagree).unwrap_or(kinds.len());
        assert!(kinds[first_dis..].iter().all(|k| *k == RepfulFor::Disagree));
        assert_eq!(r[0].len(), 3);
        assert!(r[1].iter().any(|e| e.statement == 2 && e.best_agree));
    }
}
