//! The bridging statements of the bundled vTaiwan UberX conversation, as a facilitator would read
//! them: the top statements by each score, with their texts, each group's agree share, and the
//! credible intervals; then the statements the matrix factorization finds most polarising.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin bridging_vtaiwan [conversation folder] [top n]
//! ```

use std::path::PathBuf;

use commonground::bridging::{Bridging, StatementBridging};
use commonground::{analyze, io, Analysis, Params};

/// A ranking method: its name and its score of statement j.
type Method<'a> = (&'static str, Box<dyn Fn(usize) -> f64 + 'a>);

/// One statement's line: score, min-group interval, per-group agree share, MF, id and text.
fn line(a: &Analysis, b: &Bridging, j: usize, score: f64) -> String {
    let (s, sb): (_, &StatementBridging) = (&a.statements[j], &b.statements[j]);
    let shares: Vec<String> = a
        .groups
        .iter()
        .map(|g| {
            let c = g.votes[j];
            if c.seen == 0 {
                format!("g{} —", g.id)
            } else {
                format!("g{} {:.0}% of {}", g.id, 100.0 * c.agree as f64 / c.seen as f64, c.seen)
            }
        })
        .collect();
    let m = &sb.min_group_agreement;
    let text: String = s.text.as_deref().unwrap_or("").chars().take(90).collect();
    format!(
        "| {score:.3} | {:.2} [{:.2}, {:.2}] | {} | {} | {}{} | {} |",
        m.value,
        m.lower,
        m.upper,
        shares.join(", "),
        sb.mf_intercept.map_or("—".into(), |x| format!("{x:.3}")),
        s.id,
        if sb.common_ground { " *" } else { "" },
        text.replace('|', "/")
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/vtaiwan.uberx")));
    let top: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let data = io::load(&path)?;
    let a = analyze(&data.votes, &data.statements, &Params::default())?;
    let b = a.bridging.as_ref().ok_or("no groups, so no bridging scores")?;
    println!(
        "# Bridging statements of {}\n\n{} participants, {} statements, {} votes, {} groups ({}). \
         * = common ground: with {:.0}% credibility every group agrees more often than not.\n",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        a.n_participants,
        a.n_statements,
        a.n_votes,
        a.groups.len(),
        a.groups.iter().map(|g| format!("g{}: {} members", g.id, g.n_members)).collect::<Vec<_>>().join(", "),
        b.interval * 100.0
    );
    let rankable: Vec<usize> =
        (0..a.statements.len()).filter(|&j| !a.statements[j].moderated_out && !a.statements[j].is_meta).collect();
    let everyone = |j: usize| {
        let s = &a.statements[j];
        (s.n_agree as f64 + 1.0) / ((s.n_agree + s.n_disagree + s.n_pass) as f64 + 2.0)
    };
    let methods: [Method; 5] = [
        ("Agree rate over everyone (no groups)", Box::new(everyone)),
        ("Polis group-aware consensus (product over groups)", Box::new(|j| a.statements[j].group_aware_consensus)),
        ("Minimum group agreement", Box::new(|j| b.statements[j].min_group_agreement.value)),
        (
            "Lower 90% bound of minimum group agreement (commonground's default ranking)",
            Box::new(|j| b.statements[j].min_group_agreement.lower),
        ),
        (
            "Matrix-factorization intercept (Community Notes; no groups)",
            Box::new(|j| b.statements[j].mf_intercept.unwrap_or(f64::NEG_INFINITY)),
        ),
    ];
    for (name, score) in &methods {
        let mut order = rankable.clone();
        order.sort_by(|&x, &y| score(y).total_cmp(&score(x)));
        println!("## {name}\n");
        println!("| score | min-group [90%] | agree per group | MF | id | text |");
        println!("|---:|---|---|---:|---:|---|");
        for &j in order.iter().take(top) {
            println!("{}", line(&a, b, j, score(j)));
        }
        println!();
    }
    let mut polar = rankable.clone();
    let factor = |j: usize| b.statements[j].mf_factor.unwrap_or(0.0);
    polar.sort_by(|&x, &y| factor(y).abs().total_cmp(&factor(x).abs()));
    println!("## Most polarising by the matrix factorization (largest |factor|; the sign says which side agrees)\n");
    println!("| factor | min-group [90%] | agree per group | MF | id | text |");
    println!("|---:|---|---|---:|---:|---|");
    for &j in polar.iter().take(top) {
        println!("{}", line(&a, b, j, factor(j)));
    }
    Ok(())
}
