//! The human summary of an analysis: what a facilitator reads first. Groups and their sizes, what
//! each group stands for (its representative statements, with text and the group's agree share),
//! what everyone agrees on (consensus), and the statements every group agrees on
//! (group-aware consensus), and the bridging statements with their credible intervals.

use std::fmt::Write;

use crate::analysis::{Analysis, StatementResult};
use crate::stats::{RepfulFor, VoteCounts};
use crate::votes::Id;

/// Longest statement text shown, in characters; longer texts are cut with an ellipsis.
const TEXT_WIDTH: usize = 110;

fn short(text: Option<&str>) -> String {
    let t = text.unwrap_or("(no text)").split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > TEXT_WIDTH {
        let cut: String = t.chars().take(TEXT_WIDTH - 1).collect();
        format!("{cut}…")
    } else {
        t
    }
}

fn share(n: u32, of: u32) -> String {
    if of == 0 {
        "  — ".to_string()
    } else {
        format!("{:>3.0}%", 100.0 * n as f64 / of as f64)
    }
}

fn id_label(id: &Id) -> String {
    match id {
        Id::Int(n) => format!("#{n}"),
        Id::Str(s) => format!("#{s}"),
    }
}

/// Renders the summary. `title` names the conversation (e.g. its folder); `source` says how the
/// input was read (format, vote sign), when known.
pub fn summary(a: &Analysis, title: &str, source: Option<&str>) -> String {
    let mut out = String::new();
    let statement = |id: &Id| -> Option<&StatementResult> { a.statements.iter().find(|s| &s.id == id) };
    let in_conv = a.participants.iter().filter(|p| p.in_conv).count();
    let _ = writeln!(out, "commonground: {title}");
    if let Some(src) = source {
        let _ = writeln!(out, "  read as {src}");
    }
    let _ = writeln!(
        out,
        "  {} participants ({} in conversation), {} statements, {} votes",
        a.n_participants, in_conv, a.n_statements, a.n_votes
    );
    let sil: Vec<String> = a.k_selection.silhouettes.iter().map(|(k, s)| format!("k={k}: {s:.3}")).collect();
    let _ = writeln!(
        out,
        "  {} opinion groups (silhouette {}{})",
        a.groups.len(),
        sil.join(", "),
        match (a.k_selection.best_k, a.k_selection.k) {
            (Some(b), Some(k)) if b != k => format!("; best now k={b}, held at k={k} by the smoother"),
            _ => String::new(),
        }
    );
    if let Some(d) = &a.group_discovery {
        let tried: Vec<String> = d.bic.iter().map(|(k, c)| format!("k={k}: {c:.0}")).collect();
        let _ = writeln!(
            out,
            "  discovered from the votes (mixture model fitted on {} participants; criterion, lower is better: {})",
            d.n_fitted,
            tried.join(", ")
        );
    }

    for (g, reps) in a.groups.iter().zip(&a.repness) {
        let _ = writeln!(out, "\nGroup {} — {} participants", g.id, g.n_members);
        if reps.is_empty() {
            let _ = writeln!(out, "  (no representative statement)");
        }
        for r in reps {
            let counts: VoteCounts =
                a.statements.iter().position(|s| s.id == r.statement).map(|j| g.votes[j]).unwrap_or_default();
            let (verb, n) = match r.repful_for {
                RepfulFor::Agree => ("agree", counts.agree),
                RepfulFor::Disagree => ("disagree", counts.disagree),
            };
            let _ = writeln!(
                out,
                "  {} {:<8} of {:>4} voted  {:>6}  {}",
                share(n, counts.seen),
                verb,
                counts.seen,
                id_label(&r.statement),
                short(statement(&r.statement).and_then(|s| s.text.as_deref()))
            );
        }
    }

    let consensus_line = |out: &mut String, verb: &str, c: &crate::stats::ConsensusEntry<Id>| {
        let _ = writeln!(
            out,
            "  {} {verb} of {:>4} voted  {:>6}  {}",
            share(c.n_success, c.n_trials),
            c.n_trials,
            id_label(&c.statement),
            short(statement(&c.statement).and_then(|s| s.text.as_deref()))
        );
    };
    let _ = writeln!(out, "\nConsensus — what most participants agree on:");
    if a.consensus.agree.is_empty() {
        let _ = writeln!(out, "  (none significant)");
    }
    for c in &a.consensus.agree {
        consensus_line(&mut out, "agree ", c);
    }
    if !a.consensus.disagree.is_empty() {
        let _ = writeln!(out, "Consensus — what most participants reject:");
        for c in &a.consensus.disagree {
            consensus_line(&mut out, "disagree", c);
        }
    }

    let _ = writeln!(
        out,
        "\nGroup-aware consensus — top statements by Polis's measure (the product of the groups' agree rates):"
    );
    let mut ranked: Vec<(usize, &StatementResult)> =
        a.statements.iter().enumerate().filter(|(_, s)| !s.moderated_out).collect();
    ranked.sort_by(|x, y| y.1.group_aware_consensus.total_cmp(&x.1.group_aware_consensus));
    for (j, s) in ranked.into_iter().take(10) {
        let per_group: Vec<String> =
            a.groups.iter().map(|g| format!("g{} {}", g.id, share(g.votes[j].agree, g.votes[j].seen).trim())).collect();
        let _ = writeln!(
            out,
            "  {:.3}  {:>6}  [{}]  {}",
            s.group_aware_consensus,
            id_label(&s.id),
            per_group.join(", "),
            short(s.text.as_deref())
        );
    }
    bridging_section(&mut out, a);
    stability_section(&mut out, a);
    out
}

