//! How closely commonground's opinion groups agree with the groups Polis itself assigned, on every
//! real conversation in a folder of Polis exports: the adjusted Rand index (ARI) between our groups
//! and the `group-id` column of `participants-votes.csv`, for a one-batch analysis and for replays
//! of the timestamped votes that model different histories of Polis's worker.
//!
//! An export's `group-id` is whatever state Polis's worker held when the export was made, after an
//! unknown history of restarts; a restart forgets the group clusterings and the k smoother, and
//! the next update clusters the groups cold from the base clusters. So the replay is shown without
//! restarts and with one after the last vote (the default, which reproduces Polis's stored math
//! blobs: `polis_fidelity`). One replay gives both: the conversation replayed without restarts,
//! then restarted and updated once more, is the default replay but for the matrix
//! factorization's warm start, which the groups do not read. The opt-in 10 cold starts of the
//! group k-means (`Params::group_cold_starts`) are shown for the batch. The
//! `agreement_diagnostics` example breaks the differences down, restarts at quiet gaps included.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin polis_agreement -- ../shared/data/opendata
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use commonground::cluster::adjusted_rand_index;
use commonground::{io, Analysis, Batching, Conversation, Id, Params, Restarts, VoteBatch};

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
    let multi = Params { group_cold_starts: 10, ..Params::default() };
    println!("| conversation | participants | Polis groups | batch | replay, no restart | replay, final restart (default) | batch, 10 starts (opt-in) | replay updates | replay time |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut sums = [0.0; 4];
    let mut n = 0.0f64;
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let data = io::load(&dir)?;
        let polis = polis_groups(&dir)?;
        let n_polis_groups = polis.values().collect::<std::collections::HashSet<_>>().len();
        let cell = |a: &Analysis| {
            let (ari, _) = agreement(a, &polis);
            (ari, format!("{ari:.2} (k={})", a.groups.len()))
        };

        let batch = commonground::analyze(&data.votes, &data.statements, &Params::default())?;
        let mut cells = vec![cell(&batch)];
        let start = Instant::now();
        let batching = Batching { restarts: Restarts::None, ..Batching::default() };
        let mut conv = Conversation::replay(Params::default(), data.statements.clone(), &data.votes, &batching)?;
        let time = start.elapsed().as_secs_f64();
        cells.push(cell(conv.analysis().ok_or("no analysis")?));
        conv.restart();
        let restarted = conv.update(&VoteBatch::new())?;
        let updates = restarted.tick;
        cells.push(cell(restarted));
        cells.push(cell(&commonground::analyze(&data.votes, &data.statements, &multi)?));
        for (sum, (ari, _)) in sums.iter_mut().zip(&cells) {
            *sum += ari;
        }
        n += 1.0;
        let text: Vec<&str> = cells.iter().map(|(_, t)| t.as_str()).collect();
        println!(
            "| {name} | {} | {n_polis_groups} | {} | {updates} | {time:.1} s |",
            batch.n_participants,
            text.join(" | ")
        );
    }
    let means: Vec<String> = sums.iter().map(|s| format!("{:.2}", s / n.max(1.0))).collect();
    println!("| **mean** | | | {} | | |", means.join(" | "));
    Ok(())
}
