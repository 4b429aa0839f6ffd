//! The human summary of an analysis: what a facilitator reads first. Groups and their sizes, what
//! sets each group apart (its representative statements, with text), then one section for what
//! everyone agrees on: the common ground (every group agrees, with its credible bound) and Polis's
//! consensus (most participants agree, groups aside).
//!
//! Every "n%" of votes is [`percent`]: the share of those who voted on the statement, passes
//! counted among the votes, the same number Python's frames carry in their `percent` columns.

use std::borrow::Cow;
use std::fmt::Write;

use crate::analysis::{Analysis, StatementResult};
use crate::bridging::{Bridging, BridgingScore, MergedSubgroup, MERGED_MIN_STATEMENTS};
use crate::stats::{percent, ConsensusEntry, RepfulFor, VoteCounts};
use crate::votes::Id;

/// Longest statement text shown, in characters; longer texts are cut with an ellipsis.
const TEXT_WIDTH: usize = 110;

/// Statements listed per part of "What everyone agrees on".
const LISTED: usize = 10;

fn short(text: Option<&str>) -> String {
    let t = text.unwrap_or("(no text)").split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > TEXT_WIDTH {
        let cut: String = t.chars().take(TEXT_WIDTH - 1).collect();
        format!("{}…", terminal_safe(&cut))
    } else {
        terminal_safe(&t).into_owned()
    }
}

/// Whether `c` would act on a terminal rather than print: a control character (C0, DEL, C1: ESC
/// starts colour, cursor and OSC sequences, BEL rings), a bidirectional control (which reorders
/// what follows it on the line, "Trojan Source"), or a line or paragraph separator.
fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Text from participants made safe to print on a terminal: every character that would act on
/// it (see `acts_on_terminal`) is written as its escape, `\u{1b}`; everything else is unchanged.
/// The summary prints statement texts, ids and titles through it; the JSON outputs stay exact.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts_on_terminal(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `n of` as "88%", right-aligned in four characters; "  —" when nobody voted. The one way the
/// writers print a share ([`percent`]).
pub(super) fn share(n: u32, of: u32) -> String {
    percent(n, of).map_or_else(|| "   —".to_string(), |p| format!("{p:>3}%"))
}

/// A count as people read it, its digits in groups of three: "4,248,447 votes", not "4248447".
/// The one way the summary and the HTML report print a number of participants, statements or
/// votes (ids and percentages are printed as they are).
pub(super) struct Count(pub(super) u64);

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.0.to_string();
        for (k, d) in digits.chars().enumerate() {
            if k > 0 && (digits.len() - k) % 3 == 0 {
                f.write_char(',')?;
            }
            f.write_char(d)?;
        }
        Ok(())
    }
}

/// [`Count`] of any unsigned count.
pub(super) fn count(n: impl TryInto<u64>) -> Count {
    Count(n.try_into().unwrap_or(u64::MAX))
}

/// How a representative statement stands for its group, as the writers word it ("agree" or
/// "disagree"), and how many of the group's `counts` voted that way.
pub(super) fn repful_count(repful_for: RepfulFor, counts: &VoteCounts) -> (&'static str, u32) {
    match repful_for {
        RepfulFor::Agree => ("agree", counts.agree),
        RepfulFor::Disagree => ("disagree", counts.disagree),
    }
}

/// How the writers name a statement: `#` and its id.
pub(super) fn id_label(id: &Id) -> String {
    match id {
        Id::Int(n) => format!("#{n}"),
        Id::Str(s) => format!("#{}", terminal_safe(s)),
    }
}

