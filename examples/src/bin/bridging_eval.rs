//! How well each bridging score recovers planted bridging statements, and whether the 90%
//! credible intervals cover the truth 90% of the time, on generated deliberations with a known
//! answer ([`commonground::generate`]) as fewer and fewer votes are observed.
//!
//! For each seed, one conversation is generated (3 planted groups of unequal sizes, 200
//! statements of which 10 are planted bridging statements: every group agrees with them); then
//! 100%, 50%, 30% and 10% of its votes are kept (each vote independently, seeded) and analysed
//! with the default parameters. Each method ranks the statements:
//!
//! - agree rate: `(A + 1) / (S + 2)` over everyone (no groups; the baseline);
//! - GAC: Polis's group-aware consensus (product over groups);
//! - GAC^(1/k): its geometric mean (the same order as GAC within one conversation; it matters
//!   when conversations with different numbers of groups are compared);
//! - min-group: the lowest smoothed group agree rate;
//! - min-group lower: the lower 90% credible bound of min-group (the default ranking);
//! - MF intercept: Community Notes' matrix factorization (no groups);
//! - GAC and min-group lower with the planted groups instead of the groups the analysis found:
//!   what the scores could do with perfect clustering.
//!
//! Precision@10: the share of the planted bridging statements among a method's top 10. Spearman:
//! rank correlation with the planted bridging score (the lowest planted per-group agree
//! probability). Coverage: the share of 90% intervals of per-group agree rates that contain the
//! planted rate, `(1 − pass rate) × agree probability` (passes count as seen), with the groups the
//! analysis found (each matched to the planted group most of its members come from) and with the
//! planted groups themselves (which isolates the intervals from clustering errors); and of the
//! min-group interval and the GAC interval (saddlepoint and Monte Carlo), with planted groups.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin bridging_eval [seeds]
//! ```

use std::collections::HashMap;

use commonground::bridging::distributions::Sampler;
use commonground::bridging::{group_agreement, group_agreement_monte_carlo};
use commonground::cluster::adjusted_rand_index;
use commonground::generate::{Synthetic, SyntheticParams};
use commonground::rng::Rng;
use commonground::stats::count_votes;
use commonground::{analyze, Analysis, Id, Params, VoteEvent, VoteMatrix};

const METHODS: [&str; 8] = [
    "agree rate",
    "GAC",
    "GAC^(1/k)",
    "min-group",
    "min-group lower",
    "MF intercept",
    "GAC, planted groups",
    "min-group lower, planted groups",
];
const FRACTIONS: [f64; 4] = [1.0, 0.5, 0.3, 0.1];

