//! The shareable report: one self-contained HTML page that a facilitator can send to the people of
//! a deliberation, the counterpart of Polis's report page. It holds the overview, the opinion map
//! (inline SVG, `map.rs`), what each group stands for with every group's agree / disagree / pass
//! bars, what everyone agrees on (common ground and consensus, with credible intervals), where
//! people are unsure, the bridging ranking, the groups' stability when it was measured, and notes
//! on the data.
//!
//! The page works offline and runs nothing: its styles are inline (`report.css`), it has no
//! script, and its Content-Security-Policy forbids scripts and every fetch, so a statement
//! containing `<script>` is shown as text (every participant-written text is escaped besides).
//! Statement text is marked `dir="auto"`, so right-to-left text reads right to left, and the font
//! list names CJK fonts. Percentages are the summary's ([`super::summary::share`]): one definition
//! for every writer.
//!
//! [`card`] is the compact version a notebook shows (Python's `Analysis._repr_html_`).

mod map;

use std::collections::HashMap;
use std::fmt::Write;

use crate::analysis::{Analysis, StatementResult};
use crate::bridging::{Estimate, SCORES};
use crate::io::writers::summary::{count, id_label, merged_heading, merged_line, repful_count, share, uncertain_rule};
use crate::io::SourceInfo;
use crate::stats::VoteCounts;
use crate::votes::Id;

const STYLE: &str = include_str!("report.css");
/// No script, no fetch of any kind: styles and images are inline.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/// Rows of the bridging table, and of the common ground shown in full.
const BRIDGING_ROWS: usize = 15;
const COMMON_GROUND_SHOWN: usize = 10;
/// Uncertain statements shown as cards (Polis's report shows five); the rest are named.
const UNCERTAIN_SHOWN: usize = 5;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// How the report names a group (as the summary does).
fn group_name(id: u32) -> String {
    format!("Group {id}")
}

/// A statement's text as the report shows it: escaped, in an element whose direction follows the
/// text.
fn statement_text(s: &StatementResult) -> String {
    match &s.text {
        Some(t) => format!("<span class=\"text\" dir=\"auto\">{}</span>", escape(t)),
        None => "<span class=\"text missing\">(no text)</span>".to_string(),
    }
}

/// One row of vote bars: who, the agree / disagree / pass bar, and the numbers in words.
fn vote_row(out: &mut String, who: &str, icon: &str, agree: u32, disagree: u32, seen: u32) {
    let pass = seen.saturating_sub(agree + disagree);
    // Bar widths are exact fractions; the printed numbers are the summary's whole percentages.
    let width = |n: u32| if seen > 0 { 100.0 * f64::from(n) / f64::from(seen) } else { 0.0 };
    let _ = write!(
        out,
        "<div class=\"vote-row\" role=\"listitem\"><span class=\"who\">{icon}{who}</span>\
         <span class=\"bar\" aria-hidden=\"true\"><span class=\"a\" style=\"width:{:.1}%\"></span>\
         <span class=\"d\" style=\"width:{:.1}%\"></span><span class=\"p\" style=\"width:{:.1}%\"></span></span>\
         <span class=\"nums\">{}",
        width(agree),
        width(disagree),
        width(pass),
        who_numbers(agree, disagree, pass, seen)
    );
    out.push_str("</span></div>");
}

fn who_numbers(agree: u32, disagree: u32, pass: u32, seen: u32) -> String {
    if seen == 0 {
        return "no votes".to_string();
    }
    format!(
        "<b class=\"a\">{} agree</b> · <b class=\"d\">{} disagree</b> · {} pass <span class=\"n\">of {}</span>",
        share(agree, seen).trim(),
        share(disagree, seen).trim(),
        share(pass, seen).trim(),
        count(seen)
    )
}