/// The "Group stability" section, when the analysis measured it: per candidate k, the silhouette
/// next to the bootstrap stability of each group.
fn stability_section(out: &mut String, a: &Analysis) {
    let Some(s) = &a.group_stability else { return };
    let _ = writeln!(
        out,
        "\nGroup stability — {} bootstrap replicates of the participants, reclustered (Hennig 2007: a group is \
         stable when its mean Jaccard with its best match is >= 0.75):",
        s.replicates
    );
    for (k, v) in &s.by_k {
        let groups: Vec<String> = v.groups.iter().map(|g| format!("g{} {:.2}", g.id, g.mean_jaccard)).collect();
        let _ = writeln!(
            out,
            "  k={k}: silhouette {:.3}, mean Jaccard {:.2} [{}], ARI {:.2}{}{}",
            v.silhouette,
            v.mean_jaccard,
            groups.join(", "),
            v.mean_ari,
            if v.stable { ", stable" } else { "" },
            if a.k_selection.k == Some(*k) { "  <- groups shown" } else { "" }
        );
    }
}

/// The "Bridging statements" section: the top statements by the chosen score, each with its
/// minimum group agreement and group-aware consensus and their credible intervals, the matrix
/// factorization's intercept when it ran, and each group's agree share.
fn bridging_section(out: &mut String, a: &Analysis) {
    let Some(b) = &a.bridging else { return };
    let pct = (b.interval * 100.0).round();
    let _ = writeln!(
        out,
        "\nBridging statements — top 10 by {}, with {pct:.0}% credible intervals.",
        b.rank_by.spec().map_or("", |s| s.display_name)
    );
    let _ = writeln!(
        out,
        "  * = common ground, every group agrees among those who took a side (lower bound of minimum \
         side-takers' agreement >= {:.2}): {} of {} statements.",
        b.threshold,
        b.common_ground.len(),
        b.ranking.len()
    );
    if !b.uncertain.is_empty() {
        let ids: Vec<String> = b.uncertain.iter().take(10).map(id_label).collect();
        let _ = writeln!(
            out,
            "  Uncertain, many passed: {} statements ({}{}).",
            b.uncertain.len(),
            ids.join(", "),
            if b.uncertain.len() > 10 { ", ..." } else { "" }
        );
    }
    let mf = b.mf.is_some();
    let _ = writeln!(
        out,
        "    {:<20}  {:<20}{}  agree per group",
        format!("min-group [{pct:.0}%]"),
        format!("GAC [{pct:.0}%]"),
        if mf { "      MF" } else { "" }
    );
    let column: std::collections::HashMap<&Id, usize> =
        a.statements.iter().enumerate().map(|(j, s)| (&s.id, j)).collect();
    for id in b.ranking.iter().take(10) {
        let Some(&j) = column.get(id) else { continue };
        let (s, sb) = (&a.statements[j], &b.statements[j]);
        let (m, g) = (&sb.min_group_agreement, &sb.group_aware_consensus);
        let per_group: Vec<String> = a
            .groups
            .iter()
            .map(|grp| format!("g{} {}", grp.id, share(grp.votes[j].agree, grp.votes[j].seen).trim()))
            .collect();
        let _ = writeln!(
            out,
            "  {} {:.3} [{:.3}, {:.3}]  {:.3} [{:.3}, {:.3}]{}  [{}]  {:>6}  {}",
            if sb.common_ground { '*' } else { ' ' },
            m.value,
            m.lower,
            m.upper,
            g.value,
            g.lower,
            g.upper,
            match (mf, sb.mf_intercept) {
                (false, _) => String::new(),
                (true, Some(x)) => format!("  {x:>6.3}"),
                (true, None) => "       —".to_string(),
            },
            per_group.join(", "),
            id_label(&s.id),
            short(s.text.as_deref())
        );
    }
    if let Some(fit) = &b.mf {
        let _ = writeln!(
            out,
            "  MF: Community Notes matrix factorization over {} votes (agree 1, disagree 0), {} sweeps{}, rmse {:.3}",
            fit.n_ratings,
            fit.sweeps,
            if fit.converged { "" } else { " (not converged)" },
            fit.rmse
        );
    }
}
