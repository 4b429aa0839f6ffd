//! How long a live conversation takes to absorb a batch of new votes: loads a conversation, runs
//! the first analysis, then applies batches of new votes (drawn from the same generator, as new
//! participants and statements keep arriving) and times each update and its stages.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin incremental_update -- 100000 2000 5000000 1000
//! ```
//! Arguments: participants, statements, votes, votes per update batch, number of updates (5). `CG_WARM=lanczos` uses the
//! fast warm start of the PCA (`Params::pca_warm_start`) instead of Polis's iteration.

use std::time::Instant;

use commonground::generate::{Synthetic, SyntheticParams};
use commonground::{Conversation, Params};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = |i: usize, default: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (participants, statements, votes, batch) = (arg(1, 100_000), arg(2, 2_000), arg(3, 5_000_000), arg(4, 1_000));
    let updates = arg(5, 5);
    let synthetic =
        Synthetic::new(SyntheticParams { participants, statements, votes, groups: 3, seed: 1, ..Default::default() })?;
    let mut all = synthetic.votes();
    // The last `updates x batch` votes arrive later, in batches.
    let later = all.split_off(all.len() - updates * batch);
    let warm_start = match std::env::var("CG_WARM").as_deref() {
        Ok("lanczos") => commonground::pca::WarmStart::Lanczos,
        _ => commonground::pca::WarmStart::Polis,
    };
    println!("PCA warm start: {warm_start:?}");
    let mut conv = Conversation::new(Params { pca_warm_start: warm_start, ..Params::default() })?;
    conv.set_statements(synthetic.statements());
    let start = Instant::now();
    conv.update(&all)?;
    println!("first analysis of {} votes: {:.0} ms", all.len(), start.elapsed().as_secs_f64() * 1000.0);
    for (i, chunk) in later.chunks(batch).enumerate() {
        let start = Instant::now();
        let (iterations, groups) = {
            let a = conv.update(chunk)?;
            (a.pca.iterations, a.groups.len())
        };
        let t = conv.timings();
        println!(
            "update {}: {} votes in {:.0} ms (matrix {:.0}, pca {:.0} in {:?} products, clustering {:.0}, statistics {:.0}, bridging {:.0}, mf {:.0} beside the other stages); {} groups",
            i + 1,
            chunk.len(),
            start.elapsed().as_secs_f64() * 1000.0,
            t.matrix.as_secs_f64() * 1000.0,
            t.pca.as_secs_f64() * 1000.0,
            iterations,
            t.clustering.as_secs_f64() * 1000.0,
            t.statistics.as_secs_f64() * 1000.0,
            t.bridging.as_secs_f64() * 1000.0,
            t.mf.as_secs_f64() * 1000.0,
            groups
        );
    }
    Ok(())
}