/// Every group's bars for statement `j`, and everyone's.
fn vote_bars(out: &mut String, a: &Analysis, j: usize) {
    out.push_str("<div class=\"votes\" role=\"list\" aria-label=\"Votes by group\">");
    for (g, grp) in a.groups.iter().enumerate() {
        let c: VoteCounts = grp.votes.get(j).copied().unwrap_or_default();
        vote_row(out, &group_name(grp.id), &map::group_icon(g), c.agree, c.disagree, c.seen);
    }
    let s = &a.statements[j];
    vote_row(out, "Everyone", "", s.n_agree, s.n_disagree, s.n_agree + s.n_disagree + s.n_pass);
    out.push_str("</div>");
}

/// An estimate with its interval, in words and as a small interval drawing on [0, 1].
fn estimate(e: &Estimate, pct: f64) -> String {
    let at = |v: f64| 100.0 * v.clamp(0.0, 1.0);
    format!(
        "<span class=\"estimate\"><svg class=\"interval\" viewBox=\"0 0 100 10\" aria-hidden=\"true\"><line class=\"axis\" \
         x1=\"0\" y1=\"5\" x2=\"100\" y2=\"5\"/><line class=\"half\" x1=\"50\" y1=\"1\" x2=\"50\" y2=\"9\"/><line \
         class=\"range\" x1=\"{:.1}\" y1=\"5\" x2=\"{:.1}\" y2=\"5\"/><circle cx=\"{:.1}\" cy=\"5\" r=\"2.5\"/></svg>\
         {:.2} <span class=\"ci\">[{:.2}, {:.2}] {pct:.0}%</span></span>",
        at(e.lower),
        at(e.upper),
        at(e.value),
        e.value,
        e.lower,
        e.upper
    )
}

/// A statement card: number, text, a line saying why it is here, and the bars.
fn statement_card(out: &mut String, a: &Analysis, j: usize, why: &str) {
    let s = &a.statements[j];
    let _ = write!(
        out,
        "<article class=\"statement\"><p class=\"says\"><span class=\"sid\">{}</span> {}</p>",
        id_label(&s.id),
        statement_text(s)
    );
    if !why.is_empty() {
        let _ = write!(out, "<p class=\"why\">{why}</p>");
    }
    vote_bars(out, a, j);
    out.push_str("</article>");
}

/// What the common-ground flag reads for statement `j`: the least agreeing group's agreement among
/// those who took a side, with its interval, and the subgroup most against it when one credibly
/// disagrees.
fn least_agreeing(a: &Analysis, j: usize) -> String {
    let Some((b, sb)) = a.bridging.as_ref().and_then(|b| b.statements.get(j).map(|sb| (b, sb))) else {
        return String::new();
    };
    let pct = 100.0 * b.interval;
    let mut text =
        format!("Least agreeing group, among those who took a side: {}", estimate(&sb.min_side_agreement, pct));
    if let Some(w) = sb.weakest_subgroup.filter(|w| w.disagrees) {
        let _ = write!(
            text,
            ". But {} participants inside {} (subgroup {}) disagree: {}",
            count(w.n_members),
            group_name(w.group),
            w.subgroup,
            estimate(&w.side_agreement, pct)
        );
    }
    text
}

