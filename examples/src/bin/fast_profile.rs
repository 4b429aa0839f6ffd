//! The fast profile (`Profile::Fast`) against Polis's exact profile, side by side on the same
//! votes: the analysis time of each (votes already loaded, matrix build included, as the CLI's
//! `--timings` "analysis"), and how close the fast result stays (`compare::analysis_agreement`):
//! group ARI, mean repness Jaccard, 1 - the smallest component |cosine|, the largest gap between
//! matrix-factorization intercepts, numbers of groups. Inputs: the
//! Polis exports and API dumps under the folders given (each sub-folder one conversation), and
//! generated conversations of the sizes given (`generate` with benchmark.py's sizes and seed 1).
//!
//! ```text
//! cargo run --release -p commonground-examples --bin fast_profile -- \
//!     ../shared/data/polis-math ../shared/data/opendata --sizes 10k,100k,1m
//! ```
//!
//! Prints a Markdown table (BENCHMARKS.md, "Fast profile").

use std::path::PathBuf;
use std::time::Instant;

use commonground::compare::analysis_agreement;
use commonground::generate::{Synthetic, SyntheticParams};
use commonground::{io, Analysis, Conversation, Id, Mode, Params, Profile, Request, Statement, VoteBatch};

/// benchmark.py's generated sizes: participants, statements, votes.
const SIZES: [(&str, usize, usize, usize); 3] =
    [("10k", 10_000, 1_000, 500_000), ("100k", 100_000, 2_000, 5_000_000), ("1m", 1_000_000, 10_000, 50_000_000)];

/// One analysis with `profile` and its wall time in seconds, the best of three runs below 10M
/// votes (a small conversation's first run pays for waking the threads), of one above.
fn run(
    profile: Profile,
    statements: &[Statement],
    votes: &VoteBatch,
) -> Result<(Analysis, f64), Box<dyn std::error::Error>> {
    let params = Params { profile, ..Params::default() };
    let request = Request { params, mode: Mode::OneBatch, ..Default::default() };
    let runs = if votes.len() < 10_000_000 { 3 } else { 1 };
    let mut best: Option<(Analysis, f64)> = None;
    for _ in 0..runs {
        let start = Instant::now();
        let conv = Conversation::run(&request, statements.to_vec(), votes)?;
        let seconds = start.elapsed().as_secs_f64();
        let t = conv.timings();
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        eprintln!(
            "{profile:?}: {:.0} ms (matrix {:.0}, pca {:.0}, clustering {:.0}, mf {:.0} beside them, statistics {:.0}, \
             bridging {:.0})",
            seconds * 1e3,
            ms(t.matrix),
            ms(t.pca),
            ms(t.clustering),
            ms(t.mf),
            ms(t.statistics),
            ms(t.bridging)
        );
        let analysis = conv.analysis().ok_or("no analysis")?.clone();
        if best.as_ref().is_none_or(|b| seconds < b.1) {
            best = Some((analysis, seconds));
        }
    }
    best.ok_or_else(|| "no run".into())
}

fn row(name: &str, statements: &[Statement], votes: &VoteBatch) -> Result<(), Box<dyn std::error::Error>> {
    let (exact, exact_s) = run(Profile::Polis, statements, votes)?;
    let (fast, fast_s) = run(Profile::Fast, statements, votes)?;
    let a = analysis_agreement(&exact, &fast);
    println!(
        "| {name} | {} | {} | {:.3} | {:.3} | {:.1}x | {} / {} | {:.4} | {:.3} | {:.1e} | {:.1e} ({} / {}) |",
        exact.n_participants,
        exact.n_votes,
        exact_s,
        fast_s,
        exact_s / fast_s,
        a.groups.0,
        a.groups.1,
        a.group_ari,
        a.repness_jaccard,
        1.0 - a.component_cosine,
        a.mf_intercept_gap,
        a.mf_sweeps.0,
        a.mf_sweeps.1
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut sizes: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--sizes" {
            let list = args.next().ok_or("--sizes needs a list, e.g. 10k,100k,1m")?;
            sizes.extend(list.split(',').map(str::to_string));
        } else {
            folders.push(PathBuf::from(arg));
        }
    }
    println!("| conversation | participants | votes | exact (s) | fast (s) | speed-up | groups exact / fast | group ARI | repness Jaccard | 1 - component cosine | mf intercept gap (sweeps exact / fast) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for folder in &folders {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(folder)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
        entries.sort();
        for dir in entries {
            let data = io::load(&dir)?;
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            row(&name, &data.statements, &data.votes)?;
        }
    }
    for size in &sizes {
        let &(name, participants, statements, votes) =
            SIZES.iter().find(|s| s.0 == size).ok_or_else(|| format!("unknown size {size} (10k, 100k or 1m)"))?;
        let synthetic =
            Synthetic::new(SyntheticParams { participants, statements, votes, seed: 1, ..Default::default() })?;
        // Participant by participant into the columnar batch: 50M events would not fit twice.
        let mut batch = VoteBatch::new();
        batch.reserve(votes + votes / 10);
        for i in 0..participants {
            let participant = Id::from(i as i64);
            for (statement, vote, timestamp) in synthetic.participant_votes(i) {
                batch.push(&participant, &Id::from(i64::from(statement)), vote, Some(timestamp));
            }
        }
        row(&format!("synthetic-{name}"), &synthetic.statements(), &batch)?;
    }
    Ok(())
}