/// Average ranks (ties share the mean of their positions), 1-based.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            out[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    out
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Statement index j of an external id (the generator's ids are 0..statements).
fn index(id: &Id) -> usize {
    match id {
        Id::Int(j) => *j as usize,
        Id::Str(s) => s.parse().expect("generated ids are integers"),
    }
}

/// Each method's score per statement, indexed by the analysis's statement order; `planted[j]` is
/// statement j's (GAC, min-group lower) with the planted groups.
fn scores(a: &Analysis, planted: &HashMap<usize, (f64, f64)>) -> Vec<Vec<f64>> {
    let b = a.bridging.as_ref().expect("groups were found");
    let agree_rate = a
        .statements
        .iter()
        .map(|s| (s.n_agree as f64 + 1.0) / ((s.n_agree + s.n_disagree + s.n_pass) as f64 + 2.0))
        .collect();
    vec![
        agree_rate,
        a.statements.iter().map(|s| s.group_aware_consensus).collect(),
        b.statements.iter().map(|s| s.geometric_mean.value).collect(),
        b.statements.iter().map(|s| s.min_group_agreement.value).collect(),
        b.statements.iter().map(|s| s.min_group_agreement.lower).collect(),
        b.statements.iter().map(|s| s.mf_intercept.unwrap_or(f64::NEG_INFINITY)).collect(),
        a.statements.iter().map(|s| planted[&index(&s.id)].0).collect(),
        a.statements.iter().map(|s| planted[&index(&s.id)].1).collect(),
    ]
}

#[derive(Default)]
struct Tally {
    precision: [f64; METHODS.len()],
    spearman: [f64; METHODS.len()],
    covered_ours: (usize, usize),
    covered_planted: (usize, usize),
    covered_min: (usize, usize),
    /// GAC intervals with planted groups: by the saddlepoint approximation and by Monte Carlo.
    covered_gac: (usize, usize),
    covered_gac_mc: (usize, usize),
    width_ours: f64,
    k: f64,
    ari: f64,
    common_ground: (usize, usize),
    runs: usize,
}

fn main() {
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let params = Params::default();
    let interval = params.bridging.interval;
    let mut tallies: Vec<Tally> = FRACTIONS.iter().map(|_| Tally::default()).collect();
    let synthetic_params = |seed| SyntheticParams {
        participants: 3000,
        statements: 200,
        votes: 60_000,
        groups: 3,
        seed,
        ..SyntheticParams::default()
    };
    for seed in 1..=seeds {
        let synthetic = Synthetic::new(synthetic_params(seed)).expect("valid generator parameters");
        let truth = &synthetic.truth;
        let pass_rate = truth.params.pass_rate;
        let planted: Vec<usize> = truth.bridging_statements.iter().map(|&j| j as usize).collect();
        let (all_votes, statements) = (synthetic.votes(), synthetic.statements());
        for (f, &fraction) in FRACTIONS.iter().enumerate() {
            let mut rng = Rng::fork(seed, 1000 + f as u64);
            let votes: Vec<VoteEvent> = all_votes.iter().filter(|_| rng.uniform() < fraction).cloned().collect();
            let a = analyze(&votes, &statements, &params).expect("analysis runs");
            let t = &mut tallies[f];
            t.runs += 1;
            t.k += a.groups.len() as f64;
            let b = a.bridging.as_ref().expect("groups were found");
            t.common_ground.0 += b.common_ground.iter().filter(|id| planted.contains(&index(id))).count();
            t.common_ground.1 += b.common_ground.len();

            // Planted groups: the same intervals from counts by planted group, over everyone.
            let matrix = VoteMatrix::from_events(&votes);
            let bucket: Vec<Option<u32>> =
                matrix.participants().iter().map(|id| Some(truth.participant_group[index(id)])).collect();
            let counts = count_votes(&matrix, &bucket, truth.params.groups);
            let mut sampler = Sampler::new(Rng::new(seed));
            let mut planted_scores: HashMap<usize, (f64, f64)> = HashMap::new();
            for (col, id) in matrix.statements().iter().enumerate() {
                let j = index(id);
                let by_group: Vec<_> = counts.iter().map(|g| g[col]).collect();
                let scores = group_agreement(&by_group, interval);
                let mc = group_agreement_monte_carlo(&by_group, interval, params.bridging.draws, &mut sampler);
                let target: f64 =
                    (0..by_group.len()).map(|g| (1.0 - pass_rate) * truth.agree_probability[j][g]).product();
                for (e, tally) in [
                    (scores.group_aware_consensus, &mut t.covered_gac),
                    (mc.group_aware_consensus, &mut t.covered_gac_mc),
                ] {
                    tally.0 += (e.lower <= target && target <= e.upper) as usize;
                    tally.1 += 1;
                }
                planted_scores.insert(j, (scores.group_aware_consensus.value, scores.min_group.lower));
                for (g, e) in scores.per_group.iter().enumerate() {
                    let target = (1.0 - pass_rate) * truth.agree_probability[j][g];
                    t.covered_planted.0 += (e.lower <= target && target <= e.upper) as usize;
                    t.covered_planted.1 += 1;
                }
                let target = (1.0 - pass_rate) * truth.bridging_score[j];
                let e = scores.min_group;
                t.covered_min.0 += (e.lower <= target && target <= e.upper) as usize;
                t.covered_min.1 += 1;
            }
            // Ranking quality per method.
            let ids: Vec<usize> = a.statements.iter().map(|s| index(&s.id)).collect();
            let truth_scores: Vec<f64> = ids.iter().map(|&j| truth.bridging_score[j]).collect();
            for (m, score) in scores(&a, &planted_scores).iter().enumerate() {
                let mut order: Vec<usize> = (0..ids.len()).collect();
                order.sort_by(|&x, &y| score[y].total_cmp(&score[x]));
                let hits = order.iter().take(10).filter(|&&i| planted.contains(&ids[i])).count();
                t.precision[m] += hits as f64 / 10.0;
                t.spearman[m] += spearman(score, &truth_scores);
            }

            // Our groups: each matched to the planted group most of its members come from.
            let planted_group = |id: &Id| truth.participant_group[index(id)] as usize;
            let (ours, theirs): (Vec<u32>, Vec<usize>) =
                a.participants.iter().filter_map(|p| Some((p.group?, planted_group(&p.id)))).unzip();
            t.ari += adjusted_rand_index(&ours, &theirs);
            let mut majority: HashMap<u32, usize> = HashMap::new();
            for g in &a.groups {
                let mut counts = vec![0usize; truth.params.groups];
                for (&o, &p) in ours.iter().zip(&theirs) {
                    if o == g.id {
                        counts[p] += 1;
                    }
                }
                majority.insert(g.id, (0..counts.len()).max_by_key(|&i| counts[i]).unwrap_or(0));
            }
            for (s, sb) in a.statements.iter().zip(&b.statements) {
                let j = index(&s.id);
                for (gi, e) in sb.group_agreement.iter().enumerate() {
                    let target = (1.0 - pass_rate) * truth.agree_probability[j][majority[&b.groups[gi]]];
                    t.covered_ours.0 += (e.lower <= target && target <= e.upper) as usize;
                    t.covered_ours.1 += 1;
                    t.width_ours += e.upper - e.lower;
                }
            }
        }
    }

    let p = synthetic_params(1);
    println!(
        "Generated deliberations: {} participants, {} statements (10 planted bridging), {} votes, {} planted \
         groups, pass rate {}; {seeds} seeds; default parameters.\n",
        p.participants, p.statements, p.votes, p.groups, p.pass_rate
    );
    println!("| votes observed | method | precision@10 | Spearman |");
    println!("|---:|---|---:|---:|");
    for (f, t) in FRACTIONS.iter().zip(&tallies) {
        let n = t.runs as f64;
        for (m, name) in METHODS.iter().enumerate() {
            println!("| {:.0}% | {name} | {:.2} | {:.3} |", f * 100.0, t.precision[m] / n, t.spearman[m] / n);
        }
    }
    println!();
    println!(
        "| votes observed | groups found | ARI vs planted | common ground: planted / reported | per-group 90% \
         coverage, our groups | mean width | per-group 90% coverage, planted groups | min-group 90% coverage, \
         planted groups | GAC 90% coverage, planted groups: saddlepoint / Monte Carlo |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let share = |(hit, all): (usize, usize)| 100.0 * hit as f64 / all.max(1) as f64;
    for (f, t) in FRACTIONS.iter().zip(&tallies) {
        let n = t.runs as f64;
        println!(
            "| {:.0}% | {:.1} | {:.3} | {} / {} | {:.1}% | {:.3} | {:.1}% | {:.1}% | {:.1}% / {:.1}% |",
            f * 100.0,
            t.k / n,
            t.ari / n,
            t.common_ground.0,
            t.common_ground.1,
            share(t.covered_ours),
            t.width_ours / t.covered_ours.1.max(1) as f64,
            share(t.covered_planted),
            share(t.covered_min),
            share(t.covered_gac),
            share(t.covered_gac_mc)
        );
    }
}