/// Renders the report. `title` names the conversation; `source` is how it was read, when it was
/// read from files.
pub fn html_report(a: &Analysis, title: &str, source: Option<&SourceInfo>) -> String {
    let column: HashMap<&Id, usize> = a.statements.iter().enumerate().map(|(j, s)| (&s.id, j)).collect();
    let mut out = String::with_capacity(256 * 1024);
    let title = escape(title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"commonground {}\">\
         <title>{title}: opinion groups and common ground</title><style>{STYLE}</style></head><body>\n",
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(
        out,
        "<header><p class=\"kicker\">Deliberation report</p><h1 dir=\"auto\">{title}</h1><nav aria-label=\"Sections\">\
         <a href=\"#overview\">Overview</a><a href=\"#map\">Opinion map</a><a href=\"#groups\">Groups</a>\
         <a href=\"#agreement\">Common ground</a><a href=\"#uncertain\">Uncertain</a><a href=\"#bridging\">Bridging</a>{}\
         <a href=\"#data\">About the data</a></nav></header><main>",
        if a.group_stability.is_some() { "<a href=\"#stability\">Stability</a>" } else { "" }
    );
    overview(&mut out, a);
    map_section(&mut out, a);
    groups_section(&mut out, a, &column);
    agreement_section(&mut out, a, &column);
    uncertain_section(&mut out, a);
    bridging_section(&mut out, a, &column);
    stability_section(&mut out, a);
    data_section(&mut out, a, source);
    let _ = write!(
        out,
        "</main><footer>Computed by commonground {} with the Pol.is math: the same groups, representative statements \
         and consensus as Polis, and bridging scores with credible intervals.</footer></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    out.push('\n');
    out
}

fn overview(out: &mut String, a: &Analysis) {
    let in_conv = a.participants.iter().filter(|p| p.in_conv).count();
    let stat = |out: &mut String, n: usize, what: &str| {
        let _ = write!(out, "<div class=\"stat\"><dt>{what}</dt><dd>{}</dd></div>", count(n));
    };
    out.push_str("<section id=\"overview\" aria-labelledby=\"overview-h\"><h2 id=\"overview-h\">Overview</h2><dl class=\"stats\">");
    stat(out, a.n_participants, "participants");
    stat(out, in_conv, "in the groups' analysis");
    stat(out, a.n_statements, "statements");
    stat(out, a.n_votes, "votes");
    stat(out, a.groups.len(), "opinion groups");
    out.push_str("</dl>");
    if !a.groups.is_empty() {
        let sizes: Vec<String> = a
            .groups
            .iter()
            .enumerate()
            .map(|(g, grp)| {
                format!("{}{} ({} participants)", map::group_icon(g), group_name(grp.id), count(grp.n_members))
            })
            .collect();
        let _ = write!(
            out,
            "<p>Participants who voted alike fall into {} opinion groups: {}. Participants with too few votes \
             ({} here) are shown on the map but not placed in a group.</p>",
            a.groups.len(),
            sizes.join(", "),
            count(a.n_participants - in_conv)
        );
    }
    out.push_str("</section>\n");
}

fn map_section(out: &mut String, a: &Analysis) {
    out.push_str("<section id=\"map\" aria-labelledby=\"map-h\"><h2 id=\"map-h\">Opinion map</h2><figure>");
    out.push_str(&map::opinion_map(a));
    out.push_str("<figcaption><ul class=\"legend\">");
    for (g, grp) in a.groups.iter().enumerate() {
        let _ = write!(
            out,
            "<li>{}{} ({})</li>",
            map::group_icon(g),
            group_name(grp.id),
            map::SHAPES[g % map::SHAPES.len()]
        );
    }
    out.push_str(
        "<li><svg class=\"icon\" viewBox=\"-6 -6 12 12\" width=\"12\" height=\"12\" aria-hidden=\"true\"><circle r=\"3.5\" \
         fill=\"none\" stroke=\"#555\"/></svg>not clustered</li><li><svg class=\"icon\" viewBox=\"-6 -6 12 12\" \
         width=\"12\" height=\"12\" aria-hidden=\"true\"><circle r=\"3\" fill=\"#222\"/></svg>statement</li></ul>\
         <p>Each mark is a participant; participants who voted alike are close together. A numbered point is a \
         representative statement, placed in the direction that agreeing with it moves a participant (all statement \
         points share one scale, chosen to fit the map). Hover over a point for its text.</p></figcaption></figure>",
    );
    let shown = map::mapped_statements(a);
    if !shown.is_empty() {
        out.push_str("<h3 class=\"small\">Statements on the map</h3><dl class=\"key\">");
        for j in shown {
            let s = &a.statements[j];
            let _ = write!(out, "<div><dt>{}</dt><dd>{}</dd></div>", id_label(&s.id), statement_text(s));
        }
        out.push_str("</dl>");
    }
    out.push_str("</section>\n");
}

fn groups_section(out: &mut String, a: &Analysis, column: &HashMap<&Id, usize>) {
    out.push_str(
        "<section id=\"groups\" aria-labelledby=\"groups-h\"><h2 id=\"groups-h\">What each group stands for</h2>\
         <p class=\"lead\">Each group's representative statements: those on which the group voted most differently \
         from everyone else (Polis's selection). The bars show how every group voted on each.</p>",
    );
    if a.groups.is_empty() {
        out.push_str("<p>No opinion groups were found.</p>");
    }
    if let Some(b) = a.bridging.as_ref().filter(|b| !b.merged.is_empty()) {
        let _ = write!(
            out,
            "<div class=\"merged\"><h3>Hidden in the groups</h3><p class=\"lead\">{}.</p><ul>",
            escape(&merged_heading(b))
        );
        for m in &b.merged {
            let _ = write!(out, "<li>{}.</li>", escape(&merged_line(m)));
        }
        out.push_str("</ul></div>");
    }
    for (g, (grp, reps)) in a.groups.iter().zip(&a.repness).enumerate() {
        let _ = write!(
            out,
            "<section class=\"group\" aria-labelledby=\"group-{0}\"><h3 id=\"group-{0}\">{1}{2} <span class=\"size\">{3} \
             participants</span></h3>",
            grp.id,
            map::group_icon(g),
            group_name(grp.id),
            count(grp.n_members)
        );
        if reps.is_empty() {
            out.push_str("<p>No representative statement.</p>");
        }
        for r in reps {
            let Some(&j) = column.get(&r.statement) else { continue };
            let (verb, n) = repful_count(r.repful_for, &grp.votes[j]);
            let seen = grp.votes[j].seen;
            let why = format!(
                "{} of {} {verb}d ({} of the {} who voted on it).",
                share(n, seen).trim(),
                group_name(grp.id),
                count(n),
                count(seen)
            );
            statement_card(out, a, j, &why);
        }
        out.push_str("</section>");
    }
    out.push_str("</section>\n");
}

fn agreement_section(out: &mut String, a: &Analysis, column: &HashMap<&Id, usize>) {
    out.push_str(
        "<section id=\"agreement\" aria-labelledby=\"agreement-h\"><h2 id=\"agreement-h\">What everyone agrees on</h2>",
    );
    // A statement is shown in full once: consensus statements already shown as common ground are
    // only named.
    let mut shown: Vec<&Id> = Vec::new();
    if let Some(b) = &a.bridging {
        let _ = write!(
            out,
            "<h3>Common ground: every group agrees</h3><p class=\"lead\">Statements that, with {:.0}% credibility, \
             every group agrees with more often than not among those who took a side (the lower bound of the least \
             agreeing group's agreement is at least {:.2}; passes are set apart), that no smaller group inside a \
             group (pools of nearby base clusters, at least {:.0}% of those in groups each) credibly disagrees with, \
             and with enough votes that a smaller group of that size, had it disagreed, would have shown it. Agreement is a group's (agrees + 1) / (agrees + disagrees + 2), shown with its \
             credible interval.</p>",
            100.0 * b.interval,
            b.threshold,
            100.0 * b.subgroup_min_share
        );
        if b.common_ground.is_empty() {
            out.push_str("<p>No statement is common ground.</p>");
        }
        for id in b.common_ground.iter().take(COMMON_GROUND_SHOWN) {
            if let Some(&j) = column.get(id) {
                statement_card(out, a, j, &least_agreeing(a, j));
                shown.push(id);
            }
        }
        if b.common_ground.len() > COMMON_GROUND_SHOWN {
            let _ = write!(
                out,
                "<p>And {} more, in the <a href=\"#bridging\">bridging ranking</a>.</p>",
                b.common_ground.len() - COMMON_GROUND_SHOWN
            );
        }
        if !b.unresolved.is_empty() {
            let _ = write!(
                out,
                "<p>Every group agrees with {} more, but too few took a side on them to rule out a hidden minority of \
                 {:.0}%: {}.</p>",
                b.unresolved.len(),
                100.0 * b.subgroup_min_share,
                id_list(&b.unresolved)
            );
        }
    }
    let consensus = |out: &mut String, title: &str, verb: &str, entries: &[crate::stats::ConsensusEntry<Id>]| {
        let _ = write!(out, "<h3>{title}</h3>");
        if entries.is_empty() {
            out.push_str("<p>None significant.</p>");
        }
        let above: Vec<String> =
            entries.iter().filter(|c| shown.contains(&&c.statement)).map(|c| id_label(&c.statement)).collect();
        if !above.is_empty() {
            let _ = write!(out, "<p class=\"why\">{} (common ground, above).</p>", above.join(", "));
        }
        for c in entries.iter().filter(|c| !shown.contains(&&c.statement)) {
            if let Some(&j) = column.get(&c.statement) {
                let why = format!(
                    "{} of everyone who voted on it {verb} ({} of {}). {}",
                    share(c.n_success, c.n_trials).trim(),
                    c.n_success,
                    c.n_trials,
                    least_agreeing(a, j)
                );
                statement_card(out, a, j, &why);
            }
        }
    };
    out.push_str(
        "<p class=\"lead\">Consensus, as Polis finds it: statements most participants, grouped or not, agree with (or \
         reject), significantly more than half.</p>",
    );
    consensus(out, "Consensus: most participants agree", "agreed", &a.consensus.agree);
    if !a.consensus.disagree.is_empty() {
        consensus(out, "Consensus: most participants disagree", "disagreed", &a.consensus.disagree);
    }
    out.push_str("</section>\n");
}

fn uncertain_section(out: &mut String, a: &Analysis) {
    out.push_str(
        "<section id=\"uncertain\" aria-labelledby=\"uncertain-h\"><h2 id=\"uncertain-h\">Where people are unsure</h2>",
    );
    let Some(b) = &a.bridging else {
        out.push_str("<p>No opinion groups, so no statement is measured for passes.</p></section>\n");
        return;
    };
    let _ = write!(
        out,
        "<p class=\"lead\">Statements many passed on ({}), most passed first: people were unsure, or the statement \
         was unclear.</p>",
        escape(&uncertain_rule(b))
    );
    if b.uncertain.is_empty() {
        out.push_str("<p>No statement is uncertain.</p>");
    }
    let column: HashMap<&Id, usize> = a.statements.iter().enumerate().map(|(j, s)| (&s.id, j)).collect();
    for id in b.uncertain.iter().take(UNCERTAIN_SHOWN) {
        let Some(&j) = column.get(id) else { continue };
        let mut grouped = VoteCounts::default();
        a.groups.iter().for_each(|g| grouped.add(&g.votes[j]));
        let why = format!(
            "{} of the {} grouped participants who saw it passed.",
            share(grouped.passes(), grouped.seen).trim(),
            count(grouped.seen)
        );
        statement_card(out, a, j, &why);
    }
    if b.uncertain.len() > UNCERTAIN_SHOWN {
        let _ = write!(
            out,
            "<p>And {} more: {}.</p>",
            b.uncertain.len() - UNCERTAIN_SHOWN,
            id_list(&b.uncertain[UNCERTAIN_SHOWN..])
        );
    }
    out.push_str("</section>\n");
}

fn bridging_section(out: &mut String, a: &Analysis, column: &HashMap<&Id, usize>) {
    let Some(b) = &a.bridging else { return };
    let spec = b.rank_by.spec().or(SCORES.first());
    let name = spec.map_or("", |s| s.display_name);
    let pct = 100.0 * b.interval;
    let _ = write!(
        out,
        "<section id=\"bridging\" aria-labelledby=\"bridging-h\"><h2 id=\"bridging-h\">Bridging statements</h2>\
         <p class=\"lead\">The statements that bridge the groups best, ranked by {name}. {} of {} statements are \
         common ground (marked ✓). Intervals are {pct:.0}% credible; the tick marks 0.5.</p>\
         <div class=\"scroll\"><table class=\"bridging\"><caption>Top {} statements by {name}</caption><thead><tr>\
         <th scope=\"col\">Rank</th><th scope=\"col\">Statement</th><th scope=\"col\">Least agreeing group, side-takers</th>\
         <th scope=\"col\">Group-aware consensus</th><th scope=\"col\">Agree per group</th></tr></thead><tbody>",
        count(b.common_ground.len()),
        count(b.ranking.len()),
        BRIDGING_ROWS.min(b.ranking.len())
    );
    for (rank, id) in b.ranking.iter().take(BRIDGING_ROWS).enumerate() {
        let Some(&j) = column.get(id) else { continue };
        let (s, sb) = (&a.statements[j], &b.statements[j]);
        let per_group: Vec<String> = a
            .groups
            .iter()
            .enumerate()
            .map(|(g, grp)| {
                let c = grp.votes[j];
                format!("<span class=\"pg\">{}{}</span>", map::group_icon(g), share(c.agree, c.seen).trim())
            })
            .collect();
        let _ = write!(
            out,
            "<tr><td class=\"rank\">{}{}</td><td><span class=\"sid\">{}</span> {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            rank + 1,
            if sb.common_ground { " <span class=\"cg\" title=\"common ground\">✓</span>" } else { "" },
            id_label(&s.id),
            statement_text(s),
            estimate(&sb.min_side_agreement, pct),
            estimate(&sb.group_aware_consensus, pct),
            per_group.join(" ")
        );
    }
    out.push_str("</tbody></table></div>");
    if let Some(fit) = &b.mf {
        let _ = write!(
            out,
            "<p class=\"note\">Also computed: the Community Notes matrix factorization over {} votes ({} sweeps{}); \
             its statement intercepts are in the JSON and CSV outputs.</p>",
            count(fit.n_ratings),
            fit.sweeps,
            if fit.converged { "" } else { ", stopped at its sweep budget" }
        );
    }
    out.push_str("</section>\n");
}

fn stability_section(out: &mut String, a: &Analysis) {
    let Some(s) = &a.group_stability else { return };
    let _ = write!(
        out,
        "<section id=\"stability\" aria-labelledby=\"stability-h\"><h2 id=\"stability-h\">How stable are the groups?</h2>\
         <p class=\"lead\">The participants were resampled {} times and reclustered. A group is stable when it is found \
         again (mean Jaccard similarity with its best match at least 0.75; Hennig 2007).</p><div class=\"scroll\">\
         <table><caption>Stability per number of groups</caption><thead><tr><th scope=\"col\">Groups</th>\
         <th scope=\"col\">Silhouette</th><th scope=\"col\">Mean Jaccard per group</th><th scope=\"col\">Adjusted Rand \
         index</th><th scope=\"col\">Stable</th></tr></thead><tbody>",
        s.replicates
    );
    for (k, v) in &s.by_k {
        let groups: Vec<String> =
            v.groups.iter().map(|g| format!("{} {:.2}", group_name(g.id), g.mean_jaccard)).collect();
        let _ = write!(
            out,
            "<tr{}><td>{k}{}</td><td>{:.3}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
            if a.k_selection.k == Some(*k) { " class=\"chosen\"" } else { "" },
            if a.k_selection.k == Some(*k) { " (shown)" } else { "" },
            v.silhouette,
            groups.join(", "),
            v.mean_ari,
            if v.stable { "yes" } else { "no" }
        );
    }
    out.push_str("</tbody></table></div></section>\n");
}

fn id_list(ids: &[Id]) -> String {
    ids.iter().map(id_label).collect::<Vec<_>>().join(", ")
}

fn data_section(out: &mut String, a: &Analysis, source: Option<&SourceInfo>) {
    out.push_str(
        "<section id=\"data\" aria-labelledby=\"data-h\"><h2 id=\"data-h\">About the data</h2><dl class=\"notes\">",
    );
    match source {
        Some(src) => {
            let _ = write!(out, "<dt>Read</dt><dd>{}</dd>", escape(&src.description()));
            // The reader's warnings (what it had to decide or leave out) before its plain notes,
            // as the CLI prints them on standard error.
            for (title, lines) in [("Warnings", &src.warnings), ("Reader's notes", &src.notes)] {
                let _ = write!(out, "<dt>{title}</dt><dd>");
                if lines.is_empty() {
                    out.push_str("none");
                } else {
                    out.push_str("<ul class=\"warnings\">");
                    for line in lines {
                        let _ = write!(out, "<li>{}</li>", escape(line));
                    }
                    out.push_str("</ul>");
                }
                out.push_str("</dd>");
            }
        }
        None => out.push_str("<dt>Read</dt><dd>votes given directly (not read from files)</dd>"),
    }
    let m = &a.moderation;
    let _ = write!(
        out,
        "<dt>Moderation</dt><dd>{} statements moderated out{}; {} marked meta{}; moderated-out and meta statements are \
         never representative, consensus or bridging.</dd>",
        count(m.moderated_out.len()),
        if m.moderated_out.is_empty() { String::new() } else { format!(" ({})", id_list(&m.moderated_out)) },
        m.meta.len(),
        if m.meta.is_empty() { String::new() } else { format!(" ({})", id_list(&m.meta)) }
    );
    let silhouettes: Vec<String> =
        a.k_selection.silhouettes.iter().map(|(k, s)| format!("{k} groups: {s:.3}")).collect();
    let _ = write!(
        out,
        "<dt>Number of groups</dt><dd>chosen by silhouette, as Polis does ({}){}</dd>",
        if silhouettes.is_empty() { "none tried".to_string() } else { silhouettes.join(", ") },
        match (a.k_selection.best_k, a.k_selection.k) {
            (Some(best), Some(k)) if best != k => format!("; {best} is best now, {k} kept by Polis's smoother"),
            _ => String::new(),
        }
    );
    if !a.statements.iter().any(|s| s.text.is_some()) {
        out.push_str(
            "<dt>Warning</dt><dd class=\"warn\">No statement text was read: statements are shown by number only.</dd>",
        );
    }
    out.push_str("</dl></section>\n");
}

/// The compact card a notebook shows for an analysis: the counts, each group's size and first
/// representative statement, and the first common-ground statements.
pub fn html_card(a: &Analysis, title: &str) -> String {
    let column: HashMap<&Id, usize> = a.statements.iter().enumerate().map(|(j, s)| (&s.id, j)).collect();
    let in_conv = a.participants.iter().filter(|p| p.in_conv).count();
    let mut out = String::new();
    let _ = write!(
        out,
        "<div class=\"commonground-card\" style=\"font-family:system-ui,sans-serif;border:1px solid #ccc;\
         border-radius:6px;padding:0.6em 0.9em;max-width:46em;line-height:1.4\"><div style=\"font-weight:600\" \
         dir=\"auto\">{}</div><div style=\"color:#555\">{} participants ({} in the groups), {} statements, {} votes, \
         {} opinion groups</div><ul style=\"margin:0.4em 0;padding-left:1.2em\">",
        escape(title),
        count(a.n_participants),
        count(in_conv),
        count(a.n_statements),
        count(a.n_votes),
        a.groups.len()
    );
    for (grp, reps) in a.groups.iter().zip(&a.repness) {
        let _ = write!(out, "<li><b>{}</b>, {} participants", group_name(grp.id), count(grp.n_members));
        if let Some((r, &j)) = reps.first().and_then(|r| column.get(&r.statement).map(|j| (r, j))) {
            let c = grp.votes[j];
            let (verb, n) = repful_count(r.repful_for, &c);
            let _ = write!(
                out,
                ": {} {verb} with {} {}",
                share(n, c.seen).trim(),
                id_label(&a.statements[j].id),
                statement_text(&a.statements[j])
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    if let Some(b) = &a.bridging {
        let n = b.common_ground.len();
        let _ = write!(out, "<div>{n} common-ground statement{}", if n == 1 { "" } else { "s" });
        let first: Vec<String> = b
            .common_ground
            .iter()
            .take(3)
            .filter_map(|id| column.get(id))
            .map(|&j| format!("{} {}", id_label(&a.statements[j].id), statement_text(&a.statements[j])))
            .collect();
        if !first.is_empty() {
            let _ = write!(out, ": {}", first.join("; "));
        }
        out.push_str("</div>");
    }
    out.push_str("<div style=\"color:#777;font-size:0.85em\">The full report: Analysis.to_html()</div></div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup_characters() {
        let text = "<script>alert('x')</script> & \"quoted\"";
        let escaped = escape(text);
        assert_eq!(escaped, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;");
        assert!(!escaped.contains(['<', '>', '"', '\'']));
    }
}
