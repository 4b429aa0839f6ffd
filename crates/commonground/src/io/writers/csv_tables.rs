//! The analysis as four CSV tables, for people who work in spreadsheets: `participants.csv`,
//! `statements.csv`, `repness.csv` and `bridging.csv`. The columns are those of the Python
//! DataFrames of the same names (`python/commonground/_analysis.py`), so a table reads the same
//! whichever way it was made: votes in commonground's sign (agree = +1), ids as given, numbers in
//! full precision (Rust's shortest round-trip form), an empty cell for a missing value.

use crate::analysis::Analysis;
use crate::bridging::{Estimate, SCORES};
use crate::error::{Error, Result};
use crate::stats::RepfulFor;
use crate::votes::Id;

/// One table: its file name and its CSV text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTable {
    pub name: &'static str,
    pub content: String,
}

fn id_cell(id: &Id) -> String {
    match id {
        Id::Int(n) => n.to_string(),
        Id::Str(s) => s.clone(),
    }
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

fn table(name: &'static str, header: Vec<String>, rows: Vec<Vec<String>>) -> Result<CsvTable> {
    let failed = |e: &dyn std::fmt::Display| Error::Io {
        path: name.into(),
        source: std::io::Error::other(format!("writing the CSV table: {e}")),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(|e| failed(&e))?;
    for row in rows {
        writer.write_record(&row).map_err(|e| failed(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(&e))?;
    let content = String::from_utf8(bytes).map_err(|e| failed(&e))?;
    Ok(CsvTable { name, content })
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The four tables, in the order named above.
pub fn csv_tables(a: &Analysis) -> Result<Vec<CsvTable>> {
    let participants = a
        .participants
        .iter()
        .map(|p| {
            vec![
                id_cell(&p.id),
                p.x.to_string(),
                p.y.to_string(),
                optional(p.group),
                optional(p.base_cluster),
                p.in_conv.to_string(),
                p.n_votes.to_string(),
            ]
        })
        .collect();
    let statements = a
        .statements
        .iter()
        .map(|s| {
            vec![
                id_cell(&s.id),
                s.text.clone().unwrap_or_default(),
                s.n_agree.to_string(),
                s.n_disagree.to_string(),
                s.n_pass.to_string(),
                s.group_aware_consensus.to_string(),
                s.extremity.to_string(),
                s.priority.to_string(),
                s.moderated_out.to_string(),
                s.is_meta.to_string(),
                s.mean.to_string(),
                s.projection[0].to_string(),
                s.projection[1].to_string(),
            ]
        })
        .collect();
    let text_of = |id: &Id| a.statements.iter().find(|s| &s.id == id).and_then(|s| s.text.clone()).unwrap_or_default();
    let mut repness = Vec::new();
    for (group, reps) in a.groups.iter().zip(&a.repness) {
        for (rank, r) in reps.iter().enumerate() {
            repness.push(vec![
                group.id.to_string(),
                rank.to_string(),
                id_cell(&r.statement),
                match r.repful_for {
                    RepfulFor::Agree => "agree".to_string(),
                    RepfulFor::Disagree => "disagree".to_string(),
                },
                r.n_success.to_string(),
                r.n_trials.to_string(),
                r.p_success.to_string(),
                r.p_test.to_string(),
                r.repness.to_string(),
                r.repness_test.to_string(),
                r.best_agree.to_string(),
                optional(r.n_agree),
                text_of(&r.statement),
            ]);
        }
    }
    Ok(vec![
        table(
            "participants.csv",
            strings(&["id", "x", "y", "group", "base_cluster", "in_conv", "n_votes"]),
            participants,
        )?,
        table(
            "statements.csv",
            strings(&[
                "id",
                "text",
                "n_agree",
                "n_disagree",
                "n_pass",
                "group_aware_consensus",
                "extremity",
                "priority",
                "moderated_out",
                "is_meta",
                "mean",
                "x",
                "y",
            ]),
            statements,
        )?,
        table(
            "repness.csv",
            strings(&[
                "group",
                "rank",
                "statement",
                "repful_for",
                "n_success",
                "n_trials",
                "p_success",
                "p_test",
                "repness",
                "repness_test",
                "best_agree",
                "n_agree",
                "text",
            ]),
            repness,
        )?,
        bridging_table(a)?,
    ])
}

/// The bridging table, one row per statement in ranking order (unranked ones after, in statement
/// order): the columns of Python's `Analysis.bridging`, the score fields read from [`SCORES`]
/// (point scores first, then each field with an interval as value, lower, upper).
fn bridging_table(a: &Analysis) -> Result<CsvTable> {
    let mut header = strings(&["statement", "rank", "text", "common_ground"]);
    let Some(b) = &a.bridging else { return table("bridging.csv", header, Vec::new()) };
    let mut points: Vec<&'static str> = Vec::new();
    let mut intervals: Vec<&crate::bridging::ScoreSpec> = Vec::new();
    for spec in SCORES {
        if spec.has_interval() {
            if !intervals.iter().any(|s| s.field == spec.field) {
                intervals.push(spec);
            }
        } else if !points.contains(&spec.field) {
            points.push(spec.field);
        }
    }
    header.extend(points.iter().map(|f| f.to_string()));
    header.push("mf_factor".into());
    for spec in &intervals {
        header.extend([spec.field.to_string(), format!("{}_lower", spec.field), format!("{}_upper", spec.field)]);
    }
    for g in &b.groups {
        header.extend([format!("agree_group_{g}"), format!("agree_group_{g}_lower"), format!("agree_group_{g}_upper")]);
    }
    let rank: std::collections::HashMap<&Id, usize> = b.ranking.iter().enumerate().map(|(r, id)| (id, r)).collect();
    let mut order: Vec<usize> = (0..b.statements.len()).collect();
    order.sort_by_key(|&j| rank.get(&b.statements[j].statement).copied().unwrap_or(usize::MAX));
    let cells = |e: &Estimate| [e.value.to_string(), e.lower.to_string(), e.upper.to_string()];
    let rows = order
        .into_iter()
        .map(|j| {
            let sb = &b.statements[j];
            let mut row = vec![
                id_cell(&sb.statement),
                optional(rank.get(&sb.statement)),
                a.statements.get(j).and_then(|s| s.text.clone()).unwrap_or_default(),
                sb.common_ground.to_string(),
            ];
            // Every point score is read from its entry in SCORES (today: the factorization's intercept).
            for field in &points {
                let spec = SCORES.iter().find(|s| s.field == *field);
                row.push(optional(spec.and_then(|s| s.value(sb))));
            }
            row.push(optional(sb.mf_factor));
            for spec in &intervals {
                if let Some(e) = spec.estimate(sb) {
                    row.extend(cells(e));
                }
            }
            for e in &sb.group_agreement {
                row.extend(cells(e));
            }
            row
        })
        .collect();
    table("bridging.csv", header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, Params, Statement, Vote, VoteEvent};

    #[test]
    fn every_table_has_one_row_per_item_and_text_with_commas_and_quotes_survives() {
        // Two camps of 50: enough side-takers on statement 0 that a 5% minority would show.
        let votes: Vec<VoteEvent> = (0..100)
            .flat_map(|p| {
                (0..5).map(move |s| {
                    let camp = if p < 50 { Vote::Agree } else { Vote::Disagree };
                    VoteEvent::new(p, s, if s == 0 { Vote::Agree } else { camp })
                })
            })
            .collect();
        let mut statements: Vec<Statement> = (0..5).map(Statement::new).collect();
        statements[0].text = Some("Buses, \"trains\"\nand bikes".into());
        let a = analyze(&votes, &statements, &Params::default()).unwrap();
        let tables = csv_tables(&a).unwrap();
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        assert_eq!(names, ["participants.csv", "statements.csv", "repness.csv", "bridging.csv"]);
        let read = |t: &CsvTable| -> Vec<csv::StringRecord> {
            csv::Reader::from_reader(t.content.as_bytes()).records().map(|r| r.unwrap()).collect()
        };
        assert_eq!(read(&tables[0]).len(), 100);
        let statements = read(&tables[1]);
        assert_eq!(statements.len(), 5);
        assert_eq!(&statements[0][1], "Buses, \"trains\"\nand bikes");
        let n_repness: usize = a.repness.iter().map(Vec::len).sum();
        assert_eq!(read(&tables[2]).len(), n_repness);
        let bridging = read(&tables[3]);
        assert_eq!(bridging.len(), 5);
        // Ranked first: the statement everyone agrees with, and it is common ground.
        assert_eq!((&bridging[0][0], &bridging[0][1], &bridging[0][3]), ("0", "0", "true"));
    }
}