/// Renders the summary. `title` names the conversation (e.g. its folder); `source` says how the
/// input was read (format, vote sign), when known.
pub fn summary(a: &Analysis, title: &str, source: Option<&str>) -> String {
    let mut out = String::new();
    let in_conv = a.participants.iter().filter(|p| p.in_conv).count();
    let _ = writeln!(out, "commonground: {}", terminal_safe(title));
    if let Some(src) = source {
        let _ = writeln!(out, "  read as {}", terminal_safe(src));
    }
    let _ = writeln!(
        out,
        "  {} participants ({} in conversation), {} statements, {} votes",
        count(a.n_participants),
        count(in_conv),
        count(a.n_statements),
        count(a.n_votes)
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
    if !a.moderation.meta.is_empty() {
        let ids: Vec<String> = a.moderation.meta.iter().map(id_label).collect();
        let _ = writeln!(out, "  meta statements, left out of the results: {}", ids.join(", "));
    }
    if let Some(d) = &a.group_discovery {
        let tried: Vec<String> = d.bic.iter().map(|(k, c)| format!("k={k}: {c:.0}")).collect();
        let _ = writeln!(
            out,
            "  discovered from the votes (mixture model fitted on {} participants; criterion, lower is better: {})",
            count(d.n_fitted),
            tried.join(", ")
        );
    }
    groups_section(&mut out, a);
    merged_section(&mut out, a);
    agreement_section(&mut out, a);
    stability_section(&mut out, a);
    out
}

/// One section per group: what sets it apart (Polis's representative statements), each as the
/// share of the group's voters who agree (or disagree) next to the share of everyone else in a
/// group, so that "10% disagree" reads as "10%, against 2% elsewhere".
fn groups_section(out: &mut String, a: &Analysis) {
    let column = |id: &Id| a.statements.iter().position(|s| &s.id == id);
    for (g, reps) in a.groups.iter().zip(&a.repness) {
        let _ = writeln!(out, "\nGroup {} — {} participants", g.id, count(g.n_members));
        if reps.is_empty() {
            let _ = writeln!(out, "  (no representative statement)");
            continue;
        }
        let _ = writeln!(
            out,
            "  What sets it apart: the share of the group's voters (passes count as votes), and of the other groups'."
        );
        for r in reps {
            let Some(j) = column(&r.statement) else { continue };
            // Polis's "rest" (repness.clj): every clustered participant outside the group.
            let mut others = VoteCounts::default();
            a.groups.iter().filter(|o| o.id != g.id).for_each(|o| others.add(&o.votes[j]));
            let (verb, n_others) = repful_count(r.repful_for, &others);
            let _ = writeln!(
                out,
                "  {verb:<8} {} of {:>4}  (others {})  {:>6}  {}",
                share(r.n_success, r.n_trials),
                r.n_trials,
                share(n_others, others.seen),
                id_label(&r.statement),
                short(a.statements[j].text.as_deref())
            );
        }
    }
}

/// The one wording of the uncertain rule ([`Bridging::uncertain`]), for the summary and the HTML
/// report alike.
pub(crate) fn uncertain_rule(b: &Bridging) -> String {
    format!(
        "with {:.0}% credibility, at least {:.0}% of the grouped participants who saw it passed",
        100.0 * b.interval,
        100.0 * b.uncertain_pass_rate
    )
}

/// The one wording of a merged subgroup ([`Bridging::merged`]), for the summary and the HTML report.
pub(crate) fn merged_line(m: &MergedSubgroup) -> String {
    format!(
        "subgroup {}: {} participants ({:.0}% of those in groups) inside group {} differ from its core (subgroup {}) \
         on {}",
        m.subgroup,
        count(m.n_members),
        100.0 * m.share,
        m.group,
        m.core,
        statement_list(&m.statements)
    )
}

/// `"N statements (#a, #b, ...)"`: the count, then the first [`LISTED`] ids, `...` when there are
/// more. The one wording of a list of statements in the summary and the HTML report.
fn statement_list(ids: &[Id]) -> String {
    let shown: Vec<String> = ids.iter().take(LISTED).map(id_label).collect();
    format!("{} statements ({}{})", ids.len(), shown.join(", "), if ids.len() > LISTED { ", ..." } else { "" })
}

/// The heading of what was merged: what a listed subgroup is.
pub(crate) fn merged_heading(b: &Bridging) -> String {
    format!(
        "Smaller groups the opinion groups merge: pools of nearby base clusters (at least {:.0}% of those in groups \
         each) whose side-takers, with {:.0}% credibility over all the statements compared, agree more or less than \
         their group's core (its largest pool) on at least {MERGED_MIN_STATEMENTS} statements",
        100.0 * b.subgroup_min_share,
        100.0 * b.interval
    )
}

/// What the groups hide, when they hide a smaller group (see [`merged_line`]).
fn merged_section(out: &mut String, a: &Analysis) {
    let Some(b) = a.bridging.as_ref().filter(|b| !b.merged.is_empty()) else { return };
    let _ = writeln!(
        out,
        "
Hidden in the groups
  {}:",
        merged_heading(b)
    );
    for m in &b.merged {
        let _ = writeln!(out, "  {}.", merged_line(m));
    }
}

/// "What everyone agrees on": the common ground (every group agrees, with the analysis's
/// credibility), ranked by the bridging score, then Polis's consensus over all participants.
fn agreement_section(out: &mut String, a: &Analysis) {
    let _ = writeln!(out, "\nWhat everyone agrees on");
    if let Some(b) = &a.bridging {
        let credible = (b.interval * 100.0).round();
        let spec = b.rank_by.spec();
        let _ = writeln!(
            out,
            "  Common ground: {} of {} statements every group agrees with.\n  \"every group >= X%\": with \
             {credible:.0}% credibility, in every group at least X% of those who took a side agree (common ground \
             when X >= {:.0}%);\n  \"g0 Y%\": Y% of group 0's voters agreed (passes count as votes).",
            count(b.common_ground.len()),
            count(b.ranking.len()),
            b.threshold * 100.0,
        );
        let column: std::collections::HashMap<&Id, usize> =
            a.statements.iter().enumerate().map(|(j, s)| (&s.id, j)).collect();
        // Listed by the bound shown first on each line (the flag's), whatever ranks the bridging
        // table; ties keep the ranking's order.
        let bound = |id: &Id| column.get(id).map_or(f64::NEG_INFINITY, |&j| b.statements[j].min_side_agreement.lower);
        fn by<'a>(ids: &'a [Id], key: &dyn Fn(&Id) -> f64) -> Vec<&'a Id> {
            let mut ids: Vec<&Id> = ids.iter().collect();
            ids.sort_by(|x, y| key(y).total_cmp(&key(x)));
            ids
        }
        let shown = BridgingScore::MinSideLower.spec().map_or("", |s| s.display_name);
        let listed: Vec<&Id> = if b.common_ground.is_empty() {
            let _ = writeln!(out, "  None yet; the closest, by {shown}:");
            by(&b.ranking, &bound).into_iter().take(LISTED / 2).collect()
        } else {
            let _ = writeln!(out, "  The first {}, by {shown}:", b.common_ground.len().min(LISTED));
            by(&b.common_ground, &bound).into_iter().take(LISTED).collect()
        };
        // The ranking score beside, unless it is the bound shown first.
        let score = spec.filter(|s| s.score != BridgingScore::MinSideLower);
        for id in listed {
            let Some(&j) = column.get(id) else { continue };
            let sb = &b.statements[j];
            let per_group: Vec<String> = a
                .groups
                .iter()
                .map(|g| format!("g{} {}", g.id, share(g.votes[j].agree, g.votes[j].seen).trim_start()))
                .collect();
            let _ = writeln!(
                out,
                "  every group >= {:>3.0}%  {}{}  {:>6}  {}",
                // Floored: the bound is a floor, and "at least 89%" must not round up.
                (sb.min_side_agreement.lower * 100.0).floor(),
                per_group.join("  "),
                match score.and_then(|s| s.value(sb).map(|v| (s.short_name, v))) {
                    Some((name, v)) => format!("  ({name} {v:.3})"),
                    None => String::new(),
                },
                id_label(id),
                short(a.statements[j].text.as_deref())
            );
        }
        if !b.hidden_disagreement.is_empty() {
            let _ = writeln!(
                out,
                "  Not common ground, though every group agrees: a smaller group inside one credibly disagrees: {}.",
                statement_list(&b.hidden_disagreement)
            );
        }
        if !b.unresolved.is_empty() {
            let _ = writeln!(
                out,
                "  Not common ground, though every group agrees: too few votes to rule out a hidden minority of {:.0}%: \
                 {}.",
                100.0 * b.subgroup_min_share,
                statement_list(&b.unresolved)
            );
        }
        if !b.uncertain.is_empty() {
            let _ =
                writeln!(out, "  Uncertain, many passed ({}): {}.", uncertain_rule(b), statement_list(&b.uncertain));
        }
        if let (Some(fit), BridgingScore::MfIntercept) = (&b.mf, b.rank_by) {
            let _ = writeln!(
                out,
                "  Ranked by the Community Notes matrix factorization over {} votes (agree 1, disagree 0), {} \
                 sweeps{}, rmse {:.3}.",
                count(fit.n_ratings),
                fit.sweeps,
                if fit.converged { "" } else { " (stopped at its sweep budget)" },
                fit.rmse
            );
        }
    }
    let statement = |id: &Id| -> Option<&StatementResult> { a.statements.iter().find(|s| &s.id == id) };
    let consensus = |out: &mut String, verb: &str, entries: &[ConsensusEntry<Id>]| {
        let _ = writeln!(
            out,
            "  Most participants {verb}, all groups together (Polis's consensus):{}",
            if entries.is_empty() { " none significant." } else { "" }
        );
        for c in entries {
            let _ = writeln!(
                out,
                "  {} of {:>4} voters {verb:<8}  {:>6}  {}",
                share(c.n_success, c.n_trials),
                c.n_trials,
                id_label(&c.statement),
                short(statement(&c.statement).and_then(|s| s.text.as_deref()))
            );
        }
    };
    consensus(out, "agree", &a.consensus.agree);
    if !a.consensus.disagree.is_empty() {
        consensus(out, "disagree", &a.consensus.disagree);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_in_participants_text_are_escaped_and_plain_text_is_kept() {
        let hostile = "a\u{1b}]0;owned\u{7}b\u{1b}[2Jc\u{202e}d\u{2066}e\u{9b}f\r";
        assert_eq!(terminal_safe(hostile), "a\\u{1b}]0;owned\\u{7}b\\u{1b}[2Jc\\u{202e}d\\u{2066}e\\u{9b}f\\u{d}");
        let plain = "Ça va — 你好, ok? ‘quotes’ and emoji 🙂";
        assert!(matches!(terminal_safe(plain), Cow::Borrowed(_)));
        assert!(!short(Some(hostile)).chars().any(acts_on_terminal));
        assert_eq!(id_label(&Id::Str("x\u{1b}[31m".into())), "#x\\u{1b}[31m");
    }
    #[test]
    fn counts_are_printed_in_groups_of_three_digits() {
        // Every length from 1 to 20 digits against a grouping built from the other end.
        let mut n: u64 = 0;
        for digit in [1u64, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9] {
            let plain = n.to_string();
            let mut reference: Vec<char> = Vec::new();
            for (k, c) in plain.chars().rev().enumerate() {
                if k > 0 && k % 3 == 0 {
                    reference.push(',');
                }
                reference.push(c);
            }
            let reference: String = reference.into_iter().rev().collect();
            assert_eq!(count(n).to_string(), reference, "{n}");
            n = n * 10 + digit;
        }
        assert_eq!(count(4_248_447u64).to_string(), "4,248,447");
        assert_eq!(count(999usize).to_string(), "999");
        assert_eq!(count(1000u32).to_string(), "1,000");
        assert_eq!(count(u64::MAX).to_string(), "18,446,744,073,709,551,615");
    }
}
