//! How closely commonground reproduces the math Polis's own worker stored, from the votes alone,
//! on the conversations of `shared/data/polis-math` (each a Polis API dump or export plus the
//! `math-pca2.json` Polis stored for it): for a one-batch analysis and for replays that model
//! different histories of Polis's worker (`Restarts`), the group ARI against Polis's groups, the
//! repness Jaccard, the number of groups and whether the in-conversation set is Polis's.
//!
//! Each analysis goes through `Conversation::run`, as `commonground analyze DIR [--replay
//! --replay-restarts R] --format polis` does.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin polis_fidelity -- ../shared/data/polis-math
//! ```

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use commonground::cluster::adjusted_rand_index;
use commonground::io::{self, PolisMath, PolisState};
use commonground::{Analysis, Batching, Conversation, Id, Mode, Request, Restarts};
use serde_json::Value;

/// Group ARI over the participants both grouped, and, with each of our groups named after the
/// Polis group it shares most participants with, the Jaccard index of the (group, statement)
/// pairs of the two repness lists.
fn fidelity(analysis: &Analysis, polis: &HashMap<Id, u32>, gold: &Value) -> (f64, f64) {
    let pairs: Vec<(u32, u32)> =
        analysis.participants.iter().filter_map(|p| Some((p.group?, *polis.get(&p.id)?))).collect();
    let (ours, theirs): (Vec<u32>, Vec<u32>) = pairs.iter().copied().unzip();
    let mut overlap: HashMap<u32, HashMap<u32, usize>> = HashMap::new();
    for (o, t) in &pairs {
        *overlap.entry(*o).or_default().entry(*t).or_default() += 1;
    }
    let name: HashMap<u32, u32> = overlap
        .iter()
        .filter_map(|(o, counts)| {
            counts.iter().max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t))).map(|(t, _)| (*o, *t))
        })
        .collect();
    let repness = |blob: &Value, rename: &dyn Fn(u32) -> u32| -> BTreeSet<(u32, i64)> {
        let mut out = BTreeSet::new();
        for (gid, list) in blob["repness"].as_object().into_iter().flatten() {
            let Ok(gid) = gid.parse::<u32>() else { continue };
            for e in list.as_array().into_iter().flatten() {
                if let Some(tid) = e["tid"].as_i64() {
                    out.insert((rename(gid), tid));
                }
            }
        }
        out
    };
    let ours_json = serde_json::to_value(PolisMath::from_analysis(analysis)).unwrap_or(Value::Null);
    let a = repness(&ours_json, &|g| name.get(&g).copied().unwrap_or(u32::MAX));
    let b = repness(gold, &|g| g);
    let union = a.union(&b).count();
    let jaccard = if union == 0 { 1.0 } else { a.intersection(&b).count() as f64 / union as f64 };
    (adjusted_rand_index(&ours, &theirs), jaccard)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/data/polis-math".into()));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("math-pca2.json").exists())
        .collect();
    dirs.sort();
    let replay = |restarts: Restarts, max_updates: Option<usize>| {
        Mode::Replay(Batching { restarts, max_updates, ..Batching::default() })
    };
    let variants: Vec<(&str, Mode)> = vec![
        ("batch", Mode::OneBatch),
        ("replay, no restart, 2,000-update cap (before)", replay(Restarts::None, Some(2000))),
        ("replay, no restart", replay(Restarts::None, None)),
        ("replay, final restart (default)", replay(Restarts::Final, None)),
        ("replay, restarts at gaps of 1 day", replay(Restarts::Gaps(86_400_000), None)),
    ];
    println!("| fixture | Polis: in-conv, k | analysis | k | group ARI | repness Jaccard | in-conv = Polis's | updates | time |");
    println!("|---|---|---|---:|---:|---:|---|---:|---:|");
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let data = io::load(&dir)?;
        let path = dir.join("math-pca2.json");
        let text = std::fs::read_to_string(&path)?;
        let gold: Value = serde_json::from_str(&text)?;
        let state = PolisState::from_json(&text, &path)?;
        let polis = state.participant_groups();
        let polis_in_conv: BTreeSet<&Id> = state.in_conv.iter().collect();
        for (label, mode) in &variants {
            let start = Instant::now();
            let request = Request { mode: mode.clone(), ..Request::default() };
            let conv = Conversation::run(&request, data.statements.clone(), &data.votes)?;
            let elapsed = start.elapsed();
            let a = conv.analysis().ok_or("no analysis")?;
            let (ari, jaccard) = fidelity(a, &polis, &gold);
            let in_conv: BTreeSet<&Id> = a.participants.iter().filter(|p| p.in_conv).map(|p| &p.id).collect();
            let same = if in_conv == polis_in_conv {
                "yes".to_string()
            } else {
                format!(
                    "no ({} missing, {} extra)",
                    polis_in_conv.difference(&in_conv).count(),
                    in_conv.difference(&polis_in_conv).count()
                )
            };
            println!(
                "| {name} | {}, {} | {label} | {} | {ari:.2} | {jaccard:.2} | {same} | {} | {:.1} s |",
                polis_in_conv.len(),
                state.group_clusters.len(),
                a.groups.len(),
                a.tick,
                elapsed.as_secs_f64()
            );
        }
    }
    Ok(())
}
