//! How closely commonground's opinion groups agree with the groups Polis itself assigned, on every
//! real conversation in a folder of Polis exports: the adjusted Rand index (ARI) between our groups
//! and the `group-id` column of `participants-votes.csv`, for a one-batch analysis and for a replay
//! of the timestamped votes through the incremental `Conversation`.
//!
//! Polis assigned its groups incrementally, as votes streamed in, so a one-batch analysis cannot
//! reproduce them exactly; the replay feeds the votes in time order, with Polis's warm starts and
//! k smoother, to come closer. Each is shown with Polis's defaults and with the opt-in
//! extensions: 10 cold starts of the group k-means (`Params::group_cold_starts`), and for the
//! replay also a worker restart after each quiet day (`Batching::restart_gap_ms`). The
//! `agreement_diagnostics` example breaks the differences down.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin polis_agreement -- ../shared/data/opendata
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use commonground::cluster::adjusted_rand_index;
use commonground::{io, Analysis, Batching, Conversation, Id, Params};

/// Polis's group per participant, from `participants-votes.csv` (blank = not grouped).
fn polis_groups(dir: &Path) -> Result<HashMap<Id, String>, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(dir.join("participants-votes.csv"))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).ok_or(format!("no {name} column"));
    let (p, g) = (col("participant")?, col("group-id")?);
    let mut out = HashMap::new();
    for row in reader.records() {
        let row = row?;
        if !row[g].trim().is_empty() {
            out.insert(Id::parse(&row[p]), row[g].trim().to_string());
        }
    }
    Ok(out)
}

/// ARI over participants that both Polis and commonground grouped, and how many those are.
fn agreement(analysis: &Analysis, polis: &HashMap<Id, String>) -> (f64, usize) {
    let (ours, theirs): (Vec<u32>, Vec<&String>) =
        analysis.participants.iter().filter_map(|p| Some((p.group?, polis.get(&p.id)?))).unzip();
    (adjusted_rand_index(&ours, &theirs), ours.len())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/data/opendata".into()));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("participants-votes.csv").exists())
        .collect();
    dirs.sort();
    // Polis's defaults, and the opt-in extensions measured against them: 10 cold starts of the
    // group k-means (Params::group_cold_starts), and in the replay, a worker restart after each
    // quiet day (Batching::restart_gap_ms) on top of them.
    let multi = Params { group_cold_starts: 10, ..Params::default() };
    let restarts = Batching { restart_gap_ms: Some(86_400_000), ..Batching::default() };
    println!("| conversation | participants | Polis groups | batch: k | ARI | batch, 10 starts: k | ARI | replay: k | ARI | replay, 10 starts + restarts: k | ARI | replay updates | replay time |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let data = io::load(&dir)?;
        let polis = polis_groups(&dir)?;
        let n_polis_groups = polis.values().collect::<std::collections::HashSet<_>>().len();

        let batch = commonground::analyze(&data.votes, &data.statements, &Params::default())?;
        let (ari_batch, _) = agreement(&batch, &polis);
        let batch_multi = commonground::analyze(&data.votes, &data.statements, &multi)?;
        let (ari_batch_multi, _) = agreement(&batch_multi, &polis);

        let start = Instant::now();
        let conv = Conversation::replay(Params::default(), data.statements.clone(), &data.votes, &Batching::default())?;
        let elapsed = start.elapsed();
        let replay = conv.analysis().ok_or("no analysis")?;
        let (ari_replay, _) = agreement(replay, &polis);
        let conv_multi = Conversation::replay(multi.clone(), data.statements.clone(), &data.votes, &restarts)?;
        let replay_multi = conv_multi.analysis().ok_or("no analysis")?;
        let (ari_replay_multi, _) = agreement(replay_multi, &polis);
        println!(
            "| {name} | {} | {n_polis_groups} | {} | {ari_batch:.2} | {} | {ari_batch_multi:.2} | {} | {ari_replay:.2} | {} | {ari_replay_multi:.2} | {} | {:.1} s |",
            batch.n_participants,
            batch.groups.len(),
            batch_multi.groups.len(),
            replay.groups.len(),
            replay_multi.groups.len(),
            replay.tick,
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}
