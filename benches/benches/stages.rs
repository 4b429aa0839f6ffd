//! Each stage of the pipeline on a generated deliberation (`commonground::generate`), so that a
//! change to one stage is measured on its own:
//!
//! ```text
//! cargo bench -p commonground-benches
//! CG_BENCH_PARTICIPANTS=100000 CG_BENCH_STATEMENTS=2000 CG_BENCH_VOTES=5000000 cargo bench -p commonground-benches
//! ```
//!
//! The default size (20,000 participants x 500 statements x 400,000 votes) keeps a full run to a
//! few minutes on two cores.

use std::collections::BTreeMap;

use commonground::cluster::{group_clusterings, kmeans, MultiStart, Points};
use commonground::generate::{Synthetic, SyntheticParams};
use commonground::pca::{participant_projections, Pca, PcaParams};
use commonground::stats::{consensus, count_votes, group_aware_consensus, select_repness};
use commonground::{analyze, Params, VoteBatch, VoteMatrix};
use criterion::{criterion_group, criterion_main, Criterion};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn stages(c: &mut Criterion) {
    let synthetic = Synthetic::new(SyntheticParams {
        participants: env("CG_BENCH_PARTICIPANTS", 20_000),
        statements: env("CG_BENCH_STATEMENTS", 500),
        votes: env("CG_BENCH_VOTES", 400_000),
        groups: 3,
        seed: 1,
        ..Default::default()
    })
    .expect("valid generator parameters");
    // Columnar, as `io::load` returns a conversation read from disk.
    let votes = VoteBatch::from_events(&synthetic.votes());
    let statements = synthetic.statements();
    let params = Params::default();
    let mut group = c.benchmark_group(format!("{} votes", votes.len()));
    group.sample_size(10);

    group.bench_function("build matrix", |b| b.iter(|| VoteMatrix::from_batch(&votes)));
    let matrix = VoteMatrix::from_batch(&votes);
    let out = vec![false; matrix.n_statements()];

    group.bench_function("pca (cold start)", |b| b.iter(|| Pca::fit(&matrix, &out, None, &PcaParams::default())));
    let pca = Pca::fit(&matrix, &out, None, &PcaParams::default());
    group.bench_function("pca (warm start, Polis)", |b| {
        b.iter(|| Pca::fit(&matrix, &out, Some(&pca.comps), &PcaParams::default()))
    });
    group.bench_function("projections", |b| b.iter(|| participant_projections(&matrix, &out, &pca)));

    let projections = participant_projections(&matrix, &out, &pca);
    let rows: Vec<usize> = (0..matrix.n_participants()).filter(|&r| matrix.row_len(r) >= 7).collect();
    let points = Points::new(rows.clone(), rows.iter().map(|&r| projections[r]).collect(), None);
    group.bench_function("base clusters (k = 100, cold)", |b| b.iter(|| kmeans(&points, 100, None, 100)));
    let base = kmeans(&points, 100, None, 100);
    group.bench_function("base clusters (k = 100, warm)", |b| b.iter(|| kmeans(&points, 100, Some(&base), 100)));
    group.bench_function("groups (k = 2..5, silhouettes)", |b| {
        b.iter(|| group_clusterings(&base, 5, &BTreeMap::new(), 20, MultiStart::POLIS))
    });

    let mut bucket = vec![None; matrix.n_participants()];
    for (i, c) in base.iter().enumerate() {
        for &r in &c.members {
            bucket[r] = Some(i as u32);
        }
    }
    group.bench_function("statistics (counts, repness, consensus, GAC)", |b| {
        b.iter(|| {
            let by_base = count_votes(&matrix, &bucket, base.len());
            let everyone = count_votes(&matrix, &vec![Some(0); matrix.n_participants()], 1);
            let groups: Vec<_> = by_base
                .chunks(by_base.len().div_ceil(3))
                .map(|g| {
                    let mut total = g[0].clone();
                    for other in &g[1..] {
                        total.iter_mut().zip(other).for_each(|(t, o)| t.add(o));
                    }
                    total
                })
                .collect();
            (select_repness(&groups, &out), consensus(&everyone[0], &out), group_aware_consensus(&groups, out.len()))
        })
    });

    group.bench_function("whole analysis (cold)", |b| b.iter(|| analyze(&votes, &statements, &params)));
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
